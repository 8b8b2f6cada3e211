"""Protocol hygiene: a clean stdout in stdio mode, progress reports, and one desktop at a time."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_server.config import load_settings
from mcp_server.server import build_server
from tests.support.markers import needs_display
from tests.support.scenarios import scenario_for
from tests.support.servers import spawn_stdio
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp
from tests.support.xvfb import Xvfb
from tools.registry import TOOLS

pytestmark = [needs_display, pytest.mark.usefixtures("display_env")]


def _rpc(method: str, params: dict[str, Any] | None = None, id_: int | None = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if id_ is not None:
        message["id"] = id_
    return (json.dumps(message) + "\n").encode()


@pytest.mark.parametrize("xauthority", ["valid", "empty"])
def test_stdio_stdout_carries_only_protocol_messages(display: Xvfb, tmp_path: Path, xauthority: str) -> None:
    env = display.env()
    if xauthority == "empty":
        # An empty Xauthority makes python-xlib print a warning to stdout when pyautogui is imported.
        (tmp_path / "empty").write_bytes(b"")
        env["XAUTHORITY"] = str(tmp_path / "empty")
    proc = spawn_stdio(["--base-url", "http://127.0.0.1:9/v1"], env)
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    messages = [
        _rpc("initialize", init, 1),
        _rpc("notifications/initialized"),
        b"this is not json\n",
        b'{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "execute_action"}}\n',
        _rpc("tools/call", {"name": "execute_action", "arguments": {"action": {"type": "key", "keys": ["nope"]}}}, 3),
        _rpc("tools/list", {}, 4),
    ]
    assert proc.stdin is not None and proc.stdout is not None
    timer = threading.Timer(30, proc.kill)  # a hang guard
    timer.start()
    replies: list[dict[str, Any]] = []
    try:
        proc.stdin.write(b"".join(messages))
        proc.stdin.flush()
        # Keep stdin open until the answers are in: closing it ends the session.
        while not {1, 3, 4} <= {reply.get("id") for reply in replies}:
            line = proc.stdout.readline()
            if not line:
                break
            if line.strip():
                replies.append(json.loads(line))  # any stray output on stdout fails here
        rest, _ = proc.communicate(timeout=20)  # closes stdin: the server exits
    finally:
        timer.cancel()
    replies += [json.loads(line) for line in rest.decode().splitlines() if line.strip()]
    assert all(reply.get("jsonrpc") == "2.0" for reply in replies)
    by_id = {reply.get("id"): reply for reply in replies}
    assert {1, 3, 4} <= set(by_id)
    names = [t["name"] for t in by_id[4]["result"]["tools"]]
    assert names[:3] == ["describe_screen", "plan_next_action", "execute_action"]
    # Every registered tool in the registry's order, then the task tools, nothing else.
    assert names[: len(TOOLS)] == [spec.name for spec in TOOLS]
    assert set(names[len(TOOLS) :]) == {"start_task", "get_task", "cancel_task"} and len(names) == len(TOOLS) + 3
    assert by_id[3].get("result", {}).get("isError") is True, by_id[3]


async def test_progress_is_reported(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(scenario_for(app))
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    settings = load_settings({"base_url": standin.base_url}, {})
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("describe_screen", {}, progress_callback=on_progress)
    assert not result.is_error
    assert seen and seen[-1][0] == seen[-1][1]
    assert any(message and "capturing" in message for _, _, message in seen)


async def test_concurrent_actions_never_interleave(app: TkApp, standin: StandIn) -> None:
    entry = app.widget("name_entry")
    point = {"x": entry["x"] + 10, "y": entry["y"] + entry["height"] // 2}
    texts = ["alpha-alpha-alpha-", "BRAVO-BRAVO-BRAVO-", "charlie-charlie-"]
    settings = load_settings({"base_url": standin.base_url}, {"VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "0.5"})
    server = build_server(settings)
    async with Client(server) as first, Client(server) as second:
        await first.call_tool("execute_action", {"action": {"type": "click", **point}})
        async with anyio.create_task_group() as group:
            for index, text in enumerate(texts):
                client = first if index % 2 == 0 else second
                group.start_soon(client.call_tool, "execute_action", {"action": {"type": "type", "text": text}})
    value = app.wait_for(lambda s: len(s["widgets"]["name_entry"]["value"]) == sum(map(len, texts)))
    typed = value["widgets"]["name_entry"]["value"]
    pieces = sorted(texts, key=typed.index)
    assert typed == "".join(pieces)

"""Faults mid-action: a server killed with SIGKILL, pyautogui's fail-safe, a drag that fails half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from Xlib import X
from Xlib import display as xdisplay

from tests.support.inprocess import records, serve
from tests.support.markers import needs_display
from tests.support.processes import stop_process
from tests.support.servers import ROOT, _wait_for_port, free_port, server_command
from tests.support.tkapp import TkApp, center
from tests.support.xvfb import Xvfb
from tools.desktop.inputs import InputEvent, PyAutoGuiDriver
from tools.errors import InvalidAction

pytestmark = [needs_display, pytest.mark.usefixtures("display_env")]

BUTTONS = X.Button1Mask | X.Button2Mask | X.Button3Mask
MODIFIERS = X.ShiftMask | X.ControlMask | X.Mod1Mask | X.Mod4Mask


@contextmanager
def server_process(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The real server over streamable HTTP, its stderr in ``log``; yields the process and its port."""
    port = free_port()
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            server_command(["--transport", "http", "--port", str(port)]),
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _wait_for_port(port, proc)
        yield proc, port
    finally:
        if proc.poll() is None:
            stop_process(proc, 10)


def _intents(path: Path, action_id: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in lines if r.get("kind") == "intent" and r.get("action_id") == action_id]


async def test_a_server_killed_mid_action_reports_it_at_restart_and_never_replays(
    display: Xvfb, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    env = {**display.env(), "VLM_DESKTOP_BACKEND": "none", "VLM_DESKTOP_AUDIT__PATH": str(audit)}
    call = {"action": {"type": "wait", "seconds": 20}, "action_id": "crash-1"}
    with anyio.fail_after(60):
        with server_process(env, tmp_path / "first.log") as (proc, port):
            async with anyio.create_task_group() as group:

                async def long_action() -> None:
                    async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                        await client.call_tool("execute_action", call)

                group.start_soon(long_action)
                # The intent is durable before the wait begins; another process writes it, hence polling.
                while not _intents(audit, "crash-1"):  # noqa: ASYNC110
                    await anyio.sleep(0.05)
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                group.cancel_scope.cancel()
        assert [r["kind"] for r in records(tmp_path)] == ["intent"]

        with server_process(env, tmp_path / "second.log") as (_, port):
            startup = (tmp_path / "second.log").read_text()
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                again = await client.call_tool("execute_action", call)
    intent_id = _intents(audit, "crash-1")[0]["id"]
    assert f"audit: action {intent_id} [action_id crash-1] (wait 20.0 s)" in startup
    assert "was interrupted" in startup and "NOT replayed" in startup
    assert again.is_error and "was interrupted" in again.content[0].text and "never replayed" in again.content[0].text
    assert [r["kind"] for r in records(tmp_path)] == ["intent", "interrupted"]  # nothing ran again

    report = await anyio.run_process(
        [sys.executable, "-m", "mcp_server", "audit", "--path", str(audit), "--interrupted", "--json"], cwd=ROOT
    )
    (entry,) = [json.loads(line) for line in report.stdout.decode().splitlines()]
    assert (entry["id"], entry["status"], entry["action_id"]) == (intent_id, "interrupted", "crash-1")
    readable = await anyio.run_process([sys.executable, "-m", "mcp_server", "audit", "--path", str(audit)], cwd=ROOT)
    assert "INTERRUPTED  wait 20.0 s" in readable.stdout.decode()


def _pointer(display: Xvfb) -> tuple[int, int, int]:
    """Pointer position and the mask of buttons and modifiers the X server thinks are held."""
    connection = xdisplay.Display(display.display)
    try:
        state = connection.screen().root.query_pointer()
        return state.root_x, state.root_y, state.mask
    finally:
        connection.close()


async def test_the_fail_safe_aborts_cleanly_and_nothing_is_clicked(app: TkApp, display: Xvfb, tmp_path: Path) -> None:
    before = app.settle()["events"]["submit_clicks"]
    await anyio.run_process(["xdotool", "mousemove", "0", "0"], env=app.env)
    try:
        async with serve(tmp_path) as client:
            result = await client.call_tool("execute_action", {"action": {"type": "click", **center(app, "submit")}})
        assert _pointer(display)[:2] == (0, 0)
    finally:
        await anyio.run_process(["xdotool", "mousemove", "400", "400"], env=app.env)
    assert result.is_error and "fail-safe triggered" in result.content[0].text
    assert "Move the pointer away from the corner" in result.content[0].text
    assert app.settle()["events"]["submit_clicks"] == before
    assert [r.get("status") for r in records(tmp_path)] == [None, "failed"]


async def test_a_drag_into_a_corner_is_refused_before_the_button_goes_down(
    app: TkApp, display: Xvfb, tmp_path: Path
) -> None:
    start = center(app, "notes")
    await anyio.run_process(["xdotool", "mousemove", "400", "400"], env=app.env)
    async with serve(tmp_path) as client:
        result = await client.call_tool("execute_action", {"action": {"type": "drag", **start, "to_x": 0, "to_y": 0}})
    x, y, mask = _pointer(display)
    assert result.is_error and "fail-safe would abort every later action" in result.content[0].text
    assert (x, y) == (400, 400) and mask & BUTTONS == 0  # nothing was sent
    assert records(tmp_path)[-1]["status"] == "refused"


async def test_a_drag_that_fails_half_way_releases_the_button(app: TkApp, display: Xvfb) -> None:
    # The server no longer sends such a drag (above), so the driver is given its events directly: the
    # pointer reaches the corner after the button went down, the fail-safe trips, and the button must
    # not stay down.
    start = center(app, "notes")
    events = [
        InputEvent("move", x=start["x"], y=start["y"]),
        InputEvent("mouse_down", x=start["x"], y=start["y"], button="left"),
        InputEvent("move", x=0, y=0),
        InputEvent("move", x=40, y=40),
        InputEvent("mouse_up", x=40, y=40, button="left"),
    ]
    driver = PyAutoGuiDriver()
    try:
        with pytest.raises(InvalidAction, match="fail-safe triggered"):
            await anyio.to_thread.run_sync(driver.send, events)
        x, y, mask = _pointer(display)
    finally:
        await anyio.run_process(["xdotool", "mousemove", "400", "400"], env=app.env)
    assert (x, y) == (0, 0)
    assert mask & (BUTTONS | MODIFIERS) == 0, f"still held: mask {mask:#x}"
    app.settle()  # the app still takes clicks: no grab left behind

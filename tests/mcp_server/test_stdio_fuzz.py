"""Malformed JSON-RPC on stdio: the real server process, fed garbage, keeps a clean stdout and keeps answering.

One ``serve --dry-run`` process per module reads garbage lines, truncated JSON, wrong ``jsonrpc``
versions, unknown methods, lines of several megabytes, raw binary, requests without ids, batches
and hypothesis-generated messages, with valid requests in between. After every batch of input a
``ping`` must come back; every line on stdout must be a JSON-RPC message (the SDK's own adapter
parses it); and nothing reaches the desktop: the pointer stays put and the Tk app sees no event.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.markers import needs_display
from tests.support.pointer import PARKED, pointer, xdotool
from tests.support.servers import spawn_stdio
from tests.support.standin.server import StandIn
from tests.support.stdio import HANG_GUARD, INIT, StdioServer, rpc
from tests.support.tkapp import TkApp
from tests.support.xvfb import Xvfb
from tools.registry import TOOLS

pytestmark = [
    needs_display,
    pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool not installed (scripts/setup dev)"),
]

GENERATED_EXAMPLES = 200
METHODS = [
    "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/read", "prompts/list",
    "prompts/get", "logging/setLevel", "completion/complete", "notifications/initialized",
    "notifications/cancelled", "notifications/progress", "notifications/roots/list_changed", "", "tools/",
]  # fmt: skip


def call(action: dict[str, Any], id_: int) -> bytes:
    """A ``tools/call`` of execute_action (the server is in dry run: it only reports the events)."""
    return rpc("tools/call", {"name": "execute_action", "arguments": {"action": action}}, id_)


@pytest.fixture(scope="module")
def stdio(display: Xvfb, standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StdioServer]:
    """The Tk app (notes focused), the pointer parked, and ``serve --dry-run`` on stdio, initialized."""
    tmp = tmp_path_factory.mktemp("stdio-fuzz")
    with TkApp(tmp / "state.json", env=display.env(), geometry="760x560+180+90") as app:
        notes = app.widget("notes")
        xdotool(display, "mousemove", str(notes["x"] + 20), str(notes["y"] + 20), "click", "1")
        app.wait_for(lambda s: s["events"]["focused"] == "notes")
        xdotool(display, "mousemove", *map(str, PARKED))
        before = app.state()
        env = {
            **display.env(),
            "VLM_DESKTOP_AUDIT__PATH": str(tmp / "audit.jsonl"),
            "VLM_DESKTOP_OCR__ENABLED": "0",
        }
        stderr_path = tmp / "stderr.log"
        with stderr_path.open("wb") as stderr:
            proc = spawn_stdio(["--dry-run", "--base-url", standin.base_url], env, stderr)
        server = StdioServer(proc)
        try:
            server.send(rpc("initialize", INIT, 0) + rpc("notifications/initialized"))
            assert "result" in server.wait_for(0), server.replies[0]
            yield server
            server.ping()
            assert proc.stdin is not None
            proc.stdin.close()  # end of session: the server exits on its own
            assert proc.wait(timeout=HANG_GUARD) == 0, stderr_path.read_text(errors="replace")[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert not server.not_jsonrpc
        assert pointer(display) == PARKED
        # Whatever the server sent has reached the app once the marker click has (X delivers in order).
        after = app.settle()
        # Keyboard focus is not an input event: without a window manager, focus can move on its own.
        marker = {"focused", "last_click", "left_clicks"}
        assert {k: v for k, v in after["events"].items() if k not in marker} == {
            k: v for k, v in before["events"].items() if k not in marker
        }
        assert after["events"]["left_clicks"] == before["events"]["left_clicks"] + 1
        assert {k: w["value"] for k, w in after["widgets"].items()} == {
            k: w["value"] for k, w in before["widgets"].items()
        }
        # The figures RELIABILITY.md quotes (shown with pytest -s).
        print(
            f"\nstdio fuzz: {server.sent_lines} lines ({server.sent_bytes / 1e6:.1f} MB) in, "
            f"{server.lines} JSON-RPC messages out, {len(server.replies)} distinct ids answered"
        )


NAMED_GARBAGE: dict[str, bytes] = {
    "plain text": b"hello, is this the MCP server?\n",
    "truncated JSON": b'{"jsonrpc": "2.0", "id": 1000, "method": "tools/li\n',
    "JSON-RPC 1.0": rpc("tools/list", {}, 1001, version="1.0"),
    "no jsonrpc member": b'{"id": 1002, "method": "tools/list"}\n',
    "params as a list": b'{"jsonrpc": "2.0", "id": 1003, "method": "tools/call", "params": [1, 2]}\n',
    "batch": b"[" + rpc("tools/list", {}, 1004).strip() + b"," + rpc("ping", None, 1005).strip() + b"]\n",
    "empty batch": b"[]\n",
    "all 256 byte values": bytes(range(256)) + b"\n",
    "invalid UTF-8 in a request": b'{"jsonrpc": "2.0", "id": 1006, "method": "ping", "x": "\xff\xfe\xc0"}\n',
    "lone surrogate escape": call({"type": "type", "text": "\\ud800"}, 1007).replace(b"\\\\ud800", b"\\ud800"),
    "nesting 100000 deep": b'{"jsonrpc": "2.0", "id": 1008, "method": "ping", "params": {"a": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}}\n",
    "five megabytes of x": b"x" * 5_000_000 + b"\n",
    "object id": b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}\n',
    "null id": b'{"jsonrpc": "2.0", "id": null, "method": "ping"}\n',
    "response nobody asked for": b'{"jsonrpc": "2.0", "id": 999999, "result": {}}\n',
    "error nobody asked for": b'{"jsonrpc": "2.0", "id": 999998, "error": {"code": 1, "message": "x"}}\n',
    "blank lines": b"\n\n   \n\t\n",
    "NUL bytes": b"\x00" * 1000 + b"\n",
}


@pytest.mark.parametrize("garbage", list(NAMED_GARBAGE.values()), ids=list(NAMED_GARBAGE))
def test_garbage_never_reaches_stdout_and_the_server_keeps_answering(stdio: StdioServer, garbage: bytes) -> None:
    stdio.send(garbage)
    stdio.ping()


@pytest.mark.parametrize(
    ("garbage", "id_"),
    [(NAMED_GARBAGE[name], id_) for name, id_ in [("JSON-RPC 1.0", 1001), ("no jsonrpc member", 1002)]]
    + [(NAMED_GARBAGE["params as a list"], 1003), (NAMED_GARBAGE["lone surrogate escape"], 1007)],
    ids=["JSON-RPC 1.0", "no jsonrpc member", "params as a list", "lone surrogate escape"],
)
@pytest.mark.xfail(
    strict=True,
    reason="MCP SDK stdio transport drops an invalid request that carries an id without answering it "
    "(JSON-RPC 2.0 wants -32600 Invalid Request); a client waiting for that id hangs until its own timeout",
)
def test_invalid_requests_with_an_id_get_an_error_reply(stdio: StdioServer, garbage: bytes, id_: int) -> None:
    stdio.send(garbage)
    stdio.ping()
    assert "error" in stdio.replies.get(id_, {})


def test_valid_requests_interleaved_with_garbage_are_all_answered(stdio: StdioServer) -> None:
    point = {"x": 200 + 300, "y": 90 + 400}  # inside the app window
    stream = [
        rpc("tools/list", {}, 2000),
        b"}{\n",
        call({"type": "click", **point}, 2001),
        bytes(range(128, 256)) + b"\n",
        call({"type": "type", "text": "should never be typed", "x": point["x"], "y": point["y"]}, 2002),
        rpc("no/such/method", {}, 2003),
        call({"type": "key", "keys": ["ctrl", "a"]}, 2004),
        b'{"jsonrpc": "2.0", "id": 2005, "method": "tools/call", "params": {"name": "execute_action", "argu\n',
        call({"type": "drag", "x": 300, "y": 300, "to_x": 600, "to_y": 400}, 2006),
        call({"type": "click", "x": -5, "y": 10**12}, 2007),
        rpc("tools/call", {"name": "no_such_tool", "arguments": {}}, 2008),
        call({"type": "type", "text": "A" * 3_000_000}, 2009),  # a 3 MB line that is a valid request
        rpc("tools/call", {"name": "execute_action", "arguments": {"action": {"type": "wait", "seconds": 1}}}),
    ]
    stdio.send(b"".join(stream))
    replies = {id_: stdio.wait_for(id_) for id_ in (2000, 2001, 2002, 2003, 2004, 2006, 2007, 2008, 2009)}
    stdio.ping()
    names = [t["name"] for t in replies[2000]["result"]["tools"]]
    assert names == [spec.name for spec in TOOLS] + ["start_task", "get_task", "cancel_task"]
    for id_ in (2001, 2002, 2004, 2006):
        result = replies[id_]["result"]
        assert not result.get("isError"), result
        assert result["structuredContent"]["status"] == "dry_run"
    assert replies[2001]["result"]["structuredContent"]["performed"] == [
        {"op": "click", "button": "left", "clicks": 1, **point}
    ]
    assert replies[2003]["error"]["code"] == -32601
    for id_ in (2007, 2008, 2009):
        result = replies[id_]["result"]
        assert result["isError"] and result["content"][0]["text"].strip(), result
        assert len(result["content"][0]["text"]) < 20_000
    assert 2005 not in stdio.replies


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def jsonrpc_ish(draw: st.DrawFn) -> bytes:
    """A message shaped roughly like JSON-RPC: real and made-up methods, odd ids, odd params, missing parts."""
    message: dict[str, Any] = {
        "jsonrpc": draw(st.sampled_from(["2.0", "2.0", "1.0", 2.0, None, ""])),
        "method": draw(st.sampled_from(METHODS) | st.text(max_size=20)),
        "id": draw(st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=10) | JSON_VALUES),
        "params": draw(JSON_VALUES),
    }
    if message["method"] == "tools/call" and draw(st.booleans()):
        message["params"] = {
            "name": draw(st.sampled_from(["execute_action", "describe_screen", "x"])),
            "arguments": draw(JSON_VALUES),
        }
    for key in draw(st.lists(st.sampled_from(sorted(message)), unique=True, max_size=3)):
        del message[key]
    return json.dumps(message, allow_nan=True).encode()


LINES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    jsonrpc_ish(),
)


def test_generated_messages_never_break_the_stream(stdio: StdioServer) -> None:
    @settings(
        max_examples=GENERATED_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(LINES, min_size=1, max_size=4))
    def run(lines: list[bytes]) -> None:
        stdio.send(b"".join(line + b"\n" for line in lines))
        stdio.ping()
        assert stdio.alive()

    run()

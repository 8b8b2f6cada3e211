"""The desktop-structure tools through a real MCP client and the real server on stdio, on Xvfb + openbox with
Tk windows: windows, the clipboard, launching, waiting, and the one safety pipeline they share."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.support.desktop import Desktop, skip_reason
from tests.support.inprocess import records
from tests.support.servers import mcp_client
from tests.support.tkapp import TkApp
from tools.desktop import clipboard

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Desktop, TkApp, TkApp]]:
    folder = tmp_path_factory.mktemp("tools")
    with Desktop(1024, 700) as desktop:
        env = desktop.env()
        with (
            TkApp(folder / "a.json", env=env, geometry="420x420+20+40", title="Left form") as left,
            TkApp(folder / "b.json", env=env, geometry="420x420+520+200", title="Right form") as right,
            pytest.MonkeyPatch.context() as patch,
        ):
            for key, value in desktop.x_env().items():
                if key in ("DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS"):
                    patch.setenv(key, value)
            yield desktop, left, right


@asynccontextmanager
async def client(tmp_path: Path, **env: str) -> AsyncIterator[Client]:
    """The real server on stdio, on the desktop that ``DISPLAY`` names (pyautogui binds one display per process)."""
    server_env = {
        **os.environ,
        "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
        "VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "1.0",
        "VLM_DESKTOP_DESKTOP__ACCESSIBILITY": "false",
        **env,
    }
    async with mcp_client("stdio", server_env, ["--backend", "none"]) as connected:
        yield connected


async def call(connected: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await connected.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    return result.structured_content  # type: ignore[return-value]


async def fails(connected: Client, tool: str, **arguments: Any) -> str:
    result = await connected.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text  # type: ignore[union-attr,no-any-return]


async def test_list_focus_and_move_go_through_the_audited_pipeline(
    desk: tuple[Desktop, TkApp, TkApp], tmp_path: Path
) -> None:
    desktop, left, _ = desk
    async with client(tmp_path) as connected:
        listed = await call(connected, "list_windows")
        titles = {w["title"]: w for w in listed["windows"]}
        assert {"Left form", "Right form"} <= set(titles)
        assert all(w["monitor"] == 1 for w in listed["windows"])
        focused = await call(connected, "focus_window", window="left form")
        assert focused["checks"][0]["ok"] is True and focused["window"]["focused"] is True
        assert focused["performed"] == [
            {"op": "focus_window", "window": titles["Left form"]["id"], "title": "Left form"}
        ]
        assert desktop.active_window() == int(titles["Left form"]["id"], 16)
        moved = await call(connected, "move_resize_window", window=titles["Left form"]["id"], x=60, y=80, width=400,
                           height=380)  # fmt: skip
        assert moved["window"]["box"] == [60, 80, 460, 460]
        own = left.wait_for(lambda s: s["window"]["x"] == 60)["window"]
        assert (own["x"], own["y"], own["width"], own["height"]) == (60, 80, 400, 380)
        assert "no window" in await fails(connected, "focus_window", window="Nothing like this")
        assert "2 windows" in await fails(connected, "focus_window", window="form")
    kinds = [(r["kind"], r.get("action", {}).get("type"), r.get("status")) for r in records(tmp_path)]
    assert ("intent", "focus_window", None) in kinds and ("outcome", None, "executed") in kinds
    assert ("intent", "move_resize_window", None) in kinds


async def test_type_and_key_refuse_when_another_window_has_the_keyboard(
    desk: tuple[Desktop, TkApp, TkApp], tmp_path: Path
) -> None:
    _, left, right = desk
    async with client(tmp_path) as connected:
        await call(connected, "focus_window", window="Right form")
        message = await fails(
            connected, "execute_action", action={"type": "type", "text": "nope", "window": "Left form"}
        )
        assert "the keyboard is with" in message and "'Right form'" in message and "focus_window" in message
        message = await fails(connected, "execute_action", action={"type": "key", "keys": ["a"], "window": "Left"})
        assert "nothing was sent" in message
        for app in (left, right):
            typed = [w["value"] for w in app.settle()["widgets"].values() if w["type"] in ("input", "text")]
            assert all(value == "" for value in typed), typed
        done = await call(connected, "execute_action", action={"type": "key", "keys": ["tab"], "window": "Right form"})
        assert done["status"] == "executed"
    refused = [r for r in records(tmp_path) if r.get("status") == "refused"]
    assert len(refused) == 2


async def test_close_is_destructive_and_confirmable(desk: tuple[Desktop, TkApp, TkApp], tmp_path: Path) -> None:
    desktop, _, _ = desk
    with TkApp(tmp_path / "c.json", env=desktop.env(), geometry="300x200+300+300", title="Doomed form") as doomed:
        async with client(tmp_path, VLM_DESKTOP_POLICY__CONFIRM="destructive") as connected:
            message = await fails(connected, "close_window", window="Doomed form")
            assert "confirm" in message and "elicitation" in message
            assert doomed._proc is not None and doomed._proc.poll() is None, "nothing was closed"
        async with client(tmp_path) as connected:
            dry = await call(connected, "close_window", window="Doomed form", dry_run=True)
            assert dry["status"] == "dry_run" and dry["performed"][0]["op"] == "close_window"
            closed = await call(connected, "close_window", window="Doomed form")
            assert closed["checks"][0]["name"] == "window closed" and closed["checks"][0]["ok"] is True
            titles = [w["title"] for w in (await call(connected, "list_windows"))["windows"]]
            assert "Doomed form" not in titles


@pytest.mark.skipif(shutil.which("xclip") is None, reason="needs apt package xclip")
async def test_clipboard_write_is_an_action_and_reading_is_off_unless_allowed(
    desk: tuple[Desktop, TkApp, TkApp], tmp_path: Path
) -> None:
    text = "Grüße, Ñúñez: 你好 — ok"
    async with client(tmp_path) as connected:
        written = await call(connected, "clipboard_write", text=text)
        assert written["checks"][0]["ok"] is True
        assert written["performed"][0] | {"sha256": "-"} == {"op": "clipboard_write", "chars": len(text), "sha256": "-"}
        assert "rule `clipboard_read`" in await fails(connected, "clipboard_read")
    async with client(tmp_path, VLM_DESKTOP_POLICY__CLIPBOARD_READ="true") as connected:
        read = await call(connected, "clipboard_read")
        assert read["text"] == text and read["chars"] == len(text)
        secret = "hunter2-пароль-密码"  # copied by someone else: the audit log must not learn it
        clipboard.write_text(secret)
        assert (await call(connected, "clipboard_read"))["text"] == secret
    log = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert "пароль" not in log, "what clipboard_read returns is never written to the audit log"
    reads = [r for r in map(json.loads, log.splitlines()) if r.get("action", {}).get("type") == "clipboard_read"]
    assert len(reads) == 3  # refused once, read twice


async def test_launch_only_what_the_policy_lists_and_report_the_window(
    desk: tuple[Desktop, TkApp, TkApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "l.json"
    command = f"{sys.executable} -m tests.support.tkapp --state {state} --title Launched --geometry 300x200+10+450"
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("HOME", str(ROOT))  # the program starts in the home folder: here, this repository
    async with client(tmp_path) as connected:
        message = await fails(connected, "launch_app", name=command)
        assert "rule `launch_allowed`" in message and "launching is off" in message
    async with client(tmp_path, VLM_DESKTOP_POLICY__LAUNCH_ALLOWED=command) as connected:
        launched = await call(connected, "launch_app", name=command, timeout=20)
        try:
            assert launched["checks"][0]["ok"] is True, launched["checks"]
            assert launched["window"]["title"] == "Launched"
            waited = await call(connected, "wait_for", window_appears="launched", timeout=5)
            assert waited["window"]["id"] == launched["window"]["id"] and waited["looks"] == 1
        finally:
            await call(connected, "close_window", window=launched["window"]["id"])
        gone = await call(connected, "wait_for", window_disappears="Launched", timeout=10)
        assert gone["condition"] == "no window titled like 'Launched'"


async def test_wait_for_returns_when_it_holds_and_fails_saying_what_it_saw(
    desk: tuple[Desktop, TkApp, TkApp], tmp_path: Path
) -> None:
    async with client(tmp_path) as connected:
        stable = await call(connected, "wait_for", stable_ms=300, timeout=10)
        assert stable["looks"] >= 3 and "unchanged for 300 ms" in stable["seen"]
        shown = await call(connected, "wait_for", text_appears="Submit", timeout=20)
        assert "Submit" in shown["seen"] and shown["box"] is not None
        missing = await fails(connected, "wait_for", text_appears="Nowhere on this screen", timeout=1)
        assert "did not appear within 1 s" in missing and "Name:" in missing
        assert "exactly one condition" in await fails(connected, "wait_for", timeout=1)
        assert "exactly one condition" in await fails(connected, "wait_for", stable_ms=200, window_appears="x")

"""The desktop as structure, end to end: an agent with only the server's tools, over stdio to the real server, on
Xvfb + openbox with a session bus and the accessibility bus, three real windows (Debian's Mousepad, a Tk
form, an xmessage) and no vision model (OCR only)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.support.desktop import Desktop, Mousepad, skip_reason
from tests.support.inprocess import records
from tests.support.servers import mcp_client
from tests.support.tkapp import TkApp

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(skip_reason("mousepad") is not None, reason=skip_reason("mousepad") or ""),
    pytest.mark.skipif(
        not Path("/usr/libexec/at-spi-bus-launcher").exists() or shutil.which("xclip") is None,
        reason="needs apt packages at-spi2-core and xclip",
    ),
]

TEXT = "Zoë Ñúñez 你好"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Desktop, Mousepad, TkApp]]:
    folder = tmp_path_factory.mktemp("structure")
    with (
        Desktop(1280, 800, accessibility=True) as desktop,
        TkApp(folder / "form.json", env=desktop.env(), geometry="560x520+700+40", title="Tk form") as form,
        Mousepad(desktop, size=(620, 420)) as editor,
        pytest.MonkeyPatch.context() as patch,
    ):
        for key, value in desktop.x_env().items():
            if key in ("DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS"):
                patch.setenv(key, value)
        other = subprocess.Popen(  # an Xt program: the third window, with no accessibility tree either
            ["xmessage", "-geometry", "+40+520", "-title", "Other window", "A third window"],
            env=desktop.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            desktop.wait_for_window(name="^Other window$", proc=other)  # type: ignore[arg-type]
            yield desktop, editor, form
        finally:
            other.kill()
            other.wait(timeout=10)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    return result.structured_content  # type: ignore[return-value]


def element(described: dict[str, Any], label: str, source: str = "a11y") -> dict[str, Any]:
    found = [e for e in described["elements"] if e["source"] == source and label.lower() in e["label"].lower()]
    assert found, [(e["source"], e["type"], e["label"]) for e in described["elements"]]
    return found[0]


async def test_an_agent_works_the_desktop_through_its_structure(
    desk: tuple[Desktop, Mousepad, TkApp], tmp_path: Path
) -> None:
    desktop, editor, form = desk
    env = {
        **desktop.x_env(),
        "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
        "VLM_DESKTOP_POLICY__CLIPBOARD_READ": "true",
        "VLM_DESKTOP_POLICY__RATE_LIMIT_ACTIONS": "0",
    }
    async with mcp_client("stdio", env, ["--backend", "none"]) as client:
        # 1. Find the editor among three windows.
        listed = await call(client, "list_windows")
        assert len(listed["windows"]) == 3, listed
        (mousepad,) = [w for w in listed["windows"] if w["app"] == "Mousepad"]
        assert mousepad["pid"] == editor.pid and int(mousepad["id"], 16) == editor.window_id

        # 2. Focus it, by its id.
        focused = await call(client, "focus_window", window=mousepad["id"])
        assert focused["checks"][0]["ok"] is True and desktop.active_window() == editor.window_id

        # 3. Open Find and Replace (only if the editor has the keyboard) and wait for the dialog by its title.
        await call(client, "execute_action", action={"type": "key", "keys": ["ctrl", "r"], "window": mousepad["id"]})
        dialog = await call(client, "wait_for", window_appears="Find and Replace", timeout=15)
        assert dialog["window"]["kind"] == "dialog" and dialog["window"]["pid"] == editor.pid
        assert dialog["elapsed_ms"] < 15_000 and "Find and Replace" in dialog["seen"]

        # 4. A Unicode string through the clipboard: write it, paste it into the focused search field.
        written = await call(client, "clipboard_write", text=TEXT)
        assert written["checks"][0]["ok"] is True
        assert (await call(client, "clipboard_read"))["text"] == TEXT
        paste = {"type": "key", "keys": ["ctrl", "v"], "window": "Find and Replace"}
        await call(client, "execute_action", action=paste)
        described = await call(client, "describe_screen", monitor=0)
        search = [e for e in described["elements"] if e["source"] == "a11y" and e["value"] == TEXT]
        assert search and "focused" in search[0]["states"], "the pasted text is the search field's value"

        # 5. Fill the GTK form through the accessibility tree, each value read back from the application.
        for label, value in (("Search for", "needle ü"), ("Replace with", "Faden ß 线")):
            fill = {"type": "fill_input", "label": label, "value": value}
            filled = await call(client, "execute_action", action=fill)
            (check,) = filled["checks"]
            assert check["ok"] is True and "the application reports" in check["detail"], check
            assert repr(value) in check["detail"]
        described = await call(client, "describe_screen", monitor=0)
        assert described["focused_window"]["title"] == "Find and Replace"
        trees = {report["title"]: report for report in described["accessibility"]}
        assert trees["Find and Replace"]["status"] == "complete"
        replace = [e for e in described["elements"] if e["source"] == "a11y" and e.get("value") == "Faden ß 线"]
        assert replace and replace[0]["type"] == "input" and "editable" in replace[0]["states"]
        close = element(described, "Close")
        assert close["role"] == "push button" and close["type"] == "button" and "enabled" in close["states"]

        # 6. The Tk window exposes no tree: reported absent, and OCR does the work there.
        assert trees["Tk form"]["status"] == "absent" and trees["Other window"]["status"] == "absent"
        assert trees["Tk form"]["nodes"] == 0 and trees["Tk form"]["detail"]  # said why, in `accessibility`
        await call(client, "focus_window", window="Tk form")
        email = {"type": "fill_input", "label": "Email", "value": "zoe@ex.org"}
        filled = await call(client, "execute_action", action=email)
        (check,) = filled["checks"]
        assert check["ok"] is True and "read by OCR" in check["detail"] and "'Tk form' (absent)" in check["detail"]
        assert form.wait_for(lambda s: s["widgets"]["email_entry"]["value"] == "zoe@ex.org")
        described = await call(client, "describe_screen", monitor=0)
        tk_text = element(described, "Email", source="ocr")
        x1, _, x2, _ = tk_text["bbox"]
        assert x1 >= 700 and x2 <= 1260, "OCR describes the Tk window's content"

    actions = [r["action"]["type"] for r in records(tmp_path) if r["kind"] == "intent"]
    assert {"focus_window", "key", "clipboard_write", "fill_input", "clipboard_read"} <= set(actions)

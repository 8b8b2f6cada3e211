"""Input on an X display with no Xauthority at all, and validation and policy with no display.

Containers usually start ``Xvfb :99`` with no cookie and leave no ~/.Xauthority. python-xlib (under
pyautogui) refuses to connect there, and prints to stdout, the MCP stdio channel, when the file is
empty. These tests run the real server over stdio on such a display and type into a real Tk app,
and check that dry runs, key validation and policy refusals need no display at all.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import stop_process
from tests.support.servers import ROOT, spawn_stdio
from tests.support.tkapp import TkApp
from tests.support.xorg_dummy import free_displays
from tools.desktop.inputs import has_xauthority, quiet_xlib_connect
from tools.desktop.keys import PYAUTOGUI_KEY_NAMES, valid_key_names

needs_xvfb = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("xdpyinfo") is None or shutil.which("xdotool") is None,
    reason="Xvfb/xdpyinfo/xdotool not installed (scripts/setup dev)",
)
HANG_GUARD = 60.0  # seconds for one answer; a hang guard, not a timing assertion
INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x-display", "version": "1"}}
SIZE = (1366, 768)


def _without_auth(env: dict[str, str], home: Path) -> dict[str, str]:
    env = {**env, "HOME": str(home), "VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "1.0"}
    env.pop("XAUTHORITY", None)
    return env


@pytest.fixture(scope="module")
def bare_xvfb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A plain ``Xvfb :N -nolisten tcp`` with no -auth and no cookie anywhere: its display name."""
    if shutil.which("Xvfb") is None or shutil.which("xdpyinfo") is None:
        pytest.skip("Xvfb/xdpyinfo not installed (scripts/setup dev)")
    folder = tmp_path_factory.mktemp("bare-xvfb")
    probe_env = _without_auth(dict(os.environ), folder)
    for number in free_displays(900, 999):
        log = (folder / f"Xvfb-{number}.log").open("wb")
        proc = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        probe_env["DISPLAY"] = f":{number}"
        for _ in range(200):
            if proc.poll() is not None:
                break
            probe = subprocess.run(["xdpyinfo"], env=probe_env, capture_output=True, text=True, timeout=10)
            if probe.returncode == 0:
                assert f"{SIZE[0]}x{SIZE[1]} pixels" in probe.stdout, "another server answered on this display"
                try:
                    yield f":{number}"
                finally:
                    stop_process(proc, 5)
                return
            time.sleep(0.05)
        stop_process(proc, 5)
    pytest.fail("no plain Xvfb could be started on :900..:999")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder with no .Xauthority."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


class StdioSession:
    """The real server on raw stdio pipes; every stdout line must be a JSON-RPC message."""

    def __init__(self, env: dict[str, str], stderr_path: Path) -> None:
        self._stderr_path = stderr_path
        with stderr_path.open("wb") as err:
            self.proc = spawn_stdio(["--backend", "none"], env, stderr=err)
        self.lines: list[bytes] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 1
        threading.Thread(target=self._read, daemon=True).start()
        self.request("initialize", INIT)
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            try:
                message = json.loads(line)
            except ValueError:
                message = {"not_json": line.decode(errors="replace")}
            self._queue.put(message)
        self._queue.put(None)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def stderr(self) -> str:
        """What the server wrote to stderr so far (its log)."""
        return self._stderr_path.read_text(errors="replace")[-3000:]

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a request and return its reply (skipping notifications)."""
        id_, self._next_id = self._next_id, self._next_id + 1
        self._send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        while True:
            try:
                message = self._queue.get(timeout=HANG_GUARD)
            except queue.Empty:
                raise AssertionError(f"no answer to {method} within {HANG_GUARD} s; stderr: {self.stderr()}") from None
            assert message is not None, f"the server closed stdout; stderr: {self.stderr()}"
            assert message.get("jsonrpc") == "2.0", f"not JSON-RPC on stdout: {message}"
            if message.get("id") == id_:
                return message

    def execute(self, action: dict[str, Any], dry_run: bool | None = None) -> dict[str, Any]:
        """``execute_action``'s tools/call result (``isError`` set when it was refused or failed)."""
        arguments: dict[str, Any] = {"action": action}
        if dry_run is not None:
            arguments["dry_run"] = dry_run
        reply = self.request("tools/call", {"name": "execute_action", "arguments": arguments})
        assert "result" in reply, reply
        return reply["result"]  # type: ignore[no-any-return]

    def close(self) -> list[dict[str, Any]]:
        """End the session (closing stdin) and return every message the server wrote to stdout."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        finally:
            stop_process(self.proc, 5)
        messages = []
        for line in self.lines:
            if line.strip():
                message = json.loads(line)  # anything but JSON on stdout fails here
                assert message.get("jsonrpc") == "2.0", message
                messages.append(message)
        return messages


def _text(result: dict[str, Any]) -> str:
    return " ".join(part.get("text", "") for part in result.get("content", []))


# --- the Xauthority stand-in (no display needed) --------------------------------------------------


def test_a_missing_or_empty_xauthority_is_not_usable(tmp_path: Path) -> None:
    assert not has_xauthority({"HOME": str(tmp_path)})
    assert not has_xauthority({})
    (tmp_path / ".Xauthority").write_bytes(b"")
    assert not has_xauthority({"HOME": str(tmp_path)})
    assert not has_xauthority({"XAUTHORITY": "", "HOME": str(tmp_path)})
    (tmp_path / "cookie").write_bytes(b"\x01\x00")
    assert has_xauthority({"XAUTHORITY": str(tmp_path / "cookie")})
    assert not has_xauthority({"XAUTHORITY": str(tmp_path / "absent"), "HOME": str(tmp_path)})


def test_without_xauthority_xlib_gets_a_private_file_with_no_cookie(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from Xlib import error, xauth
    from Xlib.support import unix_connect

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XAUTHORITY", raising=False)
    with quiet_xlib_connect():
        stand_in = os.environ["XAUTHORITY"]
        assert not stand_in.startswith(str(tmp_path))
        authority = xauth.Xauthority()
        assert len(authority) == 1
        with pytest.raises(error.XNoAuthError):
            authority.get_best_auth(xauth.FamilyLocal, "localhost", 0)
        # What python-xlib's connect does with it: no cookie, no error, so it connects like libX11.
        assert unix_connect.new_get_auth(None, ":0", "", 0) == ("", "")
        print("a stray print")
    assert "XAUTHORITY" not in os.environ
    assert not Path(stand_in).exists()
    assert list(tmp_path.iterdir()) == []  # no ~/.Xauthority was created
    out, err = capsys.readouterr()
    assert out == ""
    assert "a stray print" in err


def test_an_empty_xauthority_gives_no_warning_on_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from Xlib import xauth

    (tmp_path / ".Xauthority").write_bytes(b"")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XAUTHORITY", raising=False)
    with quiet_xlib_connect():
        xauth.Xauthority()
    assert capsys.readouterr().out == ""
    assert (tmp_path / ".Xauthority").read_bytes() == b""  # the user's file is never touched


def test_a_real_cookie_file_is_used_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cookie = tmp_path / "cookie"
    cookie.write_bytes(b"\x01\x00\x00\x04host\x00\x0190\x00\x12MIT-MAGIC-COOKIE-1\x00\x10" + bytes(16))
    monkeypatch.setenv("XAUTHORITY", str(cookie))
    with quiet_xlib_connect():
        assert os.environ["XAUTHORITY"] == str(cookie)
    assert os.environ["XAUTHORITY"] == str(cookie)


# --- a real display with no cookie ----------------------------------------------------------------


@needs_xvfb
def test_stock_python_xlib_cannot_connect_there(bare_xvfb: str, home: Path) -> None:
    env = {**_without_auth(dict(os.environ), home), "DISPLAY": bare_xvfb}
    plain = subprocess.run(
        [sys.executable, "-c", "from Xlib import display; display.Display()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert plain.returncode != 0 and "XauthError" in plain.stderr  # the problem these tests are about
    xdotool = subprocess.run(["xdotool", "getmouselocation"], env=env, capture_output=True, text=True, timeout=10)
    assert xdotool.returncode == 0, xdotool.stderr  # libX11 needs no file


@needs_xvfb
def test_static_key_table_equals_pyautogui(bare_xvfb: str, home: Path) -> None:
    # In a subprocess: importing pyautogui here would bind this test process to this display.
    script = (
        "import json\n"
        "from tools.desktop.inputs import PyAutoGuiDriver\n"
        "driver = PyAutoGuiDriver()\n"
        "driver.load()\n"
        "import pyautogui\n"
        "mapping = pyautogui.platformModule.keyboardMapping\n"
        "print(json.dumps({'names': list(pyautogui.KEY_NAMES), 'keyboard_keys': list(pyautogui.KEYBOARD_KEYS),\n"
        "    'valid': sorted(k for k in mapping if pyautogui.isValidKey(k))}))\n"
    )
    env = {**_without_auth(dict(os.environ), home), "DISPLAY": bare_xvfb}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    live = json.loads(done.stdout)  # stdout held nothing else: no python-xlib warning either
    assert tuple(live["names"]) == PYAUTOGUI_KEY_NAMES
    assert tuple(live["keyboard_keys"]) == PYAUTOGUI_KEY_NAMES
    assert set(live["valid"]) == valid_key_names("linux")


@needs_xvfb
@pytest.mark.parametrize("xauthority", ["missing", "empty"])
def test_real_input_over_stdio_without_xauthority(bare_xvfb: str, home: Path, tmp_path: Path, xauthority: str) -> None:
    if xauthority == "empty":
        (home / ".Xauthority").write_bytes(b"")
    env = {**_without_auth(dict(os.environ), home), "DISPLAY": bare_xvfb}
    with TkApp(tmp_path / "state.json", env=env, geometry="760x560+180+90") as app:
        entry = app.widget("name_entry")
        session = StdioSession(env, tmp_path / "server.err")
        try:
            point = {"x": entry["x"] + 20, "y": entry["y"] + entry["height"] // 2}
            clicked = session.execute({"type": "click", **point})
            assert not clicked.get("isError"), _text(clicked)
            app.wait_for(lambda s: s["events"]["focused"] == "name_entry")
            text = "Zoë Ñandú 你好 ok"  # ASCII through pyautogui, the rest through xdotool
            typed = session.execute({"type": "type", "text": text})
            assert not typed.get("isError"), _text(typed)
            state = app.wait_for(lambda s: s["widgets"]["name_entry"]["value"] == text)
            assert state["events"]["ctrl_a"] == 0
            pressed = session.execute({"type": "key", "keys": ["ctrl", "a"]})
            assert not pressed.get("isError"), _text(pressed)
            assert pressed["structuredContent"]["performed"] == [{"op": "hotkey", "keys": ["ctrl", "a"]}]
            app.wait_for(lambda s: s["events"]["ctrl_a"] == 1)
        finally:
            messages = session.close()
    assert len(messages) >= 4  # initialize and the three calls
    assert "Xlib.xauth" not in session.stderr()  # no warning even on stderr: the stand-in has an entry
    if xauthority == "empty":
        assert (home / ".Xauthority").read_bytes() == b""
    else:
        assert not (home / ".Xauthority").exists()


# --- no display at all ----------------------------------------------------------------------------


def test_key_validation_loads_no_input_library(home: Path) -> None:
    script = (
        "import sys\n"
        "from tools.actions.vocabulary import Key\n"
        "from tools.desktop.capture import Monitor\n"
        "from tools.actions.events import plan_events\n"
        "from tools.desktop.inputs import PyAutoGuiDriver\n"
        "screen = [Monitor(0, 0, 10, 10, index=0)]\n"
        "events = plan_events(Key(keys=['Control', 'S']), screen, PyAutoGuiDriver().is_valid_key)\n"
        "assert events[0].keys == ('ctrl', 's'), events\n"
        "assert 'pyautogui' not in sys.modules and 'Xlib' not in sys.modules\n"
    )
    env = _without_auth(dict(os.environ), home)
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_dry_runs_and_policy_refusals_need_no_display(home: Path, tmp_path: Path) -> None:
    env = _without_auth(dict(os.environ), home)
    env.pop("DISPLAY", None)
    session = StdioSession(env, tmp_path / "server.err")
    try:
        dry = session.execute({"type": "key", "keys": ["Control", "s"]}, dry_run=True)
        assert not dry.get("isError"), _text(dry)
        assert dry["structuredContent"]["status"] == "dry_run"
        assert dry["structuredContent"]["performed"] == [{"op": "hotkey", "keys": ["ctrl", "s"]}]
        for dry_run in (True, False):
            blocked = session.execute({"type": "key", "keys": ["ctrl+alt+delete"]}, dry_run=dry_run)
            assert blocked.get("isError") and "blocked" in _text(blocked), _text(blocked)
        unknown = session.execute({"type": "key", "keys": ["hyperspace"]}, dry_run=True)
        assert unknown.get("isError") and "unknown key name" in _text(unknown), _text(unknown)
        sent = session.execute({"type": "key", "keys": ["ctrl", "s"]})
        assert sent.get("isError") and "display" in _text(sent).lower(), _text(sent)
    finally:
        session.close()

"""Input events and the drivers that send them.

An action becomes a list of primitive :class:`InputEvent` s first (pure, validated, recorded), and
only then is sent. Dry runs stop after recording, so both paths share everything up to the send.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from tools.desktop.keys import is_valid_key
from tools.desktop.unicode_x11 import type_text
from tools.errors import DesktopUnavailable, InvalidAction

log = logging.getLogger(__name__)

_GUI_LOCK = threading.Lock()
"""pyautogui shares one Xlib connection per process, which deadlocks when two threads use it at once."""

_LOAD_LOCK = threading.Lock()
"""One import at a time: :func:`quiet_xlib_connect` changes the process's stdout and environment."""

Op = Literal["move", "click", "mouse_down", "mouse_up", "hotkey", "write", "unicode", "scroll", "hscroll", "sleep"]


@dataclass(frozen=True)
class InputEvent:
    """One primitive input event; unused fields stay ``None``."""

    op: Op
    x: int | None = None
    y: int | None = None
    button: str | None = None
    clicks: int | None = None
    keys: tuple[str, ...] | None = None
    text: str | None = None
    amount: int | None = None
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event without its unused fields (what results and logs show)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v is not None}


class InputDriver(Protocol):
    """Sends primitive events to the desktop."""

    def is_valid_key(self, name: str) -> bool:
        """Whether ``name`` is a key the driver can press (unknown keys must never be silently dropped)."""
        ...

    def position(self) -> tuple[int, int]:
        """Current pointer position in screen pixels."""
        ...

    def send(self, events: Sequence[InputEvent]) -> None:
        """Send ``events`` in order (blocking); release anything held if one fails."""
        ...


def is_ascii_typable(char: str) -> bool:
    """Characters pyautogui can type itself (everything else it would silently drop)."""
    return char in "\n\t" or 32 <= ord(char) < 127


def split_text(text: str) -> list[InputEvent]:
    """Split text into runs pyautogui types (``write``) and runs typed by code point (``unicode``)."""
    events: list[InputEvent] = []
    run = ""
    run_ascii: bool | None = None
    for char in text:
        ascii_char = is_ascii_typable(char)
        if run and ascii_char != run_ascii:
            events.append(InputEvent("write" if run_ascii else "unicode", text=run))
            run = ""
        run += char
        run_ascii = ascii_char
    if run:
        events.append(InputEvent("write" if run_ascii else "unicode", text=run))
    return events


def _xauth_entry(family: int, address: bytes, number: bytes, name: bytes, data: bytes) -> bytes:
    return struct.pack(">H", family) + b"".join(struct.pack(">H", len(f)) + f for f in (address, number, name, data))


# A well-formed Xauthority entry that matches no display (its display number is empty), so python-xlib
# finds no cookie and connects without one, as libX11 does when there is no Xauthority file at all.
_NO_COOKIE = _xauth_entry(256, b"vlm-desktop-mcp", b"", b"MIT-MAGIC-COOKIE-1", b"")


def has_xauthority(env: Mapping[str, str]) -> bool:
    """Whether ``env`` names a readable, non-empty Xauthority file, the way python-xlib looks for it."""
    path = env.get("XAUTHORITY")
    if path is None:
        home = env.get("HOME")
        if not home:
            return False
        path = os.path.join(home, ".Xauthority")
    try:
        with open(path, "rb") as file:
            return bool(file.read(1))
    except OSError:
        return False


@contextlib.contextmanager
def quiet_xlib_connect() -> Iterator[None]:
    """Let python-xlib connect to ``$DISPLAY`` the way libX11 does, without a word on stdout.

    python-xlib refuses to connect when there is no Xauthority file (Xvfb started without a cookie,
    as containers do) and prints warnings to stdout, the MCP stdio channel, when the file is empty.
    Inside this block stdout goes to stderr and, without a usable Xauthority file, ``XAUTHORITY``
    names a private file with no matching cookie. The user's own files are never touched, and the
    environment is restored afterwards (subprocesses such as xdotool use libX11, which needs no file).
    """
    with contextlib.redirect_stdout(sys.stderr):
        if has_xauthority(os.environ):
            yield
            return
        with tempfile.TemporaryDirectory(prefix="vlm-desktop-xauth-") as folder:
            stand_in = os.path.join(folder, "Xauthority")
            with open(stand_in, "wb") as file:
                file.write(_NO_COOKIE)
            previous = os.environ.get("XAUTHORITY")
            os.environ["XAUTHORITY"] = stand_in
            try:
                yield
            finally:
                if previous is None:
                    os.environ.pop("XAUTHORITY", None)
                else:
                    os.environ["XAUTHORITY"] = previous


class PyAutoGuiDriver:
    """Sends events with pyautogui, imported lazily (it needs ``DISPLAY`` at import time).

    Non-ASCII text, which pyautogui drops, is sent on X11 as one keysym per character with
    XTest on keycodes mapped for the text (:mod:`tools.desktop.unicode_x11`); elsewhere it is pasted from the clipboard.
    """

    def __init__(self, *, pause: float = 0.02, failsafe: bool = True) -> None:
        self._pause = pause
        self._failsafe = failsafe
        self._pyautogui: Any = None

    def _gui(self) -> Any:
        if self._pyautogui is None:
            if sys.platform not in ("darwin", "win32") and not os.environ.get("DISPLAY"):
                raise DesktopUnavailable("no X display: DISPLAY is not set, so input cannot be sent")
            try:
                # pyautogui and mouseinfo open their X connections at import time, and only then.
                with _LOAD_LOCK, quiet_xlib_connect():
                    import pyautogui
            except Exception as exc:  # Xlib connection and auth errors, missing backends
                raise DesktopUnavailable(
                    f"cannot load pyautogui ({exc.__class__.__name__}: {exc}). Is DISPLAY set and the X server "
                    "reachable (XAUTHORITY)?"
                ) from exc
            pyautogui.FAILSAFE = self._failsafe
            pyautogui.PAUSE = self._pause
            self._pyautogui = pyautogui
        return self._pyautogui

    def load(self) -> None:
        """Import pyautogui now (call from a worker thread at start-up)."""
        self._gui()

    def is_valid_key(self, name: str) -> bool:
        """pyautogui's own key list for this platform (pure: pyautogui is not loaded for it)."""
        return is_valid_key(name)

    def position(self) -> tuple[int, int]:
        """Pointer position."""
        gui = self._gui()
        with _GUI_LOCK:
            point = gui.position()
        return int(point[0]), int(point[1])

    def send(self, events: Sequence[InputEvent]) -> None:
        """Send events; on any failure release held buttons and keys, then raise a tool failure."""
        gui = self._gui()
        with _GUI_LOCK:
            self._send_all(gui, events)

    def _send_all(self, gui: Any, events: Sequence[InputEvent]) -> None:
        held_buttons: list[str] = []
        held_keys: list[str] = []
        try:
            for event in events:
                self._send_one(gui, event, held_buttons, held_keys)
        except Exception as exc:
            self._release(gui, held_buttons, held_keys)
            if exc.__class__.__name__ == "FailSafeException":
                raise InvalidAction(
                    "pyautogui fail-safe triggered (the pointer is in a screen corner); the action was aborted. "
                    "Move the pointer away from the corner to continue."
                ) from exc
            if isinstance(exc, (InvalidAction, DesktopUnavailable)):
                raise
            raise DesktopUnavailable(f"sending input failed: {exc.__class__.__name__}: {exc}") from exc

    def _send_one(self, gui: Any, event: InputEvent, held_buttons: list[str], held_keys: list[str]) -> None:
        match event.op:
            case "move":
                gui.moveTo(event.x, event.y)
            case "click":
                gui.click(event.x, event.y, clicks=event.clicks or 1, interval=0.05, button=event.button or "left")
            case "mouse_down":
                gui.mouseDown(event.x, event.y, button=event.button or "left")
                held_buttons.append(event.button or "left")
            case "mouse_up":
                gui.mouseUp(event.x, event.y, button=event.button or "left")
                if held_buttons:
                    held_buttons.pop()
            case "hotkey":
                for key in event.keys or ():
                    gui.keyDown(key)
                    held_keys.append(key)
                for key in reversed(event.keys or ()):
                    gui.keyUp(key)
                    held_keys.remove(key)
            case "write":
                gui.write(event.text or "", interval=0.0)
            case "unicode":
                self._type_unicode(gui, event.text or "")
            case "scroll":
                gui.scroll(event.amount or 0, x=event.x, y=event.y)
            case "hscroll":
                gui.hscroll(event.amount or 0, x=event.x, y=event.y)
            case "sleep":
                gui.sleep(event.seconds or 0)

    def _type_unicode(self, gui: Any, text: str) -> None:
        if sys.platform.startswith("linux"):
            from pyautogui import _pyautogui_x11  # the X connection pyautogui already holds

            type_text(_pyautogui_x11._display, text)
            return
        import pyperclip  # a pyautogui dependency; used only off X11

        previous = pyperclip.paste()
        pyperclip.copy(text)
        gui.hotkey("command" if sys.platform == "darwin" else "ctrl", "v")
        gui.sleep(0.1)
        pyperclip.copy(previous)

    @staticmethod
    def _release(gui: Any, held_buttons: list[str], held_keys: list[str]) -> None:
        # After a fail-safe abort the pointer sits in a corner, where pyautogui refuses every call,
        # releases included: switch the check off just long enough to let go.
        failsafe, gui.FAILSAFE = gui.FAILSAFE, False
        try:
            for button in reversed(held_buttons):
                try:
                    gui.mouseUp(button=button)
                except Exception:  # best effort while already failing
                    log.warning("could not release mouse button %s", button)
            for key in reversed(held_keys):
                try:
                    gui.keyUp(key)
                except Exception:
                    log.warning("could not release key %s", key)
        finally:
            gui.FAILSAFE = failsafe

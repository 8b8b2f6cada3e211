"""Which top-level window has the keyboard: how staged actions know a dialog opened or closed.

X11 only (python-xlib, which pyautogui already needs there). The input focus is followed up to
the child of the root window that holds it: the client window without a window manager, the
manager's frame with one. Both change when a dialog opens, which is all the callers need. Where
X cannot be asked (another platform, a display that refuses us), :func:`focused_window` returns
``None`` and callers fall back to watching pixels.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any

import anyio

log = logging.getLogger(__name__)

_local = threading.local()


@dataclass(frozen=True)
class Window:
    """A top-level window: X id, box in screen pixels (x2/y2 exclusive), title (may be empty)."""

    id: int
    box: tuple[int, int, int, int]
    title: str


def _display() -> Any:
    handle = getattr(_local, "display", None)
    if handle is None:
        from tools.desktop.xdisplay import open_xlib_display

        handle = open_xlib_display()
        _local.display = handle
    return handle


def _title(window: Any) -> str:
    for candidate in [window, *_children(window)]:
        with contextlib.suppress(Exception):
            name = candidate.get_full_text_property(candidate.display.intern_atom("_NET_WM_NAME"))
            name = name or candidate.get_wm_name()
            if name:
                return str(name)
    return ""


def _children(window: Any) -> list[Any]:
    try:
        children = list(window.query_tree().children)
    except Exception:
        return []
    return children + [grand for child in children[:8] for grand in _children_once(child)]


def _children_once(window: Any) -> list[Any]:
    try:
        return list(window.query_tree().children)
    except Exception:
        return []


def focused_window_sync() -> Window | None:
    """The top-level window holding the keyboard focus, or ``None`` when X cannot say."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        display = _display()
        root = display.screen().root
        focus = display.get_input_focus().focus
        if isinstance(focus, int) or focus is None or focus.id == root.id:
            return None
        window = focus
        while True:
            tree = window.query_tree()
            if tree.parent is None or tree.parent == 0 or tree.parent.id == root.id:
                break
            window = tree.parent
        geometry = window.get_geometry()
        origin = root.translate_coords(window, 0, 0)
        x, y = int(origin.x), int(origin.y)
        return Window(window.id, (x, y, x + int(geometry.width), y + int(geometry.height)), _title(window))
    except Exception as exc:  # no display, a window closing under us, Xlib protocol errors
        log.debug("cannot ask X for the focused window: %s", exc)
        _local.display = None
        return None


async def focused_window() -> Window | None:
    """Async :func:`focused_window_sync`."""
    return await anyio.to_thread.run_sync(focused_window_sync)

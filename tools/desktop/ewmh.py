"""Top-level windows on X11, through the window manager's EWMH hints (python-xlib), synchronously.

Reading: ``_NET_CLIENT_LIST`` (the managed windows, oldest first), ``_NET_ACTIVE_WINDOW``,
``_NET_WM_NAME`` / ``WM_NAME``, ``WM_CLASS``, ``_NET_WM_PID``, ``_NET_WM_STATE`` (hidden = minimised)
and ``_NET_WM_WINDOW_TYPE``. Acting: client messages to the root window, as pagers and taskbars
send them (``_NET_ACTIVE_WINDOW``, ``_NET_MOVERESIZE_WINDOW``, ``_NET_CLOSE_WINDOW``), so the window
manager stays in charge. Without a window manager (no ``_NET_SUPPORTING_WM_CHECK``), the mapped
children of the root are the windows, focus is set directly and a close is a ``WM_DELETE_WINDOW``
request. Boxes are the client area (what the application draws) in screen pixels, x2/y2 exclusive.

Every function opens its own connection from the calling thread's cache (python-xlib connections
are not thread-safe), raises :class:`tools.errors.DesktopUnavailable` when X cannot be reached, and
never prints (stdout is the MCP channel). Callers run them in worker threads.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tools.desktop.platform import WindowInfo
from tools.errors import DesktopUnavailable

log = logging.getLogger(__name__)

_local = threading.local()

SOURCE_PAGER = 2
"""EWMH source indication: the request comes from a pager or taskbar, i.e. on the user's behalf."""
STATIC_GRAVITY = 10
"""With this gravity a move's x/y place the client area itself, not the window manager's frame."""
_MOVE_FLAGS = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (SOURCE_PAGER << 12)
"""``_NET_MOVERESIZE_WINDOW``: x, y, width and height all given, from a pager."""


def _display() -> Any:
    # One connection per thread and display: worker threads live on, and $DISPLAY may change (a new X
    # server may even reuse the number, but not the cookie file).
    name = (os.environ.get("DISPLAY"), os.environ.get("XAUTHORITY"))
    cached = getattr(_local, "display", None)
    if cached is not None and cached[0] == name:
        return cached[1]
    from Xlib import error

    from tools.desktop.xdisplay import open_xlib_display

    try:
        handle = open_xlib_display()
    except (OSError, error.DisplayError, error.ConnectionClosedError) as exc:  # no DISPLAY, refused, bad cookie
        raise DesktopUnavailable(f"cannot connect to the X display: {exc.__class__.__name__}: {exc}") from exc
    _local.display = (name, handle)
    return handle


@contextmanager
def _x() -> Iterator[Any]:
    """This thread's display; a broken connection is dropped so the next call opens a fresh one."""
    display = _display()
    try:
        yield display
    except DesktopUnavailable:
        raise
    except Exception as exc:
        from Xlib import error

        if isinstance(exc, error.BadWindow | error.BadDrawable | error.BadMatch | error.BadValue):
            raise
        _local.display = None
        raise DesktopUnavailable(f"X request failed: {exc.__class__.__name__}: {exc}") from exc


def _atom(display: Any, name: str) -> int:
    return int(display.intern_atom(name))


def _cardinals(window: Any, display: Any, name: str) -> list[int]:
    prop = window.get_full_property(_atom(display, name), 0)
    return [int(v) for v in prop.value] if prop is not None and prop.value is not None else []


def _wm_check(display: Any) -> bool:
    root = display.screen().root
    return bool(_cardinals(root, display, "_NET_SUPPORTING_WM_CHECK"))


def _supported(display: Any, name: str) -> bool:
    root = display.screen().root
    return _atom(display, name) in _cardinals(root, display, "_NET_SUPPORTED")


def _title(display: Any, window: Any) -> str:
    prop = window.get_full_property(_atom(display, "_NET_WM_NAME"), _atom(display, "UTF8_STRING"))
    name = prop.value if prop is not None else None
    if not name:
        name = window.get_wm_name()
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return str(name or "")


def _app(window: Any) -> str:
    wm_class = window.get_wm_class()
    if not wm_class:
        return ""
    instance, cls = wm_class
    return str(cls or instance or "")


def _box(display: Any, window: Any) -> tuple[int, int, int, int]:
    geometry = window.get_geometry()
    origin = display.screen().root.translate_coords(window, 0, 0)
    x, y = int(origin.x), int(origin.y)
    return x, y, x + int(geometry.width), y + int(geometry.height)


def _kind(display: Any, window: Any) -> str:
    types = _cardinals(window, display, "_NET_WM_WINDOW_TYPE")
    if not types:
        return "normal"
    name = display.get_atom_name(types[0])
    return str(name).removeprefix("_NET_WM_WINDOW_TYPE_").lower()


def _client_ids(display: Any) -> list[int]:
    root = display.screen().root
    if _wm_check(display):
        return _cardinals(root, display, "_NET_CLIENT_LIST")
    from Xlib import X

    ids = []
    for child in root.query_tree().children:
        attributes = child.get_attributes()
        if attributes.map_state == X.IsViewable and not attributes.override_redirect:
            ids.append(int(child.id))
    return ids


def _active_id(display: Any) -> int | None:
    root = display.screen().root
    if _wm_check(display):
        active = _cardinals(root, display, "_NET_ACTIVE_WINDOW")
        return active[0] if active and active[0] else None
    focus = display.get_input_focus().focus
    if isinstance(focus, int) or focus is None or focus.id == root.id:
        return None
    window = focus
    while True:  # up to the child of the root that holds the focus
        tree = window.query_tree()
        if tree.parent is None or tree.parent == 0 or tree.parent.id == root.id:
            return int(window.id)
        window = tree.parent


def _stacking(display: Any, ids: list[int]) -> dict[int, int]:
    root = display.screen().root
    order = _cardinals(root, display, "_NET_CLIENT_LIST_STACKING") if _wm_check(display) else []
    if not order:  # without a window manager the root's children are listed bottom to top
        order = [int(child.id) for child in root.query_tree().children]
    place = {wid: index for index, wid in enumerate(order)}
    return {wid: place.get(wid, 0) for wid in ids}


def _info(display: Any, wid: int, active: int | None, stacking: int = 0) -> WindowInfo:
    window = display.create_resource_object("window", wid)
    states = {display.get_atom_name(a) for a in _cardinals(window, display, "_NET_WM_STATE")}
    pids = _cardinals(window, display, "_NET_WM_PID")
    return WindowInfo(
        id=wid,
        title=_title(display, window),
        app=_app(window),
        pid=pids[0] if pids else None,
        box=_box(display, window),
        focused=wid == active,
        minimized="_NET_WM_STATE_HIDDEN" in states,
        kind=_kind(display, window),
        stacking=stacking,
    )


def list_windows() -> list[WindowInfo]:
    """Every top-level window the window manager manages, oldest first (closing ones are skipped)."""
    from Xlib import error

    with _x() as display:
        active = _active_id(display)
        ids = _client_ids(display)
        stacking = _stacking(display, ids)
        windows = []
        for wid in ids:
            try:
                windows.append(_info(display, wid, active, stacking[wid]))
            except (error.BadWindow, error.BadDrawable):  # closed while we looked
                continue
        return windows


def active_window() -> WindowInfo | None:
    """The window that has the keyboard (``_NET_ACTIVE_WINDOW``), or ``None`` when none has."""
    from Xlib import error

    with _x() as display:
        active = _active_id(display)
        if active is None:
            return None
        try:
            return _info(display, active, active)
        except (error.BadWindow, error.BadDrawable):
            return None


def window_info(wid: int) -> WindowInfo | None:
    """One window's current state, or ``None`` when it no longer exists."""
    from Xlib import error

    with _x() as display:
        try:
            return _info(display, wid, _active_id(display))
        except (error.BadWindow, error.BadDrawable):
            return None


def _client_message(display: Any, wid: int, name: str, data: list[int]) -> None:
    from Xlib import X
    from Xlib.protocol import event

    root = display.screen().root
    message = event.ClientMessage(
        window=display.create_resource_object("window", wid),
        client_type=_atom(display, name),
        data=(32, (data + [0] * 5)[:5]),
    )
    root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
    display.flush()


def activate(wid: int) -> None:
    """Ask the window manager to raise and focus ``wid`` (restoring it when minimised)."""
    with _x() as display:
        if _wm_check(display):
            _client_message(display, wid, "_NET_ACTIVE_WINDOW", [SOURCE_PAGER, 0, 0])
            return
        from Xlib import X

        window = display.create_resource_object("window", wid)
        window.map()
        window.configure(stack_mode=X.Above)
        window.set_input_focus(X.RevertToParent, X.CurrentTime)
        display.sync()


def move_resize(wid: int, x: int, y: int, width: int, height: int) -> None:
    """Ask for the client area at (x, y), ``width`` x ``height``; a maximised window is restored first."""
    with _x() as display:
        if not _wm_check(display):
            window = display.create_resource_object("window", wid)
            window.configure(x=x, y=y, width=width, height=height)
            display.sync()
            return
        maximized = [_atom(display, "_NET_WM_STATE_MAXIMIZED_VERT"), _atom(display, "_NET_WM_STATE_MAXIMIZED_HORZ")]
        _client_message(display, wid, "_NET_WM_STATE", [0, *maximized, SOURCE_PAGER])  # 0: remove
        if _supported(display, "_NET_MOVERESIZE_WINDOW"):
            _client_message(display, wid, "_NET_MOVERESIZE_WINDOW", [_MOVE_FLAGS | STATIC_GRAVITY, x, y, width, height])
            return
        window = display.create_resource_object("window", wid)
        window.configure(x=x, y=y, width=width, height=height)
        display.sync()


def close(wid: int) -> None:
    """Ask ``wid`` to close, as its title bar's close button does (the application may ask first)."""
    with _x() as display:
        if _wm_check(display) and _supported(display, "_NET_CLOSE_WINDOW"):
            _client_message(display, wid, "_NET_CLOSE_WINDOW", [0, SOURCE_PAGER])
            return
        from Xlib import X
        from Xlib.protocol import event

        window = display.create_resource_object("window", wid)
        delete = [_atom(display, "WM_DELETE_WINDOW"), X.CurrentTime, 0, 0, 0]
        message = event.ClientMessage(window=window, client_type=_atom(display, "WM_PROTOCOLS"), data=(32, delete))
        window.send_event(message)
        display.sync()

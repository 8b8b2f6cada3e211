"""The desktop as structure, behind one small interface: windows, applications, the clipboard.

:class:`DesktopPlatform` is what the tools use; :func:`native_desktop` picks the implementation
for this machine. X11 is served (:mod:`tools.desktop.ewmh`, :mod:`tools.desktop.clipboard`,
:mod:`tools.desktop.launcher`); elsewhere every call says, as a :class:`DesktopUnavailable`, that
this platform is not served yet. Blocking X and process calls run in worker threads.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import anyio

from tools.errors import DesktopUnavailable

if TYPE_CHECKING:
    from tools.desktop.launcher import Launch


@dataclass(frozen=True)
class WindowInfo:
    """One top-level window as the window manager sees it."""

    id: int
    title: str
    app: str
    """The application's class name (X11 ``WM_CLASS``, e.g. ``Mousepad``); may be empty."""
    pid: int | None
    box: tuple[int, int, int, int]
    """The client area in screen pixels: x1, y1, x2, y2 (x2/y2 exclusive)."""
    focused: bool
    minimized: bool
    kind: str = "normal"
    """``normal``, ``dialog``, ``utility``... (X11 ``_NET_WM_WINDOW_TYPE``); ``normal`` when unset."""
    stacking: int = 0
    """Place in the stacking order: a window covers those with a lower number where they overlap."""

    @property
    def hex_id(self) -> str:
        """The id as X tools print it: ``0x1a00003``."""
        return f"{self.id:#x}"


def covered(x: int, y: int, window: WindowInfo, windows: list[WindowInfo]) -> WindowInfo | None:
    """The window stacked above ``window`` that covers the point (x, y), if any (minimised ones cover nothing)."""
    for other in windows:
        if other.id == window.id or other.minimized or other.stacking <= window.stacking:
            continue
        x1, y1, x2, y2 = other.box
        if x1 <= x < x2 and y1 <= y < y2:
            return other
    return None


class DesktopPlatform(Protocol):
    """Windows, applications and the clipboard of one desktop."""

    name: str

    async def windows(self) -> list[WindowInfo]:
        """Every top-level window, oldest first."""
        ...

    async def active_window(self) -> WindowInfo | None:
        """The window that has the keyboard, if any."""
        ...

    async def window(self, wid: int) -> WindowInfo | None:
        """One window's current state; ``None`` once it is gone."""
        ...

    async def activate(self, wid: int) -> None:
        """Ask for ``wid`` to be raised and given the keyboard."""
        ...

    async def move_resize(self, wid: int, x: int, y: int, width: int, height: int) -> None:
        """Ask for ``wid``'s client area at (x, y) with this size."""
        ...

    async def close(self, wid: int) -> None:
        """Ask ``wid`` to close, as its close button does."""
        ...

    async def launch(self, launch: Launch) -> int:
        """Start a program detached from the server; its process id."""
        ...

    async def clipboard_read(self) -> str:
        """The clipboard's text (``""`` when it holds no text)."""
        ...

    async def clipboard_write(self, text: str) -> None:
        """Put ``text`` on the clipboard."""
        ...


class X11Desktop:
    """:class:`DesktopPlatform` on X11: EWMH for windows, ``xclip`` for the clipboard."""

    name = "x11"

    async def windows(self) -> list[WindowInfo]:
        """Every managed window (``_NET_CLIENT_LIST``)."""
        from tools.desktop import ewmh

        return await anyio.to_thread.run_sync(ewmh.list_windows)

    async def active_window(self) -> WindowInfo | None:
        """``_NET_ACTIVE_WINDOW``."""
        from tools.desktop import ewmh

        return await anyio.to_thread.run_sync(ewmh.active_window)

    async def window(self, wid: int) -> WindowInfo | None:
        """One window, read now."""
        from tools.desktop import ewmh

        return await anyio.to_thread.run_sync(ewmh.window_info, wid)

    async def activate(self, wid: int) -> None:
        """A ``_NET_ACTIVE_WINDOW`` request."""
        from tools.desktop import ewmh

        await anyio.to_thread.run_sync(ewmh.activate, wid)

    async def move_resize(self, wid: int, x: int, y: int, width: int, height: int) -> None:
        """A ``_NET_MOVERESIZE_WINDOW`` request."""
        from tools.desktop import ewmh

        await anyio.to_thread.run_sync(ewmh.move_resize, wid, x, y, width, height)

    async def close(self, wid: int) -> None:
        """A ``_NET_CLOSE_WINDOW`` request."""
        from tools.desktop import ewmh

        await anyio.to_thread.run_sync(ewmh.close, wid)

    async def launch(self, launch: Launch) -> int:
        """Start detached (:func:`tools.desktop.launcher.start`)."""
        from tools.desktop import launcher

        return await anyio.to_thread.run_sync(launcher.start, launch)

    async def clipboard_read(self) -> str:
        """``xclip -o``."""
        from tools.desktop import clipboard

        return await anyio.to_thread.run_sync(clipboard.read_text)

    async def clipboard_write(self, text: str) -> None:
        """``xclip -i``."""
        from tools.desktop import clipboard

        await anyio.to_thread.run_sync(clipboard.write_text, text)


class UnservedDesktop:
    """:class:`DesktopPlatform` for a platform not served yet: every call says so."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _refuse(self) -> DesktopUnavailable:
        return DesktopUnavailable(
            f"windows, applications and the clipboard are served on X11 only so far, not on {self.name}"
        )

    async def windows(self) -> list[WindowInfo]:
        """Refused."""
        raise self._refuse()

    async def active_window(self) -> WindowInfo | None:
        """``None``: nothing can be said about focus here."""
        return None

    async def window(self, wid: int) -> WindowInfo | None:
        """Refused."""
        raise self._refuse()

    async def activate(self, wid: int) -> None:
        """Refused."""
        raise self._refuse()

    async def move_resize(self, wid: int, x: int, y: int, width: int, height: int) -> None:
        """Refused."""
        raise self._refuse()

    async def close(self, wid: int) -> None:
        """Refused."""
        raise self._refuse()

    async def launch(self, launch: Launch) -> int:
        """Refused."""
        raise self._refuse()

    async def clipboard_read(self) -> str:
        """Refused."""
        raise self._refuse()

    async def clipboard_write(self, text: str) -> None:
        """Refused."""
        raise self._refuse()


def native_desktop() -> DesktopPlatform:
    """The implementation for this machine: X11 on Linux and the BSDs, not served elsewhere yet."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return X11Desktop()
    return UnservedDesktop(sys.platform)

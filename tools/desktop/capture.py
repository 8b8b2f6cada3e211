"""Screen capture with mss: per monitor or region, returning the image and its :class:`Frame`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from PIL import Image

from engine.geometry import Frame, Rect
from tools.errors import DesktopUnavailable, InvalidAction


@dataclass(frozen=True)
class Capture:
    """One screenshot and where it sits on the screen."""

    image: Image.Image
    frame: Frame


@dataclass(frozen=True)
class Monitor(Rect):
    """One monitor's area; index 0 is the bounding box of all monitors (mss's convention)."""

    index: int = field(kw_only=True)


class Screen(Protocol):
    """What the tools need of a screen: its monitors, and captures. :class:`MssCapturer` is the real one;
    tests use a fake (tests/support/fakes.py) to run handlers with no X."""

    async def monitors(self) -> list[Monitor]:
        """Monitor geometry, index 0 being all monitors together."""
        ...

    async def grab(self, region: Rect | None = None, monitor: int = 1) -> Capture:
        """Capture ``region`` (screen pixels) or the whole ``monitor``."""
        ...


class MssCapturer:
    """Grabs the screen with mss (a few ms per frame, no subprocess).

    mss handles are per thread (Xlib is not thread-safe), so each worker thread keeps its own.
    All public methods are async and do the grabbing in a worker thread.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def _mss(self):  # type: ignore[no-untyped-def]
        handle = getattr(self._local, "mss", None)
        if handle is None:
            try:
                import mss

                factory = getattr(mss, "MSS", None) or mss.mss  # mss 10 renamed the factory
                handle = factory()
            except Exception as exc:  # mss raises its own and Xlib errors alike
                raise DesktopUnavailable(f"cannot open the display for screen capture: {exc}") from exc
            self._local.mss = handle
        return handle

    def monitors_sync(self) -> list[Monitor]:
        """Monitor geometry, index 0 being all monitors together."""
        return [
            Monitor(int(m["left"]), int(m["top"]), int(m["width"]), int(m["height"]), index=i)
            for i, m in enumerate(self._mss().monitors)
        ]

    async def monitors(self) -> list[Monitor]:
        """Monitor geometry (see :meth:`monitors_sync`)."""
        return await anyio.to_thread.run_sync(self.monitors_sync)

    def grab_sync(self, region: Rect | None = None, monitor: int = 1) -> Capture:
        """Capture ``region`` (screen pixels, clipped to the screen) or the whole ``monitor``."""
        monitors = self.monitors_sync()
        if not 0 <= monitor < len(monitors):
            raise InvalidAction(
                f"monitor {monitor} does not exist; this display has monitors 1..{len(monitors) - 1} (0 = all together)"
            )
        area = monitors[monitor]
        if region is not None:
            area = _clip(region, monitors[0], monitor)
        try:
            shot = self._mss().grab({"left": area.x, "top": area.y, "width": area.width, "height": area.height})
        except Exception as exc:
            raise DesktopUnavailable(f"screen capture failed: {exc}") from exc
        image = Image.frombytes("RGB", shot.size, shot.raw, "raw", "BGRX")  # .bgra would copy the pixels first
        frame = Frame(area.x, area.y, area.width, area.height, image.width, image.height, monitor)
        return Capture(image, frame)

    async def grab(self, region: Rect | None = None, monitor: int = 1) -> Capture:
        """Async :meth:`grab_sync`."""
        return await anyio.to_thread.run_sync(lambda: self.grab_sync(region, monitor))

    def close(self) -> None:
        """Close this thread's handle (other threads' close when they exit)."""
        handle = getattr(self._local, "mss", None)
        if handle is not None:
            handle.close()
            self._local.mss = None


def _clip(region: Rect, screen: Monitor, monitor: int) -> Monitor:
    if region.width <= 0 or region.height <= 0:
        raise InvalidAction(f"region width and height must be positive, got {region.width}x{region.height}")
    x1 = max(region.x, screen.x)
    y1 = max(region.y, screen.y)
    x2 = min(region.x + region.width, screen.x + screen.width)
    y2 = min(region.y + region.height, screen.y + screen.height)
    if x2 - x1 < 8 or y2 - y1 < 8:
        raise InvalidAction(
            f"region {region.x},{region.y} {region.width}x{region.height} lies outside the screen "
            f"({screen.x},{screen.y} {screen.width}x{screen.height})"
        )
    return Monitor(x1, y1, x2 - x1, y2 - y1, index=monitor)

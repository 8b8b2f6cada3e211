"""A fake screen for handler tests that need no X: it serves a chosen image under a chosen frame (HiDPI too)."""

from __future__ import annotations

from PIL import Image

from engine.geometry import Frame, Rect
from tools.desktop.capture import Capture, Monitor


class FakeScreen:
    """Stands in for :class:`tools.desktop.capture.MssCapturer`: one monitor, whose image the test sets."""

    def __init__(self, image: Image.Image, width: int, height: int) -> None:
        self.image = image
        self.width = width
        self.height = height

    async def monitors(self) -> list[Monitor]:
        """Monitor 0 (all) and 1, the same area."""
        return [Monitor(0, 0, self.width, self.height, index=0), Monitor(0, 0, self.width, self.height, index=1)]

    async def grab(self, region: Rect | None = None, monitor: int = 1) -> Capture:
        """The whole screen (regions are not cropped: tests ask for the full frame)."""
        frame = Frame(0, 0, self.width, self.height, self.image.width, self.image.height, monitor)
        return Capture(self.image.copy(), frame)

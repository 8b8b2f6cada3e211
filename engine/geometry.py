"""Every coordinate conversion in one pure module.

Three spaces exist:

* **grid**: Qwen3-VL's relative 0-1000 grid over the image it was shown;
* **image**: pixels of the captured image (physical pixels; on HiDPI displays larger than screen);
* **screen**: the absolute coordinates pyautogui clicks in (logical points on HiDPI).

A :class:`Frame` is made at capture time and carries everything the conversions need, so no
conversion ever reads global state. Because the grid is relative, the size of the (possibly
resized) image sent to the model does not enter the mapping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GRID = 1000
"""Qwen3-VL's relative coordinate range: 0..1000 on both axes."""

Box = tuple[int, int, int, int]
"""An axis-aligned box ``(x1, y1, x2, y2)``: ``x1``/``y1`` inclusive, ``x2``/``y2`` exclusive (so its size
is ``x2 - x1`` by ``y2 - y1``), in one space (image or screen pixels). Screen boxes reported to
callers by :func:`image_box_to_screen` are the one exception: inclusive corners, the last pixel inside."""


@dataclass(frozen=True)
class Rect:
    """A rectangle on the screen: its top-left corner and size, in screen points."""

    x: int
    y: int
    width: int
    height: int

    def contains(self, x: float, y: float) -> bool:
        """Whether the point lies inside."""
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height

    @property
    def box(self) -> Box:
        """The same area as a :data:`Box`."""
        return self.x, self.y, self.x + self.width, self.y + self.height

    def __str__(self) -> str:
        return f"x {self.x}..{self.x + self.width - 1}, y {self.y}..{self.y + self.height - 1}"


def box_center(box: Box) -> tuple[int, int]:
    """The integer centre of a box."""
    x1, y1, x2, y2 = box
    return (x1 + x2) // 2, (y1 + y2) // 2


def box_area(box: Box) -> int:
    """The box's area (0 for an empty or inverted box)."""
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def box_intersection(a: Box, b: Box) -> int:
    """The area two boxes share."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union (0 when both are empty)."""
    inter = box_intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union else 0.0


def box_share_inside(inner: Box, outer: Box) -> float:
    """The share of ``inner``'s area that lies inside ``outer`` (0 for an empty ``inner``)."""
    area = box_area(inner)
    return box_intersection(inner, outer) / area if area else 0.0


def box_grown(box: Box, share: float = 0.0, pixels: int = 0) -> Box:
    """``box`` grown on every side by ``share`` of its size plus ``pixels``."""
    dx = round((box[2] - box[0]) * share) + pixels
    dy = round((box[3] - box[1]) * share) + pixels
    return box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy


@dataclass(frozen=True)
class Frame:
    """Where a captured image sits on the screen.

    ``x``/``y``/``width``/``height`` are the captured area in screen space (what pyautogui uses);
    ``pixel_width``/``pixel_height`` are the captured image's size, which differs from
    ``width``/``height`` on scaled (HiDPI) displays.
    """

    x: int
    y: int
    width: int
    height: int
    pixel_width: int
    pixel_height: int
    monitor: int = 1

    def __post_init__(self) -> None:
        if min(self.width, self.height, self.pixel_width, self.pixel_height) <= 0:
            raise ValueError(f"a frame needs a positive size, got {self}")

    @property
    def scale_x(self) -> float:
        """Image pixels per screen point horizontally (1.0 unless HiDPI)."""
        return self.pixel_width / self.width

    @property
    def scale_y(self) -> float:
        """Image pixels per screen point vertically (1.0 unless HiDPI)."""
        return self.pixel_height / self.height

    def contains(self, x: float, y: float) -> bool:
        """Whether a screen point lies inside the captured area."""
        return self.rect.contains(x, y)

    @property
    def rect(self) -> Rect:
        """The captured area on the screen."""
        return Rect(self.x, self.y, self.width, self.height)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def grid_to_screen(frame: Frame, gx: float, gy: float) -> tuple[int, int]:
    """Map a point on the 0-1000 grid to a screen pixel inside the frame (clamped into it)."""
    gx = _clamp(gx, 0, GRID)
    gy = _clamp(gy, 0, GRID)
    # Multiply first: gx / GRID * width rounds 700 / 1000 * 1440 down to 1007.999... (pixel 1007, not 1008).
    sx = frame.x + math.floor(gx * frame.width / GRID)
    sy = frame.y + math.floor(gy * frame.height / GRID)
    return (
        int(_clamp(sx, frame.x, frame.x + frame.width - 1)),
        int(_clamp(sy, frame.y, frame.y + frame.height - 1)),
    )


def grid_box_to_screen(frame: Frame, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """Map a grid box to a screen box ``(x1, y1, x2, y2)``; swapped corners are put in order."""
    x1, y1, x2, y2 = box
    x1, x2 = sorted((x1, x2))
    y1, y2 = sorted((y1, y2))
    sx1, sy1 = grid_to_screen(frame, x1, y1)
    sx2, sy2 = grid_to_screen(frame, x2, y2)
    return sx1, sy1, sx2, sy2


def screen_to_grid(frame: Frame, x: float, y: float) -> tuple[int, int]:
    """Inverse of :func:`grid_to_screen` (used to show the model where something is)."""
    gx = round((x - frame.x) / frame.width * GRID)
    gy = round((y - frame.y) / frame.height * GRID)
    return int(_clamp(gx, 0, GRID)), int(_clamp(gy, 0, GRID))


def image_to_screen(frame: Frame, px: float, py: float) -> tuple[int, int]:
    """Map a pixel of the captured image to screen space (divides out the display scale)."""
    sx = frame.x + math.floor(px * frame.width / frame.pixel_width)
    sy = frame.y + math.floor(py * frame.height / frame.pixel_height)
    return (
        int(_clamp(sx, frame.x, frame.x + frame.width - 1)),
        int(_clamp(sy, frame.y, frame.y + frame.height - 1)),
    )


def image_box_to_screen(frame: Frame, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """An image box (x2/y2 exclusive) as a screen box with inclusive corners (divides out the display scale)."""
    x1, y1 = image_to_screen(frame, box[0], box[1])
    x2, y2 = image_to_screen(frame, box[2] - 1, box[3] - 1)  # the last pixel inside
    return x1, y1, max(x1, x2), max(y1, y2)


def screen_to_image(frame: Frame, x: float, y: float) -> tuple[int, int]:
    """Map a screen point to a pixel of the captured image."""
    px = math.floor((x - frame.x) * frame.pixel_width / frame.width)
    py = math.floor((y - frame.y) * frame.pixel_height / frame.height)
    return (
        int(_clamp(px, 0, frame.pixel_width - 1)),
        int(_clamp(py, 0, frame.pixel_height - 1)),
    )


def fit_to_budget(
    width: int, height: int, max_pixels: int, *, factor: int = 32, min_pixels: int = 65_536
) -> tuple[int, int]:
    """Size to send an image at: sides multiples of ``factor``, area within the pixel budget.

    Mirrors Qwen-VL's ``smart_resize`` so the server does not resize again (one visual token
    per 32x32 px for Qwen3-VL). The aspect ratio is kept as closely as the rounding allows.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    w_bar = max(factor, round(width / factor) * factor)
    h_bar = max(factor, round(height / factor) * factor)
    if w_bar * h_bar > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
    elif w_bar * h_bar < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w_bar = math.ceil(width * beta / factor) * factor
        h_bar = math.ceil(height * beta / factor) * factor
    return w_bar, h_bar


def visual_tokens(width: int, height: int) -> int:
    """Qwen3-VL visual tokens for an image already sized by :func:`fit_to_budget` (+2 delimiters)."""
    return (width // 32) * (height // 32) + 2

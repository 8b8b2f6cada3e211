"""What a coordinate action pointed at, kept as a piece of the screenshot, and found again on a live screen.

A replay never clicks recorded coordinates blindly: the patch around the recorded point is searched
for on the screen as it is now (normalised cross-correlation), and the point moves with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from engine.geometry import Frame, image_to_screen, screen_to_image

HALF_WIDTH, HALF_HEIGHT = 40, 16
"""Half the patch, in screen pixels: mostly the caption under the point, so a look-alike button with other
text does not match (measured: 0.69 for another caption, against 0.93 with a patch of 120x44)."""
MATCH = 0.95
"""Normalised correlation a live match must reach."""
TIE = 0.02
"""Matches this close to the best one count as equally good."""
FLAT = 3.0
"""A patch whose pixels vary less than this (standard deviation) is empty background: nothing to look for."""


@dataclass(frozen=True)
class Found:
    """Where a recorded patch is on the live screen, and how well it matched."""

    point: tuple[int, int]
    score: float


def patch_box(frame: Frame, point: tuple[int, int]) -> tuple[int, int, int, int]:
    """The screen box of the patch around ``point``, kept inside the frame."""
    x, y = point
    x1 = max(frame.x, x - HALF_WIDTH)
    y1 = max(frame.y, y - HALF_HEIGHT)
    x2 = min(frame.x + frame.width, x + HALF_WIDTH)
    y2 = min(frame.y + frame.height, y + HALF_HEIGHT)
    return x1, y1, x2, y2


def cut_patch(image: Image.Image, frame: Frame, box: tuple[int, int, int, int]) -> Image.Image:
    """The screenshot's pixels under the screen box ``box``."""
    left, top = screen_to_image(frame, box[0], box[1])
    right, bottom = screen_to_image(frame, box[2], box[3])
    return image.crop((left, top, max(left + 1, right), max(top + 1, bottom)))


def relocate(
    patch: Image.Image, box: tuple[int, int, int, int], point: tuple[int, int], image: Image.Image, frame: Frame
) -> Found | None:
    """Where the recorded ``patch`` (cut at screen ``box`` around ``point``) is on ``image`` now.

    ``None`` when the patch is flat background, or nothing on screen matches it well enough. When it
    matches in several places, the one nearest to where it was recorded wins.
    """
    gray = np.asarray(patch.convert("L"), dtype=np.float32)
    if gray.size == 0 or float(gray.std()) < FLAT:
        return None
    # The patch was cut in screen pixels of the recorded frame; scale it to this frame's image pixels.
    width = max(1, round((box[2] - box[0]) * frame.scale_x))
    height = max(1, round((box[3] - box[1]) * frame.scale_y))
    if (width, height) != (gray.shape[1], gray.shape[0]):
        gray = np.asarray(cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA), dtype=np.float32)
    screen = np.asarray(image.convert("L"), dtype=np.float32)
    if screen.shape[0] < height or screen.shape[1] < width:
        return None
    scores = cv2.matchTemplate(screen, gray, cv2.TM_CCOEFF_NORMED)
    scores = np.nan_to_num(scores, nan=0.0)
    best = float(scores.max())
    if best < MATCH:
        return None
    # Matches as good as the best (a repeated button): the one nearest to where it was recorded wins.
    ys, xs = np.nonzero(scores >= best - TIE)
    recorded = screen_to_image(frame, box[0], box[1])
    nearest = int(np.argmin((xs - recorded[0]) ** 2 + (ys - recorded[1]) ** 2))
    x0, y0 = int(xs[nearest]), int(ys[nearest])
    window = scores[max(0, y0 - 4) : y0 + 5, max(0, x0 - 4) : x0 + 5]
    wy, wx = np.unravel_index(int(np.argmax(window)), window.shape)
    x, y = max(0, x0 - 4) + int(wx), max(0, y0 - 4) + int(wy)
    # Offsets of the point inside the patch, in image pixels.
    dx = (point[0] - box[0]) * frame.scale_x
    dy = (point[1] - box[1]) * frame.scale_y
    return Found(image_to_screen(frame, x + dx, y + dy), float(scores[y, x]))

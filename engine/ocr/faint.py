"""Near-invisible text: areas that are nearly flat but not quite, stretched so the models can read them.

The detector is trained on text that stands out, and :func:`engine.ocr.detection.content_areas` runs it
only where neighbouring pixels differ by more than 20 levels. Text drawn a few levels off its
background (#f4f4f4 on white, about 1.1:1 contrast) is neither: a person hardly sees it, a vision
model shown the screenshot can still read it, and it is a known way to plant instructions for an
agent on a page. Here:

* :func:`faint_areas` finds text-sized patches of fine detail of only a few levels (2-25) that lie
  away from strong edges (a normal glyph's antialiased rim is faint too, but it touches its glyph),
  are not long straight lines (rules, zebra stripes, a card's soft shadow) and are not smooth
  (a linear gradient has no detail once the local mean is taken off);
* :func:`stretched` turns such an area into dark ink on white: the local background (a
  morphological closing or opening, whichever polarity the area's ink has) is taken off, and what is
  left is scaled so the faintest text comes out black; noise of a level or two stays white;
* :func:`contrast_ratio` measures, on the original pixels, the WCAG contrast of a line's ink
  against its background, so only lines that really are near-invisible are reported as such.

Everything here is numpy and OpenCV; the models run in :mod:`engine.ocr.reader`.
"""

from __future__ import annotations

import numpy as np

from engine.ocr.lines import Box

__all__ = ["contrast_ratio", "faint_areas", "stretched"]

_MEAN_WINDOW = 7
"""Side of the local mean taken off each pixel: wider than a stroke of UI text, so a stroke stands out
from it, while a linear gradient equals its own mean."""
_MIN_LEVEL = 3
"""Fine detail below this many levels is noise (compression, dithering), not ink."""
_STRONG_REACH = 7
"""Faint detail within this many pixels of a strong edge is that edge's antialiased rim or halo."""
_LINE_PX = 24
"""Faint detail running straight for this many pixels is a rule, a stripe's edge or a shadow."""
_TILE = 16
"""Faint detail is counted per tile of this side."""
_MIN_DETAIL = 10
"""Faint detail pixels a tile needs to hold text (a few glyph strokes; a stray corner leaves fewer)."""
_MIN_TILES = 3
"""Tiles of faint detail an area needs (a word, not a speck)."""
_MARGIN = 16
"""Blank context around an area, in pixels: the detector needs some around a line."""
_BACKGROUND_WINDOW = 15
"""Side of the closing (or opening) that estimates the background under faint ink: wider than a stroke."""
_NOISE_LEVELS = 1
"""Levels of difference from the background that stay white when stretched."""
_INK_LEVELS = 6
"""The weakest ink difference (levels) that is stretched to full black; stronger ink saturates."""


def faint_areas(image: np.ndarray, max_levels: int = 25) -> list[Box]:
    """Rectangles of the BGR ``uint8`` ``image`` holding faint detail shaped like text, in pixels.

    Faint: the pixel differs from its neighbourhood's mean by 3..``max_levels`` grey levels, lies
    more than a few pixels from any stronger edge, and is not part of a long straight line. Areas
    hold at least a few tiles of such detail and carry a margin of blank context; none overlap.
    """
    height, width = image.shape[:2]
    if height < _TILE or width < _TILE:
        return []
    faint = _faint_pixels(image, max_levels)
    found = _tile_groups(faint)
    if not found:  # the common case: no straight-line removal to pay for
        return []
    # Long straight lines (rules, stripes, soft shadows) are taken off only around the tiles found.
    reach = _LINE_PX + _TILE
    for x1, y1, x2, y2 in _merged([(x1 - reach, y1 - reach, x2 + reach, y2 + reach) for x1, y1, x2, y2 in found]):
        window = (slice(max(0, y1), min(height, y2)), slice(max(0, x1), min(width, x2)))
        faint[window] = _without_lines(faint[window])
    areas = [
        (max(0, x1 - _MARGIN), max(0, y1 - _MARGIN), min(width, x2 + _MARGIN), min(height, y2 + _MARGIN))
        for x1, y1, x2, y2 in _tile_groups(faint)
    ]
    return _merged(areas)


def _faint_pixels(image: np.ndarray, max_levels: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask of the pixels of ``image`` that are faint detail, straight lines included."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    kernel = np.ones((3, 3), np.uint8)
    local_range = cv2.subtract(cv2.dilate(grey, kernel), cv2.erode(grey, kernel))
    strong = (local_range > max_levels).view(np.uint8)
    near_strong = cv2.dilate(strong, np.ones((2 * _STRONG_REACH + 1, 2 * _STRONG_REACH + 1), np.uint8))
    # Smoothed first: pixel noise averages out over 3x3, a stroke two or three pixels wide keeps its level.
    smooth = cv2.blur(grey, (3, 3))
    detail = cv2.absdiff(smooth, cv2.blur(grey, (_MEAN_WINDOW, _MEAN_WINDOW)))
    faint = ((detail >= _MIN_LEVEL) & (local_range <= max_levels)).view(np.uint8)
    return np.asarray(cv2.subtract(faint, near_strong), dtype=np.uint8)


def _without_lines(faint: np.ndarray) -> np.ndarray:
    """``faint`` without its horizontal and vertical runs of :data:`_LINE_PX` pixels or more."""
    import cv2

    for along in (np.ones((1, _LINE_PX), np.uint8), np.ones((_LINE_PX, 1), np.uint8)):
        faint = cv2.subtract(faint, cv2.morphologyEx(faint, cv2.MORPH_OPEN, along))
    return faint


def _tile_groups(faint: np.ndarray) -> list[Box]:
    """Pixel boxes of the groups of tiles holding enough faint detail (a word or more each)."""
    import cv2

    rows, cols = faint.shape[0] // _TILE, faint.shape[1] // _TILE
    # A tile's mean of 0/255 flags is 255 x its share of faint pixels (one resize, not a Python loop).
    means = cv2.resize(
        faint[: rows * _TILE, : cols * _TILE] * np.uint8(255), (cols, rows), interpolation=cv2.INTER_AREA
    )
    tiles = (means >= round(255 * _MIN_DETAIL / _TILE**2)).view(np.uint8)
    if not tiles.any():
        return []
    # Words on a line are a space apart: tiles one tile apart along a line are one group.
    joined = cv2.dilate(tiles, np.ones((1, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    held = np.bincount(labels.ravel(), weights=tiles.ravel(), minlength=count)
    return [
        (int(x) * _TILE, int(y) * _TILE, int(x + w) * _TILE, int(y + h) * _TILE)
        for index, (x, y, w, h, _) in enumerate(stats)
        if index > 0 and held[index] >= _MIN_TILES
    ]


def _merged(boxes: list[Box]) -> list[Box]:
    """``boxes`` with overlapping ones replaced by their union, until none overlap."""
    boxes = sorted(boxes)
    done = False
    while not done:
        done = True
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del boxes[j]
                    done = False
                    break
            if not done:
                break
    return boxes


def stretched(region: np.ndarray) -> np.ndarray:
    """The BGR ``uint8`` ``region`` as dark ink on white, its faint detail stretched to full contrast.

    The background is estimated locally (so a faint line across two panels of slightly different
    greys still reads), from whichever side the area's ink is on: darker ink than the background
    (the usual case) or lighter.
    """
    import cv2

    grey = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (_BACKGROUND_WINDOW, _BACKGROUND_WINDOW))
    # Ink darker than its background pulls the mean below the commonest level; lighter ink above it.
    dark_ink = float(grey.mean()) <= float(np.median(grey))
    if dark_ink:
        ink = cv2.subtract(cv2.morphologyEx(grey, cv2.MORPH_CLOSE, kernel), grey)
    else:
        ink = cv2.subtract(grey, cv2.morphologyEx(grey, cv2.MORPH_OPEN, kernel))
    gain = 255 / (_INK_LEVELS - _NOISE_LEVELS)
    levels = np.clip((ink.astype(np.float32) - _NOISE_LEVELS) * gain, 0, 255).astype(np.uint8)
    white = cv2.bitwise_not(levels)
    return cv2.cvtColor(white, cv2.COLOR_GRAY2BGR)


def _luminance(bgr: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of BGR ``uint8`` colours (any leading shape)."""
    c = bgr.astype(np.float64) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.0722 * linear[..., 0] + 0.7152 * linear[..., 1] + 0.2126 * linear[..., 2]


def contrast_ratio(image: np.ndarray, box: Box, ink: np.ndarray) -> float:
    """The WCAG contrast ratio (1 to 21) of a line's ink against its background on the BGR ``image``.

    ``ink``: a boolean mask over ``box`` (rows x columns) of the glyphs' pixels; the background is the
    median of the others. The ink's colour is that of its strongest tenth (stroke cores, not the
    antialiased rims), so a line of #f4f4f4 on white measures about 1.1.
    """
    x1, y1, x2, y2 = box
    pixels = image[y1:y2, x1:x2].reshape(-1, image.shape[2])
    flat = ink.reshape(-1)
    if not flat.any() or flat.all():
        return 1.0
    background = np.median(pixels[~flat], axis=0)
    glyphs = pixels[flat]
    distance = np.abs(glyphs.astype(np.float64) - background).max(axis=1)
    strongest = glyphs[distance >= np.quantile(distance, 0.9)]
    lum_ink = float(_luminance(strongest.mean(axis=0)))
    lum_bg = float(_luminance(background))
    high, low = max(lum_ink, lum_bg), min(lum_ink, lum_bg)
    return (high + 0.05) / (low + 0.05)

"""Text detection on screens: where the lines are, as axis-aligned boxes.

The PP-OCR detector (DB) marks each line's shrunken core on a probability map. Screens are not
photos: the map is computed on a copy downscaled to at most ``det_max_side`` (UI text is large,
sharp and high-contrast), and boxes are read straight off it as rectangles (UI text is never
rotated), grown back by DB's unclip rule.

Most of a screen is blank: window backgrounds, empty panes, the desktop. The detector's cost grows
with the pixels it sees, so it is run only on the parts of the downscaled copy that hold detail
(:func:`content_areas`: edges that are not long straight lines, which are frames, rules and
borders), each grown by a margin of blank context; the rest of the probability map is left at 0.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from engine.ocr.lines import Box
from engine.ocr.settings import OcrSettings

__all__ = ["content_areas", "detect", "detector_size", "found_boxes"]

_ALIGN = 32
"""The detector's input sides must be multiples of its total stride."""
_EDGE_LEVEL = 20
"""Neighbouring pixels this many levels apart (in any channel) make an edge: detail worth detecting."""
_LINE_PX = 24
"""Edges running straight for this many pixels (of the downscaled copy) are frames, rules or
borders, not text: they alone do not make an area worth detecting."""
_MIN_DETAIL = 4
"""Edge pixels a tile needs to hold detail."""
_MAX_SHARE = 0.7
"""Above this share of the image, content areas are not worth separate calls: one call sees it all."""


def detector_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The detector's input size for an image of ``width`` x ``height``: scaled to ``max_side`` (0: not
    scaled), each side a multiple of 32."""
    scale = min(1.0, max_side / max(height, width)) if max_side > 0 else 1.0
    return max(_ALIGN, round(width * scale / _ALIGN) * _ALIGN), max(_ALIGN, round(height * scale / _ALIGN) * _ALIGN)


def _tensor(bgr: np.ndarray) -> np.ndarray:
    return (bgr.astype(np.float32) * (2 / 255) - 1).transpose(2, 0, 1)[np.newaxis]


def detect(det: Any, image: np.ndarray, settings: OcrSettings) -> list[tuple[Box, float]]:
    """Text line boxes on a BGR ``uint8`` array found by the detector session ``det``, each with the
    detector's mean probability over it, top to bottom."""
    import cv2

    height, width = image.shape[:2]
    if height < 4 or width < 4:
        return []
    det_w, det_h = detector_size(width, height, settings.det_max_side)
    # INTER_AREA averages when shrinking: thin strokes fade instead of vanishing between samples.
    resized = cv2.resize(image, (det_w, det_h), interpolation=cv2.INTER_AREA)
    name = det.get_inputs()[0].name
    areas = content_areas(resized) if settings.det_content_only else [(0, 0, det_w, det_h)]
    if sum((x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in areas) > _MAX_SHARE * det_w * det_h:
        areas = [(0, 0, det_w, det_h)]
    if areas == [(0, 0, det_w, det_h)]:
        prob = det.run(None, {name: _tensor(resized)})[0][0, 0]
    else:
        prob = np.zeros((det_h, det_w), dtype=np.float32)
        for x1, y1, x2, y2 in areas:
            prob[y1:y2, x1:x2] = det.run(None, {name: _tensor(resized[y1:y2, x1:x2])})[0][0, 0]
    return found_boxes(prob, (width, height), settings)


def content_areas(image: np.ndarray, tile: int = _ALIGN) -> list[Box]:
    """Rectangles of ``image`` (BGR, sides multiples of ``tile``) holding all its detail but long
    straight lines, each with at least a tile of margin, in whole tiles; none overlap.

    The margin gives the detector the context it had on the whole image: results on the areas match
    those on the whole image (the grounding benchmark reads the same with and without).
    """
    import cv2

    height, width = image.shape[:2]
    detail = np.zeros((height, width), dtype=np.uint8)
    for axis in (0, 1):
        ahead = image[1:] if axis == 0 else image[:, 1:]
        behind = image[:-1] if axis == 0 else image[:, :-1]
        diff = cv2.absdiff(ahead, behind)
        strongest = cv2.max(cv2.max(diff[:, :, 0], diff[:, :, 1]), diff[:, :, 2])
        edges = (strongest > _EDGE_LEVEL).view(np.uint8)
        # An edge between rows runs along them: a horizontal line; between columns, a vertical one.
        along = np.ones((1, _LINE_PX) if axis == 0 else (_LINE_PX, 1), dtype=np.uint8)
        short = np.asarray(cv2.subtract(edges, cv2.morphologyEx(edges, cv2.MORPH_OPEN, along)), dtype=np.uint8)
        if axis == 0:
            detail[1:] |= short
        else:
            detail[:, 1:] |= short
    counts = detail.reshape(height // tile, tile, width // tile, tile).sum(axis=(1, 3), dtype=np.int32)
    # A line's end or a frame's corner leaves an edge pixel or two; the smallest glyph leaves more.
    tiles = cv2.dilate((counts >= _MIN_DETAIL).view(np.uint8), np.ones((3, 3), dtype=np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(tiles, connectivity=8)
    areas = _merged([(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, _ in stats[1:count]])
    return [(x1 * tile, y1 * tile, x2 * tile, y2 * tile) for x1, y1, x2, y2 in areas]


def _merged(boxes: list[Box], slack: float = 1.15) -> list[Box]:
    """``boxes`` with every overlapping pair, and every pair whose union is hardly larger than both,
    replaced by their union, until none is left (fewer, larger detector calls)."""

    def area(b: Box) -> int:
        return (b[2] - b[0]) * (b[3] - b[1])

    boxes = list(boxes)
    merged = True
    while merged:
        merged = False
        for i, j in itertools.combinations(range(len(boxes)), 2):
            a, b = boxes[i], boxes[j]
            union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            if overlap or area(union) <= slack * (area(a) + area(b)):
                boxes[i] = union
                del boxes[j]
                merged = True
                break
    return boxes


def found_boxes(prob: np.ndarray, size: tuple[int, int], settings: OcrSettings) -> list[tuple[Box, float]]:
    """Boxes (in an image of ``size``) of the text regions on the detector's probability map ``prob``."""
    import cv2

    width, height = size
    det_h, det_w = prob.shape
    mask = cv2.dilate((prob > settings.det_threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    sx, sy = width / det_w, height / det_h
    found: list[tuple[Box, float]] = []
    for index in range(1, count):
        x, y, w, h = (int(v) for v in stats[index][:4])
        if min(w, h) < 3:
            continue
        score = float(prob[y : y + h, x : x + w][labels[y : y + h, x : x + w] == index].mean())
        if score < settings.box_threshold:
            continue
        # DB's unclip: the detector marks a shrunken core; grow it by area * ratio / perimeter.
        grow = w * h * settings.unclip_ratio / (2 * (w + h))
        x1 = max(0, math.floor((x - grow) * sx))
        y1 = max(0, math.floor((y - grow) * sy))
        x2 = min(width, math.ceil((x + w + grow) * sx))
        y2 = min(height, math.ceil((y + h + grow) * sy))
        if x2 - x1 >= 4 and y2 - y1 >= 4:
            found.append(((x1, y1, x2, y2), score))
    found.sort(key=lambda item: (item[0][1], item[0][0]))
    return found

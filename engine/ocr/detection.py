"""Text detection on screens: where the lines are, as axis-aligned boxes.

The PP-OCR detector (DB) marks each line's shrunken core on a probability map. Screens are not
photos: the map is computed on a copy downscaled to at most ``det_max_side`` (UI text is large,
sharp and high-contrast), and boxes are read straight off it as rectangles (UI text is never
rotated), grown back by DB's unclip rule.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.ocr.lines import Box
from engine.ocr.settings import OcrSettings

__all__ = ["detect", "detector_size", "found_boxes"]

_ALIGN = 32
"""The detector's input sides must be multiples of its total stride."""


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
    prob = det.run(None, {det.get_inputs()[0].name: _tensor(resized)})[0][0, 0]
    return found_boxes(prob, (width, height), settings)


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

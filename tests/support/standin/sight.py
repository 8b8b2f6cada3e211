"""Which part of the screen a request's image shows, found from the pixels alone.

The stand-in answers from its scenario (widget boxes in screen pixels), not from the image. That is
right for a whole screenshot, but a second look sends a crop of it, upscaled: the answer must then
be where the target lies *in the crop*. :class:`Sight` keeps the last whole screen it received and
finds a later image inside it by multi-scale template matching (OpenCV's normalised correlation),
so the stand-in stays an oracle that knows nothing of how the client cut its crop (it shares no code
with ``engine/``).

Areas are ``(x1, y1, x2, y2)`` in the reference image's pixels; :func:`screen_area` turns one into
the scenario's screen pixels.
"""

from __future__ import annotations

import base64
import io
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from tests.support.standin.validation import DATA_URL

SAME_SCREEN_DIFF = 4.0
"""Mean absolute grey-level difference below which two images are the same screen (a cursor, a caret)."""
MATCH_SCORE = 0.9
"""The correlation a crop must reach to count as found in the reference screen."""
COARSE_WIDTH = 480
"""The reference is searched at about this width first, then refined at full resolution."""


@dataclass(frozen=True)
class Seen:
    """What one image shows: the whole screen, or ``area`` of it (reference pixels) with the match score."""

    whole: bool
    area: tuple[float, float, float, float]
    reference_size: tuple[int, int]
    new_screen: bool = False
    """A whole screen that differs from the previous reference (it became the reference)."""
    score: float = 1.0


def request_images(messages: Sequence[Mapping[str, Any]]) -> list[np.ndarray]:
    """The request's images as greyscale arrays, in order (the request is already validated)."""
    images = []
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                match = DATA_URL.match(str(part["image_url"]["url"]))
                if match is not None:
                    raw = base64.b64decode(match.group("data"))
                    with Image.open(io.BytesIO(raw)) as image:
                        images.append(np.asarray(image.convert("L"), dtype=np.uint8))
    return images


def same_screen(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` show the same whole screen (at whatever sizes, same aspect)."""
    (ha, wa), (hb, wb) = a.shape, b.shape
    if abs(wa / ha - wb / hb) > 0.05 * wa / ha:
        return False
    resized = cv2.resize(b, (wa, ha), interpolation=cv2.INTER_AREA)
    return float(np.mean(cv2.absdiff(a, resized))) < SAME_SCREEN_DIFF


def _best(
    reference: np.ndarray, crop: np.ndarray, sizes: Sequence[tuple[int, int]]
) -> tuple[float, int, int, int, int]:
    """The best (score, x, y, width, height) of ``crop`` resized to each size, matched in ``reference``."""
    best = (-1.0, 0, 0, 0, 0)
    rh, rw = reference.shape
    for width, height in sizes:
        if width < 8 or height < 8 or width > rw or height > rh:
            continue
        template = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
        if float(template.std()) < 1.0:  # a flat patch matches anywhere: no evidence
            continue
        scores = np.nan_to_num(cv2.matchTemplate(reference, template, cv2.TM_CCOEFF_NORMED), nan=-1.0)
        _, score, _, (x, y) = cv2.minMaxLoc(scores)
        if score > best[0]:
            best = (float(score), x, y, width, height)
    return best


def _shrink(image: np.ndarray, width: int) -> np.ndarray:
    """``image`` at most ``width`` wide (aspect kept)."""
    height, current = image.shape
    if current <= width:
        return image
    return cv2.resize(image, (width, max(1, round(height * width / current))), interpolation=cv2.INTER_AREA)


def find_crop(reference: np.ndarray, crop: np.ndarray) -> tuple[tuple[float, float, float, float], float] | None:
    """Where ``crop`` (a part of ``reference``, rescaled) lies in ``reference``, and how well it matched.

    A coarse pass over one scale (the crop's aspect kept) on a shrunken reference, then a fine pass
    at full resolution near the coarse answer, width and height scaled apart (the client may round
    the crop's sent size). ``None`` when nothing matches well enough.
    """
    rh, rw = reference.shape
    ch, cw = crop.shape
    k = min(1.0, COARSE_WIDTH / rw)
    small = cv2.resize(reference, (round(rw * k), round(rh * k)), interpolation=cv2.INTER_AREA)
    widths = [rw * 0.04 * 1.03**i for i in range(int(math.log(0.97 / 0.04) / math.log(1.03)) + 1)]
    # Templates are cut from a copy shrunk once near their size: resizing the full crop each time costs most.
    shrunk = _shrink(crop, small.shape[1])
    coarse = _best(small, shrunk, [(round(w * k), round(w * k * ch / cw)) for w in widths])
    if coarse[0] < MATCH_SCORE - 0.15:
        return None
    _, x, y, w, h = (v / k for v in coarse)
    margin = max(w, h) * 0.08 + 4
    x0, y0 = max(0, int(x - margin)), max(0, int(y - margin))
    x1, y1 = min(rw, int(x + w + margin) + 1), min(rh, int(y + h + margin) + 1)
    window = reference[y0:y1, x0:x1]
    steps = [1 + 0.01 * i for i in range(-4, 5)]
    fine = _best(window, _shrink(crop, round(w * 1.1)), [(round(w * a), round(h * b)) for a in steps for b in steps])
    score, fx, fy, fw, fh = fine
    if score < MATCH_SCORE:
        return None
    return (float(x0 + fx), float(y0 + fy), float(x0 + fx + fw), float(y0 + fy + fh)), score


def screen_area(seen: Seen, frame: Mapping[str, float]) -> dict[str, float]:
    """The screen-pixel area (a scenario ``frame``: x, y, width, height) that ``seen`` shows of ``frame``."""
    rw, rh = seen.reference_size
    x1, y1, x2, y2 = seen.area
    sx, sy = frame["width"] / rw, frame["height"] / rh
    return {"x": frame["x"] + x1 * sx, "y": frame["y"] + y1 * sy, "width": (x2 - x1) * sx, "height": (y2 - y1) * sy}


class Sight:
    """Remembers the last whole screen and places each new image on it (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reference: np.ndarray | None = None

    def forget(self) -> None:
        """Forget the reference screen: the next image is taken whole."""
        with self._lock:
            self._reference = None

    def look(self, image: np.ndarray, may_be_crop: bool) -> Seen:
        """What ``image`` shows. Only an image that ``may_be_crop`` (a grounding request's) is searched for
        in the reference; any other, or one not found there, is a whole screen and the new reference."""
        with self._lock:
            reference = self._reference
        height, width = image.shape
        if reference is not None and same_screen(reference, image):
            rh, rw = reference.shape
            return Seen(True, (0.0, 0.0, float(rw), float(rh)), (rw, rh))
        if reference is not None and may_be_crop:
            found = find_crop(reference, image)
            if found is not None:
                rh, rw = reference.shape
                return Seen(False, found[0], (rw, rh), score=found[1])
        with self._lock:
            self._reference = image
        return Seen(True, (0.0, 0.0, float(width), float(height)), (width, height), new_screen=True)

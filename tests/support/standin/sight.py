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
import itertools
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
CROP_DIFF = 12.0
"""Mean absolute grey-level difference (both sides blurred) above which a match is not the crop's pixels."""
COARSE_WIDTH = 480
"""The reference is searched at about this width first, then refined at full resolution."""
COARSE_MIN_TEMPLATE = 24
"""A coarse template narrower than this (pixels) is no evidence."""
COARSE_SCORE = 0.5
"""The coarse score a place needs to be matched again (at a coarse scale step thin text scores low)."""
COARSE_PLACES = 8
"""How many of the coarse pass's best places are matched again at full resolution."""
COARSE_PEAKS = 3
"""How many places the coarse pass keeps at each scale."""
COARSE_BANDS = (0.04, 0.08, 0.16, 0.32, 0.64, 1.0)
"""Template widths (shares of the reference's) split into bands; each band's best place is also matched
again, so a big crop is not crowded out by thumbnail-sized templates that score high by chance."""
FINE_BLUR = 1.5
"""The Gaussian blur (sigma, pixels) on both sides of the full-resolution match."""
SCALE_STEPS = tuple(1 + 0.005 * i for i in range(-6, 7))
HEIGHT_STEPS = tuple(1 + 0.0025 * i for i in range(-4, 5))


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


def _matches(
    reference: np.ndarray, crop: np.ndarray, sizes: Sequence[tuple[int, int]], blur: float = 0.0, peaks: int = 1
) -> list[tuple[float, int, int, int, int]]:
    """The best (score, x, y, width, height) of ``crop`` resized to each size and matched in ``reference``
    (a template blurred by ``blur`` pixels when it is non-zero: the reference must be blurred alike), and
    with ``peaks`` over 1, that many best places per size, each a quarter of the template from the others."""
    found = []
    rh, rw = reference.shape
    for width, height in sizes:
        if width < 8 or height < 8 or width > rw or height > rh:
            continue
        template = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
        if blur:
            template = cv2.GaussianBlur(template, (0, 0), blur)
        if float(template.std()) < 1.0:  # a flat patch matches anywhere: no evidence
            continue
        scores = np.nan_to_num(cv2.matchTemplate(reference, template, cv2.TM_CCOEFF_NORMED), nan=-1.0)
        for _ in range(peaks):
            _, score, _, (x, y) = cv2.minMaxLoc(scores)
            found.append((float(score), x, y, width, height))
            # On repeated content (rows of a table) the right place can be second at a scale a little off.
            rx, ry = max(2, width // 4), max(2, height // 4)
            scores[max(0, y - ry) : y + ry + 1, max(0, x - rx) : x + rx + 1] = -1.0
    return found


def _shrink(image: np.ndarray, width: int) -> np.ndarray:
    """``image`` at most ``width`` wide (aspect kept)."""
    height, current = image.shape
    if current <= width:
        return image
    return cv2.resize(image, (width, max(1, round(height * width / current))), interpolation=cv2.INTER_AREA)


def find_crop(reference: np.ndarray, crop: np.ndarray) -> tuple[tuple[float, float, float, float], float] | None:
    """Where ``crop`` (a part of ``reference``, rescaled) lies in ``reference``, and how well it matched.

    A coarse pass over one scale (the crop's aspect kept) on a shrunken reference keeps its best few
    places and each width band's best (:data:`COARSE_BANDS`); each is matched again at full resolution,
    first the scale in fine steps, then the height alone (the client may round the crop's sent size),
    and the best full-resolution score wins.
    ``None`` when nothing matches well enough, or when the best match's grey levels are not the crop's
    (a new whole screen shaped like a faint patch of the reference).
    """
    rh, rw = reference.shape
    ch, cw = crop.shape
    k = min(1.0, COARSE_WIDTH / rw)
    small = cv2.resize(reference, (round(rw * k), round(rh * k)), interpolation=cv2.INTER_AREA)
    widths = [rw * 0.04 * 1.03**i for i in range(int(math.log(0.97 / 0.04) / math.log(1.03)) + 1)]
    # Templates are cut from a copy shrunk once near their size: resizing the full crop each time costs most.
    shrunk = _shrink(crop, small.shape[1])
    coarse = _matches(small, shrunk, [(round(w * k), round(w * k * ch / cw)) for w in widths], peaks=COARSE_PEAKS)
    # A template only a few pixels wide keeps none of the crop's detail: its high score is chance.
    places = sorted((m for m in coarse if m[3] >= COARSE_MIN_TEMPLATE and m[0] >= COARSE_SCORE), reverse=True)
    # Blurred alike, a text stroke a pixel or two off its place still correlates (thin text at a
    # slightly wrong scale otherwise scores below the bar at the right place).
    blurred = cv2.GaussianBlur(reference, (0, 0), FINE_BLUR)
    best: tuple[float, int, int, int, int] | None = None
    distinct: list[tuple[float, int, int, int, int]] = []
    for place in places:  # neighbouring scales find the same spot: keep spots apart
        if all(abs(place[1] - d[1]) + abs(place[2] - d[2]) > 4 for d in distinct):
            distinct.append(place)
    chosen = distinct[:COARSE_PLACES]
    for low, high in itertools.pairwise(COARSE_BANDS):
        band = next((d for d in distinct if low * rw * k <= d[3] < high * rw * k), None)
        if band is not None and band not in chosen:
            chosen.append(band)
    for place in chosen:
        _, x, y, w, h = (v / k for v in place)
        margin = max(w, h) * 0.06 + 4
        x0, y0 = max(0, int(x - margin)), max(0, int(y - margin))
        x1, y1 = min(rw, int(x + w + margin) + 1), min(rh, int(y + h + margin) + 1)
        window = blurred[y0:y1, x0:x1]
        base = _shrink(crop, round(w * 1.1))
        scaled = _matches(window, base, [(round(w * a), round(h * a)) for a in SCALE_STEPS], FINE_BLUR)
        if not scaled:
            continue
        _, _, _, sw, sh = max(scaled)
        stretched = _matches(window, base, [(sw, round(sh * b)) for b in HEIGHT_STEPS], FINE_BLUR)
        score, fx, fy, fw, fh = max(scaled + stretched)
        if best is None or score > best[0]:
            best = (score, x0 + fx, y0 + fy, fw, fh)
    if best is None or best[0] < MATCH_SCORE:
        return None
    score, bx, by, bw, bh = best
    # Normalised correlation ignores brightness and contrast, so a new whole screen can score high on a
    # small faint patch of the last one; a real crop, shrunk back to the area, has that area's grey levels.
    if _difference(reference[by : by + bh, bx : bx + bw], crop) > CROP_DIFF:
        return None
    return (float(bx), float(by), float(bx + bw), float(by + bh)), score


def _difference(area: np.ndarray, crop: np.ndarray) -> float:
    """Mean absolute grey-level difference between ``area`` and ``crop`` shrunk to its size, both blurred."""
    height, width = area.shape
    shrunk = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
    blurred = (cv2.GaussianBlur(a, (0, 0), FINE_BLUR) for a in (area, shrunk))
    return float(np.mean(cv2.absdiff(*blurred)))


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

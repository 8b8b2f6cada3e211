"""OCR with memory: an unchanged screen is never read twice, a slightly changed one only where it changed.

:class:`ScreenReader` keeps the last few screens' text by a hash of their pixels (a repeat costs a
hash) and, per view (the same capture area), the last image and its text. When a new image of that
view differs in only a few tiles, the text lines touching changed tiles are dropped and only those
tiles (grown to cover whole lines) are read again; every other line is kept as it was.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import anyio
import numpy as np
from PIL import Image

from engine.ocr.lines import Box, TextBox
from engine.ocr.reader import OcrEngine

Pass = Literal["full", "cached", "incremental"]


@dataclass(frozen=True)
class ScreenText:
    """The text lines on one image, how they were obtained, and what it cost."""

    lines: list[TextBox]
    how: Pass
    ms: float
    reread: float
    """Share of the image that was read again (1.0 for a full pass, 0.0 for a cached one)."""


@dataclass
class _View:
    image: np.ndarray
    lines: list[TextBox]


class ScreenReader:
    """Reads text off screenshots through an :class:`OcrEngine`, reusing earlier work. Thread-safe.

    It remembers the text of ``capacity`` screens (default: the engine's ``cache_screens`` setting).
    """

    def __init__(
        self,
        engine: OcrEngine,
        *,
        capacity: int | None = None,
        tile: int = 32,
        max_changed: float = 0.4,
    ) -> None:
        self.engine = engine
        self.capacity = engine.settings.cache_screens if capacity is None else capacity
        self.tile = tile
        self.max_changed = max_changed
        self._results: OrderedDict[bytes, list[TextBox]] = OrderedDict()
        self._views: OrderedDict[Hashable, _View] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, image: Image.Image | np.ndarray, view: Hashable | None = None) -> ScreenText:
        """The text on ``image``; ``view`` names the capture area (defaults to the image size)."""
        started = time.perf_counter()
        array = np.ascontiguousarray(np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image)
        key = hashlib.blake2b(array.data, digest_size=20, person=str(array.shape).encode()[:16]).digest()
        view = (array.shape, view)
        # One reader at a time: OCR already uses every core, and the views must not interleave.
        with self._lock:
            cached = self._results.get(key)
            if cached is not None:
                self._results.move_to_end(key)
                self._remember(view, array, cached)
                return ScreenText(list(cached), "cached", _ms(started), 0.0)
            previous = self._views.get(view)
            how: Pass = "full"
            reread = 1.0
            if previous is not None and previous.image.shape == array.shape:
                update = self._incremental(previous, array)
                if update is not None:
                    lines, reread = update
                    how = "incremental"
            if how == "full":
                lines = self.engine.read(array)
            self._results[key] = lines
            while len(self._results) > self.capacity:
                self._results.popitem(last=False)
            self._remember(view, array, lines)
            return ScreenText(list(lines), how, _ms(started), reread)

    async def aread(self, image: Image.Image | np.ndarray, view: Hashable | None = None) -> ScreenText:
        """:meth:`read` in a worker thread (it is CPU-bound)."""
        return await anyio.to_thread.run_sync(lambda: self.read(image, view))

    def _remember(self, view: Hashable, array: np.ndarray, lines: list[TextBox]) -> None:
        self._views[view] = _View(array, lines)
        self._views.move_to_end(view)
        while len(self._views) > max(1, self.capacity // 2):
            self._views.popitem(last=False)

    def _incremental(self, previous: _View, array: np.ndarray) -> tuple[list[TextBox], float] | None:
        """Re-read only around what changed; ``None`` when too much changed to be worth it."""
        height, width = array.shape[:2]
        tile = self.tile
        rows, cols = -(-height // tile), -(-width // tile)
        changed = np.any(previous.image != array, axis=2)
        padded = np.zeros((rows * tile, cols * tile), dtype=bool)
        padded[:height, :width] = changed
        dirty: np.ndarray = np.asarray(padded.reshape(rows, tile, cols, tile).any(axis=(1, 3)))
        if dirty.mean() > self.max_changed:
            return None
        # A line is stale when something changed on it or just beside it (text typed after it).
        stale: list[TextBox] = []
        kept: list[TextBox] = []
        for line in previous.lines:
            x1, y1, x2, y2 = line.box
            reach = y2 - y1
            grown = (max(0, x1 - reach), y1, min(width, x2 + reach), y2)
            (stale if _touches(grown, dirty, tile) else kept).append(line)
        # Line boxes are the ink: give the detector back the margin its own boxes had around it.
        around = [_grown(line.box, (line.box[3] - line.box[1]) // 2, width, height) for line in stale]
        areas = _merge([*_rectangles(dirty, tile, width, height), *around], width, height)
        if sum(_area(a) for a in areas) > self.max_changed * width * height:
            return None
        fresh: list[TextBox] = []
        for area in areas:
            inner = _interior_edges(area, width, height)
            for line in self.engine.read(array, area=area):
                # A line cut by the area's edge is a piece of a line outside it: the kept line wins.
                if _cut(line.box, inner) and any(_overlaps(line.box, k.box, 0.1) for k in kept):
                    continue
                fresh.append(line)
        # Inside the areas the fresh read is the truth: kept lines it covers are replaced.
        kept = [k for k in kept if not any(_overlaps(k.box, f.box, 0.3) for f in fresh)]
        lines = sorted(kept + fresh, key=lambda line: (line.box[1], line.box[0]))
        return lines, round(sum(_area(a) for a in areas) / (width * height), 4)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _grown(box: Box, margin: int, width: int, height: int) -> Box:
    return (max(0, box[0] - margin), max(0, box[1] - margin), min(width, box[2] + margin), min(height, box[3] + margin))


def _touches(box: Box, dirty: np.ndarray, tile: int) -> bool:
    x1, y1, x2, y2 = box
    return bool(dirty[y1 // tile : -(-y2 // tile), x1 // tile : -(-x2 // tile)].any())


def _overlaps(a: Box, b: Box, share: float) -> bool:
    """Whether ``a`` and ``b`` share at least ``share`` of ``a``'s area."""
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    return ix > 0 and iy > 0 and ix * iy >= share * _area(a)


def _rectangles(dirty: np.ndarray, tile: int, width: int, height: int) -> list[Box]:
    """Bounding rectangles (pixels) of the connected groups of dirty tiles."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(dirty.astype(np.uint8), connectivity=8)
    return [
        (int(x) * tile, int(y) * tile, min(width, int(x + w) * tile), min(height, int(y + h) * tile))
        for x, y, w, h, _ in stats[1:count]
    ]


def _merge(boxes: list[Box], width: int, height: int, margin: int = 8) -> list[Box]:
    """``boxes`` grown by ``margin`` (context for the detector), overlapping ones merged."""
    areas = [(max(0, x1 - margin), max(0, y1 - margin), min(width, x2 + margin), min(height, y2 + margin))
             for x1, y1, x2, y2 in boxes]  # fmt: skip
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(areas):
            for j in range(i + 1, len(areas)):
                b = areas[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    areas[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del areas[j]
                    merged = True
                    break
            if merged:
                break
    return areas


def _interior_edges(area: Box, width: int, height: int) -> tuple[int | None, int | None, int | None, int | None]:
    """The area's edges that are not the image's edges (``None`` where they are)."""
    x1, y1, x2, y2 = area
    return (x1 if x1 > 0 else None, y1 if y1 > 0 else None, x2 if x2 < width else None, y2 if y2 < height else None)


def _cut(box: Box, edges: tuple[int | None, int | None, int | None, int | None], slack: int = 2) -> bool:
    """Whether ``box`` reaches one of the area's interior ``edges``."""
    left, top, right, bottom = edges
    return (
        (left is not None and box[0] <= left + slack)
        or (top is not None and box[1] <= top + slack)
        or (right is not None and box[2] >= right - slack)
        or (bottom is not None and box[3] >= bottom - slack)
    )

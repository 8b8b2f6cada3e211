"""Offline OCR on the CPU: the PP-OCR detection and recognition models that ship inside the
``rapidocr`` wheel, run directly with onnxruntime.

Why not ``rapidocr.RapidOCR()`` as is: with its defaults a 1920x1080 screen takes seconds on two
cores. Screens are not photos, and this pipeline is shaped for them:

* detection runs on a downscaled copy (UI text is large, sharp and high-contrast), boxes are read
  straight from the probability map as axis-aligned rectangles (UI text is never rotated):
  :mod:`engine.ocr.detection`;
* no orientation classifier (nothing on a screen is upside down);
* recognition crops come from the full-resolution image, grouped by width into batches so little
  is spent on padding, and run on every core at once (one single-threaded call per core):
  :mod:`engine.ocr.recognition`;
* lines showing the same content (the same word in many table rows, or a line seen on an earlier
  pass, wherever it is now) are recognised once: results are kept by the pixels of what stands out
  in the line's box, not of the box with its margins, and moved onto each copy;
* the detector runs only where the screen holds detail (blank areas cannot hold text), and every
  model call runs on the engine's own threads, which flush denormal floats to zero (a screen's
  blank areas otherwise drive the detector into the CPU's slow denormal arithmetic);
* a line OCR read across separate elements (menu titles, a label and its field's value) is split
  where the ink shows a wide gap or a border, using where each character was recognised, so a
  text box is one element's text;
* every box is then shrunk to its glyphs' ink (the detector's boxes are padded several pixels on
  every side): the pixel analysis is :mod:`engine.ocr.lines`;
* text drawn a few grey levels off its background (#f4f4f4 on white), which the detector does not
  see, is read by a second pass over the nearly flat areas that hold fine detail, stretched to full
  contrast; those lines are marked ``faint`` (people hardly see them, a model reading the screenshot
  does): :mod:`engine.ocr.faint`, setting ``faint_text``.

All methods here are synchronous and CPU-bound; callers run them in worker threads.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from engine.ocr.detection import detect
from engine.ocr.faint import contrast_ratio, faint_areas, stretched
from engine.ocr.lines import Box, Ink, TextBox, drop_border_glyphs, line_ink, split_at_gaps, stripped, tightened
from engine.ocr.models import OcrUnavailable, charset, find_model, flush_denormals, model_dir, session, shipped_model
from engine.ocr.recognition import EMPTY, Reading, batches, crop_key, decode, moved, rec_input
from engine.ocr.settings import OcrSettings

if TYPE_CHECKING:
    from engine.ocr.int8 import Verdict

# The names other modules import from here (the pieces live in the modules above).
__all__ = [
    "Box",
    "OcrEngine",
    "OcrSettings",
    "OcrUnavailable",
    "Reading",
    "TextBox",
    "rec_input",
    "shipped_model",
    "to_bgr",
]

log = logging.getLogger(__name__)


class OcrEngine:
    """Finds text lines on images. Thread-safe; models load on first use (about a second)."""

    def __init__(self, settings: OcrSettings | None = None) -> None:
        self.settings = settings or OcrSettings()
        self._threads = self.settings.threads or max(1, os.cpu_count() or 1)
        self._load_lock = threading.Lock()
        self._det: Any = None
        self._rec: Any = None
        self._charset: list[str] = []
        self._pool: ThreadPoolExecutor | None = None
        self._crops: OrderedDict[bytes, tuple[Reading, tuple[int, int]]] = OrderedDict()
        self.recognised = 0
        """Crops recognised so far (the others were equal to one seen before)."""
        self._crops_lock = threading.Lock()
        self._rec_precision = "fp32"
        self._generation = 0
        self._builder: threading.Thread | None = None
        self.int8_error: str | None = None
        """Why the INT8 model could not be made or loaded (recognition then stays fp32)."""
        self.int8_verdict: Verdict | None = None
        """The INT8 copy's check on this machine, once known (with ``precision="int8"``)."""

    @property
    def precision(self) -> str:
        """The recognition model's precision in use now: ``int8`` or ``fp32``."""
        return self._rec_precision

    @property
    def model_name(self) -> str:
        """Names of the models in use (for results and logs)."""
        directory = model_dir()
        suffix = "-int8" if self._rec_precision == "int8" else ""
        return f"{find_model(directory, 'det').stem}+{find_model(directory, 'rec').stem}{suffix}"

    def load(self, wait: bool = False) -> None:
        """Load both models now (otherwise the first read does).

        With ``precision="int8"`` and no checked INT8 copy cached yet (``python -m engine.ocr.int8
        --build`` makes one during setup), recognition starts on the fp32 model while the copy is
        built and checked in the background (some seconds, once per machine), and switches to it
        if it passes the check; ``wait`` waits for that first instead.
        """
        with self._load_lock:
            if self._rec is None:
                self._load_locked()
            builder = self._builder
        if wait and builder is not None:
            builder.join()

    def _load_locked(self) -> None:
        # Every model call runs on these threads (the caller's own thread is left as it was): with
        # denormals flushed there too, a screen's blank areas cost the detector far less.
        initializer = flush_denormals if self.settings.flush_denormals else None
        pool = ThreadPoolExecutor(self._threads, thread_name_prefix="ocr", initializer=initializer)
        try:
            self._load_models(pool)
        except BaseException:
            pool.shutdown(wait=False)
            raise
        self._pool = pool

    def _open(self, model: Path, threads: int, pool: ThreadPoolExecutor | None = None) -> Any:
        flush = self.settings.flush_denormals
        if pool is None:
            return session(model, threads, denormal_as_zero=flush)
        # Made on an OCR thread: onnxruntime sets the denormal flag of the thread making its first session.
        return pool.submit(session, model, threads, denormal_as_zero=flush).result()

    def _load_models(self, pool: ThreadPoolExecutor) -> None:
        directory = model_dir()
        # Detection is one large call: let it use every core. Recognition is many small calls:
        # one thread each, run side by side (less synchronisation than splitting every conv).
        self._det = self._open(find_model(directory, "det"), self._threads, pool)
        source = find_model(directory, "rec")
        rec, precision, checked = None, "fp32", False
        if self.settings.precision == "int8":
            try:
                from engine.ocr.int8 import int8_path, load_verdict

                cached = int8_path(source, self.settings.int8_dir)
                if cached.is_file() and not self.settings.verify_int8:
                    rec, precision, checked = self._open(cached, 1, pool), "int8", True
                elif cached.is_file() and (verdict := load_verdict(cached)) is not None:
                    self.int8_verdict, checked = verdict, True
                    if verdict.use_int8:
                        rec, precision = self._open(cached, 1, pool), "int8"
                    log.info("OCR INT8 check cached here: %s", verdict.summary())
            except (OSError, OcrUnavailable) as exc:
                self.int8_error = f"cannot use the cached INT8 OCR model: {exc}"
                log.warning("%s; recognising with the fp32 model", self.int8_error)
        if rec is None:
            rec = self._open(source, 1, pool)
        self._charset = charset(rec, str(source))
        self._rec, self._rec_precision = rec, precision
        self._generation += 1
        if self.settings.precision == "int8" and not checked and self.int8_error is None:
            generation = self._generation
            # Not a daemon: interpreter exit waits for it (killing it inside onnxruntime aborts the process).
            self._builder = threading.Thread(target=self._build_int8, args=(source, generation), name="ocr-int8")
            self._builder.start()

    def _build_int8(self, source: Path, generation: int) -> None:
        from engine.ocr.int8 import ensure_checked, ensure_int8

        try:
            if self.settings.verify_int8:
                model, verdict = ensure_checked(source, self.settings.int8_dir, self.settings.threads)
                self.int8_verdict = verdict
                if not verdict.use_int8:
                    return
            else:
                model = ensure_int8(source, self.settings.int8_dir)
            rec = self._open(model, 1)
            if charset(rec, str(model)) != self._charset:
                raise OcrUnavailable("the INT8 model's character list differs from the source model's")
        except Exception as exc:  # any failure leaves the working fp32 model in place
            self.int8_error = f"cannot build the INT8 OCR model: {exc}"
            log.warning("%s; recognising with the fp32 model", self.int8_error)
            return
        with self._load_lock:
            if self._generation == generation:  # not closed (or reloaded) meanwhile
                self._rec, self._rec_precision = rec, "int8"
                log.info("OCR recognition now runs on the INT8 model")

    def close(self) -> None:
        """Stop the worker threads (the engine loads again if used later)."""
        with self._load_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            self._pool = None
            self._det = self._rec = None
            self._builder = None
            self._generation += 1

    # -- detection -------------------------------------------------------------------------

    def detect(self, image: np.ndarray) -> list[tuple[Box, float]]:
        """Text line boxes on a BGR ``uint8`` array, with the detector's mean probability."""
        self.load()
        pool = self._pool
        assert pool is not None
        return pool.submit(detect, self._det, image, self.settings).result()

    # -- recognition -----------------------------------------------------------------------

    def _run_batch(self, crops: list[np.ndarray]) -> list[Reading]:
        batch, widths = rec_input(crops)
        rec = self._rec  # read once: the int8 model may replace the fp32 one while this batch runs
        output = rec.run(None, {rec.get_inputs()[0].name: batch})[0]
        return decode(output, widths, self._charset)

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        """What each BGR crop says, in order (crops seen before are not recognised again)."""
        return self._recognize(crops, [crop_key(crop) for crop in crops], [(0, crop.shape[1]) for crop in crops])

    def _recognize(
        self, crops: Sequence[np.ndarray], keys: Sequence[bytes], spans: Sequence[tuple[int, int]]
    ) -> list[Reading]:
        """What each crop says; crops with equal ``keys`` show the same content and are recognised once.

        ``spans``: where each crop's content starts (px from its left edge) and the crop's width, so a
        reading is moved onto another crop of the same content (see :func:`moved`).
        """
        self.load()
        results: list[Reading | None] = [None] * len(crops)
        pending: dict[bytes, list[int]] = {}
        with self._crops_lock:
            for index, key in enumerate(keys):
                hit = self._crops.get(key)
                if hit is not None:
                    self._crops.move_to_end(key)
                    results[index] = moved(hit[0], hit[1], spans[index])
                else:
                    pending.setdefault(key, []).append(index)
        # Sorted by shape, so each batch pads its crops to nearly the same width.
        todo = sorted(pending, key=lambda k: crops[pending[k][0]].shape[1] / crops[pending[k][0]].shape[0])
        assert self._pool is not None
        done = self._pool.map(self._run_batch, batches([crops[pending[k][0]] for k in todo]))
        readings = [reading for batch in done for reading in batch]
        with self._crops_lock:
            self.recognised += len(todo)
            for key, reading in zip(todo, readings, strict=True):
                first = spans[pending[key][0]]
                for index in pending[key]:
                    results[index] = moved(reading, first, spans[index])
                if self.settings.crop_cache_size:
                    self._crops[key] = (reading, first)
            while len(self._crops) > self.settings.crop_cache_size:
                self._crops.popitem(last=False)
        return [r if r is not None else EMPTY for r in results]

    # -- both ------------------------------------------------------------------------------

    def read(self, image: Image.Image | np.ndarray, area: Box | None = None) -> list[TextBox]:
        """Every text line on ``image`` (or inside ``area`` of it), boxes in the image's pixels.

        Each box is the extent of its glyphs' ink (``x2``/``y2`` exclusive), not the detector's
        padded box. A line OCR read across a wide gap (menu titles, toolbar buttons, table cells)
        comes back as one :class:`TextBox` per gap-separated piece.

        Lines whose boxes hold the same content (the same word in several table rows, or a line
        seen on an earlier screen, wherever it was) are recognised once: the key is the pixels of
        what stands out in the box, not of the box with its blank margins.
        """
        array = to_bgr(image)
        x0 = y0 = 0
        if area is not None:
            x0, y0, x2, y2 = area
            array = array[y0:y2, x0:x2]
        found = self._read_array(array, (x0, y0))
        if self.settings.faint_text:
            found += self._faint_lines(array, (x0, y0), found)
        return found

    def _read_array(self, array: np.ndarray, offset: tuple[int, int]) -> list[TextBox]:
        """The text lines on the BGR ``array``, which sits at ``offset`` of the image (boxes in image pixels)."""
        x0, y0 = offset
        boxes = [box for box, _ in self.detect(array)]
        inks = [line_ink(array, (x1 + x0, y1 + y0, x2 + x0, y2 + y0), (x0, y0)) for x1, y1, x2, y2 in boxes]
        crops, keys, spans = [], [], []
        for (x1, y1, x2, y2), ink in zip(boxes, inks, strict=True):
            crop = array[y1:y2, x1:x2]
            crops.append(crop)
            if ink.content is None or not self.settings.share_readings:
                keys.append(crop_key(crop))
                spans.append((0, x2 - x1))
            else:
                c1, c2, c3, c4 = ink.content
                keys.append(crop_key(array[c2 - y0 : c4 - y0, c1 - x0 : c3 - x0]))
                spans.append((c1 - x0 - x1, x2 - x1))
        readings = self._recognize(crops, keys, spans)
        return self.lines(array, boxes, readings, (x0, y0), inks)

    def _faint_lines(self, array: np.ndarray, offset: tuple[int, int], seen: Sequence[TextBox]) -> list[TextBox]:
        """Near-invisible lines on the BGR ``array`` (at ``offset``) that the normal pass (``seen``) missed.

        Nearly flat areas are stretched to full contrast and read like any other (:mod:`engine.ocr.faint`);
        a line is kept only when it is new, read with :attr:`OcrSettings.faint_min_confidence` and its ink
        really is near-invisible on the original pixels (below :attr:`OcrSettings.faint_max_contrast`).
        """
        x0, y0 = offset
        found: list[TextBox] = []
        for ax1, ay1, ax2, ay2 in faint_areas(array, self.settings.faint_max_levels):
            flat = stretched(array[ay1:ay2, ax1:ax2])
            for line in self._read_array(flat, (x0 + ax1, y0 + ay1)):
                if line.confidence < self.settings.faint_min_confidence or not any(c.isalnum() for c in line.text):
                    continue
                if any(_shared(line.box, other.box) > 0.3 for other in [*seen, *found]):
                    continue
                bx1, by1, bx2, by2 = line.box
                ink = flat[by1 - y0 - ay1 : by2 - y0 - ay1, bx1 - x0 - ax1 : bx2 - x0 - ax1, 0] < 128
                ratio = contrast_ratio(array, (bx1 - x0, by1 - y0, bx2 - x0, by2 - y0), ink)
                if ratio <= self.settings.faint_max_contrast:
                    found.append(replace(line, faint=True))
        return found

    def lines(
        self,
        array: np.ndarray,
        boxes: Sequence[Box],
        readings: Sequence[Reading],
        offset: tuple[int, int] = (0, 0),
        inks: Sequence[Ink] | None = None,
    ) -> list[TextBox]:
        """The text lines from detected ``boxes`` of the BGR ``array`` and what was read in each: weak
        readings dropped, lines split at gaps, boxes shrunk to their ink, all moved by ``offset``
        (``inks``: each box's :func:`line_ink`, when already known)."""
        x0, y0 = offset
        found: list[TextBox] = []
        for index, ((x1, y1, x2, y2), reading) in enumerate(zip(boxes, readings, strict=True)):
            if reading.confidence < self.settings.min_confidence:
                continue
            chars = tuple(x1 + x0 + round(p * (x2 - x1)) for p in reading.positions)
            line = stripped(
                TextBox(reading.text, (x1 + x0, y1 + y0, x2 + x0, y2 + y0), round(reading.confidence, 4), chars)
            )
            if line is None:
                continue
            ink = inks[index] if inks is not None else line_ink(array, line.box, offset)
            pieces: list[TextBox] = [line]
            if self.settings.split_gap > 0 and len(line.text) > 1:
                kept = drop_border_glyphs(line, ink)
                pieces = [] if kept is None else [kept]
                if kept is not None and len(kept.text) > 2:
                    pieces = split_at_gaps(kept, ink, self.settings.split_gap)
            found.extend(tightened(piece, ink) for piece in pieces)
        return found


def _shared(box: Box, other: Box) -> float:
    """The share of ``box``'s area that ``other`` covers."""
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return width * height / area if width > 0 and height > 0 and area > 0 else 0.0


def to_bgr(image: Image.Image | np.ndarray) -> np.ndarray:
    """A contiguous BGR ``uint8`` array (PP-OCR's channel order) from a PIL image or an RGB array."""
    array = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
    return np.ascontiguousarray(array[:, :, ::-1])

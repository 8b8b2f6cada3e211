"""Offline OCR on the CPU: the PP-OCR detection and recognition models that ship inside the
``rapidocr`` wheel, run directly with onnxruntime.

Why not ``rapidocr.RapidOCR()`` as is: with its defaults a 1920x1080 screen takes seconds on two
cores. Screens are not photos, and this pipeline is shaped for them:

* detection runs on a downscaled copy (UI text is large, sharp and high-contrast), boxes are read
  straight from the probability map as axis-aligned rectangles (UI text is never rotated);
* no orientation classifier (nothing on a screen is upside down);
* recognition crops come from the full-resolution image, grouped by width into batches so little
  is spent on padding, and run on every core at once (one single-threaded call per core);
* identical crops (the same word drawn twice, or unchanged text on a later pass) are recognised
  once: results are kept by the crop's pixels;
* a line OCR read across separate elements (menu titles, a label and its field's value) is split
  where the ink shows a wide gap or a border, using where each character was recognised, so a
  text box is one element's text.

All methods here are synchronous and CPU-bound; callers run them in worker threads.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
"""``(x1, y1, x2, y2)`` in image pixels, ``x2``/``y2`` exclusive."""

_REC_HEIGHT = 48
"""The recognition model's fixed input height."""
_REC_STRIDE_PX = 8
"""The recognition model emits one CTC step per 8 input columns."""
_INK_CONTRAST = 48
"""Grey levels from the background above which a pixel is ink (UI text is high-contrast)."""
_MAX_REC_WIDTH = 48 * 50
"""Crops wider than this (a 50:1 line) are squeezed: longer lines are paragraphs, not UI labels."""


class OcrUnavailable(Exception):
    """The OCR models or runtime cannot be loaded (the message says what to install)."""


@dataclass(frozen=True)
class TextBox:
    """One line of text found on an image."""

    text: str
    box: Box
    confidence: float
    chars: tuple[int, ...] = ()
    """Each character's centre x (image pixels), when known: for boxes around part of the line."""


@dataclass(frozen=True)
class OcrSettings:
    """How the OCR pipeline trades speed for recall. The defaults are tuned on the grounding benchmark."""

    det_max_side: int = 1600
    """Longest side of the image given to the text detector (0: native resolution)."""
    det_threshold: float = 0.3
    """Probability above which a detector pixel counts as text."""
    box_threshold: float = 0.5
    """Mean probability a detected region needs to be kept."""
    unclip_ratio: float = 1.6
    """How far detected regions are grown (the detector predicts shrunken text cores)."""
    min_confidence: float = 0.5
    """Recognised lines below this confidence are dropped."""
    threads: int = 0
    """CPU threads to use (0: every core)."""
    crop_cache_size: int = 4096
    """Recognised crops remembered by their pixels (0: none)."""
    split_gap: float = 1.8
    """Lines are split where a blank run is wider than this many average characters (0: never)."""
    precision: str = "int8"
    """``int8``: recognise with an INT8 copy of the model (faster, same benchmark accuracy), built
    once per machine (see :mod:`engine.ocr_int8`); ``fp32``: the shipped model as is."""
    int8_dir: Path | None = None
    """Where the INT8 copy is cached (None: ``$XDG_CACHE_HOME/vlm-desktop-mcp/ocr``)."""


def _model_dir() -> Path:
    try:
        import rapidocr
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise OcrUnavailable("OCR needs the rapidocr package: pip install 'rapidocr>=3,<4' onnxruntime") from exc
    return Path(rapidocr.__file__).resolve().parent / "models"


def _find_model(directory: Path, kind: str) -> Path:
    # Newest shipped generation first; the wheel holds exactly one of each kind.
    candidates = sorted(directory.glob(f"*_{kind}_*.onnx"), reverse=True)
    if not candidates:
        raise OcrUnavailable(
            f"no OCR {kind} model in {directory}: reinstall rapidocr 3.x (its wheel ships the models; "
            "this server never downloads any)"
        )
    return candidates[0]


def shipped_model(kind: str) -> Path:
    """The ``det`` or ``rec`` model file shipped inside the rapidocr wheel."""
    return _find_model(_model_dir(), kind)


def _session(path: Path, threads: int) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise OcrUnavailable("OCR needs onnxruntime: pip install onnxruntime") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own, untyped errors for unreadable models
        raise OcrUnavailable(f"cannot load the OCR model {path}: {exc}") from exc


def _crop_key(crop: np.ndarray) -> bytes:
    return hashlib.blake2b(crop.tobytes(), digest_size=16, person=str(crop.shape).encode()[:16]).digest()


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
        self._crops: OrderedDict[bytes, Reading] = OrderedDict()
        self._crops_lock = threading.Lock()
        self._rec_precision = "fp32"
        self._generation = 0
        self._builder: threading.Thread | None = None
        self.int8_error: str | None = None
        """Why the INT8 model could not be made or loaded (recognition then stays fp32)."""

    @property
    def precision(self) -> str:
        """The recognition model's precision in use now: ``int8`` or ``fp32``."""
        return self._rec_precision

    @property
    def model_name(self) -> str:
        """Names of the models in use (for results and logs)."""
        directory = _model_dir()
        suffix = "-int8" if self._rec_precision == "int8" else ""
        return f"{_find_model(directory, 'det').stem}+{_find_model(directory, 'rec').stem}{suffix}"

    def load(self, wait: bool = False) -> None:
        """Load both models now (otherwise the first read does).

        With ``precision="int8"`` and no INT8 copy cached yet, recognition starts on the fp32 model
        and switches when the copy is built in the background (a few seconds, once per machine);
        ``wait`` builds it first instead.
        """
        with self._load_lock:
            if self._rec is None:
                self._load_locked()
            builder = self._builder
        if wait and builder is not None:
            builder.join()

    def _load_locked(self) -> None:
        directory = _model_dir()
        # Detection is one large call: let it use every core. Recognition is many small calls:
        # one thread each, run side by side (less synchronisation than splitting every conv).
        self._det = _session(_find_model(directory, "det"), self._threads)
        source = _find_model(directory, "rec")
        rec, precision = None, "fp32"
        if self.settings.precision == "int8":
            try:
                from engine.ocr_int8 import int8_path

                cached = int8_path(source, self.settings.int8_dir)
                if cached.is_file():
                    rec, precision = _session(cached, 1), "int8"
            except (OSError, OcrUnavailable) as exc:
                self.int8_error = f"cannot use the cached INT8 OCR model: {exc}"
                log.warning("%s; recognising with the fp32 model", self.int8_error)
        if rec is None:
            rec = _session(source, 1)
        characters = rec.get_modelmeta().custom_metadata_map.get("character")
        if not characters:
            raise OcrUnavailable(f"the OCR recognition model {source} has no character list")
        self._charset = ["", *characters.splitlines(), " "]  # CTC blank first, space last (PP-OCR's layout)
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="ocr-rec")
        self._rec, self._rec_precision = rec, precision
        self._generation += 1
        if self.settings.precision == "int8" and precision == "fp32" and self.int8_error is None:
            generation = self._generation
            # Not a daemon: interpreter exit waits for it (killing it inside onnxruntime aborts the process).
            self._builder = threading.Thread(target=self._build_int8, args=(source, generation), name="ocr-int8")
            self._builder.start()

    def _build_int8(self, source: Path, generation: int) -> None:
        from engine.ocr_int8 import ensure_int8

        try:
            rec = _session(ensure_int8(source, self.settings.int8_dir), 1)
            characters = rec.get_modelmeta().custom_metadata_map.get("character")
            if ["", *(characters or "").splitlines(), " "] != self._charset:
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
        import cv2

        self.load()
        height, width = image.shape[:2]
        if height < 4 or width < 4:
            return []
        limit = self.settings.det_max_side
        scale = min(1.0, limit / max(height, width)) if limit > 0 else 1.0
        det_w = max(32, round(width * scale / 32) * 32)
        det_h = max(32, round(height * scale / 32) * 32)
        # INTER_AREA averages when shrinking: thin strokes fade instead of vanishing between samples.
        resized = cv2.resize(image, (det_w, det_h), interpolation=cv2.INTER_AREA)
        tensor = (resized.astype(np.float32) * (2 / 255) - 1).transpose(2, 0, 1)[np.newaxis]
        prob = self._det.run(None, {self._det.get_inputs()[0].name: tensor})[0][0, 0]
        mask = cv2.dilate((prob > self.settings.det_threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        sx, sy = width / det_w, height / det_h
        found: list[tuple[Box, float]] = []
        for index in range(1, count):
            x, y, w, h = (int(v) for v in stats[index][:4])
            if min(w, h) < 3:
                continue
            score = float(prob[y : y + h, x : x + w][labels[y : y + h, x : x + w] == index].mean())
            if score < self.settings.box_threshold:
                continue
            # DB's unclip: the detector marks a shrunken core; grow it by area * ratio / perimeter.
            grow = w * h * self.settings.unclip_ratio / (2 * (w + h))
            x1 = max(0, math.floor((x - grow) * sx))
            y1 = max(0, math.floor((y - grow) * sy))
            x2 = min(width, math.ceil((x + w + grow) * sx))
            y2 = min(height, math.ceil((y + h + grow) * sy))
            if x2 - x1 >= 4 and y2 - y1 >= 4:
                found.append(((x1, y1, x2, y2), score))
        found.sort(key=lambda item: (item[0][1], item[0][0]))
        return found

    # -- recognition -----------------------------------------------------------------------

    def _decode(self, output: np.ndarray, widths: list[int]) -> list[Reading]:
        indices = output.argmax(axis=2)
        probs = output.max(axis=2)
        step = _REC_STRIDE_PX
        results = []
        for row, prob, width in zip(indices, probs, widths, strict=True):
            keep = np.ones(len(row), dtype=bool)
            keep[1:] = row[1:] != row[:-1]
            keep &= (row != 0) & (row < len(self._charset))
            steps = np.flatnonzero(keep)
            text = "".join(self._charset[i] for i in row[steps])
            # CTC fires about where each character is drawn: keep that, as a share of the crop's width.
            where = tuple(float(min(1.0, (t + 0.5) * step / width)) for t in steps)
            results.append(Reading(text, float(prob[steps].mean()) if len(steps) else 0.0, where))
        return results

    def _run_batch(self, crops: list[np.ndarray]) -> list[Reading]:
        batch, widths = rec_input(crops)
        rec = self._rec  # read once: the int8 model may replace the fp32 one while this batch runs
        output = rec.run(None, {rec.get_inputs()[0].name: batch})[0]
        return self._decode(output, widths)

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        """What each BGR crop says, in order (crops seen before are not recognised again)."""
        self.load()
        results: list[Reading | None] = [None] * len(crops)
        pending: dict[bytes, list[int]] = {}
        with self._crops_lock:
            for index, crop in enumerate(crops):
                key = _crop_key(crop)
                hit = self._crops.get(key)
                if hit is not None:
                    self._crops.move_to_end(key)
                    results[index] = hit
                else:
                    pending.setdefault(key, []).append(index)
        # Sorted by shape, so each batch pads its crops to nearly the same width.
        todo = sorted(pending, key=lambda k: crops[pending[k][0]].shape[1] / crops[pending[k][0]].shape[0])
        assert self._pool is not None
        done = self._pool.map(self._run_batch, _batches([crops[pending[k][0]] for k in todo]))
        readings = [reading for batch in done for reading in batch]
        with self._crops_lock:
            for key, reading in zip(todo, readings, strict=True):
                for index in pending[key]:
                    results[index] = reading
                if self.settings.crop_cache_size:
                    self._crops[key] = reading
            while len(self._crops) > self.settings.crop_cache_size:
                self._crops.popitem(last=False)
        return [r if r is not None else Reading("", 0.0, ()) for r in results]

    # -- both ------------------------------------------------------------------------------

    def read(self, image: Image.Image | np.ndarray, area: Box | None = None) -> list[TextBox]:
        """Every text line on ``image`` (or inside ``area`` of it), boxes in the image's pixels.

        A line OCR read across a wide gap (menu titles, toolbar buttons, table cells) comes back as
        one :class:`TextBox` per gap-separated piece.
        """
        array = to_bgr(image)
        x0 = y0 = 0
        if area is not None:
            x0, y0, x1, y1 = area
            array = array[y0:y1, x0:x1]
        boxes = [box for box, _ in self.detect(array)]
        readings = self.recognize([array[y1:y2, x1:x2] for x1, y1, x2, y2 in boxes])
        grey = None
        found: list[TextBox] = []
        for (x1, y1, x2, y2), reading in zip(boxes, readings, strict=True):
            if reading.confidence < self.settings.min_confidence:
                continue
            chars = tuple(x1 + x0 + round(p * (x2 - x1)) for p in reading.positions)
            line = _stripped(
                TextBox(reading.text, (x1 + x0, y1 + y0, x2 + x0, y2 + y0), round(reading.confidence, 4), chars)
            )
            if line is None:
                continue
            if self.settings.split_gap > 0 and len(line.text) > 1:
                if grey is None:
                    grey = array.mean(axis=2)
                line = drop_border_glyphs(line, grey, (x0, y0))
                if line is None:
                    continue
                found.extend(
                    split_at_gaps(line, grey, (x0, y0), self.settings.split_gap) if len(line.text) > 2 else [line]
                )
            else:
                found.append(line)
        return found


@dataclass(frozen=True)
class Reading:
    """What the recogniser said about one crop; ``positions``: each character's centre, 0..1 across it."""

    text: str
    confidence: float
    positions: tuple[float, ...]


def _stripped(line: TextBox) -> TextBox | None:
    """``line`` without leading/trailing spaces (their positions dropped too), or None if nothing is left."""
    text = line.text
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    if start >= end:
        return None
    if start == 0 and end == len(text):
        return line
    chars = line.chars[start:end] if len(line.chars) == len(text) else ()
    return TextBox(text[start:end], line.box, line.confidence, chars)


def _ink(grey: np.ndarray, box: Box, offset: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """x of every column of ``box`` holding text ink, and of every column holding a border line.

    Ink is what differs clearly from the box's dominant (median) level. Rows nearly all ink are
    underlines or grid lines and are left out; columns inked over most of the box's height are
    borders (a field's edge between a label and its value), not glyphs. ``offset`` is where
    ``grey`` sits; results are in the coordinates of ``box``.
    """
    x1, y1, x2, y2 = box
    ox, oy = offset
    left = max(x1, ox)
    region = grey[max(0, y1 - oy) : max(0, y2 - oy), left - ox : max(0, x2 - ox)]
    if region.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    ink = np.abs(region - np.median(region)) > _INK_CONTRAST
    lines = ink.mean(axis=1) >= 0.7
    if not lines.all():
        ink = ink[~lines]
    border = ink.mean(axis=0) >= 0.7
    return np.flatnonzero(ink.any(axis=0) & ~border) + left, np.flatnonzero(border) + left


_BORDER_GLYPHS = frozenset("[]|()!")
"""What a field's edge next to a label is read as ("Name:[", "|Search"); letters are never dropped."""


def drop_border_glyphs(line: TextBox, grey: np.ndarray, offset: tuple[int, int]) -> TextBox | None:
    """``line`` without a first or last character that sits on a border line (a field's edge read as a glyph)."""
    text, chars = line.text, line.chars
    if len(chars) != len(text) or len(text) < 2 or not (text[0] in _BORDER_GLYPHS or text[-1] in _BORDER_GLYPHS):
        return line  # the common case, decided without looking at pixels
    _, borders = _ink(grey, line.box, offset)
    if len(borders) == 0:
        return line
    reach = max(2.0, 0.6 * (chars[-1] - chars[0]) / (len(chars) - 1))
    x1, y1, x2, y2 = line.box
    start, end = 0, len(text)
    near = borders[np.abs(borders - chars[-1]) <= reach]
    if text[-1] in _BORDER_GLYPHS and len(near):
        end, x2 = end - 1, int(near.min())
    near = borders[np.abs(borders - chars[0]) <= reach]
    if text[0] in _BORDER_GLYPHS and len(near) and end > 1:
        start, x1 = 1, int(near.max()) + 1
    if (start, end) == (0, len(text)):
        return line
    return _stripped(TextBox(text[start:end], (x1, y1, max(x1 + 1, x2), y2), line.confidence, chars[start:end]))


def ink_gaps(grey: np.ndarray, box: Box, offset: tuple[int, int] = (0, 0)) -> list[tuple[int, int, bool]]:
    """Blank runs ``(x_start, x_end, border)`` between the text ink inside ``box``; ``border``: a line crosses it."""
    inked, borders = _ink(grey, box, offset)
    return [
        (int(a) + 1, int(b), bool(((borders > a) & (borders < b)).any()))
        for a, b in itertools.pairwise(inked)
        if b - a > 1
    ]


def split_at_gaps(line: TextBox, grey: np.ndarray, offset: tuple[int, int], gap: float) -> list[TextBox]:
    """Split ``line`` at blank runs wider than ``gap`` x its average advance, or crossed by a border,
    that hold a space of its text (a wide run without one is inside a word, or misread, see below)."""
    x1, y1, x2, y2 = line.box
    if len(line.chars) != len(line.text):
        return [line]
    # The average advance: CTC places characters only to within a few pixels, but over a line it evens out.
    pitch = (line.chars[-1] - line.chars[0]) / (len(line.chars) - 1) if len(line.chars) > 2 else (y2 - y1) * 0.35
    cuts: list[tuple[int, int, int, int]] = []  # (end of a piece, start of the next, gap start, gap end)
    for a, b, border in ink_gaps(grey, line.box, offset):
        if b - a < gap * pitch and not border:
            continue
        after = cuts[-1][1] if cuts else 0
        # CTC places a space only roughly: within most of a character of the gap counts.
        slack = max(2.0, 0.75 * pitch)
        spaces = [
            i for i, c in enumerate(line.text) if c == " " and a - slack <= line.chars[i] <= b + slack and i >= after
        ]
        if spaces:
            cut = min(spaces, key=lambda i: abs(line.chars[i] - (a + b) / 2))
            cuts.append((cut, cut + 1, a, b))
            continue
    # OCR can run two separate words into one ("MonthlyYearly", with a radio button drawn between
    # them): where consecutive characters lie far apart, cut between them.
    for i in range(1, len(line.text)):
        left, right = line.chars[i - 1], line.chars[i]
        if " " not in line.text[i - 1 : i + 1] and right - left > 2.5 * pitch:
            cuts.append((i, i, round(left + pitch / 2), round(right - pitch / 2)))
    cuts.sort()
    cuts = [c for n, c in enumerate(cuts) if n == 0 or c[0] >= cuts[n - 1][1]]
    if not cuts:
        return [line]
    pieces: list[TextBox] = []
    begin, left = 0, x1
    for end, start, a, b in [*cuts, (len(line.text), len(line.text), x2, x2)]:
        piece = _stripped(TextBox(line.text[begin:end], (left, y1, a, y2), line.confidence, line.chars[begin:end]))
        # A piece without a letter or digit is a checkbox or radio button read as "[" or "□".
        if piece is not None and any(c.isalnum() for c in piece.text):
            pieces.append(_tight(piece, grey, offset))
        begin, left = start, b
    return pieces


def _tight(piece: TextBox, grey: np.ndarray, offset: tuple[int, int]) -> TextBox:
    """``piece`` with its box shrunk horizontally to its ink, plus a margin of a quarter of its height."""
    x1, y1, x2, y2 = piece.box
    inked, _ = _ink(grey, piece.box, offset)
    if len(inked) == 0:
        return piece
    margin = (y2 - y1) // 4
    box = (max(x1, int(inked[0]) - margin), y1, min(x2, int(inked[-1]) + 1 + margin), y2)
    return TextBox(piece.text, box, piece.confidence, piece.chars)


def rec_input(crops: Sequence[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """The recognition model's input for BGR crops (scaled to its height, normalised, right-padded),
    and each crop's scaled width."""
    import cv2

    widths = [min(_MAX_REC_WIDTH, max(8, math.ceil(_REC_HEIGHT * c.shape[1] / c.shape[0]))) for c in crops]
    batch = np.zeros((len(crops), 3, _REC_HEIGHT, max(widths)), dtype=np.float32)
    for slot, (crop, w) in enumerate(zip(crops, widths, strict=True)):
        resized = cv2.resize(crop, (w, _REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
        batch[slot, :, :, :w] = resized.astype(np.float32).transpose(2, 0, 1) * (2 / 255) - 1
    return batch, widths


def _batches(crops: list[np.ndarray], max_pixels: int = 48 * 1024, max_growth: float = 1.1) -> list[list[np.ndarray]]:
    """Consecutive groups of width-sorted crops: padded to one width, so keep widths close."""
    groups: list[list[np.ndarray]] = []
    current: list[np.ndarray] = []
    first_ratio = 0.0
    for crop in crops:
        ratio = crop.shape[1] / crop.shape[0]
        if current and (ratio > first_ratio * max_growth or (len(current) + 1) * ratio * 48 * 48 > max_pixels):
            groups.append(current)
            current = []
        if not current:
            first_ratio = ratio
        current.append(crop)
    if current:
        groups.append(current)
    return groups


def to_bgr(image: Image.Image | np.ndarray) -> np.ndarray:
    """A contiguous BGR ``uint8`` array (PP-OCR's channel order) from a PIL image or an RGB array."""
    array = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
    return np.ascontiguousarray(array[:, :, ::-1])

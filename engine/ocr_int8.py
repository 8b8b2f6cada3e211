"""An INT8 copy of the OCR recognition model, made once per machine from the shipped fp32 one and cached.

Recognition is most of an OCR pass on a busy screen, and most of recognition is convolutions.
Static INT8 quantization (per-channel weights; activation ranges calibrated on UI text rendered
here with Pillow) runs them on the CPU's integer units. The first convolution stays float: it sees
raw pixels, and quantizing it cost exact readings on the grounding benchmark (369 instead of 374
of 382 targets read exactly; kept float, 374, as with the fp32 model). ``bench/ocr_bench.py``
measures speed and accuracy of both in one run.

Nothing is downloaded: the source is the model inside the rapidocr wheel. Building takes a few
seconds and needs the ``onnx`` package; the result is reused until the source model, onnxruntime or
:data:`RECIPE` changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

RECIPE = "2"
"""Bump when anything here changes the model it makes (cached copies are then rebuilt)."""

_FONTS = (
    "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "dejavu/DejaVuSerif.ttf",
    "liberation2/LiberationSans-Regular.ttf",
    "liberation2/LiberationSans-Bold.ttf",
    "liberation2/LiberationMono-Regular.ttf",
)
_WORDS = (
    "File", "Edit", "View", "Help", "Save", "Open", "Close", "Submit", "Cancel", "Apply", "OK", "Settings",
    "Search…", "Name", "Email", "City", "Status", "Password", "Username", "Remember", "me", "Sign", "in",
    "Download", "Upload", "Invoice", "Total", "Q3", "2026-11-29", "09:41", "$1,234.56", "€99.00", "42%",
    "user@example.com", "https://example.org/a?b=1", "(optional)", "Next", "›", "«", "Back", "#7", "INV-0042",
    "Café", "Ñandú",
)  # fmt: skip


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vlm-desktop-mcp/ocr`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vlm-desktop-mcp" / "ocr"


def int8_path(source: Path, directory: Path | None = None) -> Path:
    """Where the INT8 copy of ``source`` is cached (named by the source's content and onnxruntime's version)."""
    import onnxruntime

    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    name = f"{source.stem}-int8-r{RECIPE}-ort{onnxruntime.__version__}-{digest}.onnx"
    return (directory or cache_dir()) / name


def _fonts() -> list[Any]:
    found: list[Any] = []
    for relative in _FONTS:
        path = Path("/usr/share/fonts/truetype") / relative
        if path.is_file():
            found.append(str(path))
    return found


def calibration_batches(batches: int = 16, per_batch: int = 8, seed: int = 1) -> list[np.ndarray]:
    """Recognition inputs of rendered UI text: light and dark themes, 11-20 px, the fonts installed.

    Cropped the way detection crops (text plus about half its height around it), batched the way
    recognition batches, so the calibrated ranges are the ones seen at run time.
    """
    from engine.ocr import rec_input, to_bgr

    rng = random.Random(seed)
    fonts = _fonts()
    result = []
    for _ in range(batches):
        crops = []
        for _ in range(per_batch):
            text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
            size = rng.choice((11, 12, 13, 14, 16, 20))
            font = ImageFont.truetype(rng.choice(fonts), size) if fonts else ImageFont.load_default(size)
            dark = rng.random() < 0.3
            background = (30, 30, 30) if dark else rng.choice(((255, 255, 255), (240, 240, 240), (222, 235, 250)))
            ink = (230, 230, 230) if dark else rng.choice(((20, 20, 20), (60, 60, 60), (0, 70, 160)))
            width = int(font.getlength(text)) + size
            image = Image.new("RGB", (width, size * 2), background)
            ImageDraw.Draw(image).text((size // 2, size // 2), text, fill=ink, font=font)
            crops.append(to_bgr(image))
        crops.sort(key=lambda c: c.shape[1] / c.shape[0])
        result.append(rec_input(crops)[0])
    return result


def quantize(source: Path, target: Path) -> Path:
    """Write the INT8 copy of the recognition model ``source`` to ``target`` (atomically) and return it."""
    try:
        import onnx
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise RuntimeError(f"INT8 OCR needs the onnx package (pip install onnx): {exc}") from exc

    inputs = calibration_batches()

    class Reader(CalibrationDataReader):  # type: ignore[misc]  # untyped base class
        def __init__(self, name: str) -> None:
            self._items = iter([{name: batch} for batch in inputs])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._items, None)

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_scratch(target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=_SCRATCH) as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        built = Path(scratch) / "int8.onnx"
        # The quantization tools print progress; in stdio mode stdout is the protocol channel.
        with contextlib.redirect_stdout(sys.stderr):
            quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
            graph = onnx.load(str(prepared)).graph
            first_conv = next(node.name for node in graph.node if node.op_type == "Conv")
            quantize_static(
                str(prepared),
                str(built),
                Reader(graph.input[0].name),
                quant_format=QuantFormat.QOperator,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["Conv"],
                nodes_to_exclude=[first_conv],
            )
            model = onnx.load(str(built))
        # The recogniser's character list travels in the model's metadata: keep it.
        del model.metadata_props[:]
        model.metadata_props.extend(onnx.load(str(source), load_external_data=False).metadata_props)
        onnx.save(model, str(built))
        os.replace(built, target)  # atomic: a process loading it never sees half a file
    return target


_SCRATCH = ".int8-"
_STALE_SECONDS = 15 * 60


def _remove_stale_scratch(directory: Path) -> None:
    # A build killed midway (SIGKILL, power loss) leaves its scratch folder (tens of MB) behind.
    for leftover in directory.glob(f"{_SCRATCH}*"):
        try:
            if time.time() - leftover.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def ensure_int8(source: Path, directory: Path | None = None) -> Path:
    """The cached INT8 copy of ``source``, made first if missing (a few seconds, once)."""
    target = int8_path(source, directory)
    if not target.is_file():
        log.info("building the INT8 OCR recognition model in %s (once per machine)", target.parent)
        quantize(source, target)
    return target

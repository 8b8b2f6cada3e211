"""The PP-OCR models shipped inside the ``rapidocr`` wheel, and onnxruntime sessions on them.

Nothing is downloaded: the wheel holds one detection and one recognition model; this module finds
them and opens CPU sessions with the options the pipeline needs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from pathlib import Path
from typing import Any

__all__ = ["OcrUnavailable", "charset", "flush_denormals", "model_dir", "session", "shipped_model"]


class OcrUnavailable(Exception):
    """The OCR models or runtime cannot be loaded (the message says what to install)."""


def model_dir() -> Path:
    """The ``models`` folder of the installed rapidocr wheel."""
    try:
        import rapidocr
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise OcrUnavailable("OCR needs the rapidocr package: pip install 'rapidocr>=3,<4' onnxruntime") from exc
    return Path(rapidocr.__file__).resolve().parent / "models"


def find_model(directory: Path, kind: str) -> Path:
    """The ``det`` or ``rec`` model in ``directory`` (the newest generation, should there be several)."""
    candidates = sorted(directory.glob(f"*_{kind}_*.onnx"), reverse=True)
    if not candidates:
        raise OcrUnavailable(
            f"no OCR {kind} model in {directory}: reinstall rapidocr 3.x (its wheel ships the models; "
            "this server never downloads any)"
        )
    return candidates[0]


def shipped_model(kind: str) -> Path:
    """The ``det`` or ``rec`` model file shipped inside the rapidocr wheel."""
    return find_model(model_dir(), kind)


def session(model: Path | bytes, threads: int, name: str = "", *, denormal_as_zero: bool = True) -> Any:
    """A CPU onnxruntime session on ``model`` (a file, or a serialized model) with ``threads`` intra-op
    threads; ``denormal_as_zero``: tiny intermediate values are flushed to zero (much faster on x86)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise OcrUnavailable("OCR needs onnxruntime: pip install onnxruntime") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if denormal_as_zero:
        # A screen's blank areas drive the detector's activations into denormal floats, which x86
        # computes many times slower: flushed to zero, the same maps come out in far less time.
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
    source = model if isinstance(model, bytes) else str(model)
    label = name or ("a serialized model" if isinstance(model, bytes) else str(model))
    try:
        return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own, untyped errors for unreadable models
        raise OcrUnavailable(f"cannot load the OCR model {label}: {exc}") from exc


def charset(rec: Any, name: str = "the recognition model") -> list[str]:
    """The recognition session's output classes: the CTC blank first, the model's characters, a space last."""
    characters = rec.get_modelmeta().custom_metadata_map.get("character")
    if not characters:
        raise OcrUnavailable(f"the OCR recognition model {name} has no character list")
    return ["", *characters.splitlines(), " "]  # PP-OCR's layout


class _FenvX86(ctypes.Structure):
    # glibc's fenv_t on x86-64: the x87 environment (28 bytes), then the SSE control register.
    _fields_ = (("x87", ctypes.c_uint8 * 28), ("mxcsr", ctypes.c_uint32))


_MXCSR_FTZ_DAZ = 0x8040
"""MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) bits."""
_MXCSR_MASKS = 0x1F80
"""The exception mask bits, all set unless a program changed them: how a real MXCSR looks."""


def flush_denormals() -> bool:
    """Make the calling thread treat denormal floats as zero (x86-64 Linux); whether it did.

    For the OCR threads only: onnxruntime does this for its own pool threads when a session asks
    (:func:`session`), but a session's calls also compute on the thread that makes them.
    """
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        env = _FenvX86()
        if libm.fegetenv(ctypes.byref(env)) != 0 or env.mxcsr & _MXCSR_MASKS != _MXCSR_MASKS:
            return False
        env.mxcsr |= _MXCSR_FTZ_DAZ
        return bool(libm.fesetenv(ctypes.byref(env)) == 0)
    except (OSError, AttributeError):
        return False

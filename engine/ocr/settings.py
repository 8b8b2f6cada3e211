"""How the OCR pipeline trades speed for recall: defined once, here.

The server's configuration (``ocr:`` section) composes this model; nothing copies its fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OcrSettings(BaseModel):
    """How the OCR pipeline trades speed for recall. The defaults are tuned on the grounding benchmark."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    det_max_side: int = Field(
        1600,
        ge=0,
        le=8192,
        description="Longest side of the image the text detector sees (0: full resolution; smaller is faster).",
    )
    det_content_only: bool = Field(
        True,
        description="Run the text detector only on the parts of the screen that hold detail (blank areas cannot "
        "hold text; a sparse screen is then detected in a fraction of the time). False: on the whole screen.",
    )
    det_threshold: float = Field(
        0.3, gt=0, lt=1, description="Probability above which a detector pixel counts as text."
    )
    box_threshold: float = Field(0.5, ge=0, le=1, description="Mean probability a detected region needs to be kept.")
    unclip_ratio: float = Field(
        1.6, gt=0, le=10, description="How far detected regions are grown (the detector predicts shrunken text cores)."
    )
    min_confidence: float = Field(0.5, ge=0, le=1, description="Recognised lines below this confidence are dropped.")
    threads: int = Field(0, ge=0, le=256, description="CPU threads for OCR (0: every core).")
    flush_denormals: bool = Field(
        True,
        description="Treat denormal floats as zero in the OCR threads (x86): a screen's blank areas drive the "
        "detector's activations there, where the CPU is many times slower; the maps come out the same.",
    )
    crop_cache_size: int = Field(
        4096, ge=0, le=1_000_000, description="Recognised crops remembered by their pixels (0: none)."
    )
    share_readings: bool = Field(
        True,
        description="Recognise once the lines that show the same content (the same word in many table rows, a line "
        "already read on an earlier screen wherever it was): keyed by the pixels of what stands out in the line's "
        "box, not by the box with its margins. False: by the box's pixels.",
    )
    split_gap: float = Field(
        1.8,
        ge=0,
        le=100,
        description="Lines are split where a blank run is wider than this many average characters (0: never).",
    )
    cache_screens: int = Field(
        8,
        ge=1,
        le=256,
        description="Screens whose text is remembered by content: an unchanged screen is never read twice.",
    )
    precision: Literal["int8", "fp32"] = Field(
        "int8",
        description="int8: recognise with an INT8 copy of the model, built once per machine (scripts/setup, else "
        "in the background) and used only where it proves itself on this CPU: its readings must agree with fp32 "
        "on screens rendered here and it must be faster; otherwise, and until then, fp32. fp32: the shipped model.",
    )
    int8_dir: Path | None = Field(
        None,
        description="Where the INT8 copy is cached (None: ~/.cache/vlm-desktop-mcp/ocr; the server's configuration "
        "passes $XDG_CACHE_HOME/vlm-desktop-mcp/ocr when that is set).",
    )
    verify_int8: bool = Field(
        True,
        description="False: use the INT8 copy whatever its check on this machine says (benchmarks, tests of INT8).",
    )
    faint_text: bool = Field(
        True,
        description="Also read near-invisible text (a few grey levels off its background, e.g. #f4f4f4 on white): "
        "nearly flat areas the detector skipped are stretched to full contrast and read; such lines are marked "
        "faint. A person hardly sees them, a vision model shown the screenshot can read them: a known way to "
        "plant instructions for an agent.",
    )
    faint_max_levels: int = Field(
        25,
        ge=4,
        le=64,
        description="Detail at most this many grey levels off its surroundings counts as faint (stronger detail is "
        "the normal pass's).",
    )
    faint_max_contrast: float = Field(
        1.5,
        ge=1,
        le=21,
        description="A line from the faint pass is kept only if its ink's WCAG contrast ratio against its "
        "background is at most this (#f4f4f4 on white: 1.1; disabled grey #a0a0a0 on white: 2.6).",
    )
    faint_min_confidence: float = Field(
        0.8,
        ge=0,
        le=1,
        description="Recognition confidence a line from the faint pass needs (stretched noise can look like ink).",
    )

"""Recognition inputs and outputs: crops batched by width, scaled to the model's height, CTC decoded.

The PP-OCR recogniser reads a batch of crops scaled to a fixed height (48 px) and padded on the
right to one width; its cost grows with that width, so crops are grouped by aspect ratio and each
batch is padded little. It emits one step per 8 input columns; decoding keeps where each character
fired, which later tells the line splitting where the characters are.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Reading", "batches", "crop_key", "decode", "moved", "rec_input"]

REC_HEIGHT = 48
"""The recognition model's fixed input height."""
REC_STRIDE_PX = 8
"""The recognition model emits one CTC step per 8 input columns."""
MAX_REC_WIDTH = 48 * 50
"""Crops wider than this (a 50:1 line) are squeezed: longer lines are paragraphs, not UI labels."""


@dataclass(frozen=True)
class Reading:
    """What the recogniser said about one crop; ``positions``: each character's centre, 0..1 across it."""

    text: str
    confidence: float
    positions: tuple[float, ...]


EMPTY = Reading("", 0.0, ())


def moved(reading: Reading, source: tuple[int, int], target: tuple[int, int]) -> Reading:
    """``reading`` of a crop whose content starts ``source[0]`` px from its left edge and that is
    ``source[1]`` px wide, for another crop of the same content at ``target`` (the same two numbers):
    the characters stay where they are drawn."""
    if source == target or not reading.positions:
        return reading
    (start, width), (to_start, to_width) = source, target
    where = tuple(min(1.0, max(0.0, (p * width - start + to_start) / to_width)) for p in reading.positions)
    return Reading(reading.text, reading.confidence, where)


def rec_width(crop: np.ndarray) -> int:
    """The width ``crop`` gets when scaled to the model's input height."""
    return min(MAX_REC_WIDTH, max(8, math.ceil(REC_HEIGHT * crop.shape[1] / crop.shape[0])))


def rec_input(crops: Sequence[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """The recognition model's input for BGR crops (scaled to its height, normalised, right-padded),
    and each crop's scaled width."""
    import cv2

    widths = [rec_width(c) for c in crops]
    batch = np.zeros((len(crops), 3, REC_HEIGHT, max(widths)), dtype=np.float32)
    for slot, (crop, w) in enumerate(zip(crops, widths, strict=True)):
        resized = cv2.resize(crop, (w, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
        batch[slot, :, :, :w] = resized.astype(np.float32).transpose(2, 0, 1) * (2 / 255) - 1
    return batch, widths


def batches(crops: list[np.ndarray], max_pixels: int = 48 * 1024, max_growth: float = 1.1) -> list[list[np.ndarray]]:
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


def decode(output: np.ndarray, widths: Sequence[int], charset: Sequence[str]) -> list[Reading]:
    """Greedy CTC decoding of the model's per-step class probabilities, one :class:`Reading` per crop."""
    indices = output.argmax(axis=2)
    probs = output.max(axis=2)
    step = REC_STRIDE_PX
    results = []
    for row, prob, width in zip(indices, probs, widths, strict=True):
        keep = np.ones(len(row), dtype=bool)
        keep[1:] = row[1:] != row[:-1]
        keep &= (row != 0) & (row < len(charset))
        steps = np.flatnonzero(keep)
        text = "".join(charset[i] for i in row[steps])
        # CTC fires about where each character is drawn: keep that, as a share of the crop's width.
        where = tuple(float(min(1.0, (t + 0.5) * step / width)) for t in steps)
        results.append(Reading(text, float(prob[steps].mean()) if len(steps) else 0.0, where))
    return results


def crop_key(crop: np.ndarray) -> bytes:
    """A digest of a crop's pixels and shape: equal crops read alike."""
    return hashlib.blake2b(crop.tobytes(), digest_size=16, person=str(crop.shape).encode()[:16]).digest()

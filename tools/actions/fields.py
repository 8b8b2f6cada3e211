"""Finding the input field that belongs to a visible label: to its right, below it, or around it.

Web and desktop forms draw fields in three common ways: a bordered box (often a 1 px light grey
line on the same white as the card around it), a filled box (a slightly different fill, no
border), or an underline only (Material). All three show up as long horizontal edges: rows where
the colour changes between one pixel row and the next over a long run. Text never makes such runs
(glyphs are short), so the edges near a label are the candidate fields:

* two edges of the same extent, one above the other, enclose a box (bordered or filled);
* a lone edge is an underline, with the field's text area just above it.

The label then picks its field: the box that holds it (a placeholder inside the field), the
nearest box to its right on the same row, or the nearest box below it (a label above the field).
Everything is computed in image pixels; callers convert through the capture's frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from engine.geometry import Box

"""x1, y1, x2, y2 in image pixels, x2/y2 exclusive."""

EDGE = 8
"""Per-channel step between two pixel rows that counts as an edge. A #f1f5f9 fill on white is a
14-level step, a dark theme's subtle border about 20; antialiased glyph edges are strong too, but short."""
MIN_EDGE = 40
"""Shortest horizontal edge that can be a field's border (longer than any glyph stroke)."""
MAX_RIGHT = 480
"""How far right of its label a field may start."""
MAX_BELOW = 120
"""How far below its label a field may start."""
MAX_FIELD_HEIGHT = 320
"""Taller boxes are cards and panels, not fields (a textarea is well below this)."""

Relation = Literal["inside", "right", "below"]


@dataclass(frozen=True)
class Field:
    """An input field found for a label: its box, where to click, and how it relates to the label."""

    box: Box
    click: tuple[int, int]
    relation: Relation
    style: Literal["box", "underline"]
    distance: float


@dataclass(frozen=True)
class _Edge:
    y: int
    x1: int
    x2: int

    @property
    def length(self) -> int:
        return self.x2 - self.x1


def _edges(pixels: np.ndarray) -> list[_Edge]:
    """Long horizontal edges (``y`` is the upper row of the step), rows merged when a 1 px line makes two."""
    step = np.abs(np.diff(pixels, axis=0)).max(axis=2) > EDGE
    found: list[_Edge] = []
    for y in range(step.shape[0]):
        row = np.concatenate(([False], step[y], [False]))
        changes = np.flatnonzero(row[1:] != row[:-1])
        for start, end in zip(changes[::2], changes[1::2], strict=True):
            if end - start >= MIN_EDGE:
                found.append(_Edge(y, int(start), int(end)))
    merged: list[_Edge] = []
    for edge in found:  # sorted by y already
        for i, other in enumerate(merged):
            if edge.y - other.y <= 2 and _overlap(edge, other) >= 0.8 * min(edge.length, other.length):
                merged[i] = _Edge(other.y, min(other.x1, edge.x1), max(other.x2, edge.x2))
                break
        else:
            merged.append(edge)
    return merged


def _overlap(a: _Edge, b: _Edge) -> int:
    return max(0, min(a.x2, b.x2) - max(a.x1, b.x1))


def _mode(pixels: np.ndarray) -> tuple[int, ...]:
    colors, counts = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0, return_counts=True)
    return tuple(int(v) for v in colors[int(np.argmax(counts))])


def _encloses(pixels: np.ndarray, top: _Edge, bottom: _Edge) -> bool:
    """Whether two edges are one box's top and bottom: it has side borders, or a fill of its own.

    Two underlined fields one above the other also make matching edges; between them lies the
    page itself, with no sides and the page's colour.
    """
    x1, x2 = max(top.x1, bottom.x1), min(top.x2, bottom.x2)
    inset = min(8, (bottom.y - top.y) // 4)
    inner = pixels[top.y + 1 + inset : bottom.y + 1 - inset]
    if inner.shape[0] < 2:
        return True
    steps = np.abs(np.diff(inner.astype(np.int16), axis=1)).max(axis=2) > EDGE
    share = steps.mean(axis=0)  # per column boundary: how many rows change there

    def side(lo: int, hi: int) -> bool:
        lo, hi = max(0, lo), min(share.shape[0], hi)
        return hi > lo and float(share[lo:hi].max()) >= 0.8

    if side(x1 - 10, x1 + 10) and side(x2 - 11, x2 + 9):
        return True
    fill = pixels[top.y + 1 + inset : bottom.y + 1 - inset, x1 + inset : x2 - inset]
    above = pixels[max(0, top.y - 3) : top.y + 1, x1:x2]
    below = pixels[bottom.y + 1 : bottom.y + 5, x1:x2]
    if fill.size == 0 or above.size == 0 or below.size == 0:
        return False
    # A fill of its own differs from the page on both sides (a focus ring or a border above is not a fill).
    color = _mode(fill)
    return all(max(abs(a - b) for a, b in zip(color, _mode(side), strict=True)) > EDGE for side in (above, below))


def _boxes(
    pixels: np.ndarray, edges: list[_Edge], text_height: int
) -> list[tuple[Box, Literal["box", "underline"]]]:
    """Field candidates: the tightest pairs of matching edges, then the edges left over as underlines."""
    paired: set[int] = set()
    boxes: list[tuple[Box, Literal["box", "underline"]]] = []
    for i, top in enumerate(edges):
        for j in range(i + 1, len(edges)):
            bottom = edges[j]
            height = bottom.y - top.y
            if height < max(12, text_height) or height > MAX_FIELD_HEIGHT:
                continue
            shared = _overlap(top, bottom)
            if shared < 0.85 * max(top.length, bottom.length):
                continue
            # A field holds no long edge of its own: one between them means they belong to different boxes.
            if any(top.y + 2 < e.y < bottom.y - 2 and _overlap(e, top) >= 0.2 * shared for e in edges[i + 1 : j]):
                continue
            if not _encloses(pixels, top, bottom):
                continue
            boxes.append(((max(top.x1, bottom.x1), top.y + 1, min(top.x2, bottom.x2), bottom.y + 1), "box"))
            paired.update((i, j))
            break  # the nearest matching edge below closes the box
    for i, edge in enumerate(edges):
        if i in paired:
            continue
        above = [e.y for e in edges if e.y < edge.y - 2 and _overlap(e, edge) > 0]
        height = int(max(20, 2.2 * text_height))
        upper = max(edge.y - height, max(above, default=-1) + 1)
        boxes.append(((edge.x1, upper, edge.x2, edge.y + 1), "underline"))
    return boxes


def _relate(box: Box, style: str, label: Box) -> tuple[Relation, float] | None:
    lx1, ly1, lx2, ly2 = label
    x1, y1, x2, y2 = box
    text_height = ly2 - ly1
    cy = (ly1 + ly2) / 2
    holds = x1 - 2 <= lx1 and lx2 <= x2 + 2 and y1 - 2 <= ly1 and ly2 <= y2 + 2
    # A placeholder sits inside its field; for an underline the text must sit right on the line
    # (a label well above an underline is a label above its field, handled below).
    if holds and (style == "box" or y2 - ly2 <= max(12, 0.9 * text_height)):
        return ("inside", 0.0 if style == "box" else 24.0 + (y2 - ly2))
    if x1 >= lx2 - 2 and y1 - 4 <= cy <= y2 + 4 and x1 - lx2 <= MAX_RIGHT:
        return ("right", float(max(0, x1 - lx2)))
    top = y1 if style == "box" else y2 - max(12, int(1.2 * text_height))
    if top >= ly2 - 2 and x1 <= lx1 + 60 and x2 >= lx1 + min(lx2 - lx1, 40) and top - ly2 <= MAX_BELOW:
        return ("below", 1.5 * max(0, top - ly2))
    return None


def _click_point(box: Box, style: str) -> tuple[int, int]:
    x1, y1, x2, y2 = box
    x = x1 + min(14, max(2, (x2 - x1) // 4))
    if style == "underline":
        return x, max(y1, y2 - 10)
    if y2 - y1 > 60:  # a text area: click near its first line
        return x, y1 + 14
    return x, (y1 + y2) // 2


def find_field(image: Image.Image, label: Box) -> Field | None:
    """The input field belonging to the label at ``label`` (image pixels), or ``None`` when none is near."""
    lx1, ly1, lx2, ly2 = label
    wx1, wy1 = max(0, lx1 - 400), max(0, ly1 - 80)
    wx2, wy2 = min(image.width, lx2 + MAX_RIGHT + 400), min(image.height, ly2 + MAX_BELOW + MAX_FIELD_HEIGHT)
    if wx2 - wx1 < 2 or wy2 - wy1 < 2:
        return None
    pixels = np.asarray(image.crop((wx1, wy1, wx2, wy2)).convert("RGB"), dtype=np.int16)
    local = (lx1 - wx1, ly1 - wy1, lx2 - wx1, ly2 - wy1)
    best: Field | None = None
    for box, style in _boxes(pixels, _edges(pixels), ly2 - ly1):
        related = _relate(box, style, local)
        if related is None:
            continue
        relation, distance = related
        if best is not None and distance >= best.distance:
            continue
        shifted = (box[0] + wx1, box[1] + wy1, box[2] + wx1, box[3] + wy1)
        best = Field(shifted, _click_point(shifted, style), relation, style, distance)
    return best

"""Fusing the vision model's elements with OCR text lines (pure; boxes in one space, e.g. screen pixels).

A small vision model is good at *what* is on screen and weak at *exactly where*; OCR is the
opposite for text. So:

* a model element whose label is text OCR read nearby (case, spacing and punctuation aside, small
  misreadings forgiven) takes its click point (the text's centre) and its confidence from OCR, and
  keeps its own label. Its box stays the model's when that box holds the text (a button around its
  caption, a list row, a table cell, a menu item: the widget is larger than its text, and the
  model knows how large); only a model box that is off (the text lies mostly outside it) is
  replaced by the text's box;
* text the model did not list becomes a ``text`` element of its own;
* repeats are merged: a model element listed twice, an OCR line already used by a fused element.

Every element says where it came from (``model``, ``ocr`` or ``fused``) and how sure we are of its
position (``confidence``): OCR's recognition confidence for OCR text; ``MODEL_CONFIDENCE`` for a
model box no text confirms; higher when OCR confirms the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from engine.geometry import Box, box_area, box_center, box_grown, box_intersection, box_iou, box_share_inside
from engine.ocr.reader import TextBox
from engine.text.find import TextIndex, TextMatch, similarity, squash

Source = Literal["model", "ocr", "fused"]

MODEL_CONFIDENCE = 0.5
"""Confidence of a model box that no OCR text confirms (the model reports none of its own)."""

FIELD_TYPES = frozenset(
    {"input", "textbox", "text box", "text field", "textarea", "text area", "field", "entry", "search", "password",
     "combobox", "combo box", "dropdown", "select", "spinbox", "editor", "slider", "scrollbar", "image", "window",
     "icon"}
)  # fmt: skip
"""Types whose label names the element rather than quoting its text: never re-boxed onto a text match
(an input labelled "Name" must not move onto the "Name:" label beside it)."""

_MAX_AREA_RATIO = 16
"""A model box more than this many times the area of a text outside it is not that text's element."""
_MAX_HEIGHT_RATIO = 6
"""A model box more than this many times the height of a text inside it is a container (a list, a
text area), not that text's element (a row, a cell, a button)."""
_HELD_SHARE = 0.5
"""Share of a text's box that must lie inside a model box (its centre too) for the box to hold it.
Not all of it: a text box can stick out of a tight row or cell (padded, or the model's box rounded)."""

_TYPE_WORDS = re.compile(
    r"\s*\b(?:button|link|tab|menu item|menu|option|checkbox|check box|radio button|radio|item|label|heading)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ModelElement:
    """An element as the vision model reported it, already mapped to the common box space."""

    type: str
    label: str
    box: Box


@dataclass(frozen=True)
class Perceived:
    """One fused element."""

    type: str
    label: str
    box: Box
    center: tuple[int, int]
    source: Source
    confidence: float
    faint: bool = False
    """Its text is near-invisible on screen: OCR read it only by stretching the contrast (TextBox.faint)."""
    alternatives: tuple[tuple[int, int], ...] = ()
    """Other places it may be, nearest first: the same text read elsewhere on screen, and the model's own
    point when OCR moved the element (a misplaced model box)."""


MAX_ALTERNATIVES = 3
"""Most other places listed for one element."""


def _mostly_inside(inner: Box, outer: Box, share: float) -> bool:
    return box_area(inner) > 0 and box_share_inside(inner, outer) >= share


def _holds(outer: Box, inner: Box) -> bool:
    """Whether the element box ``outer`` is around the text box ``inner``: the text's centre inside it,
    and most of the text's box."""
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3] and _mostly_inside(inner, outer, _HELD_SHARE)


def _could_be_its_text(element: Box, text: Box) -> bool:
    """Whether ``text`` could be the element's own: inside it and not dwarfed by it, or of its size."""
    if _holds(element, text):
        return element[3] - element[1] <= _MAX_HEIGHT_RATIO * max(1, text[3] - text[1])
    return box_area(element) <= _MAX_AREA_RATIO * box_area(text)


def text_of(label: str) -> str:
    """The text a label quotes: "Submit button" -> "Submit"."""
    stripped = _TYPE_WORDS.sub("", label).strip()
    return stripped or label


def fuse(model: Sequence[ModelElement], lines: Sequence[TextBox], *, min_similarity: float = 0.8) -> list[Perceived]:
    """Model elements (in their order, refined where OCR confirms them), then the remaining OCR text."""
    index = TextIndex(lines)
    used = [False] * len(lines)
    out: list[Perceived] = []
    for element in _unique(model):
        match = None
        if element.type.strip().lower() not in FIELD_TYPES:
            match = _best_match(element, index, min_similarity)
        if match is None:
            out.append(
                Perceived(element.type, element.label, element.box, box_center(element.box), "model", MODEL_CONFIDENCE)
            )
            continue
        found, confidence, others = match
        text_box = found.box
        # The widget is larger than its text (a row, a cell, a button's padding): a model box around
        # the text is kept; one that misses it was misplaced, and the text's box is the better one.
        box = element.box if _holds(element.box, text_box) else text_box
        alternatives = [m.center for m in others]
        if box is text_box and box_center(element.box) not in alternatives:
            alternatives.insert(0, box_center(element.box))  # the model's own point, which OCR overruled
        score = round(0.5 + 0.5 * confidence * found.score, 3)
        faint = False
        for i, line in enumerate(lines):
            if not used[i] and _mostly_inside(line.box, found.box, 0.6):
                used[i] = True
                faint |= line.faint
        center = box_center(text_box)
        nearest = sorted(set(alternatives) - {center}, key=lambda p: abs(p[0] - center[0]) + abs(p[1] - center[1]))
        out.append(
            Perceived(
                element.type, element.label, box, center, "fused", score, faint, tuple(nearest[:MAX_ALTERNATIVES])
            )
        )
    for i, line in enumerate(lines):
        if used[i]:
            continue
        same = next((k for k, p in enumerate(out) if _same_text_as(line, p)), None)
        if same is not None:
            # The model read this text too; what only OCR can tell, that it is near-invisible, must not be lost.
            if line.faint:
                out[same] = replace(out[same], faint=True)
            continue
        center = box_center(line.box)
        out.append(Perceived("text", line.text, line.box, center, "ocr", round(line.confidence, 3), line.faint))
    return out


def _unique(model: Sequence[ModelElement]) -> list[ModelElement]:
    """Model elements without repeats (same label, mostly the same place)."""
    kept: list[ModelElement] = []
    for element in model:
        if not any(squash(k.label) == squash(element.label) and box_iou(k.box, element.box) > 0.5 for k in kept):
            kept.append(element)
    return kept


def _best_match(
    element: ModelElement, index: TextIndex, min_similarity: float
) -> tuple[TextMatch, float, list[TextMatch]] | None:
    """The OCR text that confirms ``element``, with that line's recognition confidence, and the other places
    the same text was read that it could be as well."""
    query = text_of(element.label)
    # Only text the element could be: inside it, or of its size. A big element (a text area, a
    # panel) next to its caption is not that caption.
    found = index.find(query, min_score=min_similarity)
    matches = [m for m in found if _could_be_its_text(element.box, m.box)]
    if not matches:
        return None
    near = box_grown(element.box, 0.5, 24)
    nearby = [m for m in matches if box_intersection(m.box, near) > 0]
    if nearby:
        cx, cy = box_center(element.box)
        best = max(nearby, key=lambda m: (round(m.score, 2), -abs(m.center[0] - cx) - abs(m.center[1] - cy)))
    elif len(matches) == 1 and matches[0].score >= 0.96:
        # Far from where the model put it, but the only exact occurrence on screen: the model
        # knew what, OCR knows where.
        best = matches[0]
    else:
        return None
    others = [m for m in matches if m is not best and m.score >= best.score - 0.05]
    return best, _line_confidence(best, index), others


def _line_confidence(match: TextMatch, index: TextIndex) -> float:
    overlapping = [line.confidence for line in index.lines if box_intersection(line.box, match.box) > 0]
    return max(overlapping, default=1.0)


def _same_text_as(line: TextBox, element: Perceived) -> bool:
    """An OCR line that repeats an element already listed (the model read the same text, in the same place)."""
    if element.source == "ocr" or not _mostly_inside(line.box, element.box, 0.7):
        return False
    if element.type.strip().lower() in FIELD_TYPES:
        return False
    return similarity(text_of(element.label), line.text) >= 0.6

"""Lines of text on an image, and the pixel analysis that shapes their boxes (pure numpy, no models).

The text detector's boxes are padded around the text (PP-OCR's "unclip"), and a box can hold more
than one element's text (a label and its field's edge, menu titles side by side). Here, inside each
detected box:

* :func:`line_ink` separates the glyphs' ink from the box's background and from what is not text:
  rules (underlines, grid lines, a field's top and bottom edges), vertical border lines (a field's
  or a cell's edge) and bits of neighbouring lines caught in the padding;
* :func:`drop_border_glyphs` drops a first or last "character" that is really a field's edge;
* :func:`split_at_gaps` cuts a line where the ink shows a wide gap or a border;
* :func:`tightened` shrinks every resulting box to its ink.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]
"""``(x1, y1, x2, y2)`` in image pixels, ``x2``/``y2`` exclusive."""


@dataclass(frozen=True)
class TextBox:
    """One line of text found on an image; ``box`` is the extent of its glyphs' ink."""

    text: str
    box: Box
    confidence: float
    chars: tuple[int, ...] = ()
    """Each character's centre x (image pixels), when known: for boxes around part of the line."""
    faint: bool = False
    """Near-invisible: drawn a few grey levels off its background (e.g. #f4f4f4 on white), read only
    after stretching that area's contrast (:mod:`engine.ocr.faint`). People hardly see such text."""


_MIN_CONTRAST = 32
"""Per-channel levels from the background below which a pixel is background (gradients, noise)."""
_INK_SHARE = 0.2
"""A pixel is ink when it is this share of the line's contrast away from the background: low, to
keep antialiased edges (a stroke edge at 20 % coverage is still part of the glyph)."""
_RULE_SHARE = 0.7
"""Rows with one unbroken run of ink across this share of the box are rules (underlines, grid lines,
a field's edges); the ink of a dense line of text is broken between its glyphs."""
_TALL = 1.6
"""Glyphs are at most this many times the median glyph's height (brackets and bars aside: see
:func:`_border_components` for how those are told from a field's edge)."""
_FULL_HEIGHT = 0.9
"""A component this share of the box's height tall is a separator or another element's edge."""


_REACH_ADVANCES = 1.0
"""Ink counts as a line's text only up to this many average advances (plus :data:`_REACH_PX`)
beyond its first and last characters' centres: CTC places a centre up to about half an advance
off (measured on rendered words: 6.5 px at 18 px), and a glyph reaches half an advance further."""
_REACH_PX = 2.0
"""See :data:`_REACH_ADVANCES`."""


@dataclass(frozen=True)
class Ink:
    """The glyph ink inside one detected box: ``mask[0, 0]`` is image pixel ``(left, top)``."""

    left: int
    top: int
    mask: np.ndarray
    """Boolean, rows x columns: glyph ink only (rules, border lines and neighbours' ink removed)."""
    borders: np.ndarray
    """Image x of the columns a vertical border line crosses (a field's or a cell's edge)."""
    content: Box | None = None
    """The extent of everything in the box that stands out from its background (glyphs, rules,
    borders, neighbours' bits): outside it the box is blank."""

    def columns(self) -> np.ndarray:
        """Image x of every column holding glyph ink, ascending."""
        return np.flatnonzero(self.mask.any(axis=0)) + self.left

    def extent(self, x1: int | None = None, x2: int | None = None) -> Box | None:
        """The box around the ink between image columns ``x1`` and ``x2`` (exclusive); None if blank."""
        width = self.mask.shape[1]
        a = 0 if x1 is None else min(width, max(0, x1 - self.left))
        b = width if x2 is None else min(width, max(a, x2 - self.left))
        part = self.mask[:, a:b]
        cols = np.flatnonzero(part.any(axis=0))
        if len(cols) == 0:
            return None
        rows = np.flatnonzero(part.any(axis=1))
        left, top = self.left + a, self.top
        return (left + int(cols[0]), top + int(rows[0]), left + int(cols[-1]) + 1, top + int(rows[-1]) + 1)


def _empty(left: int, top: int) -> Ink:
    return Ink(left, top, np.zeros((0, 0), dtype=bool), np.zeros(0, dtype=int))


def line_ink(image: np.ndarray, box: Box, offset: tuple[int, int] = (0, 0)) -> Ink:
    """The glyph ink inside ``box`` of ``image`` (``uint8``, colour or grey), which sits at ``offset``.

    The background is the commonest colour around the text, so dark-on-light, light-on-dark and
    text on a coloured button all work; ink is what differs from it by a share of the line's contrast, so
    antialiased edges count. Not ink: rows inked across most of the box (rules), straight vertical
    lines taller than the text around them (a field's or cell's edge, which reaches above and below
    every glyph), and pieces caught in the box's padding that touch its edge or a rule without
    reaching the middle of the line (the next line's descenders, a button's corner).
    """
    import cv2

    x1, y1, x2, y2 = box
    ox, oy = offset
    left, top = max(x1, ox), max(y1, oy)
    region = image[top - oy : max(top - oy, y2 - oy), left - ox : max(left - ox, x2 - ox)]
    if region.size == 0:
        return _empty(left, top)
    pixels = region.astype(np.int16).reshape(region.shape[0], region.shape[1], -1)
    diff = np.abs(pixels - _background(pixels)).max(axis=2)
    coarse = diff > _MIN_CONTRAST
    rules = _rules(coarse)
    candidates = diff[coarse & ~rules[:, np.newaxis]]
    if len(candidates) == 0:
        return _empty(left, top)
    rows, cols = np.flatnonzero(coarse.any(axis=1)), np.flatnonzero(coarse.any(axis=0))
    content = (left + int(cols[0]), top + int(rows[0]), left + int(cols[-1]) + 1, top + int(rows[-1]) + 1)
    # Stroke cores reach the full contrast; a high percentile ignores a stray icon pixel.
    rank = int(0.98 * (len(candidates) - 1))
    contrast = float(np.partition(candidates, rank)[rank])
    mask = diff > max(_MIN_CONTRAST, _INK_SHARE * contrast)
    mask[rules] = False
    height, width = mask.shape
    centre = height // 2
    band = slice(max(0, centre - max(1, height // 10)), centre + max(1, height // 10) + 1)

    count, labels, stats = _components(mask)
    crossing = _labels_in(labels[band], count)
    border_columns = np.zeros(width, dtype=bool)
    for index in _border_components(stats, crossing, rules):
        x, y, w, h = (int(v) for v in stats[index][:4])
        # Only the straight vertical parts are the border: a glyph touching it stays.
        run = (labels[y : y + h, x : x + w] == index).sum(axis=0)
        border_columns[x : x + w] |= run >= 0.8 * h
    if border_columns.any():
        mask[:, border_columns] = False
        count, labels, stats = _components(mask)
        crossing = _labels_in(labels[band], count)

    frame = np.zeros_like(mask)
    frame[[0, -1], :] = True
    frame[:, [0, -1]] = True
    frame[rules] = True
    frame[:, border_columns] = True
    frame = cv2.dilate(frame.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    keep = crossing | ~_labels_in(labels[frame], count)
    keep[0] = False
    return Ink(left, top, keep[labels], np.flatnonzero(border_columns) + left, content)


def _background(pixels: np.ndarray) -> np.ndarray:
    """The colour around the glyphs: the commonest colour (to within 8 levels) of the box's middle rows.

    Not the median of the box: a box can hang out of a small button, and the outside can then be
    most of it; in the middle rows the text's own background is the widest. Not a per-channel
    median either: between two colours it mixes one that is neither.
    """
    height = pixels.shape[0]
    # Every other column of them: the commonest colour stays the commonest, at half the cost.
    middle = pixels[height // 3 : max(height // 3 + 1, height - height // 3), ::2].reshape(-1, pixels.shape[2])
    coarse = (middle >> 3).astype(np.int32)
    keys = coarse[:, 0]
    for channel in range(1, coarse.shape[1]):
        keys = (keys << 5) | coarse[:, channel]
    values, counts = np.unique(keys, return_counts=True)
    return middle[keys == values[counts.argmax()]].mean(axis=0)


def _components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """``mask``'s 8-connected components: their count (with the background, 0), labels and stats."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    return count, labels, stats


def _labels_in(labels: np.ndarray, count: int) -> np.ndarray:
    """A flag per component: whether it appears among ``labels`` (never the background)."""
    present = np.zeros(count, dtype=bool)
    present[labels.ravel()] = True
    present[0] = False
    return present


def _rules(ink: np.ndarray) -> np.ndarray:
    """Rows holding one unbroken run of ink across at least :data:`_RULE_SHARE` of the width."""
    need = _RULE_SHARE * ink.shape[1]
    rules = ink.sum(axis=1) >= need
    for row in np.flatnonzero(rules):  # few rows get here: most text rows are mostly blank
        steps = np.diff(np.concatenate(([0], ink[row].view(np.int8), [0])))
        rules[row] = bool(((np.flatnonzero(steps == -1) - np.flatnonzero(steps == 1)) >= need).any())
    return rules


def _border_components(stats: np.ndarray, crossing: np.ndarray, rules: np.ndarray) -> list[int]:
    """Components (indices into ``stats``) that are another element's edge, not glyphs: those that run
    from a rule to a rule (or the box's edge: a field's side between its top and bottom edges), those
    nearly as tall as the box, and those much taller than the glyphs beside them that reach past
    them at both ends (a field's or a cell's side next to a label)."""
    middle = np.flatnonzero(crossing)
    if len(middle) == 0:
        return []
    rows = len(rules)
    tops, heights = stats[middle, 1], stats[middle, 3]
    bottoms = tops + heights
    # rules[-1] is never read for a top of 0, nor rules[rows] for a bottom at the box's edge.
    ruled_top = np.array([t > 0 and bool(rules[t - 1]) for t in tops], dtype=bool)
    ruled_bottom = np.array([b < rows and bool(rules[b]) for b in bottoms], dtype=bool)
    framed = (ruled_top | (tops == 0)) & (ruled_bottom | (bottoms == rows)) & (ruled_top | ruled_bottom)
    edge = framed | (heights >= _FULL_HEIGHT * int((~rules).sum()))
    if edge.all():
        return [int(i) for i in middle]
    glyphs = ~edge & (heights <= _TALL * float(np.median(heights[~edge])))
    if glyphs.any():
        text_top, text_bottom = int(tops[glyphs].min()), int(bottoms[glyphs].max())
        above = (tops <= text_top - 2) | ruled_top | (tops == 0)
        below = (bottoms >= text_bottom + 2) | ruled_bottom | (bottoms == rows)
        edge |= (heights >= 1.3 * int(heights[glyphs].max())) & above & below
    return [int(i) for i in middle[edge]]


def stripped(line: TextBox) -> TextBox | None:
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


def tightened(line: TextBox, ink: Ink) -> TextBox:
    """``line`` with its box shrunk to its glyphs' ink, and its character positions kept inside that box.

    Ink well before the first recognised character or after the last (a checkbox or an arrow the
    recogniser did not read as a character) is not part of the text.
    """
    x1, y1, x2, y2 = line.box
    columns = ink.columns()
    columns = columns[(columns >= x1) & (columns < x2)]
    if len(columns) == 0:
        return line
    chars = line.chars
    if chars:
        pitch = (chars[-1] - chars[0]) / (len(chars) - 1) if len(chars) > 1 else (y2 - y1) / 2
        low = chars[0] - _REACH_ADVANCES * pitch - _REACH_PX
        high = chars[-1] + _REACH_ADVANCES * pitch + _REACH_PX
        breaks = np.flatnonzero(np.diff(columns) > 1)
        starts = columns[np.concatenate(([0], breaks + 1))]
        ends = columns[np.concatenate((breaks, [len(columns) - 1]))]
        near = np.flatnonzero((ends >= low) & (starts <= high))
        if len(near):
            x1, x2 = int(starts[near[0]]), int(ends[near[-1]]) + 1
    box = ink.extent(x1, x2)
    if box is None:
        return line
    return TextBox(line.text, box, line.confidence, tuple(min(box[2] - 1, max(box[0], c)) for c in chars))


_BORDER_GLYPHS = frozenset("[]|()!")
"""What a field's edge next to a label is read as ("Name:[", "|Search"); letters are never dropped."""


def drop_border_glyphs(line: TextBox, ink: Ink) -> TextBox | None:
    """``line`` without a first or last character that sits on a border line (a field's edge read as a glyph)."""
    text, chars = line.text, line.chars
    if len(chars) != len(text) or len(text) < 2 or not (text[0] in _BORDER_GLYPHS or text[-1] in _BORDER_GLYPHS):
        return line  # the common case, decided without looking at pixels
    borders = ink.borders
    if len(borders) == 0:
        return line
    # CTC places a character up to about half an advance away from its ink: a border between the
    # neighbouring character and an advance beyond is the one read as this glyph.
    pitch = max(2.0, (chars[-1] - chars[0]) / (len(chars) - 1))
    x1, y1, x2, y2 = line.box
    start, end = 0, len(text)
    near = borders[(borders > chars[-2]) & (borders <= chars[-1] + pitch)]
    if text[-1] in _BORDER_GLYPHS and len(near):
        end, x2 = end - 1, int(near.min())
    near = borders[(borders >= chars[0] - pitch) & (borders < chars[1])]
    if text[0] in _BORDER_GLYPHS and len(near) and end > 1:
        start, x1 = 1, int(near.max()) + 1
    if (start, end) == (0, len(text)):
        return line
    return stripped(TextBox(text[start:end], (x1, y1, max(x1 + 1, x2), y2), line.confidence, chars[start:end]))


def ink_gaps(ink: Ink, x1: int | None = None, x2: int | None = None) -> list[tuple[int, int, bool]]:
    """Blank runs ``(x_start, x_end, border)`` between the glyph ink (between ``x1`` and ``x2``);
    ``border``: a border line crosses the run."""
    inked = ink.columns()
    if x1 is not None:
        inked = inked[inked >= x1]
    if x2 is not None:
        inked = inked[inked < x2]
    borders = ink.borders
    return [
        (int(a) + 1, int(b), bool(((borders > a) & (borders < b)).any()))
        for a, b in itertools.pairwise(inked)
        if b - a > 1
    ]


def split_at_gaps(line: TextBox, ink: Ink, gap: float) -> list[TextBox]:
    """Split ``line`` at blank runs wider than ``gap`` x its average advance, or crossed by a border,
    that hold a space of its text (a wide run without one is inside a word, or misread, see below)."""
    x1, y1, x2, y2 = line.box
    if len(line.chars) != len(line.text):
        return [line]
    # The average advance: CTC places characters only to within a few pixels, but over a line it evens out.
    pitch = (line.chars[-1] - line.chars[0]) / (len(line.chars) - 1) if len(line.chars) > 2 else (y2 - y1) * 0.35
    cuts: list[tuple[int, int, int, int]] = []  # (end of a piece, start of the next, gap start, gap end)
    for a, b, border in ink_gaps(ink, x1, x2):
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
        piece = stripped(TextBox(line.text[begin:end], (left, y1, a, y2), line.confidence, line.chars[begin:end]))
        # A piece without a letter or digit is a checkbox or radio button read as "[" or "□".
        if piece is not None and any(c.isalnum() for c in piece.text):
            pieces.append(piece)
        begin, left = start, b
    return pieces

"""Finding a piece of text among OCR lines, as a person reads it: normalised, fuzzy on case, spacing
and OCR slips, sub-line aware, across wrapped lines.

Pure functions. OCR reads a line of text at a time, and a line is often more than the text asked
for (a toolbar's "New  Open  Save" can come back as one line), so a match inside a longer line gets
a sub-box estimated from character widths. Neighbouring lines on one row are also tried together,
for text that OCR split in two ("Save" + "As..."), and so are lines stacked like one wrapped text
("Product" above "management" in a narrow sidebar, "商品" above "管理"): such a match's box is the
union of its lines. A match always covers the whole query: a line that holds only part of it
("Product" for "Add product") is no match, however similar.

Choosing one match among several (and what to say when there is none) is :mod:`engine.text.locate`'s job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from engine.ocr.reader import Box, TextBox

_TRANSLATE = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "})
_VERBS = re.compile(
    r"^(?:please\s+)?(?:(?:double[- ]|right[- ])?click(?:\s+on)?|tap(?:\s+on)?|press|hit|select|choose|pick|"
    r"open|go\s+to|navigate\s+to|check|uncheck|toggle|switch\s+to|activate|find)\s+(?:the\s+)?",
    re.IGNORECASE,
)
_NOUNS = re.compile(
    r"\s+(?:button|link|tab|menu(?:\s+item)?|option|checkbox|check\s+box|radio(?:\s+button)?|field|item|entry|"
    r"label|text|heading|title)$",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“'‘]([^\"”'’]{1,200})[\"”'’]")


def normalize(text: str) -> str:
    """NFKC, case-folded, typographic quotes/dashes/ellipsis made plain, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold().split())


def squash(text: str) -> str:
    """:func:`normalize` keeping letters and digits only (so "Name:" and "name" agree)."""
    return "".join(c for c in normalize(text) if c.isalnum())


_CONFUSABLE = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l"})


def fold(squashed: str) -> str:
    """A squashed text with the characters OCR confuses most (0/O, 1/l/I) made equal."""
    return squashed.translate(_CONFUSABLE)


def similarity(a: str, b: str) -> float:
    """0..1: 1 when equal after :func:`squash`, else difflib's ratio of the squashed forms."""
    sa, sb = squash(a), squash(b)
    if not sa or not sb:
        return 1.0 if normalize(a) == normalize(b) and normalize(a) else 0.0
    if sa == sb:
        return 1.0
    return SequenceMatcher(None, sa, sb, autojunk=False).ratio()


def instruction_queries(instruction: str) -> list[str]:
    """Texts an instruction may be asking for, most specific first.

    ``'click "Save As..."'`` gives ``["Save As..."]``; ``"click on the Submit button"`` gives
    ``["click on the Submit button", "Submit button", "Submit"]``. An instruction that names an icon
    keeps the word "icon", so it is never confused with the same word written as text.
    """
    quoted = [q.strip() for q in _QUOTED.findall(instruction) if q.strip()]
    if quoted:
        return quoted
    text = " ".join(instruction.split()).rstrip(".!")
    queries = [text]
    stripped = _VERBS.sub("", text)
    if stripped and stripped != text:
        queries.append(stripped)
    noun_free = _NOUNS.sub("", stripped)
    if noun_free and noun_free not in queries:
        queries.append(noun_free)
    return queries


@dataclass(frozen=True)
class TextMatch:
    """Where ``query`` was found: the (sub-)box of the text, the line(s) holding it, and how well it matched."""

    box: Box
    text: str
    score: float
    line: Box
    kind: str = "line"
    """``line``: the whole line (case, spacing, punctuation or OCR look-alikes aside); ``part``: whole
    words inside a longer line; ``fuzzy``: a near match (an OCR slip); ``model``: grounded by the model."""

    @property
    def center(self) -> tuple[int, int]:
        """The centre of the matched text."""
        x1, y1, x2, y2 = self.box
        return (x1 + x2) // 2, (y1 + y2) // 2


def _char_width(c: str) -> float:
    # Rough advance widths of proportional UI fonts, in units of an average lowercase letter.
    if c in "il.,:;|!'`":
        return 0.45
    if c in 'fjrtI()[]{}- "/':
        return 0.6
    if c in "mwMW@%":
        return 1.45
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return 1.8
    if c.isupper() or c.isdigit():
        return 1.15
    return 1.0


def sub_box(line: Box, text: str, start: int, end: int, chars: Sequence[int] = ()) -> Box:
    """The part of ``line`` (a box around ``text``) holding ``text[start:end]``.

    Uses the characters' measured centres when OCR gave them (``chars``), else typical widths.
    """
    x1, y1, x2, y2 = line
    if start <= 0 and end >= len(text):
        return line
    if len(chars) == len(text) and len(text) > 1:
        pitch = (chars[-1] - chars[0]) / (len(text) - 1)
        a, b = chars[start] - pitch * 0.6, chars[end - 1] + pitch * 0.6
        return (max(x1, round(a)), y1, min(x2, round(b)), y2)
    left, right = x1, x2  # OCR boxes hug the ink (engine/ocr/lines.py)
    widths = [_char_width(c) for c in text]
    total = sum(widths) or 1.0
    scale = (right - left) / total
    a = left + sum(widths[:start]) * scale
    b = left + sum(widths[:end]) * scale
    return (round(max(x1, a)), y1, round(min(x2, b)), y2)


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """:func:`normalize` of ``text`` and, for each output character, the index of its source character."""
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char).translate(_TRANSLATE).casefold():
            if piece.isspace():
                if out and out[-1] != " ":
                    out.append(" ")
                    where.append(index)
                continue
            out.append(piece)
            where.append(index)
    while out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where


@dataclass(frozen=True)
class _Segment:
    """The part ``[start, end)`` of a candidate's text that one box (one OCR line, or one row) holds."""

    start: int
    end: int
    box: Box
    chars: tuple[int, ...]


def _row_pairs(lines: Sequence[TextBox]) -> list[tuple[str, Box, tuple[_Segment, ...]]]:
    """Each pair of neighbouring lines on one row, joined with a space (text OCR split in two)."""
    found: list[tuple[str, Box, tuple[_Segment, ...]]] = []
    ordered = sorted(lines, key=lambda line: line.box[1])
    for i, a in enumerate(ordered):
        ax1, ay1, ax2, ay2 = a.box
        height = ay2 - ay1
        for b in ordered[max(0, i - 8) : i] + ordered[i + 1 :]:
            bx1, by1, bx2, by2 = b.box
            if by1 >= ay2:
                break
            overlap = min(ay2, by2) - max(ay1, by1)
            # Detection sometimes returns two overlapping boxes for one line: allow some overlap.
            if overlap < 0.5 * min(height, by2 - by1) or not -0.6 * height <= bx1 - ax2 < height * 1.2 or bx1 <= ax1:
                continue
            chars: tuple[int, ...] = ()
            if len(a.chars) == len(a.text) and len(b.chars) == len(b.text):
                chars = (*a.chars, (ax2 + bx1) // 2, *b.chars)
            text = f"{a.text} {b.text}"
            box = (ax1, min(ay1, by1), bx2, max(ay2, by2))
            found.append((text, box, (_Segment(0, len(text), box, chars),)))
    return found


_MAX_WRAPPED_LINES = 4


def _continues(a: Box, b: Box) -> bool:
    """Whether line ``b`` reads as the next line of a text wrapped from line ``a``.

    Same font size (similar heights), just below (toolkits may set wrapped lines tight enough that
    descenders and ascenders overlap), and aligned on the left, the centre or the right.
    """
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    ha, hb = ay2 - ay1, by2 - by1
    height = max(ha, hb)
    # Boxes hug the ink, so a line without ascenders or descenders is shorter than its neighbour, and
    # the gap between two lines' ink is about one ink height at the usual 1.4-1.6 line spacing.
    if height <= 0 or min(ha, hb) < 0.6 * height:
        return False
    gap = by1 - ay2
    if not -0.45 * height <= gap <= 1.15 * height or (by1 + by2) - (ay1 + ay2) < 1.1 * height:
        return False
    if min(ax2, bx2) <= max(ax1, bx1):
        return False
    tolerance = max(4.0, 0.6 * height)
    return abs(ax1 - bx1) <= tolerance or abs((ax1 + ax2) - (bx1 + bx2)) <= 2 * tolerance or abs(ax2 - bx2) <= tolerance


def _wrap_join(first: str, second: str) -> tuple[str, str, str]:
    """How a wrapped text's next line joins it: ``(first as kept, separator, second as kept)``.

    CJK runs join without a space, and a word hyphenated at the break ("manage-" + "ment") loses the hyphen.
    """
    first, second = first.rstrip(), second.lstrip()
    if len(first) > 1 and first[-1] == "-" and first[-2].isalpha() and second[:1].islower():
        return first[:-1], "", second
    if first and second and _wide(first[-1]) and _wide(second[0]):
        return first, "", second
    return first, " ", second


def _wrapped_runs(lines: Sequence[TextBox]) -> list[tuple[str, Box, tuple[_Segment, ...]]]:
    """Every run of 2 to 4 lines stacked like one wrapped text, joined, with one segment per line."""
    ordered = sorted(lines, key=lambda line: (line.box[1], line.box[0]))
    below: dict[int, int] = {}
    for i, a in enumerate(ordered):
        best: tuple[int, int] | None = None
        height = a.box[3] - a.box[1]
        for j in range(i + 1, len(ordered)):
            b = ordered[j].box
            if b[1] > a.box[3] + height:
                break
            if _continues(a.box, b) and (best is None or b[1] < best[0]):
                best = (b[1], j)
        if best is not None:
            below[i] = best[1]
    found: list[tuple[str, Box, tuple[_Segment, ...]]] = []
    for first in below:
        start_line = ordered[first]
        current, text = first, start_line.text
        segments = [_Segment(0, len(text), start_line.box, start_line.chars)]
        boxes = [start_line.box]
        while current in below and len(segments) < _MAX_WRAPPED_LINES:
            current = below[current]
            line = ordered[current]
            kept, separator, second = _wrap_join(text, line.text)
            last = segments[-1]
            segments[-1] = _Segment(last.start, min(last.end, len(kept)), last.box, last.chars)
            text = kept + separator + second
            segments.append(_Segment(len(kept) + len(separator), len(text), line.box, line.chars))
            boxes.append(line.box)
            box = (min(b[0] for b in boxes), boxes[0][1], max(b[2] for b in boxes), max(b[3] for b in boxes))
            found.append((text, box, tuple(segments)))
    return found


def _candidates(lines: Sequence[TextBox]) -> list[tuple[str, Box, tuple[_Segment, ...], bool]]:
    """Each line, each pair of neighbouring lines on one row, and each run of wrapped lines (flagged)."""
    found: list[tuple[str, Box, tuple[_Segment, ...], bool]] = [
        (line.text, line.box, (_Segment(0, len(line.text), line.box, line.chars),), False) for line in lines
    ]
    found += [(text, box, segments, False) for text, box, segments in _row_pairs(lines)]
    found += [(text, box, segments, True) for text, box, segments in _wrapped_runs(lines)]
    return found


@dataclass(frozen=True)
class _Candidate:
    text: str
    box: Box
    segments: tuple[_Segment, ...]
    wrapped: bool
    normal: str
    where: list[int]
    squashed: str
    folded: str

    def span_box(self, start: int, end: int) -> Box:
        """The box of ``text[start:end]``: the union of its part of each segment it touches."""
        boxes = []
        for seg in self.segments:
            a, b = max(start, seg.start), min(end, seg.end)
            if a < b:
                boxes.append(sub_box(seg.box, self.text[seg.start : seg.end], a - seg.start, b - seg.start, seg.chars))
        if not boxes:
            return self.box
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


class TextIndex:
    """The lines of one screen, prepared once for many :meth:`find` calls."""

    def __init__(self, lines: Sequence[TextBox]) -> None:
        self.lines = list(lines)
        self._candidates: list[_Candidate] = []
        for text, box, segments, wrapped in _candidates(self.lines):
            normal, where = _normalized_with_map(text)
            if normal:
                squashed = squash(text)
                self._candidates.append(
                    _Candidate(text, box, segments, wrapped, normal, where, squashed, fold(squashed))
                )

    def texts(self) -> list[str]:
        """What a person reads on the screen: each line, then each run of lines that may be one wrapped text.

        Both in reading order, without repeats.
        """
        order = sorted(self.lines, key=lambda line: (line.box[1] // 12, line.box[0]))
        runs = sorted((c for c in self._candidates if c.wrapped), key=lambda c: (c.box[1] // 12, c.box[0]))
        return list(dict.fromkeys([line.text for line in order] + [c.text for c in runs]))

    def find(self, query: str, *, min_score: float = 0.8) -> list[TextMatch]:
        """Every place ``query`` appears, best first (then in reading order).

        Scores: 1.0 for a whole line (or wrapped text) equal to the query (case and spacing aside),
        0.98 with punctuation aside (unless both have punctuation, and it differs: a near match at
        0.93), 0.96 with OCR look-alikes (0/O, 1/l/I) aside; about 0.9 for a
        whole-word part of a longer line; lower for near matches (OCR slips like "Fiter"), which are
        tried only for queries of four letters or more and kept from ``min_score`` up. A near match
        must hold every word of the query, all but a few characters of it: a line showing only part
        of the query ("Product" for "Add product") is not a match. A wrapped text (lines stacked as
        one, which may as well be a list) matches exactly or in whole words, never as a near match.
        """
        wanted = normalize(query)
        wanted_squashed = squash(query)
        if not wanted:
            return []
        wanted_folded = fold(wanted_squashed)
        wanted_punctuation = _punctuation(wanted)
        matches: list[TextMatch] = []
        for c in self._candidates:
            if c.normal == wanted:
                matches.append(TextMatch(c.box, c.text, 1.0, c.box))
                continue
            # Punctuation aside ("Name:" for "Name"), then OCR's look-alikes aside ("Ctrl+0" for "Ctrl+O").
            # Where both show punctuation and it differs ("Ctrl+-" for "Ctrl+="), it is only a near match.
            same = wanted_squashed and c.squashed == wanted_squashed
            if same or (wanted_folded and c.folded == wanted_folded):
                if _punctuation(c.normal) and wanted_punctuation and _punctuation(c.normal) != wanted_punctuation:
                    matches.append(TextMatch(c.box, c.text, 0.93, c.box, "fuzzy"))
                else:
                    matches.append(TextMatch(c.box, c.text, 0.98 if same else 0.96, c.box))
                continue
            hit = _word_find(c.normal, wanted)
            if hit is not None:
                start, end = c.where[hit], c.where[hit + len(wanted) - 1] + 1
                # Longer lines make a part-match less certain.
                score = 0.9 - 0.05 * (1 - len(wanted) / len(c.normal))
                matches.append(TextMatch(c.span_box(start, end), c.text[start:end], score, c.box, "part"))
                continue
            if c.wrapped or len(wanted_squashed) < 4 or not _could_be_similar(c.squashed, wanted_squashed, min_score):
                # Lines stacked like a wrapped text may be a list: they match exactly or not at all.
                continue
            ratio = SequenceMatcher(None, c.squashed, wanted_squashed, autojunk=False).ratio()
            if ratio >= min_score:
                if _holds_with_slips(c.normal, wanted):
                    matches.append(TextMatch(c.box, c.text, 0.95 * ratio, c.box, "fuzzy"))
                continue
            partial = _fuzzy_part(c.normal, wanted)
            if (
                partial is not None
                and partial[2] >= min_score
                and _holds_with_slips(c.normal[partial[0] : partial[1]], wanted)
            ):
                start, end = c.where[partial[0]], c.where[partial[1] - 1] + 1
                matches.append(TextMatch(c.span_box(start, end), c.text[start:end], 0.85 * partial[2], c.box, "fuzzy"))
        # A line and the pair holding it can both match: keep the best, then the tightest, per place.
        matches.sort(key=lambda m: (-m.score, (m.box[2] - m.box[0]) * (m.box[3] - m.box[1])))
        unique: list[TextMatch] = []
        for match in matches:
            if not any(_same_place(match.box, kept.box) for kept in unique):
                unique.append(match)
        unique.sort(key=lambda m: (-round(m.score, 3), m.box[1] // 8, m.box[0]))
        return unique


def _punctuation(normal: str) -> str:
    """The characters of a normalised text that are neither letters, digits nor spaces, in order."""
    return "".join(c for c in normal if not c.isalnum() and not c.isspace())


def _holds_with_slips(shown: str, query: str) -> bool:
    """Whether ``shown`` holds all of ``query`` but for a few OCR slips (both :func:`normalize`d).

    One character of a short query (under 8 letters and digits), two or 15 % of a longer one may be
    missing or misread; every word of the query must be at least half there, and not lack two or
    more characters at its start or end (that is another word: "Block" does not hold "Unblock").
    So "Fiter" holds "Filter", but "Product" does not hold "Add product", nor "Sign" "Sign in".
    """
    words = [w for w in (fold(squash(word)) for word in query.split()) if w]
    wanted = "".join(words)
    seen = fold(squash(shown))
    if not wanted or not seen:
        return False
    covered = [False] * len(wanted)
    for block in SequenceMatcher(None, seen, wanted, autojunk=False).get_matching_blocks():
        covered[block.b : block.b + block.size] = [True] * block.size
    allowed = 1 if len(wanted) < 8 else max(2, round(0.15 * len(wanted)))
    if covered.count(False) > allowed:
        return False
    start = 0
    for word in words:
        mask = covered[start : start + len(word)]
        start += len(word)
        if 2 * sum(mask) < len(word) or (len(word) > 2 and (mask[:2] == [False, False] or mask[-2:] == [False, False])):
            return False
    return True


def find_text(query: str, lines: Sequence[TextBox], *, min_score: float = 0.8) -> list[TextMatch]:
    """:meth:`TextIndex.find` for a single query."""
    return TextIndex(lines).find(query, min_score=min_score)


def _could_be_similar(a: str, b: str, min_score: float) -> bool:
    # difflib's ratio is at most 2*min(len)/(len a + len b); a partial match needs a longer line.
    return len(a) > len(b) or 2 * len(a) / (len(a) + len(b)) >= min_score


def _word_find(haystack: str, needle: str) -> int | None:
    """Index of ``needle`` in ``haystack`` at word boundaries (any boundary for CJK text), or None."""
    start = 0
    while True:
        index = haystack.find(needle, start)
        if index < 0:
            return None
        before = haystack[index - 1] if index > 0 else " "
        after = haystack[index + len(needle)] if index + len(needle) < len(haystack) else " "
        if (not before.isalnum() or not needle[0].isalnum() or _wide(needle[0])) and (
            not after.isalnum() or not needle[-1].isalnum() or _wide(needle[-1])
        ):
            return index
        start = index + 1


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _fuzzy_part(haystack: str, needle: str) -> tuple[int, int, float] | None:
    """The window of ``haystack`` (word-aligned) most similar to ``needle``: (start, end, ratio)."""
    if len(haystack) <= len(needle):
        return None
    starts = [0] + [i + 1 for i, c in enumerate(haystack) if c == " "]
    best: tuple[int, int, float] | None = None
    for start in starts:
        for end in (start + len(needle) - 1, start + len(needle), start + len(needle) + 1):
            if end > len(haystack):
                continue
            ratio = SequenceMatcher(None, haystack[start:end], needle, autojunk=False).ratio()
            if best is None or ratio > best[2]:
                best = (start, end, ratio)
    return best


def _same_place(a: Box, b: Box) -> bool:
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy >= 0.6 * smaller

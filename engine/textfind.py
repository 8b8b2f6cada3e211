"""Finding a piece of text among OCR lines: normalised, fuzzy on case and spacing, sub-line aware.

Pure functions. OCR reads a line of text at a time, and a line is often more than the text asked
for (a toolbar's "New  Open  Save" can come back as one line), so a match inside a longer line gets
a sub-box estimated from character widths. Neighbouring lines on one row are also tried together,
for text that OCR split in two ("Save" + "As...").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from engine.ocr import Box, TextBox

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
    # OCR boxes are padded around the ink by about a third of their height on each side.
    pad = min((y2 - y1) * 0.3, (x2 - x1) * 0.1)
    left, right = x1 + pad, x2 - pad
    widths = [_char_width(c) for c in text]
    total = sum(widths) or 1.0
    scale = (right - left) / total
    a = left + sum(widths[:start]) * scale
    b = left + sum(widths[:end]) * scale
    return (round(max(x1, a - pad / 2)), y1, round(min(x2, b + pad / 2)), y2)


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


def _candidates(lines: Sequence[TextBox]) -> list[tuple[str, Box, tuple[int, ...]]]:
    """Each line, and each pair of neighbouring lines on one row joined with a space."""
    found = [(line.text, line.box, line.chars) for line in lines]
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
            found.append((f"{a.text} {b.text}", (ax1, min(ay1, by1), bx2, max(ay2, by2)), chars))
    return found


@dataclass(frozen=True)
class _Candidate:
    text: str
    box: Box
    chars: tuple[int, ...]
    normal: str
    where: list[int]
    squashed: str
    folded: str


class TextIndex:
    """The lines of one screen, prepared once for many :meth:`find` calls."""

    def __init__(self, lines: Sequence[TextBox]) -> None:
        self.lines = list(lines)
        self._candidates: list[_Candidate] = []
        for text, box, chars in _candidates(self.lines):
            normal, where = _normalized_with_map(text)
            if normal:
                squashed = squash(text)
                self._candidates.append(_Candidate(text, box, chars, normal, where, squashed, fold(squashed)))

    def find(self, query: str, *, min_score: float = 0.8) -> list[TextMatch]:
        """Every place ``query`` appears, best first (then in reading order).

        Scores: 1.0 for a whole line equal to the query (case and spacing aside), 0.98 with punctuation
        aside, 0.96 with OCR look-alikes (0/O, 1/l/I) aside; about
        0.9 for a whole-word part of a longer line; lower for near matches (OCR slips like "Fiter"),
        which are tried only for queries of four letters or more and kept from ``min_score`` up.
        """
        wanted = normalize(query)
        wanted_squashed = squash(query)
        if not wanted:
            return []
        wanted_folded = fold(wanted_squashed)
        matches: list[TextMatch] = []
        for c in self._candidates:
            if c.normal == wanted:
                matches.append(TextMatch(c.box, c.text, 1.0, c.box))
                continue
            # Punctuation aside ("Name:" for "Name"), then OCR's look-alikes aside ("Ctrl+0" for "Ctrl+O").
            if wanted_squashed and c.squashed == wanted_squashed:
                matches.append(TextMatch(c.box, c.text, 0.98, c.box))
                continue
            if wanted_folded and c.folded == wanted_folded:
                matches.append(TextMatch(c.box, c.text, 0.96, c.box))
                continue
            hit = _word_find(c.normal, wanted)
            if hit is not None:
                start, end = c.where[hit], c.where[hit + len(wanted) - 1] + 1
                # Longer lines make a part-match less certain.
                score = 0.9 - 0.05 * (1 - len(wanted) / len(c.normal))
                box = sub_box(c.box, c.text, start, end, c.chars)
                matches.append(TextMatch(box, c.text[start:end], score, c.box, "part"))
                continue
            if len(wanted_squashed) < 4 or not _could_be_similar(c.squashed, wanted_squashed, min_score):
                continue
            ratio = SequenceMatcher(None, c.squashed, wanted_squashed, autojunk=False).ratio()
            if ratio >= min_score:
                matches.append(TextMatch(c.box, c.text, 0.95 * ratio, c.box, "fuzzy"))
                continue
            partial = _fuzzy_part(c.normal, wanted)
            if partial is not None and partial[2] >= min_score:
                start, end = c.where[partial[0]], c.where[partial[1] - 1] + 1
                box = sub_box(c.box, c.text, start, end, c.chars)
                matches.append(TextMatch(box, c.text[start:end], 0.85 * partial[2], c.box, "fuzzy"))
        # A line and the pair holding it can both match: keep the best, then the tightest, per place.
        matches.sort(key=lambda m: (-m.score, (m.box[2] - m.box[0]) * (m.box[3] - m.box[1])))
        unique: list[TextMatch] = []
        for match in matches:
            if not any(_same_place(match.box, kept.box) for kept in unique):
                unique.append(match)
        unique.sort(key=lambda m: (-round(m.score, 3), m.box[1] // 8, m.box[0]))
        return unique


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

"""Finding visible text: match a query against OCR lines, in reading order, tolerant of case and spacing."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tools.errors import InvalidAction

_SPACE = re.compile(r"\s+")
FUZZY_RATIO = 0.8
"""Similarity (difflib ratio) above which a line counts as a fuzzy match for the query."""


class TextLine(Protocol):
    """What the locator needs from an OCR result: the text and its box (x1, y1, x2, y2)."""

    @property
    def text(self) -> str: ...

    @property
    def box(self) -> tuple[int, int, int, int]: ...


@dataclass(frozen=True)
class TextMatch:
    """Where a query was found: the box of the matched text (a part of the line for substrings)."""

    text: str
    box: tuple[int, int, int, int]
    quality: int
    """3 = the whole line, 2 = whole words inside a longer line, 1 = fuzzy."""

    @property
    def center(self) -> tuple[int, int]:
        """The point to click."""
        return (self.box[0] + self.box[2]) // 2, (self.box[1] + self.box[3]) // 2


def normalize(text: str) -> str:
    """Case-, width- and whitespace-insensitive form (NFKC, casefold, single spaces, no edge punctuation)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", text).strip(" :.;,!?*")


def _reading_order(line: TextLine) -> tuple[int, int]:
    x1, y1, _, y2 = line.box
    return (y1 + y2) // 2 // 12, x1  # rows of ~12 px, so a slightly lower neighbour stays on the same row


def _sub_box(line: TextLine, start: int, length: int) -> tuple[int, int, int, int]:
    # Character positions map proportionally onto the line's width: good enough to hit a word.
    x1, y1, x2, y2 = line.box
    total = max(1, len(line.text))
    left = x1 + round((x2 - x1) * start / total)
    right = x1 + round((x2 - x1) * (start + length) / total)
    return left, y1, max(left + 1, right), y2


def _match(line: TextLine, query: str) -> TextMatch | None:
    text = normalize(line.text)
    if not text:
        return None
    if text == query:
        return TextMatch(line.text, line.box, 3)
    word = re.search(rf"(?<!\w){re.escape(query)}(?!\w)", line.text.casefold())
    if word:
        return TextMatch(line.text, _sub_box(line, word.start(), word.end() - word.start()), 2)
    if difflib.SequenceMatcher(None, text, query).ratio() >= FUZZY_RATIO:
        return TextMatch(line.text, line.box, 1)
    return None


def find_text(lines: Sequence[TextLine], query: str, occurrence: int | None = None) -> TextMatch:
    """The best match for ``query``; ``occurrence`` (1-based, reading order) picks among equals.

    Raises :class:`InvalidAction` when the text is absent (listing near matches) or ambiguous
    (listing the candidates), so nothing is clicked on a guess.
    """
    wanted = normalize(query)
    if not wanted:
        raise InvalidAction("click_text needs visible text to look for")
    ordered = sorted(lines, key=_reading_order)
    matches = [m for m in (_match(line, wanted) for line in ordered) if m is not None]
    if not matches:
        near = difflib.get_close_matches(wanted, [normalize(line.text) for line in ordered], n=5, cutoff=0.5)
        hint = f" Near matches: {', '.join(repr(n) for n in near)}." if near else ""
        raise InvalidAction(f"text {query!r} is not visible on the screen.{hint}")
    best = max(m.quality for m in matches)
    top = [m for m in matches if m.quality == best]
    if occurrence is not None:
        if not 1 <= occurrence <= len(top):
            raise InvalidAction(f"text {query!r} appears {len(top)} time(s); occurrence {occurrence} does not exist")
        return top[occurrence - 1]
    if len(top) > 1:
        where = "; ".join(f"{i}: {m.text!r} at {m.center}" for i, m in enumerate(top, 1))
        raise InvalidAction(f"text {query!r} appears {len(top)} times ({where}); pass occurrence to choose one")
    return top[0]

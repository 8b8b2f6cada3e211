"""Choosing where to click for visible text: :mod:`engine.textfind` finds every match, this decides.

A whole line beats whole words inside a longer line, which beat a near match (an OCR slip). Several
equally good matches are an error unless ``occurrence`` (reading order) picks one, and absent text
is an error that lists what is there instead: nothing is clicked on a guess.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from engine.ocr import TextBox
from engine.textfind import TextIndex, TextMatch, normalize
from tools.errors import InvalidAction

_TIER = {"line": 3, "part": 2, "fuzzy": 1}


def _reading_order(match: TextMatch) -> tuple[int, int]:
    x1, y1, _, y2 = match.box
    return (y1 + y2) // 2 // 12, x1  # rows of ~12 px, so a slightly lower neighbour stays on the same row


def candidates(lines: Sequence[TextBox], query: str) -> list[TextMatch]:
    """The equally good best matches for ``query``, in reading order (empty when it is not shown)."""
    matches = TextIndex(lines).find(query)
    if not matches:
        return []
    best = max(_TIER[m.kind] for m in matches)
    return sorted((m for m in matches if _TIER[m.kind] == best), key=_reading_order)


def find_text(lines: Sequence[TextBox], query: str, occurrence: int | None = None) -> TextMatch:
    """The match for ``query`` among OCR ``lines``; ``occurrence`` (1-based, reading order) picks among equals.

    Raises :class:`InvalidAction` when the text is absent (listing near matches) or ambiguous
    (listing the candidates).
    """
    wanted = normalize(query)
    if not wanted:
        raise InvalidAction("click_text needs visible text to look for")
    top = candidates(lines, query)
    if not top:
        shown = [normalize(line.text) for line in sorted(lines, key=lambda line: (line.box[1] // 12, line.box[0]))]
        near = difflib.get_close_matches(wanted, shown, n=5, cutoff=0.5)
        hint = f" Near matches: {', '.join(repr(n) for n in near)}." if near else ""
        raise InvalidAction(f"text {query!r} is not visible on the screen.{hint}")
    if occurrence is not None:
        if not 1 <= occurrence <= len(top):
            raise InvalidAction(f"text {query!r} appears {len(top)} time(s); occurrence {occurrence} does not exist")
        return top[occurrence - 1]
    if len(top) > 1:
        where = "; ".join(f"{i}: {m.text!r} at {m.center}" for i, m in enumerate(top, 1))
        raise InvalidAction(f"text {query!r} appears {len(top)} times ({where}); pass occurrence to choose one")
    return top[0]

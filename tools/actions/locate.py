"""Choosing where to click for visible text: :func:`engine.text.locate.choose_text` decides, this translates.

The rule lives in :mod:`engine.text.locate` (the grounding benchmark measures the same one): a whole line
(or a wrapped text) beats whole words inside a longer line, which beat a near match (an OCR slip).
Several equally good matches are an error unless ``occurrence`` (reading order) or ``near`` (other
visible text next to the wanted one) picks one, and absent text is an error that lists what is there
instead: nothing is clicked on a guess. The errors are :class:`InvalidAction` subclasses carrying
the reason: :class:`TextNotFound` and :class:`TextAmbiguous`.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.ocr.reader import TextBox
from engine.text.find import TextIndex, TextMatch
from engine.text.locate import Absent, Ambiguous, TextChoiceError, choose_text
from engine.text.locate import candidates as _candidates
from tools.errors import InvalidAction


class TextNotFound(InvalidAction):
    """The text (with ``context``: the ``near`` text) is not visible; ``near`` lists the shown texts most like it."""

    def __init__(self, message: str, text: str, near: Sequence[str], *, context: bool = False) -> None:
        super().__init__(message)
        self.text = text
        self.near = list(near)
        self.context = context


class TextAmbiguous(InvalidAction):
    """The text appears several times and nothing chose one; ``candidates`` are the tied matches."""

    def __init__(self, message: str, candidates: Sequence[TextMatch], occurrences: Sequence[int]) -> None:
        super().__init__(message)
        self.candidates = list(candidates)
        self.occurrences = list(occurrences)


def candidates(lines: Sequence[TextBox], query: str) -> list[TextMatch]:
    """The equally good best matches for ``query``, in reading order (empty when it is not shown).

    These are what ``occurrence`` counts and ``near`` chooses among; a wrapped text is one match.
    """
    return _candidates(TextIndex(lines), query)


def find_text(
    lines: Sequence[TextBox], query: str, occurrence: int | None = None, near: str | None = None
) -> TextMatch:
    """The match for ``query`` among OCR ``lines``, chosen by ``occurrence`` or ``near`` among equals.

    ``occurrence`` is 1-based, in reading order. ``near`` is other visible text (the name in a table
    row, a sidebar entry, a form's heading): the occurrence closest to it is chosen, one on the same
    row or column counting as nearer; every occurrence of ``near`` is considered. A blank ``near`` is
    no ``near``.

    Raises :class:`TextNotFound` when the text, or the ``near`` text, is absent (listing near
    matches), :class:`TextAmbiguous` when equally good matches remain (listing them), and
    :class:`InvalidAction` for a blank query, ``occurrence`` with ``near``, or no such occurrence.
    """
    try:
        outcome = choose_text(TextIndex(lines), query, occurrence=occurrence, near=near)
    except TextChoiceError as exc:
        raise InvalidAction(str(exc)) from None
    if isinstance(outcome, Absent):
        hint = f" Near matches: {', '.join(repr(n) for n in outcome.near)}." if outcome.near else ""
        what = "near text" if outcome.context else "text"
        raise TextNotFound(
            f"{what} {outcome.text!r} is not visible on the screen.{hint}",
            outcome.text,
            outcome.near,
            context=outcome.context,
        )
    if isinstance(outcome, Ambiguous):
        where = "; ".join(
            f"{i}: {m.text!r} at {m.center}" for i, m in zip(outcome.occurrences, outcome.candidates, strict=True)
        )
        if outcome.near is None:
            message = (
                f"text {query!r} appears {len(outcome.candidates)} times ({where}); "
                "pass occurrence (or near: other text next to the one you mean) to choose one"
            )
        else:
            message = (
                f"text {query!r} appears {len(outcome.candidates)} times equally close to {outcome.near!r} "
                f"({where}); pass occurrence without near, or a near text closer to the one you mean"
            )
        raise TextAmbiguous(message, outcome.candidates, outcome.occurrences)
    return outcome.match

"""Choosing where visible text is, and locators that turn an instruction into a point to click.

One rule, used by ``click_text``/``fill_input`` (through :mod:`tools.actions.locate`) and by the grounding
benchmark (through :class:`OcrLocator`): :func:`choose_text` takes :class:`engine.text.find.TextIndex`'s
matches and returns a typed outcome, :class:`Found`, :class:`Ambiguous` or :class:`Absent`.

* A whole line (or wrapped text) beats whole words inside a longer line, which beat a near match
  (an OCR slip); only the best tier is ever chosen from (:func:`candidates`).
* Several equally good matches are ambiguous unless ``occurrence`` (reading order) picks one, or
  ``near`` (other visible text: the name in a table row, a sidebar entry, a form's heading) does:
  a match on the same row or column as it beats any other, then the closest wins.
* Absent text comes with the shown texts most like it; nothing is chosen on a guess.

The locators (for ``eval-grounding``):

* :class:`OcrLocator` finds the instruction's text among the OCR lines with :func:`choose_text`;
  an instruction that names context ("Block for the device LivingRoom-TV", "Orders in the left
  sidebar") is split into the target, visible ``near`` text and a position word
  (:func:`instruction_targets`);
* :class:`ModelLocator` asks Qwen3-VL for a ``point_2d`` on its 0-1000 grid;
* :class:`HybridLocator` asks OCR first and the model only when the text is absent (as ``click_text``
  does); an ambiguous text is an abstention, as it is a refusal in ``click_text``.

Points are in the image's pixels. A locator abstains (``None``) rather than guess; model errors
other than an unusable answer propagate, so an evaluation never scores a dead server as misses.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Literal, Protocol

from PIL import Image

from engine.errors import ModelOutputError
from engine.geometry import Frame, grid_box_to_screen
from engine.ocr.cache import ScreenReader
from engine.ocr.reader import Box
from engine.text.find import TextIndex, TextMatch, instruction_queries, normalize
from engine.vlm.vision import VisionEngine

Where = Literal["left", "right", "top", "bottom"]
"""A place on the screen that chooses among occurrences: the leftmost, the rightmost, the highest, the lowest."""

TIER = {"line": 3, "part": 2, "fuzzy": 1}
"""How good each kind of :class:`TextMatch` is: only the best kind present is chosen from."""
TIE_PX = 4.0
"""Occurrences whose distance to ``near`` (or position) differs by at most this many pixels are a tie."""


@dataclass(frozen=True)
class Found:
    """The one match to use."""

    match: TextMatch


@dataclass(frozen=True)
class Ambiguous:
    """Several matches are equally good and nothing given separates them.

    ``candidates`` are the tied matches in reading order, ``occurrences`` their 1-based numbers
    among all the text's occurrences (what ``occurrence`` takes), ``near`` the text that was
    asked to separate them, if any.
    """

    text: str
    candidates: tuple[TextMatch, ...]
    occurrences: tuple[int, ...]
    near: str | None = None


@dataclass(frozen=True)
class Absent:
    """``text`` is not visible; ``near`` lists the shown texts most like it (best first).

    ``context`` is true when the missing text is the ``near`` text, not the target.
    """

    text: str
    near: tuple[str, ...]
    context: bool = False


Outcome = Found | Ambiguous | Absent


class TextChoiceError(ValueError):
    """The arguments cannot choose anything: no text, ``occurrence`` with ``near``, or no such occurrence."""


def _reading_order(match: TextMatch) -> tuple[int, int]:
    x1, y1, _, y2 = match.box
    # Rows of ~12 px, so a slightly lower neighbour stays on the same row; a wrapped text (a tall
    # box) is read where its first line is.
    return (y1 + min(y2 - y1, 30) // 2) // 12, x1


def candidates(index: TextIndex, query: str) -> list[TextMatch]:
    """The equally good best matches for ``query``, in reading order (empty when it is not shown)."""
    matches = index.find(query)
    if not matches:
        return []
    best = max(TIER[m.kind] for m in matches)
    return sorted((m for m in matches if TIER[m.kind] == best), key=_reading_order)


def similar_texts(index: TextIndex, query: str, limit: int = 5) -> tuple[str, ...]:
    """The texts shown on the screen most like ``query`` (as shown, best first), for "did you mean"."""
    shown: dict[str, str] = {}
    for text in index.texts():
        shown.setdefault(normalize(text), text)
    close = difflib.get_close_matches(normalize(query), list(shown), n=limit, cutoff=0.5)
    return tuple(shown[c] for c in close)


def closeness(a: Box, b: Box) -> tuple[int, float]:
    """How close two boxes read, smaller is closer: ``(0, gap)`` on one row or column, else ``(1, gap)``.

    A row is a y band (boxes overlapping vertically by half the smaller height): a table row, a
    toolbar. A column is an x band (overlapping horizontally by half the narrower width): a sidebar,
    a form. ``gap`` is the distance between the boxes' edges (0 when they touch). A box on the same
    row or column is closer than any other, however far: in a table, the button at the far end of
    a name's row belongs to it, not the one diagonally next to it in the row below.
    """
    gap_x = max(0, b[0] - a[2], a[0] - b[2])
    gap_y = max(0, b[1] - a[3], a[1] - b[3])
    aligned = _same_band(a[1], a[3], b[1], b[3]) or _same_band(a[0], a[2], b[0], b[2])
    return (0 if aligned else 1), math.hypot(gap_x, gap_y)


def _same_band(a1: int, a2: int, b1: int, b2: int) -> bool:
    return min(a2, b2) - max(a1, b1) >= 0.5 * max(1, min(a2 - a1, b2 - b1))


def _overlapping(a: Box, b: Box) -> bool:
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix > 0 and iy > 0 and ix * iy >= 0.5 * smaller


def _position_key(box: Box, where: Where) -> float:
    x1, y1, x2, y2 = box
    return {"left": x1, "right": -x2, "top": y1, "bottom": -y2}[where]


def _tied(scored: list[tuple[tuple[int, float], int]]) -> list[int]:
    """Indices of the best scores: the best group, distances within :data:`TIE_PX` of the best."""
    (group, best), _ = min(scored)
    return sorted(i for (g, score), i in scored if g == group and score <= best + TIE_PX)


def choose_text(
    index: TextIndex,
    query: str,
    *,
    occurrence: int | None = None,
    near: str | None = None,
    where: Where | None = None,
) -> Outcome:
    """The match for ``query`` on the screen ``index`` holds, as ``click_text`` chooses it.

    Among the best matches (:func:`candidates`): ``occurrence`` (1-based, reading order) picks one;
    ``near`` picks the one closest (:func:`closeness`: same row or column first) to any occurrence
    of that other visible text (the closest pair); ``where`` picks the leftmost, rightmost, highest
    or lowest (after ``near``, among its ties). A single match needs no choosing (``near`` must
    still be visible). Ties within :data:`TIE_PX` are :class:`Ambiguous`.

    Raises :class:`TextChoiceError` for a blank query, ``occurrence`` together with ``near`` or
    ``where``, or an occurrence that does not exist.
    """
    near = near if near is not None and normalize(near) else None
    if not normalize(query):
        raise TextChoiceError("click_text needs visible text to look for")
    if occurrence is not None and (near is not None or where is not None):
        raise TextChoiceError("pass either occurrence or near, not both: near chooses the occurrence closest to it")
    if occurrence is not None and occurrence < 1:
        raise TextChoiceError(f"occurrence counts from 1, got {occurrence}")
    top = candidates(index, query)
    if not top:
        return Absent(query, similar_texts(index, query))
    anchors: list[TextMatch] = []
    if near is not None:
        anchors = candidates(index, near)
        if not anchors:
            return Absent(near, similar_texts(index, near), context=True)
    if occurrence is not None:
        if occurrence > len(top):
            raise TextChoiceError(f"text {query!r} appears {len(top)} time(s); occurrence {occurrence} does not exist")
        return Found(top[occurrence - 1])
    if len(top) == 1:
        return Found(top[0])
    chosen = list(range(len(top)))
    if anchors:
        scored = []
        for i, match in enumerate(top):
            distances = [closeness(match.box, a.box) for a in anchors if not _overlapping(match.box, a.box)]
            scored.append((min(distances, default=(2, math.inf)), i))
        if any(math.isfinite(score) for (_, score), _ in scored):
            chosen = _tied(scored)
    if where is not None and len(chosen) > 1:
        keys = [((0, _position_key(top[i].box, where)), k) for k, i in enumerate(chosen)]
        chosen = [chosen[k] for k in _tied(keys)]
    if len(chosen) == 1:
        return Found(top[chosen[0]])
    return Ambiguous(query, tuple(top[i] for i in chosen), tuple(i + 1 for i in chosen), near)


# --- instructions that name context -----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What an instruction asks for: the ``text``, and the words naming where it is (``context``)."""

    text: str
    context: str = ""
    where: Where | None = None


_CONNECTOR = re.compile(
    r"\s+(?:for(?:\s+the)?|in\s+the|in\s+row|at\s+the|on\s+the|next\s+to(?:\s+the)?|near(?:\s+the)?|"
    r"beside(?:\s+the)?|under(?:\s+the)?|below(?:\s+the)?|above(?:\s+the)?|of\s+the\s+row(?:\s+of)?)\s+(?=\S)",
    re.IGNORECASE,
)
_PLACE_SUFFIX = re.compile(r"^(?P<text>.+?)\s+(?P<place>(?:editor\s+|browser\s+|file\s+)?tab)$", re.IGNORECASE)
_PLACES: list[tuple[re.Pattern[str], Where]] = [
    (re.compile(r"\b(?:left|sidebar|side\s+bar|side\s+panel|navigation|nav)\b", re.IGNORECASE), "left"),
    (re.compile(r"\bright\b", re.IGNORECASE), "right"),
    (re.compile(r"\b(?:bottom|footer|status\s+bar)\b", re.IGNORECASE), "bottom"),
    (re.compile(r"\b(?:top|header|tabs?|tab\s+bar|toolbar|menu\s*bar|title\s+bar)\b", re.IGNORECASE), "top"),
]
_FILLER_WORDS = (
    "a an the of for in at on to by with named called row rows user users device devices customer "
    "file files item entry account order contact employee page form window dialog panel pane section "
    "area column table list menu main left right top bottom sidebar side bar nav navigation header footer "
    "tab tabs editor toolbar title status click press select choose open tap hit pick button link"
)
_FILLER = frozenset(_FILLER_WORDS.split())
"""Words of an instruction's context that are never the visible text it names."""


def _where(context: str) -> Where | None:
    for pattern, where in _PLACES:
        if pattern.search(context):
            return where
    return None


def _strip_article(text: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE)


def instruction_targets(instruction: str) -> list[Target]:
    """The ways an instruction may name a target by its context, most literal first.

    ``"Block for the device LivingRoom-TV"`` gives ``Target("Block", "device LivingRoom-TV")``;
    ``"Orders in the left sidebar"`` gives ``Target("Orders", "left sidebar", "left")``; ``"the
    api.ts editor tab"`` gives ``Target("api.ts", "editor tab", "top")``. Quoted text is the target
    and the rest the context. Empty when the instruction names no context.
    """
    text = " ".join(instruction.split()).rstrip(".!")
    quoted = re.search(r"[\"“'‘]([^\"”'’]{1,200})[\"”'’]", text)
    if quoted:
        rest = (text[: quoted.start()] + " " + text[quoted.end() :]).strip()
        rest = _CONNECTOR.sub(" ", f" {rest} ").strip()
        return [Target(quoted.group(1).strip(), rest, _where(rest))] if rest else []
    found = []
    for connector in _CONNECTOR.finditer(text):
        target, context = text[: connector.start()].strip(), text[connector.end() :].strip()
        if target and context:
            found.append(Target(_strip_article(target), _strip_article(context), _where(context)))
    suffix = _PLACE_SUFFIX.match(_strip_article(text))
    if suffix:
        found.append(Target(suffix.group("text"), suffix.group("place"), _where(suffix.group("place"))))
    return found


def context_texts(context: str) -> list[str]:
    """Spans of ``context`` that may be visible text (longest first), without filler or place words."""
    words = context.split()
    spans = []
    for length in range(len(words), 0, -1):
        for start in range(len(words) - length + 1):
            span = words[start : start + length]
            if normalize(span[0]) in _FILLER or normalize(span[-1]) in _FILLER:
                continue
            spans.append(" ".join(span))
    return spans


def choose_for_instruction(index: TextIndex, instruction: str) -> Outcome:
    """:func:`choose_text` for an instruction: its text as it is first, then target and context.

    A text found once decides. When the instruction's text is absent, or shown several times and
    the instruction names context, each :class:`Target` is tried: the longest span of its context
    that is visible becomes ``near``, and a position word becomes ``where``; the first target that
    is not absent decides. Otherwise the plain outcome stands (an ambiguous text is an abstention).
    """
    targets = instruction_targets(instruction)
    outcome: Outcome = Absent(instruction, ())
    for query in instruction_queries(instruction):
        if not normalize(query):
            continue
        outcome = choose_text(index, query)
        if isinstance(outcome, Found) or (isinstance(outcome, Ambiguous) and not targets):
            return outcome
        if isinstance(outcome, Ambiguous):
            break
    for target in targets:
        near = next((span for span in context_texts(target.context) if candidates(index, span)), None)
        for query in instruction_queries(target.text):
            if not normalize(query) or (near is not None and normalize(near) == normalize(query)):
                continue
            found = choose_text(index, query, near=near, where=target.where)
            if not isinstance(found, Absent):
                return found
    return outcome


# --- locators -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    """Where to click, and which locator decided."""

    point: tuple[int, int]
    by: str
    score: float
    text: str | None = None


class Locator(Protocol):
    """Anything that turns an instruction into a point on a screenshot."""

    name: str

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        """The point to click on ``image`` for ``instruction``, or ``None`` to abstain."""
        ...


class OcrLocator:
    """Clicks the centre of the instruction's text as OCR reads it, chosen as ``click_text`` chooses."""

    name = "ocr"

    def __init__(self, reader: ScreenReader) -> None:
        self.reader = reader
        self._index: tuple[Image.Image, TextIndex] | None = None

    async def index(self, image: Image.Image) -> TextIndex:
        """The text of ``image`` (read once per image; the reader's cache covers repeats)."""
        # Keyed by the image itself, kept alive: an id() can be reused by the next image.
        if self._index is not None and self._index[0] is image:
            return self._index[1]
        text = await self.reader.aread(image)
        index = TextIndex(text.lines)
        self._index = (image, index)
        return index

    async def outcome(self, image: Image.Image, instruction: str) -> Outcome:
        """What :func:`choose_for_instruction` makes of ``instruction`` on ``image``."""
        return choose_for_instruction(await self.index(image), instruction)

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        """The chosen match's centre; ``None`` when the text is absent or ambiguous."""
        outcome = await self.outcome(image, instruction)
        if not isinstance(outcome, Found):
            return None
        return Located(outcome.match.center, self.name, outcome.match.score, outcome.match.text)


class ModelLocator:
    """Asks the vision model to point at the instruction's target (Qwen3-VL ``point_2d``)."""

    name = "model"

    def __init__(self, engine: VisionEngine) -> None:
        self.engine = engine

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        """The first point (or box centre) the model answers; ``None`` when it gives none."""
        try:
            found = await self.engine.locate(image, instruction)
        except ModelOutputError:
            return None
        if not found:
            return None
        frame = Frame(0, 0, image.width, image.height, image.width, image.height)
        x1, y1, x2, y2 = grid_box_to_screen(frame, found[0].box)
        return Located(((x1 + x2) // 2, (y1 + y2) // 2), self.name, 1.0, found[0].label)


class HybridLocator:
    """OCR first (precise for text); the model only for a target OCR does not see (icons, descriptions)."""

    name = "hybrid"

    def __init__(self, ocr: OcrLocator, model: ModelLocator) -> None:
        self.ocr = ocr
        self.model = model

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        """OCR's match when it has one; the model's point when the text is absent; ``None`` when ambiguous."""
        outcome = await self.ocr.outcome(image, instruction)
        if isinstance(outcome, Found):
            return Located(outcome.match.center, self.ocr.name, outcome.match.score, outcome.match.text)
        if isinstance(outcome, Ambiguous):
            return None
        return await self.model.locate(image, instruction)

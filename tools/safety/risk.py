"""Risk read from the target: what lies under a click, and which field a key or text goes to.

A left click's meaning is the button under it. Before a click or a submitting key, the text around
the point (OCR) and the accessibility label of the element there, and the focused field, are read
and compared with the policy's list of consequential words (``Delete``, ``Pay``, ``删除``...). Typing
into a password field, or pressing Enter in one, counts too. What is found is said in words, so
the confirmation question and the result can tell why a person was asked.

What cannot be read (no OCR, no accessibility bus) is not guessed at: it simply adds no reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.geometry import Box, box_area, box_grown
from engine.ocr.reader import TextBox
from tools.actions.vocabulary import AnyAction, FillInput
from tools.desktop.a11y.tree import Node
from tools.desktop.capture import Capture
from tools.desktop.inputs import InputEvent
from tools.desktop.keys import canonical
from tools.desktop.screen_text import screen_lines
from tools.errors import ToolFailure
from tools.runtime import Runtime
from tools.safety.policy import Policy

log = logging.getLogger(__name__)

SUBMIT_KEYS = frozenset({"enter", "return", "kpenter"})
"""Keys that submit what is focused."""
REACH = 16
"""Pixels around a text line's box within which a click still counts as on it."""
LABEL_REACH = 320
"""How far left of (or above) a field its label may be, pixels, when looking for a password label."""
PASSWORD_ROLES = frozenset({"password text"})


@dataclass(frozen=True)
class Risk:
    """Why the target makes an action consequential (empty: nothing found)."""

    reasons: tuple[str, ...] = ()

    @property
    def consequential(self) -> bool:
        """Whether anything consequential was found."""
        return bool(self.reasons)


def _word_pattern(word: str) -> re.Pattern[str]:
    # Latin-script words match whole words ("Send", not "Sender"); CJK has no spaces to bound a word.
    if re.search(r"[\u3000-\u9fff\uac00-\ud7af]", word):
        return re.compile(re.escape(word))
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)


def consequential_word(text: str, words: Iterable[str]) -> str | None:
    """The first of ``words`` that ``text`` contains (whole words for Latin scripts), or ``None``."""
    for word in words:
        if word.strip() and _word_pattern(word.strip()).search(text):
            return word.strip()
    return None


def _points(events: Sequence[InputEvent]) -> list[tuple[int, int]]:
    return [(e.x, e.y) for e in events if e.op == "click" and e.x is not None and e.y is not None]


def _submits(events: Sequence[InputEvent]) -> bool:
    return any(e.op in ("hotkey", "press") and SUBMIT_KEYS & {canonical(k) for k in e.keys or ()} for e in events)


def _types(events: Sequence[InputEvent]) -> bool:
    return any(e.op in ("write", "unicode") for e in events)


def lines_under(lines: Sequence[TextBox], x: int, y: int) -> list[TextBox]:
    """The text lines whose box (grown by :data:`REACH`) holds the point, smallest first."""
    hit = [line for line in lines if _holds(box_grown(line.box, pixels=REACH), x, y)]
    return sorted(hit, key=lambda line: box_area(line.box))


def _holds(box: Box, x: int, y: int) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _label_left(lines: Sequence[TextBox], x: int, y: int) -> list[TextBox]:
    """Lines on the point's row to its left, or just above it: where a field's label sits."""
    near = []
    for line in lines:
        x1, y1, x2, y2 = line.box
        same_row = y1 - REACH <= y <= y2 + REACH and x - LABEL_REACH <= x2 <= x + REACH
        above = 0 <= y - y2 <= 2 * REACH + (y2 - y1) and x1 - LABEL_REACH <= x <= x2 + LABEL_REACH
        if same_row or above:
            near.append(line)
    return near


def node_at(nodes: Sequence[Node], x: int, y: int) -> Node | None:
    """The smallest accessible element whose box holds the point."""
    hit = [n for n in nodes if n.box is not None and _holds(n.box, x, y)]
    return min(hit, key=lambda n: box_area(n.box or (0, 0, 0, 0)), default=None)


def read_risk(
    policy: Policy,
    action: AnyAction,
    events: Sequence[InputEvent],
    lines: Sequence[TextBox],
    nodes: Sequence[Node] = (),
) -> Risk:
    """Why ``events`` are consequential given the screen text ``lines`` and accessible ``nodes`` (pure)."""
    words = policy.consequential_words
    reasons: list[str] = []
    for x, y in _points(events):
        for line in lines_under(lines, x, y)[:2]:
            if (word := consequential_word(line.text, words)) is not None:
                reasons.append(f"the click at ({x}, {y}) lands on {line.text!r}, which reads as {word!r}")
                break
        node = node_at(nodes, x, y)
        if node is not None and (word := consequential_word(node.name, words)) is not None:
            reasons.append(f"the click at ({x}, {y}) lands on the {node.role} {node.name!r} ({word!r})")
        if node is not None and node.role in PASSWORD_ROLES and _types(events):
            reasons.append(f"it types into the password field at ({x}, {y})")
        if _types(events) and not any("password" in r for r in reasons):
            label = next((ln for ln in _label_left(lines, x, y) if _password_word(ln.text, policy)), None)
            if label is not None:
                reasons.append(f"it types into the field labelled {label.text!r}, a password field")
    if isinstance(action, FillInput) and _password_word(action.label, policy):
        reasons.append(f"it fills the field labelled {action.label!r}, a password field")
    focused = next((n for n in nodes if "focused" in n.states), None)
    if focused is not None and not _points(events):
        if focused.role in PASSWORD_ROLES and (_types(events) or _submits(events)):
            what = "types into" if _types(events) else "presses Enter in"
            reasons.append(f"it {what} the focused password field {focused.name or focused.label or ''!r}")
        if _submits(events) and (word := consequential_word(focused.name, words)) is not None:
            reasons.append(f"Enter goes to the focused {focused.role} {focused.name!r} ({word!r})")
    return Risk(tuple(dict.fromkeys(reasons)))


def _password_word(text: str, policy: Policy) -> bool:
    return consequential_word(text, policy.password_words) is not None


def worth_reading(events: Sequence[InputEvent]) -> bool:
    """Whether the events do anything a target can make consequential (a click, a submitting key, typing)."""
    return bool(_points(events)) or _submits(events) or _types(events)


async def assess(runtime: Runtime, action: AnyAction, events: Sequence[InputEvent], seen: Capture | None) -> Risk:
    """Read the target of ``events`` on the screen now (or on ``seen``, the capture they were resolved on)."""
    if not worth_reading(events) and not isinstance(action, FillInput):
        return Risk()
    lines: list[TextBox] = []
    nodes: list[Node] = []
    try:
        capture = seen or await runtime.capturer.grab(None, 0)
        if runtime.ocr is not None:
            lines = await screen_lines(runtime, capture)
        if runtime.a11y is not None:
            reading = await runtime.a11y.read(await runtime.desktop.windows())
            nodes = reading.nodes
    except ToolFailure as exc:  # an unreadable target adds no reason; it never blocks the action by itself
        log.info("could not read the target's risk: %s", exc)
    return read_risk(runtime.policy, action, events, lines, nodes)

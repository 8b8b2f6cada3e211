"""From an action to the primitive input events that perform it (pure, validated)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tools.actions.vocabulary import (
    AnyAction,
    Click,
    Done,
    DoubleClick,
    Drag,
    Key,
    Move,
    PrimitiveAction,
    RightClick,
    Scroll,
    TypeText,
    Wait,
)
from tools.desktop.capture import Monitor
from tools.desktop.inputs import InputEvent, Op, split_text
from tools.desktop.keys import normalize_chord
from tools.errors import DesktopUnavailable, InvalidAction

__all__ = ["AnyAction", "PrimitiveAction", "check_on_screen", "plan_events"]


def check_on_screen(x: int, y: int, monitors: Sequence[Monitor]) -> None:
    """Refuse a point that lies on no monitor (index 0, the bounding box, does not count).

    With no monitors at all (no display) a point cannot be checked, so it is refused as such.
    """
    if not monitors:
        raise DesktopUnavailable(
            f"no display to check the point ({x}, {y}) against: the desktop is not available; nothing was done"
        )
    screens = [m for m in monitors if m.index > 0] or list(monitors)
    if any(m.contains(x, y) for m in screens):
        return
    bounds = "; ".join(
        f"monitor {m.index}: x {m.x}..{m.x + m.width - 1}, y {m.y}..{m.y + m.height - 1}" for m in screens
    )
    raise InvalidAction(f"point ({x}, {y}) is outside the screen ({bounds}); nothing was done")


def failsafe_corners(monitors: Sequence[Monitor]) -> set[tuple[int, int]]:
    """The points where pyautogui's fail-safe aborts every later call: the corners of the whole desktop.

    pyautogui takes them from its ``size()``, the X root window (monitor 0, all monitors' bounding box).
    """
    whole = next((m for m in monitors if m.index == 0), None)
    if whole is None:
        if not monitors:
            return set()
        x1, y1 = min(m.x for m in monitors), min(m.y for m in monitors)
        x2, y2 = max(m.x + m.width for m in monitors) - 1, max(m.y + m.height for m in monitors) - 1
    else:
        x1, y1, x2, y2 = whole.x, whole.y, whole.x + whole.width - 1, whole.y + whole.height - 1
    return {(x1, y1), (x2, y1), (x1, y2), (x2, y2)}


def _refuse_failsafe_corner(x: int, y: int, monitors: Sequence[Monitor]) -> None:
    corners = failsafe_corners(monitors)
    if (x, y) not in corners:
        return
    left, top = min(cx for cx, _ in corners), min(cy for _, cy in corners)
    inside = (x + 1 if x == left else x - 1, y + 1 if y == top else y - 1)
    raise InvalidAction(
        f"point ({x}, {y}) is a corner of the screen, where pyautogui's fail-safe would abort every later "
        f"action; nothing was done. Aim one pixel inside, e.g. {inside}, or set desktop.failsafe to false to "
        "reach the corner itself"
    )


def _points(action: AnyAction) -> list[tuple[int, int]]:
    points: list[tuple[int, int]] = []
    x, y = getattr(action, "x", None), getattr(action, "y", None)
    if (x is None) != (y is None):
        raise InvalidAction(f"{action.type}: give both x and y, or neither")
    if x is not None and y is not None:
        points.append((x, y))
    if isinstance(action, Drag):
        points.append((action.to_x, action.to_y))
    return points


def plan_events(
    action: AnyAction,
    monitors: Sequence[Monitor],
    is_valid_key: Callable[[str], bool],
    *,
    failsafe: bool = False,
) -> list[InputEvent]:
    """The events that perform ``action``; raises :class:`InvalidAction` before anything is sent.

    With ``failsafe`` (pyautogui's fail-safe is on) a point in a corner of the desktop is refused: the
    pointer left there would make pyautogui abort every action after this one.
    How much text one action may type is the policy's rule (``tools.safety.policy.check_action``).
    """
    for x, y in _points(action):
        check_on_screen(x, y, monitors)
        if failsafe:
            _refuse_failsafe_corner(x, y, monitors)
    match action:
        case Click():
            return [InputEvent("click", x=action.x, y=action.y, button=action.button, clicks=action.clicks)]
        case DoubleClick():
            return [InputEvent("click", x=action.x, y=action.y, button="left", clicks=2)]
        case RightClick():
            return [InputEvent("click", x=action.x, y=action.y, button="right", clicks=1)]
        case Move():
            return [InputEvent("move", x=action.x, y=action.y)]
        case Drag():
            return [
                InputEvent("move", x=action.x, y=action.y),
                InputEvent("mouse_down", x=action.x, y=action.y, button="left"),
                InputEvent("move", x=(action.x + action.to_x) // 2, y=(action.y + action.to_y) // 2),
                InputEvent("move", x=action.to_x, y=action.to_y),
                InputEvent("mouse_up", x=action.to_x, y=action.to_y, button="left"),
            ]
        case TypeText():
            text = action.text.replace("\r\n", "\n")
            if any((ord(c) < 32 and c not in "\n\t") or 127 <= ord(c) < 160 for c in text):
                raise InvalidAction("text contains control characters; use a key action for special keys")
            focus = [] if action.x is None else [InputEvent("click", x=action.x, y=action.y, button="left", clicks=1)]
            return focus + split_text(text)
        case Key():
            return [InputEvent("hotkey", keys=tuple(normalize_chord(action.keys, is_valid_key)))]
        case Scroll():
            op: Op = "hscroll" if action.horizontal else "scroll"
            return [InputEvent(op, x=action.x, y=action.y, amount=action.amount)]
        case Wait():
            return [InputEvent("sleep", seconds=action.seconds)]
        case Done():
            return []
    raise InvalidAction(f"{action.type} must be resolved on the screen before it becomes input events")

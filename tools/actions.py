"""The action vocabulary: a discriminated union on ``type``.

What ``plan_next_action`` proposes is exactly what ``execute_action`` accepts. All coordinates are
absolute screen pixels, in the space pyautogui clicks in.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Coord = Annotated[int, Field(ge=-100_000, le=100_000, description="Absolute screen pixel.")]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Click(_Action):
    """Click a mouse button at a screen point."""

    type: Literal["click"] = "click"
    x: Coord
    y: Coord
    button: Literal["left", "right", "middle"] = "left"
    clicks: int = Field(1, ge=1, le=3, description="1 = click, 2 = double, 3 = triple (selects a line).")


class DoubleClick(_Action):
    """Double-click the left button at a screen point."""

    type: Literal["double_click"] = "double_click"
    x: Coord
    y: Coord


class RightClick(_Action):
    """Right-click at a screen point (opens context menus)."""

    type: Literal["right_click"] = "right_click"
    x: Coord
    y: Coord


class Move(_Action):
    """Move the pointer without clicking (hover)."""

    type: Literal["move"] = "move"
    x: Coord
    y: Coord


class Drag(_Action):
    """Press the left button at (x, y), move to (to_x, to_y), release."""

    type: Literal["drag"] = "drag"
    x: Coord
    y: Coord
    to_x: Coord
    to_y: Coord


class TypeText(_Action):
    """Type text into the focused field, first clicking (x, y) when given. Any Unicode is typed intact."""

    type: Literal["type"] = "type"
    text: str = Field(min_length=1, max_length=10_000)
    x: Coord | None = None
    y: Coord | None = None


class Key(_Action):
    """Press keys as one chord, e.g. ["ctrl", "a"] or ["enter"]: pressed in order, released in reverse."""

    type: Literal["key"] = "key"
    keys: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(min_length=1, max_length=6)


class Scroll(_Action):
    """Scroll the wheel by ``amount`` clicks (positive = up, or right when horizontal), at (x, y) when given."""

    type: Literal["scroll"] = "scroll"
    amount: int = Field(ge=-100, le=100, description="Wheel clicks; positive scrolls up (or right if horizontal).")
    x: Coord | None = None
    y: Coord | None = None
    horizontal: bool = False


class Wait(_Action):
    """Do nothing for a while, to let the screen catch up."""

    type: Literal["wait"] = "wait"
    seconds: float = Field(ge=0, le=30)


class Done(_Action):
    """Declare the task finished (success or failure), with an optional answer. Performs no input."""

    type: Literal["done"] = "done"
    status: Literal["success", "failure"] = "success"
    answer: str | None = Field(None, max_length=10_000)


Action = Annotated[
    Click | DoubleClick | RightClick | Move | Drag | TypeText | Key | Scroll | Wait | Done,
    Field(discriminator="type"),
]
"""One GUI action; ``type`` selects the variant."""

POINTER_ACTIONS = (Click, DoubleClick, RightClick, Move, Drag)

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


class ClickText(_Action):
    """Click visible text (found by OCR, fuzzy on case and spacing; the vision model as fallback)."""

    type: Literal["click_text"] = "click_text"
    text: str = Field(min_length=1, max_length=500, description="The text as shown on screen, e.g. 'Submit'.")
    occurrence: int | None = Field(
        None, ge=1, le=100, description="Which match, in reading order, when the text appears several times."
    )
    near: str | None = Field(
        None,
        max_length=500,
        description="Other visible text next to the wanted occurrence (its table row, form card or sidebar): "
        "the occurrence closest to it is chosen when the text appears several times.",
    )
    monitor: int | None = Field(
        None, ge=0, le=16, description="Search only this monitor (1..); default: every monitor."
    )
    button: Literal["left", "right", "middle"] = "left"
    clicks: int = Field(1, ge=1, le=3)


class ClickElement(_Action):
    """Click an element by the id describe_screen gave it; refused if the screen changed since that snapshot."""

    type: Literal["click_element"] = "click_element"
    element_id: str = Field(min_length=1, max_length=32, description="An element id such as 'e3'.")
    snapshot_id: str = Field(min_length=1, max_length=64, description="The snapshot_id of that describe_screen.")


class FillInput(_Action):
    """Find the input belonging to a visible label (right of it, below it, or the label shown inside the
    field as its placeholder), replace its content with ``value``, then read the field back."""

    type: Literal["fill_input"] = "fill_input"
    label: str = Field(min_length=1, max_length=500, description="The label shown next to the field, e.g. 'Email'.")
    value: str = Field(max_length=10_000, description="The new content; empty clears the field.")
    near: str | None = Field(
        None,
        max_length=500,
        description="Other visible text next to the wanted occurrence (its table row, form card or sidebar): "
        "the occurrence closest to it is chosen when the text appears several times.",
    )
    monitor: int | None = Field(
        None, ge=0, le=16, description="Search only this monitor (1..); default: every monitor."
    )


class GotoUrl(_Action):
    """In the focused browser window: focus the address bar (ctrl+L), type the URL, press Enter."""

    type: Literal["goto_url"] = "goto_url"
    url: str = Field(min_length=1, max_length=4000, description="An http(s) URL.")


class UploadFile(_Action):
    """Upload a local file: open the upload control (click ``label`` if given), wait for the native file
    dialog, enter the path and read it back, confirm, wait for the dialog to close, and check that the
    file's name now shows near the control."""

    type: Literal["upload_file"] = "upload_file"
    path: str = Field(min_length=1, max_length=4096, description="Absolute path of an existing local file.")
    label: str | None = Field(None, max_length=500, description="Text of the upload button to click first.")
    near: str | None = Field(
        None,
        max_length=500,
        description="Other visible text next to the wanted occurrence (its table row, form card or sidebar): "
        "the occurrence closest to it is chosen when the text appears several times.",
    )
    monitor: int | None = Field(
        None, ge=0, le=16, description="Search only this monitor (1..); default: every monitor."
    )


SEMANTIC_ACTIONS = (ClickText, ClickElement, FillInput, GotoUrl, UploadFile)


Action = Annotated[
    Click
    | DoubleClick
    | RightClick
    | Move
    | Drag
    | TypeText
    | Key
    | Scroll
    | Wait
    | Done
    | ClickText
    | ClickElement
    | FillInput
    | GotoUrl
    | UploadFile,
    Field(discriminator="type"),
]
"""One GUI action; ``type`` selects the variant. The last five are resolved against the screen first."""

"""The action vocabulary: a discriminated union on ``type``, and the one place that lists the actions.

What ``plan_next_action`` proposes is exactly what ``execute_action`` accepts. All coordinates are
absolute screen pixels, in the space pyautogui clicks in. Everything else that needs the list of
actions (policy names, the tool description, audit summaries) derives it from here: a new action
is a class here, its input events (tools/actions/events.py), its resolution (tools/actions/semantic.py) or
its desktop operation (tools/actions/desktop.py).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

TEXT_CEILING = 100_000
"""The most characters an action's text may hold in the schema. The limit enforced is the server's
``policy.max_text_length`` (at most this), checked by ``tools.safety.policy.check_action``."""

Coord = Annotated[int, Field(ge=-100_000, le=100_000, description="Absolute screen pixel.")]
Near = Annotated[
    str | None,
    Field(
        max_length=500,
        description="Other visible text next to the wanted occurrence (its table row, form card or sidebar): "
        "the occurrence closest to it is chosen when the text appears several times.",
    ),
]
OnMonitor = Annotated[
    int | None, Field(ge=0, le=16, description="Search only this monitor (1..); default: every monitor.")
]
WindowName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        description="A window: its id from list_windows (e.g. '0x1a00003'), or a unique part of its title.",
    ),
]
InWindow = Annotated[
    WindowName | None,
    Field(
        description="The window that must have the keyboard (id or unique part of its title): the action is refused, "
        "with nothing sent, when another window has it."
    ),
]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    semantic: ClassVar[bool] = False
    """Resolved against the screen (OCR, the model, a snapshot) before it becomes input events."""
    desktop: ClassVar[bool] = False
    """Acts on windows, applications or the clipboard through the desktop platform, not with input events."""

    def summary(self) -> str:
        """A short readable form for people: ``click (10, 20)``, ``key ctrl+a``, ``type 'hi' (2 chars)``."""
        fields = self.model_dump(exclude_none=True)
        point = f" ({fields['x']}, {fields['y']})" if "x" in fields and "y" in fields else ""
        return f"{fields['type']}{point}" + "".join(
            f" {name}={value!r}" for name, value in fields.items() if name not in ("type", "x", "y")
        )


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class Click(_Action):
    """Click a mouse button at a screen point."""

    type: Literal["click"] = "click"
    x: Coord
    y: Coord
    button: Literal["left", "right", "middle"] = "left"
    clicks: int = Field(1, ge=1, le=3, description="1 = click, 2 = double, 3 = triple (selects a line).")

    def summary(self) -> str:
        """``click (x, y)``, with the button and count when not a single left click."""
        extra = (f" {self.button}" if self.button != "left" else "") + (f" x{self.clicks}" if self.clicks != 1 else "")
        return f"click ({self.x}, {self.y}){extra}"


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

    def summary(self) -> str:
        """``drag (x, y) -> (to_x, to_y)``."""
        return f"drag ({self.x}, {self.y}) -> ({self.to_x}, {self.to_y})"


class TypeText(_Action):
    """Type text into the focused field, first clicking (x, y) when given. Any Unicode is typed intact."""

    type: Literal["type"] = "type"
    text: str = Field(min_length=1, max_length=TEXT_CEILING)
    x: Coord | None = None
    y: Coord | None = None
    window: InWindow = None

    def summary(self) -> str:
        """``type 'text' (n chars)``, with the point clicked first and the window it must go to."""
        point = f" ({self.x}, {self.y})" if self.x is not None and self.y is not None else ""
        into = f" into {self.window!r}" if self.window else ""
        return f"type {_short(self.text)}{point} ({len(self.text)} chars){into}"


class Key(_Action):
    """Press keys as one chord, e.g. ["ctrl", "a"] or ["enter"]: pressed in order, released in reverse."""

    type: Literal["key"] = "key"
    keys: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(min_length=1, max_length=6)
    window: InWindow = None

    def summary(self) -> str:
        """``key ctrl+a``, with the window it must go to."""
        return "key " + "+".join(self.keys) + (f" into {self.window!r}" if self.window else "")


class Scroll(_Action):
    """Scroll the wheel by ``amount`` clicks (positive = up, or right when horizontal), at (x, y) when given."""

    type: Literal["scroll"] = "scroll"
    amount: int = Field(ge=-100, le=100, description="Wheel clicks; positive scrolls up (or right if horizontal).")
    x: Coord | None = None
    y: Coord | None = None
    horizontal: bool = False

    def summary(self) -> str:
        """``scroll 3 horizontal (x, y)``."""
        point = f" ({self.x}, {self.y})" if self.x is not None and self.y is not None else ""
        return f"scroll {self.amount}{' horizontal' if self.horizontal else ''}{point}"


class Wait(_Action):
    """Do nothing for a while, to let the screen catch up."""

    type: Literal["wait"] = "wait"
    seconds: float = Field(ge=0, le=30)

    def summary(self) -> str:
        """``wait 1.5 s``."""
        return f"wait {self.seconds} s"


class Done(_Action):
    """Declare the task finished (success or failure), with an optional answer. Performs no input."""

    type: Literal["done"] = "done"
    status: Literal["success", "failure"] = "success"
    answer: str | None = Field(None, max_length=10_000)

    def summary(self) -> str:
        """``done success``."""
        return f"done {self.status}"


class ClickText(_Action):
    """Click visible text, read as a person reads it: found by OCR on every monitor (fuzzy on case, spacing and
    OCR slips; a text wrapped over several lines is one match; text that shows only part of the asked words is
    never clicked); the vision model grounds it when OCR cannot see it. ``near`` picks among several matches."""

    type: Literal["click_text"] = "click_text"
    semantic: ClassVar[bool] = True
    text: str = Field(min_length=1, max_length=500, description="The text as shown on screen, e.g. 'Submit'.")
    occurrence: int | None = Field(
        None, ge=1, le=100, description="Which match, in reading order, when the text appears several times."
    )
    near: Near = None
    monitor: OnMonitor = None
    button: Literal["left", "right", "middle"] = "left"
    clicks: int = Field(1, ge=1, le=3)


class ClickElement(_Action):
    """Click an element by the id describe_screen gave it; refused if the screen changed since that snapshot."""

    type: Literal["click_element"] = "click_element"
    semantic: ClassVar[bool] = True
    element_id: str = Field(min_length=1, max_length=32, description="An element id such as 'e3'.")
    snapshot_id: str = Field(min_length=1, max_length=64, description="The snapshot_id of that describe_screen.")


class FillInput(_Action):
    """Find the input belonging to a visible label (right of it, below it, or the label shown inside the
    field as its placeholder), replace its content with ``value``, then read the field back."""

    type: Literal["fill_input"] = "fill_input"
    semantic: ClassVar[bool] = True
    label: str = Field(min_length=1, max_length=500, description="The label shown next to the field, e.g. 'Email'.")
    value: str = Field(max_length=TEXT_CEILING, description="The new content; empty clears the field.")

    def summary(self) -> str:
        """``fill_input 'Email' = 'a@b.c'``."""
        near = f" near {_short(self.near)}" if self.near else ""
        return f"fill_input {_short(self.label)} = {_short(self.value)}{near}"

    near: Near = None
    monitor: OnMonitor = None


class GotoUrl(_Action):
    """In the focused browser window: focus the address bar (ctrl+L), type the URL, press Enter."""

    type: Literal["goto_url"] = "goto_url"
    semantic: ClassVar[bool] = True
    url: str = Field(min_length=1, max_length=4000, description="An http(s) URL.")


class UploadFile(_Action):
    """Upload a local file: open the upload control (click ``label`` if given), wait for the native file
    dialog, enter the path and read it back, confirm, wait for the dialog to close, and check that the
    file's name now shows near the control."""

    type: Literal["upload_file"] = "upload_file"
    semantic: ClassVar[bool] = True
    path: str = Field(min_length=1, max_length=4096, description="Absolute path of an existing local file.")
    label: str | None = Field(None, max_length=500, description="Text of the upload button to click first.")
    near: Near = None
    monitor: OnMonitor = None


class FocusWindow(_Action):
    """Raise a window and give it the keyboard (restoring it if minimised); checks that it has the keyboard."""

    type: Literal["focus_window"] = "focus_window"
    desktop: ClassVar[bool] = True
    window: WindowName


class MoveResizeWindow(_Action):
    """Place a window's content area at (x, y) with this size (screen pixels); checks where it ends up."""

    type: Literal["move_resize_window"] = "move_resize_window"
    desktop: ClassVar[bool] = True
    window: WindowName
    x: Coord
    y: Coord
    width: int = Field(ge=1, le=100_000)
    height: int = Field(ge=1, le=100_000)

    def summary(self) -> str:
        """``move_resize_window 'Editor' -> (x, y) WxH``."""
        return f"move_resize_window {self.window!r} -> ({self.x}, {self.y}) {self.width}x{self.height}"


class CloseWindow(_Action):
    """Close a window as its close button does (destructive: unsaved work may be lost, or the application asks
    first); checks that it is gone."""

    type: Literal["close_window"] = "close_window"
    desktop: ClassVar[bool] = True
    window: WindowName


class LaunchApp(_Action):
    """Start an application the server's policy lists (`policy.launch_allowed`), detached from the server; reports
    its window once it maps."""

    type: Literal["launch_app"] = "launch_app"
    desktop: ClassVar[bool] = True
    name: str = Field(min_length=1, max_length=500, description="An entry of the policy's launch_allowed, exactly.")
    timeout: float = Field(10.0, gt=0, le=60, description="Seconds to wait for its window to map.")


class ClipboardWrite(_Action):
    """Put text (any Unicode) on the clipboard, then read it back; paste it with key ctrl+v."""

    type: Literal["clipboard_write"] = "clipboard_write"
    desktop: ClassVar[bool] = True
    text: str = Field(max_length=TEXT_CEILING)

    def summary(self) -> str:
        """``clipboard_write 'text' (n chars)``."""
        return f"clipboard_write {_short(self.text)} ({len(self.text)} chars)"


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
    | UploadFile
    | FocusWindow
    | MoveResizeWindow
    | CloseWindow
    | LaunchApp
    | ClipboardWrite,
    Field(discriminator="type"),
]
"""One GUI action; ``type`` selects the variant. The semantic ones are resolved against the screen first."""

ALL_ACTIONS: tuple[type[_Action], ...] = get_args(get_args(Action)[0])
"""Every action class, in the order the union lists them."""
SEMANTIC_ACTIONS = tuple(cls for cls in ALL_ACTIONS if cls.semantic)
DESKTOP_ACTIONS = tuple(cls for cls in ALL_ACTIONS if cls.desktop)
PRIMITIVE_ACTIONS = tuple(cls for cls in ALL_ACTIONS if not cls.semantic and not cls.desktop)
ACTION_TYPES: tuple[str, ...] = tuple(cls.model_fields["type"].default for cls in ALL_ACTIONS)
"""Every action's ``type`` name (what ``policy.allowed_actions`` lists)."""

PrimitiveAction = Click | DoubleClick | RightClick | Move | Drag | TypeText | Key | Scroll | Wait | Done
SemanticAction = ClickText | ClickElement | FillInput | GotoUrl | UploadFile
DesktopAction = FocusWindow | MoveResizeWindow | CloseWindow | LaunchApp | ClipboardWrite
AnyAction = PrimitiveAction | SemanticAction | DesktopAction


def catalogue() -> str:
    """One line per action, ``- type: what it does``, from the classes' own docstrings (for tool descriptions)."""
    lines = []
    for cls in ALL_ACTIONS:
        doc = " ".join((cls.__doc__ or "").split())
        lines.append(f"- {cls.model_fields['type'].default}: {doc}")
    return "\n".join(lines)


def describe(action: dict[str, Any]) -> str:
    """:meth:`summary` of a recorded action, or its plain type when the record is not a valid action."""
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(Action).validate_python(action).summary()  # type: ignore[no-any-return]
    except ValidationError:
        return str(action.get("type", "?"))

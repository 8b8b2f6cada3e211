"""tools/plan.py::to_action: Qwen3-VL computer_use calls (0-1000 grid) to our actions (screen pixels)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from engine.geometry import Frame
from engine.vlm.parsing import ToolCall
from tools.actions.vocabulary import (
    Action,
    Click,
    ClickText,
    Done,
    DoubleClick,
    Drag,
    FillInput,
    GotoUrl,
    Key,
    Move,
    RightClick,
    Scroll,
    TypeText,
    UploadFile,
    Wait,
)
from tools.plan import to_action

LAPTOP = Frame(0, 0, 1366, 768, 1366, 768)
REGION = Frame(200, 150, 800, 600, 800, 600)
POINTER = (10, 20)


def act(frame: Frame = LAPTOP, name: str = "computer_use", **arguments: Any) -> Any:
    return to_action(ToolCall(name, arguments), frame, POINTER)


@pytest.mark.parametrize(
    ("arguments", "on_laptop", "on_region"),
    [
        ({"action": "left_click", "coordinate": [500, 500]}, Click(x=683, y=384), Click(x=600, y=450)),
        ({"action": "click", "coordinate": [250, 250]}, Click(x=341, y=192), Click(x=400, y=300)),
        ({"action": "LEFT_CLICK", "coordinate": [1000, 1000]}, Click(x=1365, y=767), Click(x=999, y=749)),
        ({"action": "left_click", "coordinate": [-20, 1500]}, Click(x=0, y=767), Click(x=200, y=749)),
        ({"action": "left_click", "coordinate": ["500", "500"]}, Click(x=683, y=384), Click(x=600, y=450)),
        ({"action": "double_click", "coordinate": [500, 500]}, DoubleClick(x=683, y=384), DoubleClick(x=600, y=450)),
        ({"action": "right_click", "coordinate": [500, 500]}, RightClick(x=683, y=384), RightClick(x=600, y=450)),
        (
            {"action": "middle_click", "coordinate": [500, 500]},
            Click(x=683, y=384, button="middle"),
            Click(x=600, y=450, button="middle"),
        ),
        (
            {"action": "triple_click", "coordinate": [500, 500]},
            Click(x=683, y=384, clicks=3),
            Click(x=600, y=450, clicks=3),
        ),
        ({"action": "mouse_move", "coordinate": [500, 500]}, Move(x=683, y=384), Move(x=600, y=450)),
        (
            {"action": "left_click_drag", "start_coordinate": [100, 100], "coordinate": [500, 500]},
            Drag(x=136, y=76, to_x=683, to_y=384),
            Drag(x=280, y=210, to_x=600, to_y=450),
        ),
        (  # no start: the drag starts where the pointer is now
            {"action": "left_click_drag", "coordinate": [500, 500]},
            Drag(x=10, y=20, to_x=683, to_y=384),
            Drag(x=10, y=20, to_x=600, to_y=450),
        ),
        ({"action": "type", "text": "hello"}, TypeText(text="hello"), TypeText(text="hello")),
        (
            {"action": "type", "text": "Café", "coordinate": [500, 500]},
            TypeText(text="Café", x=683, y=384),
            TypeText(text="Café", x=600, y=450),
        ),
        (
            {"action": "scroll", "pixels": -5, "coordinate": [500, 500]},
            Scroll(amount=-5, x=683, y=384),
            Scroll(amount=-5, x=600, y=450),
        ),
        (
            {"action": "hscroll", "pixels": 3, "coordinate": [500, 500]},
            Scroll(amount=3, x=683, y=384, horizontal=True),
            Scroll(amount=3, x=600, y=450, horizontal=True),
        ),
    ],
)
def test_pointer_actions_on_a_screen_and_on_a_region(arguments: dict[str, Any], on_laptop: Any, on_region: Any) -> None:
    assert act(LAPTOP, **arguments) == on_laptop
    assert act(REGION, **arguments) == on_region


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"action": "key", "keys": ["ctrl", "a"]}, Key(keys=["ctrl", "a"])),
        ({"action": "key", "keys": "ctrl+a"}, Key(keys=["ctrl", "a"])),
        ({"action": "key", "keys": ["ctrl+shift+t"]}, Key(keys=["ctrl", "shift", "t"])),
        ({"action": "key", "keys": ["Return"]}, Key(keys=["Return"])),  # names are normalised when executed
        ({"action": "key", "key": "enter"}, Key(keys=["enter"])),
        ({"action": "key", "keys": ["ctrl++"]}, Key(keys=["ctrl", "+"])),
        ({"action": "wait", "time": 2}, Wait(seconds=2.0)),
        ({"action": "wait"}, Wait(seconds=1.0)),
        ({"action": "wait", "time": None}, Wait(seconds=1.0)),  # null parameters count as not given
        ({"action": "wait", "time": 600}, Wait(seconds=30.0)),
        ({"action": "wait", "time": -1}, Wait(seconds=0.0)),
        ({"action": "terminate", "status": "success"}, Done(status="success")),
        ({"action": "terminate", "status": "failure"}, Done(status="failure")),
        ({"action": "terminate", "status": "FAILURE"}, Done(status="failure")),
        ({"action": "terminate"}, Done(status="success")),
        ({"action": "answer", "text": "42 files"}, Done(status="success", answer="42 files")),
        (
            {"action": "left_click", "coordinate": [500, 500], "text": None, "pixels": None, "keys": None},
            Click(x=683, y=384),
        ),
    ],
)
def test_keyboard_and_control_actions(arguments: dict[str, Any], expected: Any) -> None:
    assert act(**arguments) == expected


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"action": "click_text", "text": "Submit"}, ClickText(text="Submit")),
        ({"action": "click_text", "text": "Open", "occurrence": 2}, ClickText(text="Open", occurrence=2)),
        ({"action": "click_text", "text": "Open", "occurrence": "2"}, ClickText(text="Open", occurrence=2)),
        ({"action": "click_text", "text": "Open", "occurrence": None}, ClickText(text="Open")),
        ({"action": "fill_input", "label": "Email", "value": "a@b.c"}, FillInput(label="Email", value="a@b.c")),
        ({"action": "fill_input", "label": "Email", "text": "a@b.c"}, FillInput(label="Email", value="a@b.c")),
        ({"action": "fill_input", "label": "Notes"}, FillInput(label="Notes", value="")),  # clears the field
        ({"action": "goto_url", "url": "https://example.org"}, GotoUrl(url="https://example.org")),
        ({"action": "goto_url", "text": "example.org"}, GotoUrl(url="example.org")),
        ({"action": "upload_file", "path": "/tmp/a.pdf"}, UploadFile(path="/tmp/a.pdf")),
        (
            {"action": "upload_file", "path": "/tmp/a.pdf", "label": "Browse…"},
            UploadFile(path="/tmp/a.pdf", label="Browse…"),
        ),
    ],
)
def test_semantic_actions(arguments: dict[str, Any], expected: Any) -> None:
    assert act(**arguments) == expected


def test_zero_scroll_is_not_an_action() -> None:
    with pytest.raises(ValueError, match="non-zero"):
        act(action="scroll", pixels=0)


@pytest.mark.parametrize(
    ("pixels", "wheel_clicks"),
    [
        # Values up to 20 are wheel clicks; larger ones are distances at 100 px per click (at least 1),
        # and the result is capped at 30 clicks either way. Positive scrolls up.
        (-5, -5),
        (5, 5),
        (1, 1),
        (10, 10),
        (20, 10),  # above 10: a distance, but never fewer than 10 clicks (monotone)
        (-20, -10),
        (-500, -10),
        (1000, 10),
        (1500, 15),
        (2500, 25),
        (10_000, 30),
        (-10_000, -30),
        (0.4, 1),  # a fraction never becomes a no-op
        (-0.4, -1),
        ("-5", -5),
        (None, -3),  # not given: three clicks down
    ],
)
def test_scroll_amounts(pixels: Any, wheel_clicks: int) -> None:
    assert act(action="scroll", pixels=pixels) == Scroll(amount=wheel_clicks)
    assert act(action="hscroll", pixels=pixels) == Scroll(amount=wheel_clicks, horizontal=True)


def test_scroll_without_pixels() -> None:
    assert act(action="scroll") == Scroll(amount=-3)


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("browser", {"action": "left_click", "coordinate": [1, 2]}, "unknown function 'browser'"),
        ("computer_use", {"action": "swipe", "coordinate": [1, 2]}, "unknown computer_use action 'swipe'"),
        ("computer_use", {"coordinate": [1, 2]}, "unknown computer_use action ''"),
        ("computer_use", {"action": "left_click"}, "left_click needs a coordinate"),
        ("computer_use", {"action": "double_click", "coordinate": None}, "double_click needs a coordinate"),
        ("computer_use", {"action": "left_click_drag", "start_coordinate": [1, 2]}, "needs a coordinate"),
        ("computer_use", {"action": "mouse_move", "coordinate": [1, 2, 3]}, r"coordinate must be \[x, y\]"),
        ("computer_use", {"action": "mouse_move", "coordinate": "500,500"}, r"coordinate must be \[x, y\]"),
        ("computer_use", {"action": "mouse_move", "coordinate": ["a", 2]}, "could not convert"),
        ("computer_use", {"action": "mouse_move", "coordinate": [None, 2]}, "malformed"),
        ("computer_use", {"action": "mouse_move", "coordinate": [[1], 2]}, "malformed"),
        ("computer_use", {"action": "mouse_move", "coordinate": [float("nan"), 2]}, "finite"),
        ("computer_use", {"action": "mouse_move", "coordinate": [float("inf"), 2]}, "finite"),
        ("computer_use", {"action": "left_click_drag", "start_coordinate": [1], "coordinate": [1, 2]}, "start_"),
        ("computer_use", {"action": "key", "keys": []}, "non-empty list"),
        ("computer_use", {"action": "key"}, "non-empty list"),
        ("computer_use", {"action": "key", "keys": {"ctrl": True}}, "non-empty list"),
        ("computer_use", {"action": "scroll", "pixels": float("inf")}, "finite"),
        ("computer_use", {"action": "scroll", "pixels": [3]}, "malformed"),
        ("computer_use", {"action": "scroll", "pixels": "lots"}, "could not convert"),
        ("computer_use", {"action": "wait", "time": "soon"}, "could not convert"),
        ("computer_use", {"action": "type"}, "text"),  # nothing to type
        ("computer_use", {"action": "click_text"}, "text"),
        ("computer_use", {"action": "click_text", "text": "OK", "occurrence": 0}, "occurrence"),
        ("computer_use", {"action": "click_text", "text": "OK", "occurrence": "first"}, "invalid literal"),
        ("computer_use", {"action": "fill_input", "value": "x"}, "label"),
        ("computer_use", {"action": "goto_url"}, "url"),
        ("computer_use", {"action": "upload_file", "label": "Upload"}, "path"),
    ],
)
def test_invalid_calls_raise_value_error(name: str, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_action(ToolCall(name, arguments), LAPTOP, POINTER)


def test_results_are_valid_members_of_the_action_union() -> None:
    adapter = TypeAdapter(Action)
    calls = [
        {"action": "triple_click", "coordinate": [1, 1]},
        {"action": "left_click_drag", "coordinate": [900, 900]},
        {"action": "type", "text": "x", "coordinate": [0, 0]},
        {"action": "hscroll", "pixels": -300},
        {"action": "answer", "text": "yes"},
        {"action": "click_text", "text": "Save", "occurrence": 1},
        {"action": "fill_input", "label": "Name", "value": "Ada"},
    ]
    for arguments in calls:
        action = act(REGION, **arguments)
        assert adapter.validate_python(action.model_dump()) == action

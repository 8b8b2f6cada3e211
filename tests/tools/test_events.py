"""tools/actions/events.py::plan_events and tools/desktop/keys.py: actions to validated primitive input events."""

from __future__ import annotations

import ast
import importlib.util
import string
import warnings
from pathlib import Path
from typing import Any

import pytest

from tools.actions.events import plan_events
from tools.actions.vocabulary import Click, Done, DoubleClick, Drag, Key, Move, RightClick, Scroll, TypeText, Wait
from tools.desktop.capture import Monitor
from tools.desktop.inputs import InputEvent, PyAutoGuiDriver, split_text
from tools.desktop.keys import PYAUTOGUI_KEY_NAMES, normalize_chord, normalize_key, split_chord, valid_key_names
from tools.errors import ActionRefused, DesktopUnavailable, InvalidAction
from tools.safety.policy import Policy, check_action

SINGLE = [Monitor(0, 0, 1366, 768, index=0), Monitor(0, 0, 1366, 768, index=1)]
# Two monitors of different heights side by side: the bounding box has a dead strip under monitor 2.
DUAL = [Monitor(0, 0, 3200, 1080, index=0), Monitor(0, 0, 1920, 1080, index=1), Monitor(1920, 0, 1280, 1024, index=2)]
# The second monitor left of the primary, at negative x.
LEFT = [
    Monitor(-1280, 0, 3200, 1080, index=0),
    Monitor(0, 0, 1920, 1080, index=1),
    Monitor(-1280, 0, 1280, 1024, index=2),
]

KEYS = {"ctrl", "shift", "alt", "enter", "esc", "tab", "win", "command", "pageup", "f5", "a", "t", "5", "+"}


def is_valid_key(name: str) -> bool:
    return name in KEYS


def events(action: Any, monitors: list[Monitor] = SINGLE, **kwargs: Any) -> list[InputEvent]:
    return plan_events(action, monitors, is_valid_key, **kwargs)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (Click(x=683, y=384), [InputEvent("click", x=683, y=384, button="left", clicks=1)]),
        (Click(x=0, y=0, button="middle", clicks=3), [InputEvent("click", x=0, y=0, button="middle", clicks=3)]),
        (DoubleClick(x=1365, y=767), [InputEvent("click", x=1365, y=767, button="left", clicks=2)]),
        (RightClick(x=10, y=20), [InputEvent("click", x=10, y=20, button="right", clicks=1)]),
        (Move(x=10, y=20), [InputEvent("move", x=10, y=20)]),
        (
            Drag(x=100, y=100, to_x=301, to_y=201),
            [
                InputEvent("move", x=100, y=100),
                InputEvent("mouse_down", x=100, y=100, button="left"),
                InputEvent("move", x=200, y=150),  # an intermediate move, so apps see a drag
                InputEvent("move", x=301, y=201),
                InputEvent("mouse_up", x=301, y=201, button="left"),
            ],
        ),
        (TypeText(text="hello"), [InputEvent("write", text="hello")]),
        (TypeText(text="two\nlines\tand tab"), [InputEvent("write", text="two\nlines\tand tab")]),
        (
            TypeText(text="alice", x=500, y=300),
            [InputEvent("click", x=500, y=300, button="left", clicks=1), InputEvent("write", text="alice")],
        ),
        (Key(keys=["Control", "Return"]), [InputEvent("hotkey", keys=("ctrl", "enter"))]),
        (Key(keys=["ctrl+shift+T"]), [InputEvent("hotkey", keys=("ctrl", "shift", "t"))]),
        (Scroll(amount=-5), [InputEvent("scroll", amount=-5)]),
        (Scroll(amount=3, x=683, y=384), [InputEvent("scroll", x=683, y=384, amount=3)]),
        (Scroll(amount=-2, x=1, y=2, horizontal=True), [InputEvent("hscroll", x=1, y=2, amount=-2)]),
        (Wait(seconds=2.5), [InputEvent("sleep", seconds=2.5)]),
        (Done(status="success", answer="42"), []),
        (Done(status="failure"), []),
    ],
)
def test_actions_become_primitive_events(action: Any, expected: list[InputEvent]) -> None:
    assert events(action) == expected


@pytest.mark.parametrize(
    ("monitors", "point"),
    [
        (DUAL, (1919, 1079)),
        (DUAL, (1920, 0)),
        (DUAL, (3199, 1023)),
        (LEFT, (-1280, 0)),
        (LEFT, (-1, 1023)),
        (LEFT, (0, 1079)),
        ([Monitor(0, 0, 800, 600, index=0)], (799, 599)),  # only a bounding box: it is the screen
    ],
)
def test_points_on_any_monitor_are_accepted(monitors: list[Monitor], point: tuple[int, int]) -> None:
    assert events(Move(x=point[0], y=point[1]), monitors) == [InputEvent("move", x=point[0], y=point[1])]


@pytest.mark.parametrize(
    ("monitors", "action"),
    [
        (SINGLE, Click(x=1366, y=10)),
        (SINGLE, Click(x=10, y=768)),
        (SINGLE, Click(x=-1, y=10)),
        (DUAL, Click(x=2500, y=1050)),  # inside the bounding box, but in the gap under monitor 2
        (DUAL, Move(x=3200, y=0)),
        (LEFT, RightClick(x=-100, y=1050)),  # the gap under the left monitor
        (LEFT, DoubleClick(x=-1281, y=0)),
        (SINGLE, Drag(x=10, y=10, to_x=2000, to_y=10)),  # the end point is checked too
        (SINGLE, Drag(x=-5, y=10, to_x=20, to_y=10)),
        (SINGLE, TypeText(text="x", x=5000, y=5)),
        (SINGLE, Scroll(amount=1, x=10, y=-3)),
    ],
)
def test_points_off_every_monitor_are_refused(monitors: list[Monitor], action: Any) -> None:
    with pytest.raises(InvalidAction, match=r"is outside the screen .*nothing was done"):
        events(action, monitors)


def test_off_screen_message_lists_the_monitors() -> None:
    with pytest.raises(InvalidAction) as info:
        events(Click(x=2500, y=1050), DUAL)
    assert str(info.value) == (
        "point (2500, 1050) is outside the screen (monitor 1: x 0..1919, y 0..1079; "
        "monitor 2: x 1920..3199, y 0..1023); nothing was done"
    )


@pytest.mark.parametrize(
    ("monitors", "action"),
    [
        (SINGLE, Click(x=0, y=0)),
        (SINGLE, Click(x=1365, y=767)),
        (SINGLE, Move(x=0, y=767)),
        (SINGLE, Drag(x=400, y=300, to_x=1365, to_y=0)),
        (SINGLE, TypeText(text="hi", x=0, y=0)),
        (DUAL, Click(x=3199, y=0)),  # the desktop's corner, on the right-hand monitor
    ],
)
def test_with_the_failsafe_on_a_desktop_corner_is_refused(monitors: list[Monitor], action: Any) -> None:
    with pytest.raises(InvalidAction, match="fail-safe would abort every later action; nothing was done"):
        events(action, monitors, failsafe=True)
    assert events(action, monitors, failsafe=False)  # the operator who turned it off can reach the corner


def test_the_corner_refusal_names_a_point_just_inside() -> None:
    with pytest.raises(InvalidAction, match=r"e\.g\. \(1364, 766\)"):
        events(Click(x=1365, y=767), SINGLE, failsafe=True)
    assert events(Click(x=1, y=0), SINGLE, failsafe=True)  # next to a corner is fine


@pytest.mark.parametrize(
    "action",
    [TypeText(text="a", x=5), TypeText(text="a", y=5), Scroll(amount=1, x=5), Scroll(amount=1, y=5)],
)
def test_half_a_point_is_refused(action: Any) -> None:
    with pytest.raises(InvalidAction, match="give both x and y, or neither"):
        events(action)


@pytest.mark.parametrize("text", ["\x1b[A", "a\rb", "nul\x00", "bell\x07"])
def test_control_characters_are_refused(text: str) -> None:
    with pytest.raises(InvalidAction, match="control characters; use a key action"):
        events(TypeText(text=text))


def test_text_length_limit_is_the_policys_one_rule() -> None:
    # The events carry any text the schema admits; the configured limit is checked once, by the policy.
    long = "a" * 20_000  # above the limit the event planner used to apply on its own
    assert "".join(e.text or "" for e in events(TypeText(text=long))) == long
    policy = Policy(max_text_length=5)
    check_action(policy, TypeText(text="abcde"))
    assert events(TypeText(text="abcde")) == [InputEvent("write", text="abcde")]
    with pytest.raises(ActionRefused, match="the text is 6 characters long; at most 5") as caught:
        check_action(policy, TypeText(text="abcdef"))
    assert caught.value.rule == "max_text_length"


def test_non_ascii_text_is_split_into_runs() -> None:
    assert events(TypeText(text="Café Ñandú 你好")) == [
        InputEvent("write", text="Caf"),
        InputEvent("unicode", text="é"),
        InputEvent("write", text=" "),
        InputEvent("unicode", text="Ñ"),
        InputEvent("write", text="and"),
        InputEvent("unicode", text="ú"),
        InputEvent("write", text=" "),
        InputEvent("unicode", text="你好"),
    ]


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("", []),
        ("ß", [("unicode", "ß")]),
        ("😀 ok\n", [("unicode", "😀"), ("write", " ok\n")]),
        ("a~b", [("write", "a~b")]),
    ],
)
def test_split_text(text: str, runs: list[tuple[str, str]]) -> None:
    assert [(e.op, e.text) for e in split_text(text)] == runs
    assert "".join(e.text or "" for e in split_text(text)) == text


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("Control", "ctrl"),
        ("CTRL", "ctrl"),
        ("Return", "enter"),
        ("Escape", "esc"),
        ("A", "a"),
        ("a", "a"),
        ("5", "5"),
        ("+", "+"),
        ("PgUp", "pageup"),
        ("Page_Up", "pageup"),
        ("cmd", "command"),
        ("Super", "win"),
        ("ArrowLeft", "left"),
        (" Tab ", "tab"),
        ("F5", "f5"),
    ],
)
def test_normalize_key(key: str, name: str) -> None:
    assert normalize_key(key) == name


@pytest.mark.parametrize(
    ("keys", "flat"),
    [
        (["ctrl", "a"], ["ctrl", "a"]),
        (["ctrl+shift+t"], ["ctrl", "shift", "t"]),
        (["ctrl+a", "enter"], ["ctrl", "a", "enter"]),
        (["+"], ["+"]),
        (["ctrl", "+"], ["ctrl", "+"]),
        (["ctrl++"], ["ctrl", "+"]),  # ctrl and the plus key
        (["ctrl+shift++"], ["ctrl", "shift", "+"]),
    ],
)
def test_split_chord(keys: list[str], flat: list[str]) -> None:
    assert split_chord(keys) == flat


def test_normalize_chord() -> None:
    assert normalize_chord(["Control", "Shift+T"], is_valid_key) == ["ctrl", "shift", "t"]
    assert normalize_chord(["ctrl++"], is_valid_key) == ["ctrl", "+"]


def test_unknown_keys_are_refused_by_name() -> None:
    with pytest.raises(InvalidAction) as info:
        events(Key(keys=["ctrl", "Hyper", "foo"]))
    message = str(info.value)
    assert message.startswith("unknown key name(s): 'hyper', 'foo'. Use pyautogui names")
    assert "'ctrl'" not in message.split(".")[0]


def test_an_empty_chord_is_refused() -> None:
    with pytest.raises(InvalidAction, match="at least one key"):
        normalize_chord([], is_valid_key)


def test_event_to_dict_drops_unused_fields() -> None:
    assert InputEvent("hotkey", keys=("ctrl", "a")).to_dict() == {"op": "hotkey", "keys": ["ctrl", "a"]}
    assert InputEvent("click", x=0, y=0, button="left", clicks=1).to_dict() == {
        "op": "click", "x": 0, "y": 0, "button": "left", "clicks": 1,
    }  # fmt: skip


def test_windows_line_endings_are_typed_as_newlines() -> None:
    assert events(TypeText(text="a\r\nb")) == [InputEvent("write", text="a\nb")]


@pytest.mark.parametrize("text", ["del\x7f", "c1\x85", "cr\rlone"])
def test_other_control_characters_are_refused(text: str) -> None:
    with pytest.raises(InvalidAction, match="control characters"):
        events(TypeText(text=text))


def test_with_no_display_points_cannot_be_checked_but_keys_can() -> None:
    with pytest.raises(DesktopUnavailable, match=r"no display to check the point \(5, 6\)"):
        events(Click(x=5, y=6), [])
    assert events(Key(keys=["ctrl", "t"]), []) == [InputEvent("hotkey", keys=("ctrl", "t"))]


# pyautogui's source, read (never imported: that needs a display) to catch drift in the static tables.
PYAUTOGUI = Path(importlib.util.find_spec("pyautogui").origin or "").parent  # type: ignore[union-attr]


def _parse(module: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the X11 table's '\\e': an invalid escape warning (which class varies)
        return ast.parse((PYAUTOGUI / module).read_text())


def _assigned_list(module: str, name: str) -> list[str]:
    for node in _parse(module).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"no {name} in pyautogui/{module}")


def _mapped_keys(module: str) -> set[str]:
    """Keys of ``keyboardMapping.update({...})`` in a platform module whose value is not ``None``."""
    keys: set[str] = set()
    for node in ast.walk(_parse(module)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "keyboardMapping"
        ):
            table = node.args[0]
            assert isinstance(table, ast.Dict)
            for key, value in zip(table.keys, table.values, strict=True):
                if not (isinstance(value, ast.Constant) and value.value is None):
                    keys.add(ast.literal_eval(key))  # type: ignore[arg-type]
    return keys


def test_static_key_names_equal_pyautogui_source() -> None:
    assert tuple(_assigned_list("__init__.py", "KEY_NAMES")) == PYAUTOGUI_KEY_NAMES


@pytest.mark.parametrize(
    ("platform", "module", "also"),
    [
        # The loops after each table: X11 maps letters and digits, macOS uppercase letters, Windows all of ASCII.
        ("linux", "_pyautogui_x11.py", set(string.ascii_letters + string.digits)),
        ("darwin", "_pyautogui_osx.py", set(string.ascii_uppercase)),
        ("win32", "_pyautogui_win.py", {chr(c) for c in range(32, 128)}),
    ],
)
def test_static_valid_keys_equal_pyautogui_source(platform: str, module: str, also: set[str]) -> None:
    assert valid_key_names(platform) == _mapped_keys(module) | also


def test_valid_keys_are_per_platform() -> None:
    x11, mac, windows = valid_key_names("linux"), valid_key_names("darwin"), valid_key_names("win32")
    assert {"ctrl", "shift", "alt", "win", "enter", "f5", "a", "+"} <= x11
    assert "command" not in x11 and "volumeup" not in x11  # pyautogui would press nothing there
    assert "command" in mac and "win" not in mac
    assert "win" in windows and "volumeup" in windows and "command" not in windows


def test_the_driver_validates_keys_without_loading_pyautogui() -> None:
    driver = PyAutoGuiDriver()
    assert driver.is_valid_key("ctrl") and not driver.is_valid_key("hyper")
    assert driver._pyautogui is None
    assert normalize_chord(["Control", "Return"], driver.is_valid_key) == ["ctrl", "enter"]

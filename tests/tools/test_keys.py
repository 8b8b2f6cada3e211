"""tools/desktop/keys.py: one name per key (canonical) for judging chords, pyautogui's spelling for pressing."""

from __future__ import annotations

import pytest

from tools.desktop.keys import MODIFIERS, PYAUTOGUI_KEY_NAMES, canonical, normalize_key
from tools.safety.policy import canonical_chord, parse_chord


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Control", "ctrl"),
        ("ctrlright", "ctrl"),
        ("lctrl", "ctrl"),
        ("RCTRL", "ctrl"),
        ("altgr", "alt"),
        ("Option", "alt"),
        ("optionleft", "alt"),
        ("cmd", "win"),
        ("command", "win"),
        ("Super", "win"),
        ("winright", "win"),
        ("shiftleft", "shift"),
        ("PrtSc", "printscreen"),
        ("prntscrn", "printscreen"),
        ("SysRq", "printscreen"),
        ("Del", "delete"),
        ("Return", "enter"),
        ("A", "a"),
        ("+", "+"),
    ],
)
def test_canonical_names_the_key_whatever_its_spelling(name: str, key: str) -> None:
    assert canonical(name) == key


@pytest.mark.parametrize(("name", "pressed"), [("rctrl", "ctrlright"), ("cmd", "command"), ("altgr", "altright")])
def test_keys_are_pressed_as_spelled_with_their_side_and_platform_name(name: str, pressed: str) -> None:
    assert normalize_key(name) == pressed
    assert canonical(name) != pressed  # the policy still sees one key


def test_every_pyautogui_name_has_one_canonical_name_that_is_itself_canonical() -> None:
    for name in PYAUTOGUI_KEY_NAMES:
        assert canonical(canonical(name)) == canonical(name)
    assert {canonical(f"{mod}{side}") for mod in MODIFIERS[:4] for side in ("left", "right")} == set(MODIFIERS[:4])


def test_the_policy_compares_chords_in_canonical_names() -> None:
    keys = ["ctrlright", "Option", "Del"]
    assert canonical_chord(keys) == {canonical(k) for k in keys} == parse_chord("ctrl+alt+delete")

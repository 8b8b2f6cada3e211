"""Key names: normalise the many spellings models and people use, refuse what pyautogui would ignore.

Validation is pure: the tables below are pyautogui's own (0.9.54), so checking a key needs neither a
display nor the input library, and dry runs and policy refusals work with no desktop at all.
tests/test_events.py and tests/test_x_display.py compare them with pyautogui so that drift is caught.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Callable, Iterable

from tools.errors import InvalidAction

_ALIASES = {
    "control": "ctrl", "ctl": "ctrl", "lctrl": "ctrlleft", "rctrl": "ctrlright",
    "return": "enter", "escape": "esc", "del": "delete", "ins": "insert",
    "cmd": "command", "meta": "win", "super": "win", "windows": "win", "os": "win",
    "option": "alt", "opt": "alt", "altgr": "altright",
    "pgup": "pageup", "page_up": "pageup", "pgdn": "pagedown", "page_down": "pagedown",
    "arrowup": "up", "arrowdown": "down", "arrowleft": "left", "arrowright": "right",
    "arrow_up": "up", "arrow_down": "down", "arrow_left": "left", "arrow_right": "right",
    "spacebar": "space", " ": "space", "bksp": "backspace", "back_space": "backspace",
    "caps_lock": "capslock", "num_lock": "numlock", "print_screen": "printscreen", "prtsc": "printscreen",
    "+": "+", "plus": "+", "minus": "-",
}  # fmt: skip
"""Other spellings of pyautogui's key names: what :func:`normalize_key` turns them into, to be pressed."""

MODIFIERS = ("ctrl", "alt", "shift", "win", "fn")
"""The modifier keys as :func:`canonical` names them, in the order chords are written."""

# pyautogui presses these names as written (ctrlright is Control_R, command is macOS's key), but
# each is the same key as its value to anyone judging a chord: a modifier's sides, macOS's names
# for alt and win, and print screen's several names.
_SAME_KEY = {
    **{f"{mod}{side}": mod for mod in ("ctrl", "alt", "shift", "win") for side in ("left", "right")},
    "optionleft": "alt", "optionright": "alt", "command": "win",
    "prntscrn": "printscreen", "prtscr": "printscreen", "print": "printscreen", "sysrq": "printscreen",
}  # fmt: skip

PYAUTOGUI_KEY_NAMES: tuple[str, ...] = (
    '\t', '\n', '\r', ' ', '!', '"', '#', '$', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/', '0', '1', '2',
    '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '^', '_', '`', 'a', 'b',
    'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x',
    'y', 'z', '{', '|', '}', '~', 'accept', 'add', 'alt', 'altleft', 'altright', 'apps', 'backspace', 'browserback',
    'browserfavorites', 'browserforward', 'browserhome', 'browserrefresh', 'browsersearch', 'browserstop',
    'capslock', 'clear', 'convert', 'ctrl', 'ctrlleft', 'ctrlright', 'decimal', 'del', 'delete', 'divide', 'down',
    'end', 'enter', 'esc', 'escape', 'execute', 'f1', 'f10', 'f11', 'f12', 'f13', 'f14', 'f15', 'f16', 'f17', 'f18',
    'f19', 'f2', 'f20', 'f21', 'f22', 'f23', 'f24', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'final', 'fn',
    'hanguel', 'hangul', 'hanja', 'help', 'home', 'insert', 'junja', 'kana', 'kanji', 'launchapp1', 'launchapp2',
    'launchmail', 'launchmediaselect', 'left', 'modechange', 'multiply', 'nexttrack', 'nonconvert', 'num0', 'num1',
    'num2', 'num3', 'num4', 'num5', 'num6', 'num7', 'num8', 'num9', 'numlock', 'pagedown', 'pageup', 'pause',
    'pgdn', 'pgup', 'playpause', 'prevtrack', 'print', 'printscreen', 'prntscrn', 'prtsc', 'prtscr', 'return',
    'right', 'scrolllock', 'select', 'separator', 'shift', 'shiftleft', 'shiftright', 'sleep', 'space', 'stop',
    'subtract', 'tab', 'up', 'volumedown', 'volumemute', 'volumeup', 'win', 'winleft', 'winright', 'yen', 'command',
    'option', 'optionleft', 'optionright',
)  # fmt: skip
"""``pyautogui.KEY_NAMES`` (alias ``KEYBOARD_KEYS``): every name pyautogui knows on some platform."""

_UPPERCASE = frozenset(string.ascii_uppercase)

# pyautogui's isValidKey is per platform: a KEY_NAMES entry its platform module maps to no key code is
# pressed as a silent no-op, so it is not valid there; the modules also map a few names KEY_NAMES lacks.
_UNMAPPED: dict[str, frozenset[str]] = {
    "x11": frozenset({
        'accept', 'browserback', 'browserfavorites', 'browserforward', 'browserhome', 'browserrefresh',
        'browsersearch', 'browserstop', 'clear', 'command', 'convert', 'final', 'fn', 'hanguel', 'hangul', 'hanja',
        'junja', 'kana', 'kanji', 'launchapp1', 'launchapp2', 'launchmail', 'launchmediaselect', 'modechange',
        'nexttrack', 'nonconvert', 'option', 'optionleft', 'optionright', 'playpause', 'prevtrack', 'sleep', 'stop',
        'volumedown', 'volumemute', 'volumeup', 'yen',
    }),
    "darwin": frozenset({
        'accept', 'add', 'altright', 'apps', 'browserback', 'browserfavorites', 'browserforward', 'browserhome',
        'browserrefresh', 'browsersearch', 'browserstop', 'clear', 'convert', 'decimal', 'divide', 'execute', 'f21',
        'f22', 'f23', 'f24', 'final', 'hanguel', 'hangul', 'hanja', 'insert', 'junja', 'kanji', 'launchapp1',
        'launchapp2', 'launchmail', 'launchmediaselect', 'modechange', 'multiply', 'nexttrack', 'nonconvert',
        'num0', 'num1', 'num2', 'num3', 'num4', 'num5', 'num6', 'num7', 'num8', 'num9', 'numlock', 'pause',
        'playpause', 'prevtrack', 'print', 'printscreen', 'prntscrn', 'prtsc', 'prtscr', 'scrolllock', 'select',
        'separator', 'sleep', 'stop', 'subtract', 'win', 'winleft', 'winright',
    }),
    "win32": frozenset({'\r', 'command', 'fn', 'option', 'optionleft', 'optionright', 'yen'}),
}  # fmt: skip
_EXTRA: dict[str, frozenset[str]] = {
    "x11": _UPPERCASE | {'\b', '\\e'},  # '\\e' (backslash, e) is a literal typo in pyautogui's X11 table
    "darwin": _UPPERCASE | {'\b', 'eisu'},
    "win32": _UPPERCASE | {'\b', 'super', '\x7f'},
}  # fmt: skip


def _family(platform: str) -> str:
    """pyautogui's choice of platform module: macOS, Windows, X11 for everything else."""
    return platform if platform in ("darwin", "win32") else "x11"


def valid_key_names(platform: str | None = None) -> frozenset[str]:
    """The names ``pyautogui.isValidKey`` accepts on ``platform`` (a ``sys.platform`` value; default: this one)."""
    family = _family(sys.platform if platform is None else platform)
    return (frozenset(PYAUTOGUI_KEY_NAMES) - _UNMAPPED[family]) | _EXTRA[family]


_VALID = valid_key_names()


def is_valid_key(name: str) -> bool:
    """Whether pyautogui presses ``name`` on this platform (pure: needs no display and no input library)."""
    return name in _VALID


def split_chord(keys: Iterable[str]) -> list[str]:
    """Flatten ``["ctrl+a"]`` or ``["ctrl", "a"]`` into single key names (a lone "+" stays a key,
    and a trailing "++" is the "+" key: ``"ctrl++"`` is ctrl and +)."""
    out: list[str] = []
    for key in keys:
        head, tail = (key[:-2], ["+"]) if len(key) > 2 and key.endswith("++") else (key, [])
        if len(head) > 1 and "+" in head.strip("+"):
            out.extend(part for part in head.split("+") if part)
        else:
            out.append(head)
        out.extend(tail)
    return out


def normalize_key(key: str) -> str:
    """Canonical pyautogui spelling of one key name (case-insensitive, single characters kept)."""
    if len(key) == 1:
        return key.lower() if key.isalpha() else key
    name = key.strip().lower()
    return _ALIASES.get(name, name)


def canonical(name: str) -> str:
    """The key ``name`` is, whatever its spelling: pyautogui's name, case-free, with a modifier's
    sides and platform names folded (``"Control"``, ``"ctrlright"`` and ``"lctrl"`` are ``ctrl``;
    ``"cmd"`` is ``win``). Chords are compared in these names; keys are pressed as :func:`normalize_key`
    spells them."""
    key = normalize_key(name)
    return _SAME_KEY.get(key, key)


def normalize_chord(keys: Iterable[str], is_valid: Callable[[str], bool]) -> list[str]:
    """Normalise and validate a chord; unknown names raise :class:`InvalidAction` listing them."""
    names = [normalize_key(k) for k in split_chord(keys)]
    unknown = [k for k in names if not is_valid(k)]
    if unknown:
        raise InvalidAction(
            f"unknown key name(s): {', '.join(repr(k) for k in unknown)}. Use pyautogui names such as "
            "'ctrl', 'alt', 'shift', 'win', 'enter', 'esc', 'tab', 'backspace', 'delete', 'up', 'f5', or one character."
        )
    if not names:
        raise InvalidAction("a key action needs at least one key")
    return names

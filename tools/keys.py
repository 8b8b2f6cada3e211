"""Key names: normalise the many spellings models and people use, refuse what pyautogui would ignore."""

from __future__ import annotations

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

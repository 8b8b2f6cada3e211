"""Typing any Unicode text on X11 through XTest, with one keyboard remapping per text, not one per character.

X can only type keysyms that some keycode carries, so characters the keyboard lacks (CJK, most
accents) go on spare keycodes first. Tools such as ``xdotool key`` remap a keycode for every
character and restore it straight after; each remap makes every application reload the keyboard
map, and Chromium was seen to read key events with the map of a neighbouring moment: characters
came out doubled or dropped ("无线蓝牙耳机" arrived as "无蓝牙耳机") and a click after the typing was
lost. Here every character of the text gets its keycode once, applications are given time to load
that map, the text is typed with the map unchanged, and the spare keycodes are restored at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from tools.errors import DesktopUnavailable

MAP_SETTLE = 0.25
"""Seconds applications get to load a changed keyboard map before keys arrive, and after the last key."""
KEY_DELAY = 0.012


def keysym_for(char: str) -> int:
    """The X keysym of one character: Latin-1 keysyms equal the code point, the rest are 0x1000000 + it."""
    code = ord(char)
    return code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x1000000 + code


def _segments(text: str, room: int) -> Iterator[str]:
    """Consecutive pieces of ``text`` with at most ``room`` distinct characters each."""
    piece: list[str] = []
    distinct: set[str] = set()
    for char in text:
        if char not in distinct and len(distinct) == room:
            yield "".join(piece)
            piece, distinct = [], set()
        piece.append(char)
        distinct.add(char)
    if piece:
        yield "".join(piece)


def type_text(display: Any, text: str) -> None:
    """Type ``text`` on ``display`` (a python-xlib Display); blocks until typed and the map is restored."""
    from Xlib import X
    from Xlib.ext import xtest

    first = display.display.info.min_keycode
    count = display.display.info.max_keycode - first + 1
    mapping = display.get_keyboard_mapping(first, count)
    spare = [first + i for i, row in enumerate(mapping) if not any(row)]
    if not spare:
        raise DesktopUnavailable("cannot type non-ASCII text: the keyboard map has no spare keycode")
    for piece in _segments(text, len(spare)):
        codes = dict(zip(dict.fromkeys(piece), spare, strict=False))
        try:
            for char, keycode in codes.items():
                display.change_keyboard_mapping(keycode, [(keysym_for(char), keysym_for(char))])
            display.sync()
            time.sleep(MAP_SETTLE)
            for char in piece:
                xtest.fake_input(display, X.KeyPress, codes[char])
                xtest.fake_input(display, X.KeyRelease, codes[char])
                display.sync()
                time.sleep(KEY_DELAY)
            time.sleep(MAP_SETTLE)
        finally:
            for keycode in codes.values():
                display.change_keyboard_mapping(keycode, [tuple(mapping[keycode - first])])
            display.sync()

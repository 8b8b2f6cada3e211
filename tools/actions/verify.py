"""Checks that a semantic action's stage did what it was for, by looking at the screen again.

Each check is bounded in time and returns a :class:`~tools.results.Check`: ``ok`` True when it saw
the effect, False when it saw that the effect did not happen, None when it could not tell. The
caller stops the action at the first False.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import anyio
import numpy as np
from PIL import Image

from engine.geometry import Frame, screen_to_image
from engine.ocr.reader import TextBox
from engine.text.find import TextMatch, normalize, similarity, squash
from tools.desktop.capture import Capture
from tools.desktop.screen_text import screen_lines
from tools.desktop.settle import changed_in_thread, fingerprint_in_thread, wait_for_settle
from tools.desktop.windows import Window, focused_window
from tools.results import Check
from tools.runtime import Runtime

DIALOG_TIMEOUT = 8.0
"""How long a file dialog may take to open, or to close after its path is confirmed."""
POLL = 0.1
MIN_DIALOG = (200, 120)
"""Without X to ask, a dialog is a change at least this large (screen pixels)."""
_MASKS = set("•●*·∙")
CARET_BLINK = 0.6
"""Longer than a text caret's blink phase (GTK and Chromium: 0.5-0.6 s)."""


@dataclass
class Dialog:
    """What an upload knows about its file dialog: the screen and focus before, the dialog once seen."""

    before: Capture
    before_window: Window | None
    window: Window | None = None
    box: tuple[int, int, int, int] | None = None
    shot: Capture | None = None


async def _settled(runtime: Runtime, frame: Frame, timeout: float = 2.0) -> Capture:
    region = frame.rect
    last: list[Capture] = []

    async def grab() -> object:
        capture = await runtime.capturer.grab(region, frame.monitor)
        last[:] = [capture]
        return capture.image

    await wait_for_settle(grab, timeout=timeout, interval=0.1)  # type: ignore[arg-type]
    return last[0]


def _inside(line: TextBox, box: tuple[int, int, int, int], slack: int = 4) -> bool:
    x1, y1, x2, y2 = line.box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return box[0] - slack <= cx <= box[2] + slack and box[1] - slack <= cy <= box[3] + slack


def _reads_as(read: str, wanted: str) -> bool:
    """Whether OCR's ``read`` shows ``wanted`` (OCR may slip a character or drop spaces)."""
    a, b = squash(read), squash(wanted)
    if not b:
        return not a
    return a == b or similarity(read, wanted) >= 0.85 or (len(b) >= 12 and b in a)


def _same_but_slips(read: str, wanted: str) -> bool:
    """Equal after :func:`squash`, or as long with at most one OCR slip in eight characters."""
    a, b = squash(read), squash(wanted)
    if a == b:
        return True
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= max(1, len(b) // 8)


async def read_box(runtime: Runtime, capture: Capture, box: tuple[int, int, int, int]) -> str:
    """OCR of one screen box on its own, enlarged twice (small field text reads more exactly), uncached."""
    if runtime.ocr is None:
        return ""
    frame = capture.frame
    x1, y1 = screen_to_image(frame, box[0] - 3, box[1] - 3)
    x2, y2 = screen_to_image(frame, box[2] + 3, box[3] + 3)
    crop = capture.image.crop((max(0, x1), max(0, y1), min(capture.image.width, x2), min(capture.image.height, y2)))
    crop = crop.convert("RGB").resize((crop.width * 2, crop.height * 2), Image.Resampling.LANCZOS)
    engine = runtime.ocr.engine
    lines = await anyio.to_thread.run_sync(lambda: engine.read(np.asarray(crop)))
    # A field's own widgets at its right end (a number input's spinner, a select's arrow, a clear button)
    # read as a stray glyph or two: they are not its value.
    kept = [line for line in lines if not (len(line.text.strip()) <= 2 and line.box[0] > 0.8 * crop.width)]
    return " ".join(line.text for line in sorted(kept, key=lambda line: (line.box[1] // 24, line.box[0])))


async def value_in_field(runtime: Runtime, frame: Frame, field: tuple[int, int, int, int], value: str) -> Check:
    """Read the field back: does it show ``value``?"""
    capture = await _settled(runtime, frame)
    read = await read_box(runtime, capture, field)
    if value and not _same_but_slips(read, value):
        # A blinking caret after the last character reads as one more letter ("100l"); it is off in half of
        # the moments, so one more look past its blink period decides.
        await anyio.sleep(CARET_BLINK)
        again = await read_box(runtime, await runtime.capturer.grab(frame.rect, frame.monitor), field)
        read = again if _same_but_slips(again, value) else read
    name = "value in field"
    if not value:
        if not read:
            return Check(name=name, ok=True, detail="the field is empty")
        return Check(name=name, ok=None, detail=f"the field shows {read!r} (a placeholder?)")
    if read and set(read.replace(" ", "")) <= _MASKS:
        return Check(name=name, ok=None, detail="the field masks its content (a password field)")
    if _same_but_slips(read, value) or (len(squash(value)) >= 24 and squash(value) in squash(read)):
        return Check(name=name, ok=True, detail=f"the field at {list(field)} shows {read!r}")
    if similarity(read, value) >= 0.85:
        return Check(name=name, ok=None, detail=f"OCR reads the field as {read!r}, close to {value!r} but not it")
    shown = repr(read) if read else "nothing"
    return Check(name=name, ok=False, detail=f"the field at {list(field)} shows {shown}, not {value!r}")


async def dialog_opened(runtime: Runtime, dialog: Dialog) -> Check:
    """Wait, bounded, for a new window to take the keyboard (or, without X, for a dialog-sized change)."""
    frame = dialog.before.frame
    before = await fingerprint_in_thread(dialog.before.image)
    started = time.perf_counter()
    while time.perf_counter() - started < DIALOG_TIMEOUT:
        await anyio.sleep(POLL)
        window = await focused_window()
        if window is not None and (dialog.before_window is None or window.id != dialog.before_window.id):
            dialog.window, dialog.box = window, window.box
            break
        if window is None:
            now = await runtime.capturer.grab(frame.rect, frame.monitor)
            box = await changed_in_thread(before, now.image)
            if box is not None and box[2] - box[0] >= MIN_DIALOG[0] and box[3] - box[1] >= MIN_DIALOG[1]:
                dialog.box = (box[0] + frame.x, box[1] + frame.y, box[2] + frame.x, box[3] + frame.y)
                break
    else:
        return Check(name="dialog opened", ok=False, detail=f"no file dialog appeared within {DIALOG_TIMEOUT:g} s")
    dialog.shot = await _settled(runtime, frame)
    title = f" {dialog.window.title!r}" if dialog.window is not None and dialog.window.title else ""
    return Check(name="dialog opened", ok=True, detail=f"dialog{title} at {list(dialog.box or ())}")


async def path_entered(runtime: Runtime, dialog: Dialog, path: str) -> Check:
    """Read the dialog back: does a field show exactly ``path`` (nothing autocompleted onto it)?"""
    frame = dialog.before.frame
    capture = await _settled(runtime, frame, timeout=1.5)
    lines = await screen_lines(runtime, capture)
    if dialog.box is not None:
        lines = [line for line in lines if _inside(line, dialog.box, slack=0)]
    name = "path entered"
    wanted, base = squash(path), squash(os.path.basename(path))
    for line in lines:
        shown = squash(line.text)
        # A long path scrolls in its field, which then shows its end: a tail holding the file name counts.
        tail = len(shown) >= len(base) and base in shown and wanted.endswith(shown)
        if _reads_as(line.text, path) or shown.endswith(wanted) or tail:
            if not await anyio.to_thread.run_sync(os.path.isfile, path):
                return Check(
                    name=name,
                    ok=False,
                    detail=f"{path!r} no longer exists, so the dialog was not confirmed. The dialog is still open: "
                    "press Escape to close it",
                )
            return Check(name=name, ok=True, detail=f"the dialog shows {line.text!r}")
    seen = [line.text for line in lines if base[:6] in squash(line.text)] or [line.text for line in lines[:6]]
    return Check(
        name=name,
        ok=False,
        detail=f"the dialog does not show the path {path!r} (it shows {seen}); nothing was confirmed. "
        "The dialog is still open: press Escape to close it",
    )


CONFIRM_WORDS = ("open", "save", "ok", "select", "choose", "upload", "attach", "打开", "保存", "确定", "选择", "上传")
"""What a file dialog's confirming button says (GTK, Qt, Tk, Windows; English and Chinese)."""


async def confirm_button(runtime: Runtime, dialog: Dialog) -> tuple[int, int] | None:
    """The centre of the dialog's confirming button (the lowest, rightmost one that says Open/Save/OK...)."""
    if dialog.box is None:
        return None
    capture = await runtime.capturer.grab(None, dialog.before.frame.monitor)
    lines = [line for line in await screen_lines(runtime, capture) if _inside(line, dialog.box, slack=0)]
    buttons = [line for line in lines if squash(line.text) in CONFIRM_WORDS]
    if not buttons:
        return None
    best = max(buttons, key=lambda line: (line.box[3] // 8, line.box[2]))
    return (best.box[0] + best.box[2]) // 2, (best.box[1] + best.box[3]) // 2


async def dialog_closed(runtime: Runtime, dialog: Dialog) -> Check:
    """Wait, bounded, for the dialog to go away after its path was confirmed."""
    frame = dialog.before.frame
    started = time.perf_counter()
    name = "dialog closed"
    while time.perf_counter() - started < DIALOG_TIMEOUT:
        await anyio.sleep(POLL)
        if dialog.window is not None:
            window = await focused_window()
            if window is None or window.id != dialog.window.id:
                return Check(name=name, ok=True, detail="the file dialog closed")
            continue
        if dialog.box is None or dialog.shot is None:
            return Check(name=name, ok=None, detail="no dialog was seen to wait for")
        now = await runtime.capturer.grab(frame.rect, frame.monitor)
        x1, y1 = screen_to_image(frame, dialog.box[0], dialog.box[1])
        x2, y2 = screen_to_image(frame, dialog.box[2], dialog.box[3])
        then = await fingerprint_in_thread(dialog.shot.image.crop((x1, y1, x2, y2)))
        box = await changed_in_thread(then, now.image.crop((x1, y1, x2, y2)))
        if box is not None and (box[2] - box[0]) * (box[3] - box[1]) >= 0.5 * (x2 - x1) * (y2 - y1):
            return Check(name=name, ok=True, detail="the file dialog closed")
    return Check(
        name=name,
        ok=False,
        detail=f"the file dialog was still open {DIALOG_TIMEOUT:g} s after confirming (it may show an error, "
        "e.g. the file no longer exists); press Escape to close it",
    )


async def file_shown(runtime: Runtime, frame: Frame, name: str, control: TextMatch | None) -> Check:
    """Does the file's name now show on screen, near the control that opened the dialog?"""
    capture = await _settled(runtime, frame)
    lines = await screen_lines(runtime, capture)
    box = None if control is None else control.box
    if box is not None:
        x1, y1, x2, y2 = box
        lines = [line for line in lines if line.box[0] < x2 + 700 and line.box[2] > x1 - 300
                 and line.box[1] < y2 + 200 and line.box[3] > y1 - 200]
    wanted = squash(name)
    for line in lines:
        text = squash(line.text)
        if wanted in text or similarity(line.text, name) >= 0.85 or (len(text) >= 6 and text in wanted
                                                                      and normalize(line.text).endswith("...")):
            return Check(name="file attached", ok=True, detail=f"{line.text!r} shows at {list(line.box)}")
    where = " near the upload control" if box is not None else ""
    return Check(
        name="file attached",
        ok=False,
        detail=f"the dialog closed but {name!r} does not show{where}; the application may not have taken the file",
    )

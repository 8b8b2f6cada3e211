"""Semantic actions, resolved against the screen as it is now into primitive actions.

``click_text`` and ``fill_input`` read the screen with OCR (the vision model grounds the target when
OCR cannot find it), ``click_element`` checks that the screen still looks like the snapshot the id
came from, ``goto_url`` and ``upload_file`` are fixed key sequences. Nothing is clicked on a guess:
absent, ambiguous or stale targets are errors that say what to do instead.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

import anyio

from engine.coords import grid_to_screen, image_to_screen
from engine.ocr import TextBox
from engine.textfind import TextMatch
from tools.actions import Click, ClickElement, ClickText, FillInput, GotoUrl, Key, TypeText, UploadFile, Wait
from tools.capture import Capture, Region
from tools.errors import DesktopUnavailable, InvalidAction
from tools.fields import find_field
from tools.locate import find_text
from tools.model_calls import ask_model
from tools.runtime import Runtime
from tools.settle import changed_box, fingerprint

Primitive = Click | Key | TypeText | Wait
SemanticAction = ClickText | ClickElement | FillInput | GotoUrl | UploadFile
STALE_SHARE = 0.3
"""Share of a snapshot's area that may change before its element ids are no longer trusted."""


async def screen_lines(runtime: Runtime, capture: Capture) -> list[TextBox]:
    """The text on ``capture`` (cached/incremental OCR), boxes and character positions in screen pixels."""
    if runtime.ocr is None:
        raise DesktopUnavailable("reading text on screen needs OCR, which is off or not installed")
    frame = capture.frame
    text = await runtime.ocr.aread(capture.image, (frame.x, frame.y, frame.width, frame.height))
    lines = []
    for line in text.lines:
        x1, y1 = image_to_screen(frame, line.box[0], line.box[1])
        x2, y2 = image_to_screen(frame, line.box[2], line.box[3])
        chars = tuple(image_to_screen(frame, x, line.box[1])[0] for x in line.chars)
        lines.append(TextBox(line.text, (x1, y1, x2, y2), line.confidence, chars))
    return lines


async def locate_text(runtime: Runtime, capture: Capture, text: str, occurrence: int | None) -> TextMatch:
    """Where ``text`` is: OCR first; when OCR does not see it, the vision model's point grounding."""
    lines = await screen_lines(runtime, capture) if runtime.ocr is not None else []
    try:
        return find_text(lines, text, occurrence)
    except InvalidAction as exc:
        absent = "not visible" in str(exc)
        if not absent or runtime.engine is None or occurrence is not None:
            raise
        points = await ask_model(runtime.engine.locate(capture.image, text))
        gx1, gy1, gx2, gy2 = points[0].box
        x, y = grid_to_screen(capture.frame, (gx1 + gx2) / 2, (gy1 + gy2) / 2)
        return TextMatch((x, y, x + 1, y + 1), text, 0.0, (x, y, x + 1, y + 1), "model")


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")
"""A scheme without "//" (javascript:, data:, mailto:); "localhost:8080" is a host and port."""


def _check_url(url: str) -> str:
    url = url.strip()
    if "://" not in url and _SCHEME.match(url):
        raise InvalidAction(f"goto_url takes an http(s) URL, got {url!r}")
    parsed = urlparse(url if "://" in url else f"https://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidAction(f"goto_url takes an http(s) URL, got {url!r}")
    return parsed.geturl()


async def _click_element(runtime: Runtime, action: ClickElement) -> list[Primitive]:
    snapshot = runtime.snapshots.get(action.snapshot_id)
    if snapshot is None:
        raise InvalidAction(f"snapshot {action.snapshot_id!r} is unknown or too old; call describe_screen again")
    element = next((e for e in snapshot.elements if e.get("id") == action.element_id), None)
    if element is None:
        ids = ", ".join(str(e.get("id")) for e in snapshot.elements[:40])
        raise InvalidAction(f"snapshot {action.snapshot_id} has no element {action.element_id!r} (it has: {ids})")
    if snapshot.fingerprint is not None:
        frame = snapshot.frame
        now = await runtime.capturer.grab(Region(frame.x, frame.y, frame.width, frame.height), frame.monitor)
        current = fingerprint(now.image)
        diff = changed_box(snapshot.fingerprint, current)
        if diff is not None:
            x1, y1, x2, y2 = diff
            share = (x2 - x1) * (y2 - y1) / (current.width * current.height)
            bx1, by1, bx2, by2 = (int(v) for v in element["bbox"])  # type: ignore[attr-defined]
            ex1, ey1 = bx1 - frame.x - 4, by1 - frame.y - 4
            ex2, ey2 = bx2 - frame.x + 4, by2 - frame.y + 4
            overlaps = changed_box(snapshot.fingerprint.crop((ex1, ey1, ex2, ey2)), current.crop((ex1, ey1, ex2, ey2)))
            if share > STALE_SHARE or overlaps is not None:
                raise InvalidAction(
                    f"the screen changed since snapshot {action.snapshot_id} "
                    f"({'the element itself changed' if overlaps is not None else f'{share:.0%} of it changed'}); "
                    "call describe_screen again for fresh element ids"
                )
    x, y = (int(v) for v in element["center"])  # type: ignore[attr-defined]
    return [Click(x=x, y=y)]


async def resolve(runtime: Runtime, action: SemanticAction, capture: Capture | None = None) -> list[Primitive]:
    """The primitive actions that perform ``action`` on the screen as it is now."""
    match action:
        case ClickElement():
            return await _click_element(runtime, action)
        case GotoUrl():
            return [Key(keys=["ctrl", "l"]), TypeText(text=_check_url(action.url)), Key(keys=["enter"])]
    capture = capture or await runtime.capturer.grab(None, runtime.settings.default_monitor)
    match action:
        case ClickText():
            x, y = (await locate_text(runtime, capture, action.text, action.occurrence)).center
            return [Click(x=x, y=y, button=action.button, clicks=action.clicks)]
        case FillInput():
            label = await locate_text(runtime, capture, action.label, None)
            point = find_field(capture.image, capture.frame, label.box)
            if point is None:
                raise InvalidAction(f"found the label {action.label!r} but no input field to its right or below it")
            clear = [Key(keys=["ctrl", "a"])]
            fill = [TypeText(text=action.value)] if action.value else [Key(keys=["delete"])]
            return [Click(x=point[0], y=point[1]), *clear, *fill]
        case UploadFile():
            exists = await anyio.to_thread.run_sync(os.path.isfile, action.path)
            if not os.path.isabs(action.path) or not exists:
                raise InvalidAction(f"upload_file needs an absolute path to an existing file, got {action.path!r}")
            opener: list[Primitive] = []
            if action.label:
                x, y = (await locate_text(runtime, capture, action.label, None)).center
                opener = [Click(x=x, y=y), Wait(seconds=1.0)]
            # GTK, Qt and Windows file dialogs all take a typed path after ctrl+L and confirm on Enter.
            return [*opener, Key(keys=["ctrl", "l"]), TypeText(text=action.path), Key(keys=["enter"])]
    raise InvalidAction(f"unsupported action {action.type!r}")  # pragma: no cover - union is closed

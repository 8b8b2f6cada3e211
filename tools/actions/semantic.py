"""Semantic actions, resolved against the screen as it is now into stages of primitive actions.

``click_text`` and ``fill_input`` read every monitor (or the one named) with OCR, the vision model
grounding the target when OCR cannot find it; ``click_element`` checks that the screen still looks
like the snapshot the id came from; ``goto_url`` is a fixed key sequence; ``upload_file`` drives a
native file dialog. Nothing is clicked on a guess: absent, ambiguous or stale targets are errors
that say what to do instead.

An action becomes :class:`Stage` s: the primitives to send, then a check of what they did. The
primitives of every stage are known (and policy-checked) before anything is sent; the checks run
between stages, and a failed check stops the action there, naming the stage, with nothing more sent.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlparse

import anyio

from engine.geometry import image_box_to_screen, image_to_screen, screen_to_image
from engine.ocr.reader import TextBox
from engine.text.find import TextMatch
from engine.vlm.refine import SecondLook
from tools.actions import a11y_targets, verify
from tools.actions.fields import Field, find_field
from tools.actions.locate import TextNotFound, candidates, find_text
from tools.actions.vocabulary import (
    Click,
    ClickElement,
    ClickText,
    FillInput,
    GotoUrl,
    Key,
    SemanticAction,
    TypeText,
    UploadFile,
    Wait,
)
from tools.desktop.capture import Capture
from tools.desktop.screen_text import screen_lines
from tools.desktop.settle import changed_box, changed_in_thread, fingerprint_in_thread
from tools.desktop.windows import focused_window
from tools.errors import InvalidAction
from tools.model_calls import ask_model
from tools.results import Check
from tools.runtime import Runtime

Primitive = Click | Key | TypeText | Wait
"""What semantic actions resolve to."""
LOOK_AGAIN = 3.0
"""Seconds a text that is not on screen yet is looked for again, while the screen is still changing."""
STALE_SHARE = 0.3
"""Share of a snapshot's area that may change before its element ids are no longer trusted."""


@dataclass
class Stage:
    """One step of an action: primitives to send, then (optionally) a check of their effect."""

    name: str
    actions: list[Primitive]
    check: Callable[[], Awaitable[Check]] | None = None
    decide: Callable[[], Awaitable[list[Primitive]]] | None = None
    """Chooses the primitives only when the stage runs (a button that shows only then); they replace
    ``actions`` and pass the same policy checks first."""


def _find(lines: list[TextBox], text: str, occurrence: int | None, near: str | None) -> TextMatch:
    return find_text(lines, text, occurrence, near=near)


async def locate_text(
    runtime: Runtime, capture: Capture, text: str, occurrence: int | None, near: str | None = None
) -> TextMatch:
    """Where ``text`` is: OCR first; when OCR does not see it at all, the vision model's point grounding."""
    lines = await screen_lines(runtime, capture) if runtime.ocr is not None else []
    try:
        return _find(lines, text, occurrence, near)
    except TextNotFound as exc:
        if exc.context or runtime.engine is None or occurrence is not None or near is not None:
            raise
        finder = SecondLook(runtime.engine)
        looking = finder.look if runtime.settings.second_look else finder.single
        look = await ask_model(looking(capture.image, text))
        if look.point is None:
            shown = "; ".join(
                f"{image_to_screen(capture.frame, c.x, c.y)} ({c.votes} look(s))" for c in look.candidates
            )
            raise InvalidAction(
                f"{text!r} is not in the screen's text, and the model could not settle where it is ({look.reason}); "
                f"nothing was clicked. Candidates (screen points): {shown or 'none'}. Zoom into them, or click one "
                "by its coordinates"
            ) from exc
        x, y = image_to_screen(capture.frame, *look.point)
        return TextMatch((x, y, x + 1, y + 1), text, look.confidence, (x, y, x + 1, y + 1), "model")


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


async def _click_element(runtime: Runtime, action: ClickElement) -> list[Stage]:
    snapshot = runtime.snapshots.get(action.snapshot_id)
    if snapshot is None:
        raise InvalidAction(f"snapshot {action.snapshot_id!r} is unknown or too old; call describe_screen again")
    element = next((e for e in snapshot.elements if e.get("id") == action.element_id), None)
    if element is None:
        ids = ", ".join(str(e.get("id")) for e in snapshot.elements[:40])
        raise InvalidAction(f"snapshot {action.snapshot_id} has no element {action.element_id!r} (it has: {ids})")
    if snapshot.fingerprint is not None:
        frame = snapshot.frame
        now = await runtime.capturer.grab(frame.rect, frame.monitor)
        current = await fingerprint_in_thread(now.image)
        diff = await anyio.to_thread.run_sync(changed_box, snapshot.fingerprint, current)
        if diff is not None:
            x1, y1, x2, y2 = diff
            share = (x2 - x1) * (y2 - y1) / (current.width * current.height)
            bx1, by1, bx2, by2 = (int(v) for v in element["bbox"])  # type: ignore[attr-defined]
            ix1, iy1 = screen_to_image(frame, bx1, by1)
            ix2, iy2 = screen_to_image(frame, bx2, by2)
            area = (ix1 - 4, iy1 - 4, ix2 + 4, iy2 + 4)
            overlaps = changed_box(snapshot.fingerprint.crop(area), current.crop(area))
            if share > STALE_SHARE or overlaps is not None:
                raise InvalidAction(
                    f"the screen changed since snapshot {action.snapshot_id} "
                    f"({'the element itself changed' if overlaps is not None else f'{share:.0%} of it changed'}); "
                    "call describe_screen again for fresh element ids"
                )
    x, y = (int(v) for v in element["center"])  # type: ignore[attr-defined]
    return [Stage("click", [Click(x=x, y=y)])]


def _field_on_screen(capture: Capture, label: TextMatch) -> Field | None:
    frame = capture.frame
    x1, y1 = screen_to_image(frame, label.box[0], label.box[1])
    x2, y2 = screen_to_image(frame, label.box[2], label.box[3])
    found = find_field(capture.image, (x1, y1, x2, y2))
    if found is None:
        return None
    box = image_box_to_screen(frame, found.box)
    return Field(box, image_to_screen(frame, *found.click), found.relation, found.style, found.distance)


def _nearby(lines: list[TextBox], box: tuple[int, int, int, int], reach: int = 300) -> str:
    x1, y1, x2, y2 = box
    close = [
        line
        for line in lines
        if line.box[0] < x2 + reach
        and line.box[2] > x1 - reach
        and line.box[1] < y2 + reach // 2
        and line.box[3] > y1 - reach // 2
        and line.box != box
    ]
    return ", ".join(f"{line.text!r} at {list(line.box)}" for line in close[:8]) or "no other text"


async def _fill_input(runtime: Runtime, capture: Capture, action: FillInput) -> list[Stage]:
    lines = await screen_lines(runtime, capture)
    labels = [_find(lines, action.label, None, action.near)] if action.near else candidates(lines, action.label)
    if not labels:
        _find(lines, action.label, None, None)  # raises "not visible" with the near matches
    found: dict[tuple[int, int, int, int], tuple[TextMatch, Field]] = {}
    for label in labels:
        field = _field_on_screen(capture, label)
        if field is not None:
            found.setdefault(field.box, (label, field))
    if not found:
        where = "; ".join(f"{m.text!r} at {list(m.box)} (near it: {_nearby(lines, m.box)})" for m in labels[:3])
        raise InvalidAction(
            f"found the label {action.label!r} but no input field to its right, below it or around it: {where}. "
            "Click the field and use `type`, or describe_screen to see what is there."
        )
    if len(found) > 1:
        # A label beside its field beats text inside a box: a column header over a list sits in a box just
        # as a placeholder sits in its field, but a field with a label beside it is a field for sure.
        beside = {box: pair for box, pair in found.items() if pair[1].relation != "inside"}
        found = beside if len(beside) == 1 else found
    if len(found) > 1:
        where = "; ".join(f"{m.text!r} at {list(m.box)} with a field at {list(f.box)}" for m, f in found.values())
        raise InvalidAction(
            f"the label {action.label!r} has a field beside it in {len(found)} places ({where}); "
            "pass `near` (other text next to the one you mean) to choose"
        )
    label, field = next(iter(found.values()))
    fill: list[Primitive] = [TypeText(text=action.value)] if action.value else [Key(keys=["delete"])]
    x, y = field.click
    return [
        Stage(
            "fill",
            [Click(x=x, y=y), Key(keys=["ctrl", "a"]), *fill],
            lambda: verify.value_in_field(runtime, capture.frame, field.box, action.value),
        )
    ]


async def _upload(runtime: Runtime, capture: Capture, action: UploadFile) -> list[Stage]:
    exists = await anyio.to_thread.run_sync(os.path.isfile, action.path)
    if not os.path.isabs(action.path) or not exists:
        raise InvalidAction(f"upload_file needs an absolute path to an existing file, got {action.path!r}")
    dialog = verify.Dialog(capture, await focused_window())
    stages: list[Stage] = []
    control = None
    if action.label:
        control = await locate_text(runtime, capture, action.label, None, action.near)
        x, y = control.center
        stages.append(Stage("open dialog", [Click(x=x, y=y)], lambda: verify.dialog_opened(runtime, dialog)))
    else:
        dialog.window = dialog.before_window
    # GTK and Qt choosers open a location field on ctrl+L; Tk's has its file name field focused already.
    # Selecting all first replaces whatever a chooser pre-filled.
    stages += [
        Stage(
            "enter path",
            [Key(keys=["ctrl", "l"]), Wait(seconds=0.3), Key(keys=["ctrl", "a"]), TypeText(text=action.path)],
            lambda: verify.path_entered(runtime, dialog, action.path),
        ),
        Stage(
            "confirm",
            [Key(keys=["enter"])],
            lambda: verify.dialog_closed(runtime, dialog),
            lambda: _confirm_dialog(runtime, dialog),
        ),
        Stage(
            "file attached",
            [],
            lambda: verify.file_shown(runtime, capture.frame, os.path.basename(action.path), control),
        ),
    ]
    return stages


async def _confirm_dialog(runtime: Runtime, dialog: verify.Dialog) -> list[Primitive]:
    # GTK's chooser can close on Enter in its location field without taking the file; its Open button
    # always takes it. Enter stays the way for dialogs whose button OCR cannot read.
    button = await verify.confirm_button(runtime, dialog)
    return [Key(keys=["enter"])] if button is None else [Click(x=button[0], y=button[1])]


@dataclass(frozen=True)
class Resolved:
    """A semantic action's stages, and the capture they were resolved on (``None``: no screen was read)."""

    stages: list[Stage]
    seen: Capture | None = None


async def resolve(runtime: Runtime, action: SemanticAction, capture: Capture | None = None) -> Resolved:
    """The stages that perform ``action`` on the screen as it is now."""
    match action:
        case ClickElement():
            return Resolved(await _click_element(runtime, action))
        case GotoUrl():
            url = _check_url(action.url)
            return Resolved([Stage("navigate", [Key(keys=["ctrl", "l"]), TypeText(text=url), Key(keys=["enter"])])])
    monitor = 0 if action.monitor is None else action.monitor
    capture = capture or await runtime.capturer.grab(None, monitor)
    started = time.perf_counter()
    while True:
        try:
            return Resolved(await _on_screen(runtime, capture, action), capture)
        except TextNotFound:
            # A page still rendering shows its text a moment later: look again while the screen changes.
            later = await _changed_screen(runtime, capture, LOOK_AGAIN - (time.perf_counter() - started))
            if later is None:
                raise
            capture = later


async def _changed_screen(runtime: Runtime, capture: Capture, budget: float) -> Capture | None:
    """A settled new capture once the screen differs from ``capture``; ``None`` if it stays the same."""
    frame = capture.frame
    region = frame.rect
    before = await fingerprint_in_thread(capture.image)
    deadline = time.perf_counter() + budget
    while time.perf_counter() < deadline:
        await anyio.sleep(0.2)
        now = await runtime.capturer.grab(region, frame.monitor)
        if await changed_in_thread(before, now.image) is not None:
            await anyio.sleep(0.2)  # let it finish drawing
            return await runtime.capturer.grab(region, frame.monitor)
    return None


def _said_by_ocr(stages: list[Stage], why: str) -> list[Stage]:
    """The stages with their checks saying that OCR, not the accessibility tree, read the screen, and why."""
    for stage in stages:
        check = stage.check
        if check is not None:

            async def said(check: Callable[[], Awaitable[Check]] = check) -> Check:
                return a11y_targets.by_ocr(await check(), why)

            stage.check = said
    return stages


async def _on_screen(runtime: Runtime, capture: Capture, action: ClickText | FillInput | UploadFile) -> list[Stage]:
    match action:
        case ClickText():
            target = await a11y_targets.click_target(runtime, action)
            if target.actions is not None:
                return [Stage("click", target.actions)]  # type: ignore[arg-type]
            x, y = (await locate_text(runtime, capture, action.text, action.occurrence, action.near)).center
            return [Stage("click", [Click(x=x, y=y, button=action.button, clicks=action.clicks)])]
        case FillInput():
            target = await a11y_targets.fill_target(runtime, action)
            if target.actions is not None and target.field is not None:
                field = target.field
                check = lambda: a11y_targets.value_read_back(runtime, field, action.value)  # noqa: E731
                return [Stage("fill", target.actions, check)]  # type: ignore[arg-type]
            return _said_by_ocr(await _fill_input(runtime, capture, action), target.why_not)
        case UploadFile():
            return await _upload(runtime, capture, action)
    raise InvalidAction(f"unsupported action {action.type!r}")  # pragma: no cover - union is closed

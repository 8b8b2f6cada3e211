"""click_text and fill_input through the accessibility tree, first, where the application exposes one.

The tree gives the widget's exact box and, for a field, lets the value be read back from the
application itself instead of from pixels. It is used when it answers unambiguously: one visible
widget with that name (or the ``occurrence`` asked for), one field with that label. Anything else
(``near`` given, several candidates, no tree for the window, a tree that does not name the
target) goes to OCR and the model as before, and the fill's check then says that the tree was not
there to read from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio

from tools.actions.vocabulary import Click, ClickText, FillInput, Key, TypeText
from tools.desktop.a11y.find import center, fields_for, named, visible_nodes
from tools.desktop.a11y.tree import Node, Reading
from tools.desktop.platform import WindowInfo
from tools.errors import DesktopUnavailable
from tools.results import Check
from tools.runtime import Runtime

READ_BACK = 2.0
"""Seconds the application gets to show the typed value in its tree."""


@dataclass
class Found:
    """What the tree said about a target: the primitives to send and the check after them; else why not."""

    actions: list[Click | Key | TypeText] | None = None
    check: Check | None = None
    field: Node | None = None
    why_not: str = ""


async def _reading(runtime: Runtime, monitor: int | None) -> tuple[Reading, list[WindowInfo], list[Node]] | None:
    if runtime.a11y is None:
        return None
    try:
        windows = await runtime.desktop.windows()
    except DesktopUnavailable:
        return None
    reading = await runtime.a11y.read([w for w in windows if not w.minimized])
    nodes = visible_nodes(reading, windows)
    if monitor:
        screens = [m for m in await runtime.capturer.monitors() if m.index == monitor]
        nodes = [n for n in nodes if n.box is not None and any(m.contains(*center(n.box)) for m in screens)]
    return reading, windows, nodes


def _no_tree(reading: Reading) -> str:
    missing = [f"{t.window.title!r} ({t.status})" for t in reading.trees if t.status in ("absent", "unavailable")]
    partial = [repr(t.window.title) for t in reading.trees if t.status == "partial"]
    parts = []
    if missing:
        parts.append("no accessibility tree for " + ", ".join(missing))
    if partial:
        parts.append("a partial tree for " + ", ".join(partial))
    return "; ".join(parts)


async def click_target(runtime: Runtime, action: ClickText) -> Found:
    """The click on the one widget named ``action.text``, when the tree has it."""
    read = await _reading(runtime, action.monitor)
    if read is None:
        return Found(why_not="the accessibility tree is off")
    reading, _, nodes = read
    if action.near is not None:
        return Found(why_not="`near` is matched on the screen's text")
    matches = named(nodes, action.text)
    if action.occurrence is not None:
        matches = matches[action.occurrence - 1 : action.occurrence]
    if len(matches) != 1:
        found = f"{len(matches)} widgets named {action.text!r} in the tree" if matches else ""
        return Found(why_not=found or _no_tree(reading) or f"the tree names no widget {action.text!r}")
    x, y = center(matches[0].box)  # type: ignore[arg-type]
    return Found([Click(x=x, y=y, button=action.button, clicks=action.clicks)])


async def fill_target(runtime: Runtime, action: FillInput) -> Found:
    """Click, select all and type into the one field labelled ``action.label``, when the tree has it."""
    read = await _reading(runtime, action.monitor)
    if read is None:
        return Found(why_not="the accessibility tree is off")
    reading, _, nodes = read
    if action.near is not None:
        return Found(why_not="`near` is matched on the screen's text")
    fields = fields_for(nodes, action.label)
    if len(fields) != 1:
        found = f"{len(fields)} fields labelled {action.label!r} in the tree" if fields else ""
        return Found(why_not=found or _no_tree(reading) or f"the tree has no field labelled {action.label!r}")
    field = fields[0]
    x, y = center(field.box)  # type: ignore[arg-type]
    fill: list[Click | Key | TypeText] = [TypeText(text=action.value)] if action.value else [Key(keys=["delete"])]
    return Found([Click(x=x, y=y), Key(keys=["ctrl", "a"]), *fill], field=field)


async def value_read_back(runtime: Runtime, field: Node, value: str) -> Check:
    """Read the field's text back from the application (bounded wait for it to take the typing)."""
    assert runtime.a11y is not None
    name = "value in field"
    if field.role == "password text":
        return Check(name=name, ok=None, detail="a password field does not show its text, not even to the tree")
    deadline = time.perf_counter() + READ_BACK
    read = await runtime.a11y.text_of(field.ref)
    while read != value and time.perf_counter() < deadline:
        await anyio.sleep(0.05)
        read = await runtime.a11y.text_of(field.ref)
    where = f"the {field.role} at {list(field.box or ())}"
    if read is None:
        return Check(name=name, ok=None, detail=f"{where} can no longer be read from the accessibility tree")
    if read == value:
        return Check(name=name, ok=True, detail=f"the application reports that {where} holds {read!r}")
    return Check(name=name, ok=False, detail=f"the application reports that {where} holds {read!r}, not {value!r}")


def by_ocr(check: Check, why: str) -> Check:
    """An OCR check, saying why the tree was not used."""
    return check.model_copy(update={"detail": f"{check.detail} (read by OCR: {why})"})

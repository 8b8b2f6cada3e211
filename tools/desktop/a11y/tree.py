"""Reading the accessibility trees of the visible windows, within node and time caps.

Each X window is matched to the application that owns it on the accessibility bus (by process id,
else by title) and to that application's top-level object with the same title. Its tree is read
breadth first, many calls in flight at once; a node that is not showing is kept out with everything
below it (closed menus, hidden pages). Every window gets a :class:`WindowTree` whose ``status``
says how far the reading got:

* ``complete``: every showing node was read;
* ``partial``: a cap was reached (nodes, time, a list too long to read), or parts failed to answer;
  ``detail`` says which. What was read is kept, and never called complete;
* ``absent``: the window's application is not on the bus (Tk, most games and canvas apps), or its
  tree shows nothing;
* ``unavailable``: there is no accessibility bus at all.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import anyio

from tools.desktop.a11y.atspi import (
    ACCESSIBLE,
    COMPONENT,
    COORD_SCREEN,
    RELATION_LABELLED_BY,
    TEXT,
    VALUE,
    AtspiError,
    Bus,
    states_of,
)
from tools.desktop.platform import WindowInfo

MAX_NODES = 1500
"""Nodes read per call at most, all windows together."""
MAX_SECONDS = 2.0
"""Time one reading may take, all windows together."""
MAX_CHILDREN = 300
"""Children read below one node at most (a long list is read up to here, and called partial)."""
MAX_TEXT = 2000
"""Characters of a text field's value read at most."""
IN_FLIGHT = 24
"""Calls waiting for an answer at once."""

TreeStatus = Literal["complete", "partial", "absent", "unavailable"]
Ref = tuple[str, str]
"""An object on the bus: (bus name, object path)."""

_VALUE_ROLES = frozenset({"text", "entry", "password text", "spin button", "combo box", "editbar", "terminal"})


@dataclass(frozen=True)
class Node:
    """One showing object of a window's tree."""

    ref: Ref
    role: str
    """AT-SPI's role name: ``push button``, ``text``, ``check box``, ``label``, ``frame``..."""
    name: str
    box: tuple[int, int, int, int] | None
    """Screen pixels x1, y1, x2, y2 (x2/y2 exclusive); ``None`` when it has no place on screen."""
    states: frozenset[str]
    value: str | None = None
    """A text field's current text, or a slider's or spin button's current value."""
    label: str | None = None
    """The name of the object that labels it (``labelled-by``), when that differs from its own name."""
    window: int = 0
    depth: int = 0

    @property
    def enabled(self) -> bool:
        """Enabled and sensitive, as GTK and Chromium set both for a usable widget."""
        return "enabled" in self.states and ("sensitive" in self.states or "focusable" not in self.states)


@dataclass
class WindowTree:
    """What was read for one window."""

    window: WindowInfo
    status: TreeStatus
    detail: str
    nodes: list[Node] = field(default_factory=list)
    app: str | None = None
    """The application's name on the bus, when it is there."""


@dataclass
class Reading:
    """One reading of several windows' trees, with what it cost."""

    trees: list[WindowTree]
    elapsed_ms: float

    @property
    def nodes(self) -> list[Node]:
        """Every node read, all windows together."""
        return [node for tree in self.trees for node in tree.nodes]


@dataclass
class _Budget:
    deadline: float
    nodes_left: int
    limiter: anyio.CapacityLimiter
    problems: list[str] = field(default_factory=list)

    def expired(self) -> bool:
        return time.perf_counter() >= self.deadline


@dataclass
class _App:
    name: str
    root: Ref
    pid: int | None
    app_name: str
    tops: list[tuple[Ref, str, str]]
    """Its top-level objects: (ref, name, role)."""


async def _apps(bus: Bus) -> list[_App]:
    apps: list[_App] = []
    for name, path in await bus.applications():
        try:
            app_name = str(await bus.prop(name, path, ACCESSIBLE, "Name"))
            (children,) = await bus.call(name, path, ACCESSIBLE, "GetChildren")
            tops = []
            for child in children[:50]:
                ref = (str(child[0]), str(child[1]))
                top_name = str(await bus.prop(*ref, ACCESSIBLE, "Name"))
                (role,) = await bus.call(*ref, ACCESSIBLE, "GetRoleName")
                tops.append((ref, top_name, str(role)))
        except AtspiError:  # an application that went away or hangs: it is simply not matched
            continue
        apps.append(_App(name, (name, path), await bus.pid_of(name), app_name, tops))
    return apps


def _match(window: WindowInfo, apps: Sequence[_App]) -> tuple[_App, Ref] | None:
    """The application and top-level object showing ``window``: same process (or any), same title."""
    owners = [app for app in apps if window.pid is not None and app.pid == window.pid] or list(apps)
    for app in owners:
        for ref, name, _role in app.tops:
            if name and name == window.title:
                return app, ref
    if window.pid is not None:
        for app in owners:
            showing = [ref for ref, _name, role in app.tops if role in ("frame", "dialog", "window", "alert")]
            if len(showing) == 1 and len(app.tops) == 1:
                return app, showing[0]
    return None


async def _read_node(bus: Bus, ref: Ref, window: int, depth: int, budget: _Budget) -> tuple[Node, list[Ref]] | None:
    """One node and its children's refs (none when it is not showing); ``None`` when it cannot be read."""
    async with budget.limiter:
        if budget.expired():
            return None
        try:
            (role,) = await bus.call(*ref, ACCESSIBLE, "GetRoleName")
            name = str(await bus.prop(*ref, ACCESSIBLE, "Name"))
            (words,) = await bus.call(*ref, ACCESSIBLE, "GetState")
            (interfaces,) = await bus.call(*ref, ACCESSIBLE, "GetInterfaces")
        except AtspiError as exc:
            budget.problems.append(str(exc))
            return None
        states = states_of(list(words))
        role = str(role)
        if "showing" not in states or "defunct" in states:
            return Node(ref, role, name, None, states, window=window, depth=depth), []
        box = None
        value = label = None
        try:
            if COMPONENT in interfaces:
                (x, y, w, h) = (await bus.call(*ref, COMPONENT, "GetExtents", "u", [COORD_SCREEN]))[0]
                box = (int(x), int(y), int(x) + int(w), int(y) + int(h)) if w > 0 and h > 0 and x > -(2**30) else None
            if TEXT in interfaces and (role in _VALUE_ROLES or "editable" in states):
                count = int(await bus.prop(*ref, TEXT, "CharacterCount"))
                (value,) = await bus.call(*ref, TEXT, "GetText", "ii", [0, min(count, MAX_TEXT)])
            elif VALUE in interfaces:
                value = _number(await bus.prop(*ref, VALUE, "CurrentValue"))
            if "editable" in states or role in _VALUE_ROLES:
                label = await _label(bus, ref, name)
            count = int(await bus.prop(*ref, ACCESSIBLE, "ChildCount"))
            children: list[Ref] = []
            if count > 0:
                (kids,) = await bus.call(*ref, ACCESSIBLE, "GetChildren")
                children = [(str(k[0]), str(k[1])) for k in kids]
        except AtspiError as exc:
            budget.problems.append(str(exc))
            return Node(ref, role, name, box, states, value, label, window, depth), []
        if len(children) > MAX_CHILDREN:
            budget.problems.append(f"a {role} with {len(children)} children was read up to {MAX_CHILDREN}")
            children = children[:MAX_CHILDREN]
        return Node(ref, role, name, box, states, value, label, window, depth), children


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else f"{number:g}"


async def _label(bus: Bus, ref: Ref, own: str) -> str | None:
    (relations,) = await bus.call(*ref, ACCESSIBLE, "GetRelationSet")
    for kind, targets in relations:
        if int(kind) == RELATION_LABELLED_BY and targets:
            name = str(await bus.prop(str(targets[0][0]), str(targets[0][1]), ACCESSIBLE, "Name"))
            if name and name != own:
                return name
    return None


async def _read_into(
    read: list[tuple[Node, list[Ref]] | None], index: int, bus: Bus, ref: Ref, window: int, depth: int, budget: _Budget
) -> None:
    read[index] = await _read_node(bus, ref, window, depth, budget)


async def _walk(bus: Bus, top: Ref, window: int, budget: _Budget) -> tuple[list[Node], bool]:
    """The showing nodes under ``top``, breadth first; and whether every one of them was read."""
    nodes: list[Node] = []
    level: list[Ref] = [top]
    depth = 0
    whole = True
    problems_before = len(budget.problems)
    while level:
        if budget.nodes_left <= 0 or budget.expired():
            return nodes, False
        if len(level) > budget.nodes_left:
            level, whole = level[: budget.nodes_left], False
        budget.nodes_left -= len(level)
        read: list[tuple[Node, list[Ref]] | None] = [None] * len(level)

        async with anyio.create_task_group() as group:
            for index, ref in enumerate(level):
                group.start_soon(_read_into, read, index, bus, ref, window, depth, budget)
        level = []
        for item in read:
            if item is None:  # it failed (a problem is recorded) or time ran out before it was read
                whole = False
                continue
            node, children = item
            if "showing" in node.states or depth == 0:
                nodes.append(node)
            level += children
        depth += 1
    return nodes, whole and len(budget.problems) == problems_before


async def read_windows(
    bus: Bus | None,
    windows: Sequence[WindowInfo],
    *,
    max_nodes: int = MAX_NODES,
    max_seconds: float = MAX_SECONDS,
    unavailable: str = "",
) -> Reading:
    """Read the trees of ``windows`` (minimised ones are skipped) within the caps."""
    started = time.perf_counter()
    shown = [w for w in windows if not w.minimized]
    if bus is None:
        trees = [WindowTree(w, "unavailable", unavailable or "no accessibility bus") for w in shown]
        return Reading(trees, 0.0)
    budget = _Budget(started + max_seconds, max_nodes, anyio.CapacityLimiter(IN_FLIGHT))
    try:
        with anyio.fail_after(max_seconds):
            apps = await _apps(bus)
    except TimeoutError:
        why = f"the {max_seconds:g} s time cap was reached before the accessibility registry answered: nothing was read"
        return Reading([WindowTree(w, "partial", why) for w in shown], round((time.perf_counter() - started) * 1000, 1))
    except AtspiError as exc:
        trees = [WindowTree(w, "unavailable", f"the accessibility registry did not answer: {exc}") for w in shown]
        return Reading(trees, round((time.perf_counter() - started) * 1000, 1))
    trees = []
    for window in shown:
        matched = _match(window, apps)
        if matched is None:
            trees.append(WindowTree(window, "absent", "its application exposes no accessibility tree"))
            continue
        app, top = matched
        problems_before = len(budget.problems)
        nodes, whole = await _walk(bus, top, window.id, budget)
        trees.append(_verdict(window, app.app_name, nodes, whole, budget, problems_before, max_nodes, max_seconds))
    return Reading(trees, round((time.perf_counter() - started) * 1000, 1))


def _verdict(
    window: WindowInfo,
    app: str,
    nodes: list[Node],
    whole: bool,
    budget: _Budget,
    problems_before: int,
    max_nodes: int,
    max_seconds: float,
) -> WindowTree:
    if whole:
        if not any(n.box is not None for n in nodes):
            return WindowTree(window, "absent", f"{app} exposes a tree, but nothing in it is showing", nodes, app)
        return WindowTree(window, "complete", f"{len(nodes)} showing nodes read", nodes, app)
    why = []
    if budget.nodes_left <= 0:
        why.append(f"the cap of {max_nodes} nodes was reached")
    if budget.expired():
        why.append(f"the {max_seconds:g} s time cap was reached")
    problems = budget.problems[problems_before:]
    if problems:
        why.append(f"{len(problems)} parts did not answer or were cut ({problems[0]})")
    return WindowTree(window, "partial", f"{len(nodes)} nodes read; " + "; ".join(why or ["cut short"]), nodes, app)

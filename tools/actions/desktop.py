"""Desktop actions: windows, applications and the clipboard, as operations of the one safety pipeline.

``focus_window``, ``move_resize_window``, ``close_window``, ``launch_app`` and ``clipboard_write``
are actions of the vocabulary like a click, so ``execute_action`` applies the policy, confirmation,
the rate limit and the write-ahead audit log to them exactly as to input. They send no input
events: each becomes one :class:`Operation` on the desktop platform, recorded in ``performed`` as
``{"op": ..., ...}``, followed by a bounded check that it took effect (the window got the keyboard,
sits where asked, is gone; the application's window mapped; the clipboard reads back the text).

``type`` and ``key`` may name the window that must have the keyboard (:func:`require_focus`).
``clipboard_read`` is not an action (it changes nothing), but it is gated by the policy and
audited all the same (:func:`read_clipboard`): its record holds the text's length and hash, never
the text.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from tools.actions.vocabulary import (
    ClipboardWrite,
    CloseWindow,
    DesktopAction,
    FocusWindow,
    LaunchApp,
    MoveResizeWindow,
)
from tools.desktop import launcher
from tools.desktop.capture import Monitor
from tools.desktop.platform import WindowInfo
from tools.errors import InvalidAction
from tools.results import Check
from tools.runtime import Caller, Runtime
from tools.safety.audit_records import new_id
from tools.safety.policy import refuse

FOCUS_TIMEOUT = 3.0
"""Seconds the window manager gets to hand a window the keyboard, or to move it."""
CLOSE_TIMEOUT = 5.0
"""Seconds a window gets to close after it was asked to."""
POLL = 0.05
_HEX_ID = re.compile(r"^(0x[0-9a-fA-F]+|\d+)$")


@dataclass
class Operation:
    """One desktop operation: what the audit log and a person asked to confirm see, and how to run it."""

    op: str
    args: dict[str, Any]
    run: Callable[[], Awaitable[Check]]
    window: WindowInfo | None = None
    """The window it acts on; after it ran, as it is then (or the one a launch opened)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The operation as ``performed`` lists it: ``{"op": "focus_window", "window": "0x1a00003", ...}``."""
        return {"op": self.op, **self.args}

    def describe(self) -> str:
        """For a person asked to confirm it."""
        target = f" {self.window.hex_id} {self.window.title!r} ({self.window.app})" if self.window is not None else ""
        rest = ", ".join(f"{k}={v!r}" for k, v in self.args.items() if k != "window")
        return f"{self.op}{target}" + (f" {rest}" if rest else "")


def monitor_of(window: WindowInfo, monitors: Sequence[Monitor]) -> int | None:
    """The monitor (1..) the window's centre is on, if any."""
    x, y = (window.box[0] + window.box[2]) // 2, (window.box[1] + window.box[3]) // 2
    return next((m.index for m in monitors if m.index > 0 and m.contains(x, y)), None)


def _listing(windows: list[WindowInfo]) -> str:
    return "; ".join(f"{w.hex_id} {w.title!r}" for w in windows) or "no windows"


async def find_window(runtime: Runtime, wanted: str) -> WindowInfo:
    """The window ``wanted`` names: its id (``0x1a00003`` or decimal), else the one title containing it
    (case ignored; an exact title wins over partial ones). :class:`InvalidAction` when none or several match."""
    windows = await runtime.desktop.windows()
    text = wanted.strip()
    if _HEX_ID.match(text):
        number = int(text, 0) if text.lower().startswith("0x") else int(text)
        for window in windows:
            if window.id == number:
                return window
    folded = text.casefold()
    exact = [w for w in windows if w.title.casefold() == folded]
    found = exact or [w for w in windows if folded in w.title.casefold()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InvalidAction(f"no window has the id or a title like {wanted!r} (windows: {_listing(windows)})")
    raise InvalidAction(f"{len(found)} windows have a title like {wanted!r} ({_listing(found)}); name one by its id")


async def require_focus(runtime: Runtime, wanted: str) -> WindowInfo:
    """The window named ``wanted``, which must have the keyboard; :class:`InvalidAction` when another has it."""
    window = await find_window(runtime, wanted)
    active = await runtime.desktop.active_window()
    if active is None or active.id != window.id:
        now = f"{active.hex_id} {active.title!r}" if active is not None else "no window"
        raise InvalidAction(
            f"the keyboard is with {now}, not with {window.hex_id} {window.title!r} as the action requires; "
            "nothing was sent. Call focus_window first, then try again."
        )
    return window


async def _until(probe: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    deadline = time.perf_counter() + timeout
    while True:
        value = await probe()
        if value or time.perf_counter() >= deadline:
            return value
        await anyio.sleep(POLL)


async def prepare(runtime: Runtime, action: DesktopAction) -> Operation:
    """The operation that performs ``action`` (its target found now); nothing is done yet."""
    match action:
        case FocusWindow():
            return _focus(runtime, await find_window(runtime, action.window))
        case MoveResizeWindow():
            return _move(runtime, await find_window(runtime, action.window), action)
        case CloseWindow():
            return _close(runtime, await find_window(runtime, action.window))
        case LaunchApp():
            launch = await anyio.to_thread.run_sync(launcher.resolve, action.name)
            return _launch(runtime, launch, action.timeout)
        case ClipboardWrite():
            return _clipboard(runtime, action.text)
    raise InvalidAction(f"unsupported desktop action {action.type!r}")  # pragma: no cover - union is closed


def _focus(runtime: Runtime, window: WindowInfo) -> Operation:
    operation = Operation("focus_window", {"window": window.hex_id, "title": window.title}, _noop, window)

    async def run() -> Check:
        await runtime.desktop.activate(window.id)

        async def focused() -> WindowInfo | None:
            active = await runtime.desktop.active_window()
            return active if active is not None and active.id == window.id else None

        now = await _until(focused, FOCUS_TIMEOUT)
        if now is None:
            active = await runtime.desktop.active_window()
            held = f"{active.hex_id} {active.title!r}" if active is not None else "no window"
            return Check(
                name="window focused",
                ok=False,
                detail=f"the window manager did not give {window.title!r} the keyboard within {FOCUS_TIMEOUT:g} s "
                f"({held} has it)",
            )
        operation.window = now
        return Check(name="window focused", ok=True, detail=f"{now.hex_id} {now.title!r} has the keyboard")

    operation.run = run
    return operation


def _move(runtime: Runtime, window: WindowInfo, action: MoveResizeWindow) -> Operation:
    wanted = (action.x, action.y, action.x + action.width, action.y + action.height)
    args = {"window": window.hex_id, "box": list(wanted)}
    operation = Operation("move_resize_window", args, _noop, window)

    async def run() -> Check:
        await runtime.desktop.move_resize(window.id, action.x, action.y, action.width, action.height)

        async def placed() -> WindowInfo | None:
            now = await runtime.desktop.window(window.id)
            return now if now is not None and now.box == wanted else None

        now = await _until(placed, FOCUS_TIMEOUT)
        if now is None:
            current = await runtime.desktop.window(window.id)
            where = list(current.box) if current is not None else "gone"
            return Check(
                name="window placed",
                ok=False,
                detail=f"asked for {list(wanted)}, the window is at {where} (the application or window manager "
                "limits its size or place)",
            )
        operation.window = now
        return Check(name="window placed", ok=True, detail=f"{now.title!r} is at {list(now.box)}")

    operation.run = run
    return operation


def _close(runtime: Runtime, window: WindowInfo) -> Operation:
    operation = Operation("close_window", {"window": window.hex_id, "title": window.title}, _noop, window)

    async def run() -> Check:
        await runtime.desktop.close(window.id)

        async def gone() -> bool:
            return all(w.id != window.id for w in await runtime.desktop.windows())

        if await _until(gone, CLOSE_TIMEOUT):
            return Check(name="window closed", ok=True, detail=f"{window.title!r} closed")
        windows = await runtime.desktop.windows()
        newer = [w for w in windows if w.focused and w.id != window.id]
        asking = f"; {newer[0].title!r} has the keyboard now (it may ask whether to save)" if newer else ""
        return Check(
            name="window closed",
            ok=False,
            detail=f"{window.title!r} was asked to close and is still open after {CLOSE_TIMEOUT:g} s{asking}. "
            "Look at the screen",
        )

    operation.run = run
    return operation


def _launch(runtime: Runtime, launch: launcher.Launch, timeout: float) -> Operation:
    args: dict[str, Any] = {"name": launch.entry, "argv": list(launch.argv)}
    operation = Operation("launch_app", args, _noop)

    async def run() -> Check:
        before = {w.id for w in await runtime.desktop.windows()}
        pid = await runtime.desktop.launch(launch)
        operation.extra["pid"] = pid

        async def mapped() -> WindowInfo | int | None:
            new = [w for w in await runtime.desktop.windows() if w.id not in before]
            if new:
                own = [w for w in new if w.pid == pid]
                return (own or new)[-1]
            code = launcher.exit_code(pid)
            return code if code not in (None, 0) else None

        started = time.perf_counter()
        found = await _until(mapped, timeout)
        took = round((time.perf_counter() - started) * 1000)
        if isinstance(found, WindowInfo):
            operation.window = found
            return Check(
                name="window mapped",
                ok=True,
                detail=f"{launch.entry} (pid {pid}) showed window {found.hex_id} {found.title!r} after {took} ms",
            )
        if isinstance(found, int) and not isinstance(found, bool):
            return Check(name="window mapped", ok=False, detail=f"{launch.entry} exited with status {found}")
        return Check(
            name="window mapped",
            ok=None,
            detail=f"{launch.entry} started (pid {pid}) but no new window mapped within {timeout:g} s: it may "
            "still be starting, or have handed over to an instance already running; use wait_for",
        )

    operation.run = run
    return operation


def _clipboard(runtime: Runtime, text: str) -> Operation:
    args = {"chars": len(text), "sha256": _digest(text)}
    operation = Operation("clipboard_write", args, _noop)

    async def run() -> Check:
        await runtime.desktop.clipboard_write(text)
        back = await runtime.desktop.clipboard_read()
        if back == text:
            return Check(name="clipboard holds the text", ok=True, detail=f"reads back {len(text)} characters")
        return Check(
            name="clipboard holds the text",
            ok=False,
            detail=f"the clipboard reads back {len(back)} different characters (another program took it?)",
        )

    operation.run = run
    return operation


async def _noop() -> Check:  # replaced by each operation's own run before use
    raise AssertionError("operation run before it was prepared")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


async def read_clipboard(runtime: Runtime, caller: Caller) -> tuple[str, str | None]:
    """The clipboard's text, if ``policy.clipboard_read`` allows it; audited (length and hash only)."""
    record_id = new_id()
    action = {"type": "clipboard_read"}
    audit = runtime.audit
    intent: dict[str, Any] = {"dry_run": False, "requester": caller.requester, "action_id": None}
    if not runtime.policy.clipboard_read:
        error = refuse(
            "clipboard_read",
            "reading the clipboard is off (it can hold passwords and other secrets); the operator can allow it "
            "with policy.clipboard_read: true",
        )
        if audit is not None:
            await anyio.to_thread.run_sync(
                lambda: audit.unsent(record_id, action, "refused", performed=[], error=str(error), **intent)
            )
        raise error
    text = await runtime.desktop.clipboard_read()
    result = {"chars": len(text), "sha256": _digest(text)}
    if audit is not None:
        performed = [{"op": "clipboard_read"}]
        await anyio.to_thread.run_sync(
            lambda: audit.unsent(record_id, action, "executed", performed=performed, result=result, **intent)
        )
    return text, record_id if audit is not None else None

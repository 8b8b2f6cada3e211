"""The desktop-structure tools: windows, applications, the clipboard, and waiting for things.

The tools that change something (focus, move/resize, close, launch, clipboard write) build one
action of the vocabulary and pass it to ``execute_action``: the policy, confirmation, the rate
limit, idempotency keys and the write-ahead audit log apply to them exactly as to a click, and
they return the same :class:`~tools.results.ExecuteResult`. The others only look: ``list_windows``,
``wait_for``, and ``clipboard_read`` (off unless the policy allows it, and audited).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.actions.desktop import monitor_of, read_clipboard
from tools.actions.vocabulary import (
    TEXT_CEILING,
    ClipboardWrite,
    CloseWindow,
    Coord,
    FocusWindow,
    LaunchApp,
    MoveResizeWindow,
    WindowName,
)
from tools.execute import confirmation_question, execute_action
from tools.results import ExecuteResult
from tools.results_desktop import ClipboardResult, WaitResult, WindowRef, WindowsResult
from tools.runtime import Asked, Caller, Runtime
from tools.spec import Outcome, ToolSpec
from tools.wait import WaitParams, wait_for


class _ActParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool | None = Field(None, description="Check the call (policy, target) without doing it.")
    action_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Optional idempotency key, new for every distinct call: a retry with the same id returns the "
        "stored result and does nothing again.",
    )

    def action(self) -> Any:
        """The vocabulary action this call performs."""
        raise NotImplementedError


class NoParams(BaseModel):
    """No arguments."""

    model_config = ConfigDict(extra="forbid")


class FocusParams(_ActParams):
    """Arguments of focus_window."""

    window: WindowName

    def action(self) -> FocusWindow:
        """A focus_window action."""
        return FocusWindow(window=self.window)


class MoveResizeParams(_ActParams):
    """Arguments of move_resize_window."""

    window: WindowName
    x: Coord
    y: Coord
    width: int = Field(ge=1, le=100_000)
    height: int = Field(ge=1, le=100_000)

    def action(self) -> MoveResizeWindow:
        """A move_resize_window action."""
        return MoveResizeWindow(window=self.window, x=self.x, y=self.y, width=self.width, height=self.height)


class CloseParams(_ActParams):
    """Arguments of close_window."""

    window: WindowName

    def action(self) -> CloseWindow:
        """A close_window action."""
        return CloseWindow(window=self.window)


class LaunchParams(_ActParams):
    """Arguments of launch_app."""

    name: str = Field(min_length=1, max_length=500, description="An entry of the server's launch list, exactly.")
    timeout: float = Field(10.0, gt=0, le=60, description="Seconds to wait for its window to map.")

    def action(self) -> LaunchApp:
        """A launch_app action."""
        return LaunchApp(name=self.name, timeout=self.timeout)


class ClipboardWriteParams(_ActParams):
    """Arguments of clipboard_write."""

    text: str = Field(max_length=TEXT_CEILING, description="The text to put on the clipboard (any Unicode).")

    def action(self) -> ClipboardWrite:
        """A clipboard_write action."""
        return ClipboardWrite(text=self.text)


async def _act(runtime: Runtime, params: _ActParams, caller: Caller) -> Outcome:
    return Outcome(await execute_action(runtime, params.action(), params.dry_run, caller, params.action_id))


async def _question(runtime: Runtime, params: _ActParams, requester: str | None) -> Asked | None:
    return await confirmation_question(runtime, params.action(), params.dry_run, params.action_id, requester)


async def _list_windows(runtime: Runtime, params: NoParams, caller: Caller) -> Outcome:
    windows = await runtime.desktop.windows()
    monitors = await runtime.capturer.monitors()
    refs = [WindowRef.of(w, monitor_of(w, monitors)) for w in windows]
    focused = next((ref for ref in refs if ref.focused), None)
    return Outcome(WindowsResult(windows=refs, focused=focused))


async def _clipboard_read(runtime: Runtime, params: NoParams, caller: Caller) -> Outcome:
    text, audit_id = await read_clipboard(runtime, caller)
    return Outcome(ClipboardResult(text=text, chars=len(text), audit_id=audit_id))


async def _wait(runtime: Runtime, params: WaitParams, caller: Caller) -> Outcome:
    return Outcome(await wait_for(runtime, params, caller.progress))


_RESULT = (
    " Returns execute_action's result: `checks` says what was verified, `window` the window afterwards; a check "
    "that fails is an error. Use dry_run to check the call first, action_id to make a retry safe."
)

DESKTOP_TOOLS: list[ToolSpec] = [
    ToolSpec(
        name="list_windows",
        title="List the windows",
        description=(
            "List the desktop's top-level windows, oldest first: id, title, application, process id, box (content "
            "area, screen pixels), monitor, and whether each is focused (gets the typing) or minimised. Use it to "
            "find a window before focusing it, or to see which window your keys will go to. Changes nothing."
        ),
        kind="read",
        params=NoParams,
        result=WindowsResult,
        handler=_list_windows,
    ),
    ToolSpec(
        name="focus_window",
        title="Focus a window",
        description=(
            "Raise a window and give it the keyboard (restoring it when minimised), named by its id from "
            "list_windows or a unique part of its title; checks that it really has the keyboard." + _RESULT
        ),
        kind="act",
        params=FocusParams,
        result=ExecuteResult,
        handler=_act,
        question=_question,
    ),
    ToolSpec(
        name="move_resize_window",
        title="Move or resize a window",
        description=(
            "Place a window's content area at (x, y) with the given width and height, in screen pixels (a maximised "
            "window is restored first); checks where it ends up (an application may refuse some sizes)." + _RESULT
        ),
        kind="act",
        params=MoveResizeParams,
        result=ExecuteResult,
        handler=_act,
        question=_question,
    ),
    ToolSpec(
        name="close_window",
        title="Close a window",
        description=(
            "Close a window as its close button does. Destructive: unsaved work may be lost, and the server may ask "
            "a person to confirm first. An application may ask whether to save instead of closing: then this fails "
            "and says which window has the keyboard now." + _RESULT
        ),
        kind="act",
        params=CloseParams,
        result=ExecuteResult,
        handler=_act,
        question=_question,
    ),
    ToolSpec(
        name="launch_app",
        title="Start an application",
        description=(
            "Start an application the server's policy allows (policy.launch_allowed; off when that list is empty), "
            "by its entry there, exactly. It runs detached from the server. Waits, bounded by `timeout`, for its "
            "window to map and returns it in `window` (use its id with focus_window)." + _RESULT
        ),
        kind="act",
        params=LaunchParams,
        result=ExecuteResult,
        handler=_act,
        question=_question,
    ),
    ToolSpec(
        name="clipboard_read",
        title="Read the clipboard",
        description=(
            "Return the clipboard's text. Off unless the server's policy allows it (policy.clipboard_read), since "
            "the clipboard can hold passwords; every read is recorded in the audit log (its length, not the text)."
        ),
        kind="read",
        params=NoParams,
        result=ClipboardResult,
        handler=_clipboard_read,
    ),
    ToolSpec(
        name="clipboard_write",
        title="Write the clipboard",
        description=(
            "Put text (any Unicode) on the clipboard and read it back; then paste it into the focused field with a "
            "key action (ctrl+v). Faster and surer than typing long or unusual text." + _RESULT
        ),
        kind="act",
        params=ClipboardWriteParams,
        result=ExecuteResult,
        handler=_act,
        question=_question,
    ),
    ToolSpec(
        name="wait_for",
        title="Wait for something on the desktop",
        description=(
            "Wait until one condition holds, and return as soon as it does (instead of sleeping): a text appears or "
            "disappears on screen (OCR), a window whose title contains a text appears or goes away, or the screen "
            "(or a region) stays unchanged for `stable_ms`. Returns what it saw and how long it took; an error when "
            "the condition did not hold within `timeout` seconds, saying what was there instead."
        ),
        kind="read",
        params=WaitParams,
        result=WaitResult,
        handler=_wait,
    ),
]
"""The desktop-structure tools, in the order they are listed to clients."""

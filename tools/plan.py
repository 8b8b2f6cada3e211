"""``plan_next_action``: capture, let the model reason, map its ``computer_use`` call to an action."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Sequence
from typing import Any

import anyio
from pydantic import TypeAdapter, ValidationError

from engine.geometry import Frame, grid_to_screen
from engine.vlm.parsing import ToolCall
from engine.vlm.prompts import SEMANTIC_PLAN_ACTIONS
from engine.vlm.vision import Proposal
from tools.actions.vocabulary import (
    Action,
    Click,
    ClickText,
    Done,
    DoubleClick,
    Drag,
    FillInput,
    GotoUrl,
    Key,
    Move,
    RightClick,
    Scroll,
    TypeText,
    UploadFile,
    Wait,
)
from tools.answer_cache import AnswerCache, screen_key
from tools.describe import capture_screen, screen_info
from tools.desktop.capture import Capture
from tools.desktop.keys import split_chord
from tools.errors import ModelFailure
from tools.model_calls import ask_model, require_engine
from tools.plan_checks import check_plan, read_screen_text
from tools.results import PlanResult
from tools.runtime import Progress, Runtime, no_progress
from tools.snapshots import Snapshot

_ACTION = TypeAdapter(Action)
_WHEEL_CLICKS = 10
_WHEEL_PIXELS = 100
"""Qwen's ``pixels`` are sometimes wheel clicks (-5) and sometimes distances (-500). Up to 10 they
are clicks; beyond, distances at ~100 px per click but never fewer than 10 clicks (so the mapping
only grows), capped at 30: a model never sends 500 wheel clicks."""


def _point(frame: Frame, arguments: dict[str, Any], key: str = "coordinate") -> tuple[int, int] | None:
    value = arguments.get(key)
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"{key} must be [x, y], got {value!r}")
    gx, gy = (float(v) for v in value)
    if not (math.isfinite(gx) and math.isfinite(gy)):
        raise ValueError(f"{key} must be finite numbers, got {value!r}")
    return grid_to_screen(frame, gx, gy)


def _wheel(pixels: Any) -> int:
    value = float(pixels)
    if not math.isfinite(value):
        raise ValueError(f"pixels must be a finite number, got {pixels!r}")
    if value == 0:
        raise ValueError("scroll needs a non-zero amount of pixels")
    clicks = max(1, abs(round(value)))  # a fraction never becomes a no-op
    if clicks > _WHEEL_CLICKS:
        clicks = min(30, max(_WHEEL_CLICKS, round(clicks / _WHEEL_PIXELS)))
    return clicks if value > 0 else -clicks


def to_action(call: ToolCall, frame: Frame, pointer: tuple[int, int]) -> Any:
    """Map a ``computer_use`` call (grid coordinates) to our action union (screen pixels).

    Raises :class:`ValueError` for calls that do not form a valid action.
    """
    try:
        return _to_action(call, frame, pointer)
    except (TypeError, OverflowError) as exc:  # e.g. "coordinate": [null, 5], "pixels": [3]
        raise ValueError(f"malformed computer_use arguments {call.arguments!r}: {exc}") from exc


def _to_action(call: ToolCall, frame: Frame, pointer: tuple[int, int]) -> Any:
    if call.name != "computer_use":
        raise ValueError(f"unknown function {call.name!r} (expected computer_use)")
    # Models often fill unused parameters with null: a null is a parameter not given.
    args = {key: value for key, value in call.arguments.items() if value is not None}
    name = str(args.get("action", "")).strip().lower()
    point = _point(frame, args)

    def need_point() -> tuple[int, int]:
        if point is None:
            raise ValueError(f"{name} needs a coordinate")
        return point

    match name:
        case "left_click" | "click":
            x, y = need_point()
            return Click(x=x, y=y)
        case "middle_click":
            x, y = need_point()
            return Click(x=x, y=y, button="middle")
        case "triple_click":
            x, y = need_point()
            return Click(x=x, y=y, clicks=3)
        case "double_click":
            x, y = need_point()
            return DoubleClick(x=x, y=y)
        case "right_click":
            x, y = need_point()
            return RightClick(x=x, y=y)
        case "mouse_move":
            x, y = need_point()
            return Move(x=x, y=y)
        case "left_click_drag":
            start = _point(frame, args, "start_coordinate") or pointer
            end = need_point()
            return Drag(x=start[0], y=start[1], to_x=end[0], to_y=end[1])
        case "type":
            if point is None:
                return TypeText(text=str(args.get("text", "")))
            return TypeText(text=str(args.get("text", "")), x=point[0], y=point[1])
        case "key":
            keys = args.get("keys", args.get("key"))
            keys = [keys] if isinstance(keys, str) else keys
            if not isinstance(keys, list) or not keys:
                raise ValueError("key needs a non-empty list of keys")
            return Key(keys=split_chord(str(k) for k in keys))
        case "scroll" | "hscroll":
            amount = _wheel(args.get("pixels", -3))
            if point is None:
                return Scroll(amount=amount, horizontal=name == "hscroll")
            return Scroll(amount=amount, x=point[0], y=point[1], horizontal=name == "hscroll")
        case "wait":
            return Wait(seconds=min(30.0, max(0.0, float(args.get("time", 1.0)))))
        case "terminate":
            if str(args.get("status", "success")).lower() == "failure":
                return Done(status="failure")
            return Done(status="success")
        case "answer":
            return Done(status="success", answer=str(args.get("text", "")))
        case "click_text":
            occurrence = args.get("occurrence")
            return ClickText(text=str(args.get("text", "")), occurrence=None if occurrence is None else int(occurrence))
        case "fill_input":
            # Models trained on `type` sometimes put the value in `text`.
            return FillInput(label=str(args.get("label", "")), value=str(args.get("value", args.get("text", ""))))
        case "goto_url":
            return GotoUrl(url=str(args.get("url", args.get("text", ""))))
        case "upload_file":
            label = args.get("label")
            return UploadFile(path=str(args.get("path", "")), label=None if label is None else str(label))
    raise ValueError(f"unknown computer_use action {name!r}")


PlanCache = AnswerCache[Proposal]
"""Planning answers by screen pixels, goal, history and the planning options (see :func:`propose`)."""


async def plan_next_action(
    runtime: Runtime,
    goal: str,
    history: Sequence[str] = (),
    thinking: bool = True,
    max_reasoning_steps: int | None = None,
    monitor: int | None = None,
    progress: Progress = no_progress,
    semantic: bool = True,
) -> PlanResult:
    """Propose the next action towards ``goal``; the result's ``action`` is ready for execute_action.

    With ``semantic`` the model may also propose click_text, fill_input, goto_url and upload_file
    (those the policy allows), which execute_action resolves on the live screen.
    """
    require_engine(runtime, "plan_next_action")
    started = time.perf_counter()
    await progress(0, 3, "capturing the screen")
    capture = await capture_screen(runtime, None, monitor)
    captured = time.perf_counter()
    result = await propose(runtime, capture, goal, history, thinking, max_reasoning_steps, progress, semantic)
    timings = {"capture": round((captured - started) * 1000, 1), **result.timings_ms}
    timings["total"] = round((time.perf_counter() - started) * 1000, 1)
    return result.model_copy(update={"timings_ms": timings})


async def propose(
    runtime: Runtime,
    capture: Capture,
    goal: str,
    history: Sequence[str] = (),
    thinking: bool = True,
    max_reasoning_steps: int | None = None,
    progress: Progress = no_progress,
    semantic: bool = True,
    cache: PlanCache | None = None,
) -> PlanResult:
    """Ask the model for the next action on ``capture`` (already taken by the caller).

    With ``cache``, a screen with exactly the same pixels, planned for the same goal, history and
    options by the same model, is not sent again: the remembered answer comes back (``model_pass:
    cached``). Whatever differs in the prompt (a new history line such as "that click changed
    nothing") is a reason to ask again.
    """
    engine = require_engine(runtime, "plan_next_action")
    started = time.perf_counter()
    offered = [a for a in SEMANTIC_PLAN_ACTIONS if a in runtime.policy.allowed_actions] if semantic else []
    await progress(1, 3, f"{engine.model_name} is reasoning")

    def ask() -> Awaitable[Proposal]:
        return ask_model(
            engine.plan(
                capture.image,
                goal,
                history,
                thinking=thinking,
                max_reasoning_steps=max_reasoning_steps,
                semantic=offered,
            )
        )

    async def answer() -> tuple[Proposal, bool]:
        if cache is None:
            return await ask(), False
        key = await anyio.to_thread.run_sync(
            screen_key,
            capture.image,
            goal,
            tuple(history),
            thinking,
            max_reasoning_steps,
            tuple(offered),
            engine.model_name,
            id(engine),
        )
        return await cache.get_or_ask(key, ask)

    # The screen's text (for the checks) and the pointer do not depend on the answer: read them beside it.
    beside: dict[str, Any] = {}

    async def read_beside() -> None:
        try:
            beside["lines"] = await read_screen_text(runtime, capture)
            beside["pointer"] = await anyio.to_thread.run_sync(runtime.driver.position)
        except Exception as exc:  # raised below as itself, not inside a task group's exception group
            beside["failure"] = exc

    async with anyio.create_task_group() as group:
        group.start_soon(read_beside)
        try:
            proposal, cached = await answer()
        except Exception as exc:
            beside["failure"] = exc
            group.cancel_scope.cancel()
        answered = time.perf_counter()
    if "failure" in beside:
        raise beside["failure"]
    pointer = beside["pointer"]
    try:
        action = _ACTION.validate_python(to_action(proposal.call, capture.frame, pointer).model_dump())
    except (ValueError, ValidationError) as exc:
        raise ModelFailure(f"the model proposed an action that cannot be performed: {exc}", raw=proposal.raw) from exc
    await progress(2, 3, "checking the proposed action")
    checks = await check_plan(runtime, capture, proposal, action, beside["lines"])
    action = checks.action
    snapshot_id = runtime.snapshots.new_id()
    runtime.snapshots.put(Snapshot(snapshot_id, capture.frame, time.time()))
    await progress(3, 3, f"next: {action.type}")
    tokens = {"prompt": proposal.prompt_tokens, "completion": proposal.completion_tokens}
    return PlanResult(
        snapshot_id=snapshot_id,
        reasoning=proposal.reasoning,
        action=action,
        done=isinstance(action, Done),
        thinking_mode=proposal.mode.value,  # type: ignore[arg-type]  # AUTO is resolved away
        model=proposal.model,
        model_action=proposal.call.arguments,
        model_pass="cached" if cached else "fresh",
        tokens={} if cached else {k: v for k, v in tokens.items() if v is not None},
        second_look=checks.second_look,
        untrusted_text=checks.untrusted,
        flagged=checks.flagged,
        timings_ms={
            "model": round((answered - started) * 1000, 1),
            "total": round((time.perf_counter() - started) * 1000, 1),
        },
    )


__all__ = ["PlanCache", "plan_next_action", "propose", "screen_info", "to_action"]

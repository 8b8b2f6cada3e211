"""``execute_action``: the safety pipeline in front of the desktop.

Under the desktop lock, in this order: replay a known ``action_id``; check the policy; validate
and turn the action into input events; check the policy on the events; ask a person when the
policy says so; take a rate-limit token; write the intent to the audit log (fsynced); only then
send the input, wait for the screen to settle, and write the outcome. A dry run takes the same
path and stops before sending (it needs no confirmation and no rate-limit token). Anything refused
before sending is recorded as ``refused``; a failure while sending as ``failed``.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

import anyio
from PIL import Image

from tools.actions import SEMANTIC_ACTIONS, Done, TypeText
from tools.audit import fingerprint, new_id, screen_hash, summarize
from tools.capture import Monitor
from tools.errors import InvalidAction, ToolFailure
from tools.events import AnyAction, plan_events
from tools.inputs import InputEvent
from tools.policy import check_action, check_events, is_destructive, needs_confirmation, refuse
from tools.results import ExecuteResult
from tools.runtime import Caller, Runtime
from tools.semantic import resolve
from tools.settle import changed_box, wait_for_settle
from tools.settle import fingerprint as screen_fingerprint

log = logging.getLogger(__name__)


async def _grab_all(runtime: Runtime) -> Image.Image:
    return (await runtime.capturer.grab(None, 0)).image


def _to_screen(box: tuple[int, int, int, int], screen: Monitor) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    return screen.x + x1, screen.y + y1, screen.x + x2 - 1, screen.y + y2 - 1


def _replay(runtime: Runtime, action_id: str, action: dict[str, Any], dry: bool) -> ExecuteResult | None:
    """The stored result for a repeated ``action_id``; an error when it cannot be replayed."""
    if runtime.audit is None:
        return None
    binding = runtime.audit.lookup(action_id)
    if binding is None:
        return None
    if binding.fingerprint != fingerprint(action, dry):
        raise InvalidAction(
            f"action_id {action_id!r} was already used for a different action (audit record {binding.record_id}); "
            "nothing was done. Use a new action_id for each distinct action (a dry run and a real run differ too)."
        )
    if binding.status == "interrupted":
        raise InvalidAction(
            f"action_id {action_id!r} was interrupted (the server stopped mid-action, audit record "
            f"{binding.record_id}); it may have been partly performed and is never replayed. Look at the screen, "
            "then use a new action_id."
        )
    if binding.status == "failed" or binding.result is None:
        raise InvalidAction(
            f"action_id {action_id!r} already ran and failed: {binding.error}. It is not retried with the same "
            "action_id; look at the screen, then use a new action_id to try again."
        )
    log.info("replaying the stored result of action_id %s (audit record %s)", action_id, binding.record_id)
    return ExecuteResult.model_validate({**binding.result, "replayed": True})


def _question(action: AnyAction, events: list[InputEvent], requester: str | None) -> str:
    who = f" ({requester})" if requester else ""
    lines = [f"An AI agent{who} wants to perform this action on your desktop: {summarize(action.model_dump())}."]
    if isinstance(action, TypeText):
        shown = action.text if len(action.text) <= 500 else action.text[:500] + "..."
        lines.append(f"Text to type (chosen by the model, which reads untrusted screen content): {shown!r}")
    lines.append("Input events: " + "; ".join(str(e.to_dict()) for e in events))
    if is_destructive(action, events):
        lines.append("It counts as destructive (typing, drags, right/middle clicks, modifier chords, delete).")
    lines.append("Allow it?")
    return "\n".join(lines)


async def _confirm(runtime: Runtime, action: AnyAction, events: list[InputEvent], caller: Caller) -> None:
    policy = runtime.policy
    if not needs_confirmation(policy, action, events):
        return
    answer: bool | None = None
    with anyio.move_on_after(policy.confirm_timeout) as scope:
        answer = await caller.confirm(_question(action, events, caller.requester))
    what = "every action" if policy.confirm == "always" else "destructive actions"
    if scope.cancelled_caught:
        raise refuse("confirm", f"nobody confirmed it within {policy.confirm_timeout:g} s")
    if answer is None:
        raise refuse(
            "confirm",
            f"this server needs a person to confirm {what} (confirm: {policy.confirm}), but this client cannot "
            "ask one: it does not support MCP elicitation. Use a client that does, or ask the operator",
        )
    if not answer:
        raise refuse("confirm", "the person asked to confirm it declined")


async def confirmation_question(
    runtime: Runtime,
    action: AnyAction,
    dry_run: bool | None,
    action_id: str | None,
    requester: str | None,
) -> str | None:
    """The question a person must answer before this call may act; ``None`` when no one needs asking.

    No one is asked for dry runs, replays, actions that send no input or that the policy or
    validation will refuse anyway. :func:`execute_action` asks the same question, through
    ``caller.confirm``, at the moment it would act.
    """
    if runtime.policy.confirm == "never" or dry_run or runtime.settings.dry_run:
        return None
    if action_id is not None and runtime.audit is not None and runtime.audit.lookup(action_id) is not None:
        return None
    try:
        check_action(runtime.policy, action)
        monitors = await runtime.capturer.monitors()
        events = await plan_all(runtime, action, monitors)
        check_events(runtime.policy, events)
    except ToolFailure:
        return None
    return _question(action, events, requester) if needs_confirmation(runtime.policy, action, events) else None


async def plan_all(runtime: Runtime, action: AnyAction, monitors: list[Monitor]) -> list[InputEvent]:
    """Validated input events for ``action``; semantic actions are first resolved on the screen as it is now.

    Each primitive a semantic action resolves to passes the same policy check as if it were asked for directly.
    """
    primitives: list[AnyAction] = (
        list(await resolve(runtime, action)) if isinstance(action, SEMANTIC_ACTIONS) else [action]  # type: ignore[list-item]
    )
    events: list[InputEvent] = []
    limit = runtime.settings.max_text_length
    for primitive in primitives:
        if primitive is not action:
            check_action(runtime.policy, primitive)
        events += await anyio.to_thread.run_sync(
            partial(plan_events, primitive, monitors, runtime.driver.is_valid_key, max_text_length=limit)
        )
    return events


async def _audit(runtime: Runtime, method: str, *args: Any, **kwargs: Any) -> None:
    """Write one audit record in a worker thread (fsync blocks)."""
    if runtime.audit is not None:
        write = getattr(runtime.audit, method)
        await anyio.to_thread.run_sync(lambda: write(*args, **kwargs))


async def _screenshot(runtime: Runtime, record_id: str, which: str, image: Image.Image) -> str | None:
    if runtime.audit is None or not runtime.audit.screenshots:
        return None
    audit = runtime.audit
    return await anyio.to_thread.run_sync(lambda: audit.save_screenshot(record_id, which, image))


async def execute_action(
    runtime: Runtime,
    action: AnyAction,
    dry_run: bool | None = None,
    caller: Caller | None = None,
    action_id: str | None = None,
) -> ExecuteResult:
    """Perform one action (or, in a dry run, everything but sending the input)."""
    caller = caller or Caller()
    started = time.perf_counter()
    dry = runtime.settings.dry_run if dry_run is None else (dry_run or runtime.settings.dry_run)
    recorded = action.model_dump(mode="json")
    async with runtime.desktop_lock:
        if action_id is not None and (replayed := _replay(runtime, action_id, recorded, dry)) is not None:
            return replayed
        record_id = new_id()
        intent = {"dry_run": dry, "requester": caller.requester, "action_id": action_id}
        try:
            check_action(runtime.policy, action)
            monitors = await runtime.capturer.monitors()
            events = await plan_all(runtime, action, monitors)
            check_events(runtime.policy, events)
            if not dry:
                await _confirm(runtime, action, events, caller)
                if runtime.limiter is not None and events:
                    runtime.limiter.take()
            before = await _grab_all(runtime)
        except ToolFailure as exc:  # nothing was sent: recorded as refused
            log.info("refused %s: %s", action.type, str(exc).splitlines()[0])
            await _audit(runtime, "intent", record_id, recorded, screen=None, **intent)
            await _audit(runtime, "outcome", record_id, "refused", [], error=str(exc))
            raise
        performed = [event.to_dict() for event in events]
        shot = await _screenshot(runtime, record_id, "before", before)
        await _audit(runtime, "intent", record_id, recorded, screen=screen_hash(before), screenshot=shot, **intent)
        log.info("%s %s [%s]: %s", "dry-run" if dry else "executing", action.type, record_id, performed)
        answer = action.answer if isinstance(action, Done) else None
        result = ExecuteResult(
            status="dry_run" if dry else "executed",
            action_type=action.type,
            performed=performed,
            screen_changed=False,
            settled=True,
            answer=answer,
            duration_ms=0.0,
            audit_id=record_id,
        )
        try:
            if not dry and events:
                await caller.progress(0, 2, f"sending {action.type}")
                await anyio.to_thread.run_sync(lambda: runtime.driver.send(events))
                await caller.progress(1, 2, "waiting for the screen to settle")
                settled = await wait_for_settle(
                    lambda: _grab_all(runtime),
                    timeout=runtime.settings.settle_timeout,
                    interval=runtime.settings.settle_interval,
                )
                box = changed_box(screen_fingerprint(before), settled.image)
                result = result.model_copy(
                    update={
                        "screen_changed": box is not None,
                        "changed_region": None if box is None else _to_screen(box, monitors[0]),
                        "settled": settled.settled,
                    }
                )
                after = await _grab_all(runtime) if runtime.audit is not None and runtime.audit.screenshots else None
                shot = None if after is None else await _screenshot(runtime, record_id, "after", after)
            else:
                shot = None
        except BaseException as exc:
            error = str(exc) if isinstance(exc, ToolFailure) else f"{exc.__class__.__name__}: {exc}"
            if not isinstance(exc, Exception):
                error = "cancelled while sending; the input may have been performed"
            with anyio.CancelScope(shield=True):
                await _audit(runtime, "outcome", record_id, "failed", performed, error=error)
            raise
        result = result.model_copy(update={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        await _audit(
            runtime,
            "outcome",
            record_id,
            result.status,
            performed,
            result=result.model_dump(mode="json"),
            screenshot=shot,
        )
    return result

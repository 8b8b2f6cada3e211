"""``execute_action``: the safety pipeline in front of the desktop.

Under the desktop lock, in this order: replay a known ``action_id``; check the policy; validate
and turn the action into input events; check the policy on the events; ask a person when the
policy says so; take a rate-limit token; write the intent to the audit log (fsynced); only then
send the input, wait for the screen to settle, and write the outcome. A dry run takes the same
path and stops before sending (it needs no confirmation and no rate-limit token). Anything refused
before sending is recorded as ``refused``; a failure while sending as ``failed``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
from PIL import Image

from engine.geometry import image_box_to_screen
from engine.vlm.usage import metering
from tools.actions.desktop import Operation, monitor_of, require_focus
from tools.actions.desktop import prepare as prepare_operation
from tools.actions.events import AnyAction, plan_events
from tools.actions.semantic import Stage, resolve
from tools.actions.vocabulary import DESKTOP_ACTIONS, SEMANTIC_ACTIONS, ClipboardWrite, Done, Key, TypeText
from tools.desktop.capture import Capture, Monitor
from tools.desktop.inputs import InputEvent
from tools.desktop.settle import changed_box, wait_for_settle
from tools.desktop.settle import fingerprint as screen_fingerprint
from tools.errors import ActionFailed, DesktopUnavailable, InvalidAction, ToolFailure
from tools.results import Check, ExecuteResult
from tools.results_desktop import WindowRef
from tools.results_trust import Confirmation
from tools.runtime import Asked, Caller, Runtime
from tools.safety.audit_records import fingerprint, new_id, screen_hash
from tools.safety.consent import HOW_TO_CONFIRM, reasons_to_confirm
from tools.safety.policy import check_action, check_events, refuse
from tools.safety.tokens import TokenRefused

log = logging.getLogger(__name__)


CARET_WIDTH = 3
"""A change no wider than this is a blinking text caret, not an effect of the action."""


async def _grab_all(runtime: Runtime) -> Capture:
    return await runtime.capturer.grab(None, 0)


@dataclass
class PreparedStage:
    """A stage of an action with the validated input events it sends."""

    stage: Stage
    events: list[InputEvent]


@dataclass
class PreparedAction:
    """An action made ready to run: its stages and input events, validated and policy-checked.

    ``seen`` is the capture a semantic action was resolved on: while the screen still shows exactly
    that, the preparation holds and is not redone.
    """

    action: AnyAction
    stages: list[PreparedStage]
    seen: Capture | None = None
    operation: Operation | None = None
    """A desktop action's one operation (a window, an application, the clipboard) instead of input events."""

    @property
    def events(self) -> list[InputEvent]:
        """Every stage's events, in order."""
        return [event for stage in self.stages for event in stage.events]

    @property
    def performs(self) -> list[dict[str, Any]]:
        """What it would send or do, as ``performed`` records it: input events, or the desktop operation."""
        operation = [] if self.operation is None else [self.operation.to_dict()]
        return [event.to_dict() for event in self.events] + operation

    @property
    def digest(self) -> str:
        """What would run, as a short hash of the input events or operation (an approval is bound to it)."""
        sent = json.dumps(self.performs, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(f"{self.action.type}\n{sent}".encode()).hexdigest()[:16]


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


def _question(prepared: PreparedAction, requester: str | None, reasons: list[str]) -> str:
    action, events, operation = prepared.action, prepared.events, prepared.operation
    who = f" ({requester})" if requester else ""
    lines = [f"An AI agent{who} wants to perform this action on your desktop: {action.summary()}."]
    if isinstance(action, TypeText | ClipboardWrite):
        shown = action.text if len(action.text) <= 500 else action.text[:500] + "..."
        lines.append(f"Its text (chosen by the model, which reads untrusted screen content): {shown!r}")
    if operation is not None:
        lines.append(f"Desktop operation: {operation.describe()}")
    else:
        lines.append("Input events: " + "; ".join(str(e.to_dict()) for e in events))
    lines.append("Why you are asked: " + "; ".join(reasons) + ".")
    lines.append("Allow it?")
    return "\n".join(lines)


async def _pending(runtime: Runtime, prepared: PreparedAction, issue: bool) -> Confirmation | None:
    """A dry run's confirmation: why the real call will need one, and a token for it when tokens are on."""
    reasons = await reasons_to_confirm(runtime, prepared.action, prepared.events, prepared.seen)
    if not reasons:
        return None
    if not (issue and runtime.policy.confirm_tokens):
        return Confirmation(reasons=reasons, via="pending")
    token = runtime.tokens.issue(prepared.digest, runtime.policy.confirm_token_ttl)
    return Confirmation(reasons=reasons, via="pending", token=token.value, expires_at=token.expires_at)


def _undecided(runtime: Runtime, action: AnyAction) -> None:
    """Refuse a planned click the plan's second look could not settle (its candidates are in the plan result)."""
    doubt = runtime.doubts.about(action)
    if doubt is not None and doubt.kind == "undecided":
        raise InvalidAction(
            f"this is the point of a plan that could not decide where to click ({doubt.reason}); nothing was done. "
            "Choose one of the plan's `second_look.candidates` (or look with zoom) and click that point"
        )


async def _confirm(
    runtime: Runtime, prepared: PreparedAction, caller: Caller, token: str | None
) -> Confirmation | None:
    """Ask (or check the token) when the action needs approval; ``None`` when none was needed."""
    policy = runtime.policy
    reasons = await reasons_to_confirm(runtime, prepared.action, prepared.events, prepared.seen)
    if not reasons:
        return None
    why = "; ".join(reasons)
    if token is not None:
        if not policy.confirm_tokens:
            raise refuse("confirm_tokens", "this server does not accept confirmation tokens; it confirms by asking")
        try:
            runtime.tokens.redeem(token, prepared.digest)
        except TokenRefused as exc:
            raise refuse("confirm", f"{exc} (confirmation was needed because {why})") from exc
        return Confirmation(reasons=reasons, via="token")
    answer: bool | None = None
    asked = Asked(_question(prepared, caller.requester, reasons), prepared.digest, prepared)
    with anyio.move_on_after(policy.confirm_timeout) as scope:
        answer = await caller.confirm(asked)
    hint = f". {HOW_TO_CONFIRM}" if policy.confirm_tokens else ""
    if scope.cancelled_caught:
        raise refuse("confirm", f"nobody confirmed it within {policy.confirm_timeout:g} s (asked because {why}){hint}")
    if answer is None:
        raise refuse(
            "confirm",
            f"a person must confirm this action because {why}, but this client cannot ask one: it does not support "
            f"MCP elicitation{hint}",
        )
    if not answer:
        raise refuse("confirm", f"the confirmation asked because {why} was declined{hint}")
    return Confirmation(reasons=reasons, via="elicitation")


async def confirmation_question(
    runtime: Runtime,
    action: AnyAction,
    dry_run: bool | None,
    action_id: str | None,
    requester: str | None,
    token: str | None = None,
) -> Asked | None:
    """What a person must be asked before this call may act; ``None`` when no one needs asking.

    The action is prepared under the desktop lock, as the call itself will be, and the question
    carries that preparation: the call reuses it while the screen has not moved, and its approval
    counts only for the same input events. No one is asked for dry runs, replays, actions that send
    no input or that the policy or validation will refuse anyway, nor for a call that carries a
    confirmation token (the call checks the token itself).
    """
    if dry_run or runtime.settings.dry_run or token is not None:
        return None
    if runtime.policy.confirm == "never" and not runtime.policy.confirm_flagged:
        return None
    if action_id is not None and runtime.audit is not None and runtime.audit.lookup(action_id) is not None:
        return None
    async with runtime.desktop_lock:
        try:
            check_action(runtime.policy, action)
            prepared = await prepare(runtime, action, await runtime.capturer.monitors())
            check_events(runtime.policy, prepared.events)
            _undecided(runtime, action)
            reasons = await reasons_to_confirm(runtime, action, prepared.events, prepared.seen)
        except ToolFailure:
            return None
    if not reasons:
        return None
    return Asked(_question(prepared, requester, reasons), prepared.digest, prepared)


async def prepare(runtime: Runtime, action: AnyAction, monitors: list[Monitor]) -> PreparedAction:
    """``action`` made ready to run; a semantic action is resolved on the screen as it is now.

    Each primitive a semantic action resolves to passes the same policy check as if it were asked for directly.
    """
    if isinstance(action, DESKTOP_ACTIONS):
        return PreparedAction(action, [], None, await prepare_operation(runtime, action))  # type: ignore[arg-type]
    if isinstance(action, TypeText | Key) and action.window is not None:
        await require_focus(runtime, action.window)
    if isinstance(action, SEMANTIC_ACTIONS):
        resolved = await resolve(runtime, action)  # type: ignore[arg-type]
        stages, seen = resolved.stages, resolved.seen
    else:
        stages, seen = [Stage(action.type, [action])], None  # type: ignore[list-item]
    prepared = [PreparedStage(stage, await _events(runtime, action, stage.actions, monitors)) for stage in stages]
    return PreparedAction(action, prepared, seen)


async def _still_prepared(runtime: Runtime, earlier: PreparedAction, action: AnyAction) -> bool:
    """Whether ``earlier`` still holds for ``action``: the same action, on a screen that has not changed."""
    if earlier.action != action or earlier.seen is None:
        return False  # nothing to reuse: an action read from no screen is cheap to prepare again
    frame = earlier.seen.frame
    now = await runtime.capturer.grab(frame.rect, frame.monitor)
    before = earlier.seen.image

    def same() -> bool:
        return changed_box(screen_fingerprint(before), screen_fingerprint(now.image)) is None

    return await anyio.to_thread.run_sync(same)


async def _prepare_once(
    runtime: Runtime, action: AnyAction, monitors: list[Monitor], asked: Asked | None
) -> PreparedAction:
    """The preparation made for the question, if it still holds; else the action prepared now."""
    earlier = asked.prepared if asked is not None else None
    if isinstance(earlier, PreparedAction) and await _still_prepared(runtime, earlier, action):
        return earlier
    return await prepare(runtime, action, monitors)


async def _events(
    runtime: Runtime, action: AnyAction, primitives: Sequence[AnyAction], monitors: list[Monitor]
) -> list[InputEvent]:
    events: list[InputEvent] = []
    for primitive in primitives:
        if primitive is not action:
            check_action(runtime.policy, primitive)
        plan = partial(
            plan_events, primitive, monitors, runtime.driver.is_valid_key, failsafe=runtime.settings.failsafe
        )
        # Only text is worth a worker thread (a long text's events); a click's plan costs less than the hop.
        events += await anyio.to_thread.run_sync(plan) if isinstance(primitive, TypeText) else plan()
    return events


async def _operate(runtime: Runtime, action: AnyAction, operation: Operation) -> list[Check]:
    """Run a desktop operation and its check; a check that saw no effect fails the action."""
    check = await operation.run()
    if check.ok is False:
        raise ActionFailed(operation.op, f"{action.type} failed: {check.detail}.")
    return [check]


async def _perform(
    runtime: Runtime, action: AnyAction, stages: list[PreparedStage], sent: list[InputEvent]
) -> list[Check]:
    """Send each stage's events, then run its check; stop at the first check that saw no effect."""
    checks: list[Check] = []
    if isinstance(action, TypeText | Key) and action.window is not None:
        try:  # again at the last moment: focus may have moved while a person was asked to confirm
            await require_focus(runtime, action.window)
        except InvalidAction as exc:
            raise ActionFailed("window", f"{action.type} was not sent: {exc}") from exc
    for prepared in stages:
        if prepared.stage.decide is not None:
            chosen = await prepared.stage.decide()
            monitors = await runtime.capturer.monitors()
            prepared = PreparedStage(prepared.stage, await _events(runtime, action, chosen, monitors))
            check_events(runtime.policy, prepared.events)
        if prepared.events:
            await anyio.to_thread.run_sync(runtime.driver.send, prepared.events)
            sent += prepared.events
        if prepared.stage.check is None:
            continue
        check = await prepared.stage.check()
        checks.append(check)
        if check.ok is False:
            done = ", ".join(c.name for c in checks[:-1] if c.ok) or "nothing verified"
            raise ActionFailed(
                prepared.stage.name,
                f"{action.type} failed at stage '{prepared.stage.name}': {check.detail}. "
                f"Before it: {done}. Nothing after this stage was sent.",
            )
    return checks


def _effect(box: tuple[int, int, int, int] | None, checks: list[Check]) -> tuple[str, str | None]:
    if any(check.ok is None for check in checks):
        unsure = "; ".join(f"{c.name}: {c.detail}" for c in checks if c.ok is None)
        return "unverified", f"could not verify: {unsure}"
    if box is None:
        if checks:
            return "no_change", "the screen did not change, but every check passed (it already was as asked)"
        return "no_change", "the screen did not change: the action may have had no effect"
    return "changed", None


async def _grab_image(runtime: Runtime) -> Image.Image:
    return (await _grab_all(runtime)).image


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
    confirmation_token: str | None = None,
) -> ExecuteResult:
    """Perform one action (or, in a dry run, everything but sending the input)."""
    async with runtime.desktop_lock:
        return await execute_locked(runtime, action, dry_run, caller, action_id, confirmation_token)


async def execute_locked(
    runtime: Runtime,
    action: AnyAction,
    dry_run: bool | None = None,
    caller: Caller | None = None,
    action_id: str | None = None,
    confirmation_token: str | None = None,
    issue_token: bool = True,
) -> ExecuteResult:
    """:func:`execute_action` for a caller that holds the desktop lock (a batch holds it for all its steps).

    ``issue_token`` False: a dry run needing confirmation returns its reasons but no token (the batch issues one).
    """
    caller = caller or Caller()
    started = time.perf_counter()
    dry = runtime.settings.dry_run if dry_run is None else (dry_run or runtime.settings.dry_run)
    recorded = action.model_dump(mode="json")
    if action_id is not None and (replayed := _replay(runtime, action_id, recorded, dry)) is not None:
        return replayed
    record_id = new_id()
    intent = {"dry_run": dry, "requester": caller.requester, "action_id": action_id}
    try:
        check_action(runtime.policy, action)
        no_display: DesktopUnavailable | None = None
        try:
            monitors = await runtime.capturer.monitors()
        except DesktopUnavailable as exc:
            # Validation and the policy need no display: a dry run still gets them, and a point is refused.
            monitors, no_display = [], exc
        with metering() as meter:  # click_text's model fallback grounds while the action is prepared
            prepared = await _prepare_once(runtime, action, monitors, None if dry else caller.asked)
        stages, events = prepared.stages, prepared.events
        check_events(runtime.policy, events)
        _undecided(runtime, action)
        if no_display is not None and not dry:
            raise no_display
        confirmation: Confirmation | None = None
        if dry:
            confirmation = await _pending(runtime, prepared, issue_token and no_display is None)
        else:
            confirmation = await _confirm(runtime, prepared, caller, confirmation_token)
            if runtime.limiter is not None and (events or prepared.operation is not None):
                runtime.limiter.take()
        # A dry run sends nothing, so the screen it would have acted on is not worth a capture and a hash.
        before = None if no_display is not None or dry else await _grab_all(runtime)
    except ToolFailure as exc:  # nothing was sent: recorded as refused
        log.info("refused %s: %s", action.type, str(exc).splitlines()[0])
        await _audit(runtime, "unsent", record_id, recorded, "refused", performed=[], error=str(exc), **intent)
        raise
    performed = prepared.performs
    shot = None if before is None else await _screenshot(runtime, record_id, "before", before.image)
    digest = None if before is None else await anyio.to_thread.run_sync(screen_hash, before.image)
    if not dry:  # a dry run's intent and outcome are written together at the end (nothing is sent between)
        await _audit(runtime, "intent", record_id, recorded, screen=digest, screenshot=shot, **intent)
    log.info("%s %s [%s]: %s", "dry-run" if dry else "executing", action.type, record_id, performed)
    answer = action.answer if isinstance(action, Done) else None
    result = ExecuteResult(
        status="dry_run" if dry else "executed",
        action_type=action.type,
        performed=performed,
        screen_changed=False,
        settled=True,
        answer=answer,
        tokens=meter.as_dict(),
        duration_ms=0.0,
        audit_id=record_id,
        confirmation=confirmation,
        note="dry run: nothing was sent" if dry else None if performed else "this action sends no input",
    )
    sent: list[InputEvent] = []
    operated: list[dict[str, Any]] = []
    try:
        if not dry and performed:
            assert before is not None  # a real action with no display was refused above
            await caller.progress(0, 2, f"sending {action.type}")
            if prepared.operation is not None:
                operated.append(prepared.operation.to_dict())
                checks = await _operate(runtime, action, prepared.operation)
            else:
                checks = await _perform(runtime, action, stages, sent)
            await caller.progress(1, 2, "waiting for the screen to settle")
            settled = await wait_for_settle(
                lambda: _grab_image(runtime),
                timeout=runtime.settings.settle_timeout,
                interval=runtime.settings.settle_interval,
            )
            then = before.image
            box = await anyio.to_thread.run_sync(lambda: changed_box(screen_fingerprint(then), settled.image))
            if box is not None and box[2] - box[0] <= CARET_WIDTH:
                box = None
            effect, note = _effect(box, checks)
            performed = [event.to_dict() for event in sent] + operated
            if events and all(event.op == "sleep" for event in events):
                effect, note = "unverified", "a wait sends no input"
            if isinstance(action, ClipboardWrite) and box is None:
                note = "the clipboard holds the text; nothing on screen shows it until it is pasted"
            window = prepared.operation.window if prepared.operation is not None else None
            result = result.model_copy(
                update={
                    "performed": performed,
                    "screen_changed": box is not None,
                    "changed_region": None if box is None else image_box_to_screen(before.frame, box),
                    "settled": settled.settled,
                    "effect": effect,
                    "checks": checks,
                    "note": note,
                    "window": None if window is None else WindowRef.of(window, monitor_of(window, monitors)),
                }
            )
            after = await _grab_all(runtime) if runtime.audit is not None and runtime.audit.screenshots else None
            shot = None if after is None else await _screenshot(runtime, record_id, "after", after.image)
        else:
            shot = None
    except BaseException as exc:
        error = str(exc) if isinstance(exc, ToolFailure) else f"{exc.__class__.__name__}: {exc}"
        if not isinstance(exc, Exception):
            error = "cancelled while sending; the input may have been performed"
        done = [event.to_dict() for event in sent] + operated if isinstance(exc, ActionFailed) else performed
        with anyio.CancelScope(shield=True):
            await _audit(runtime, "outcome", record_id, "failed", done, error=error)
        raise
    result = result.model_copy(update={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    recorded_result = result.model_dump(mode="json")
    if dry:
        outcome: dict[str, Any] = {"performed": performed, "result": recorded_result}
        await _audit(runtime, "unsent", record_id, recorded, result.status, **outcome, **intent)
    else:
        await _audit(runtime, "outcome", record_id, result.status, performed, result=recorded_result, screenshot=shot)
    return result

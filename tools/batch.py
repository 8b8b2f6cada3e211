"""Batched actions: an ordered list run as one unit under the desktop lock.

Before anything is sent, every step passes the policy, every step whose input is known now is
prepared (and its target's risk read), and confirmation is settled once for the whole list: one
question, or one token bound to the digest of the whole list. Then the steps run in order; the
first failure, or a step that changed nothing on screen when it should have, stops the batch, and
the result lists each step's outcome and the steps not run.

A semantic step whose target appears only after earlier steps (a menu item) is resolved when its
turn comes; the approval covers it by its description, and if it turns out to need confirmation
for a reason the person was not shown, it is refused there and the batch stops.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence

from tools.actions.events import AnyAction
from tools.actions.vocabulary import SEMANTIC_ACTIONS
from tools.errors import ToolFailure
from tools.execute import PreparedAction, execute_locked, prepare
from tools.results import ExecuteResult
from tools.results_trust import BatchResult, Confirmation, StepResult
from tools.runtime import Asked, Caller, Runtime
from tools.safety.consent import HOW_TO_CONFIRM, reasons_to_confirm
from tools.safety.policy import check_action, check_events, refuse
from tools.safety.tokens import TokenRefused

MAX_STEPS = 20


class _Plan:
    """The batch as checked before anything runs."""

    def __init__(self) -> None:
        self.digests: list[str] = []
        self.prepared: dict[int, PreparedAction] = {}
        self.reasons: list[str] = []

    @property
    def digest(self) -> str:
        return hashlib.sha256("\n".join(self.digests).encode()).hexdigest()[:16]


async def _check(runtime: Runtime, actions: Sequence[AnyAction]) -> _Plan:
    """Policy for every step; preparation, digest and confirmation reasons for those known now."""
    plan = _Plan()
    monitors = await runtime.capturer.monitors()
    for index, action in enumerate(actions):
        check_action(runtime.policy, action)
        if isinstance(action, SEMANTIC_ACTIONS) and index > 0:
            text = json.dumps(action.model_dump(mode="json"), sort_keys=True)
            plan.digests.append(hashlib.sha256(text.encode()).hexdigest()[:16])
            continue
        prepared = await prepare(runtime, action, monitors)
        check_events(runtime.policy, prepared.events)
        plan.prepared[index] = prepared
        plan.digests.append(prepared.digest)
        for reason in await reasons_to_confirm(runtime, action, prepared.events, prepared.seen):
            plan.reasons.append(f"step {index + 1} ({action.type}): {reason}")
    return plan


def _question(actions: Sequence[AnyAction], plan: _Plan, requester: str | None) -> str:
    who = f" ({requester})" if requester else ""
    lines = [f"An AI agent{who} wants to perform these {len(actions)} actions on your desktop, in order:"]
    for index, action in enumerate(actions):
        prepared = plan.prepared.get(index)
        events = "" if prepared is None else " - " + "; ".join(str(e.to_dict()) for e in prepared.events)
        lines.append(f"{index + 1}. {action.summary()}{events}")
    lines.append("Why you are asked: " + "; ".join(plan.reasons) + ".")
    lines.append("Allow all of them?")
    return "\n".join(lines)


async def batch_question(runtime: Runtime, actions: Sequence[AnyAction], requester: str | None) -> Asked | None:
    """What a person must be asked before this batch may run (``None``: nothing needs confirming)."""
    async with runtime.desktop_lock:
        try:
            plan = await _check(runtime, actions)
        except ToolFailure:
            return None
    if not plan.reasons:
        return None
    return Asked(_question(actions, plan, requester), plan.digest, plan)


async def _confirm(
    runtime: Runtime, actions: Sequence[AnyAction], plan: _Plan, caller: Caller, token: str | None
) -> Confirmation | None:
    if not plan.reasons:
        return None
    why = "; ".join(plan.reasons)
    if token is not None:
        if not runtime.policy.confirm_tokens:
            raise refuse("confirm_tokens", "this server does not accept confirmation tokens; it confirms by asking")
        try:
            runtime.tokens.redeem(token, plan.digest)
        except TokenRefused as exc:
            raise refuse("confirm", f"{exc} (confirmation was needed because {why})") from exc
        return Confirmation(reasons=plan.reasons, via="token")
    answer = await caller.confirm(Asked(_question(actions, plan, caller.requester), plan.digest, plan))
    hint = f". {HOW_TO_CONFIRM}" if runtime.policy.confirm_tokens else ""
    if answer is None:
        raise refuse("confirm", f"a person must confirm this batch because {why}, but this client cannot ask{hint}")
    if not answer:
        raise refuse("confirm", f"the confirmation asked because {why} was declined{hint}")
    return Confirmation(reasons=plan.reasons, via="elicitation")


def _stops(result: ExecuteResult) -> bool:
    """A step that sent input and changed nothing, with no check saying it already was so, stops the batch."""
    return result.status == "executed" and result.effect == "no_change" and not result.checks and bool(result.performed)


async def execute_batch(
    runtime: Runtime,
    actions: Sequence[AnyAction],
    dry_run: bool | None = None,
    caller: Caller | None = None,
    confirmation_token: str | None = None,
) -> ExecuteResult:
    """Run ``actions`` as one unit (see the module docstring)."""
    caller = caller or Caller()
    started = time.perf_counter()
    dry = runtime.settings.dry_run if dry_run is None else (dry_run or runtime.settings.dry_run)
    if not 1 <= len(actions) <= MAX_STEPS:
        raise refuse("batch", f"a batch holds 1 to {MAX_STEPS} actions, got {len(actions)}")
    async with runtime.desktop_lock:
        plan = await _check(runtime, actions)
        confirmation: Confirmation | None = None
        if dry:
            if plan.reasons:
                token = runtime.tokens.issue(plan.digest, runtime.policy.confirm_token_ttl)
                use = runtime.policy.confirm_tokens
                confirmation = Confirmation(
                    reasons=plan.reasons,
                    via="pending",
                    token=token.value if use else None,
                    expires_at=token.expires_at if use else None,
                )
        else:
            confirmation = await _confirm(runtime, actions, plan, caller, confirmation_token)
        approved = set(plan.digests) if confirmation is not None else set()

        async def step_confirm(asked: Asked) -> bool | None:
            if asked.digest in approved:
                return True
            raise refuse(
                "confirm",
                "this step needs a confirmation the batch's question did not cover (it was resolved only "
                "now, on a changed screen); run it on its own",
            )

        step_caller = Caller(caller.progress, step_confirm, caller.requester)
        steps: list[StepResult] = []
        stopped: int | None = None
        for index, action in enumerate(actions):
            if stopped is not None:
                steps.append(StepResult(index=index, action_type=action.type, status="not_run"))
                continue
            try:
                result = await execute_locked(runtime, action, dry, step_caller, issue_token=False)
            except ToolFailure as exc:
                steps.append(StepResult(index=index, action_type=action.type, status="failed", error=str(exc)))
                stopped = index
                continue
            steps.append(
                StepResult(
                    index=index, action_type=action.type, status=result.status, result=result.model_dump(mode="json")
                )
            )
            if _stops(result):
                stopped = index
    status = "dry_run" if dry else "completed" if stopped is None else "stopped"
    note = None
    if stopped is not None:
        failed = steps[stopped]
        why = failed.error or "it changed nothing on screen"
        note = f"stopped at step {stopped + 1} ({failed.action_type}): {why}; {len(actions) - stopped - 1} not run"
    batch = BatchResult(status=status, steps=steps, stopped_at=stopped, confirmation=confirmation, note=note)
    return _summary(batch, dry, round((time.perf_counter() - started) * 1000, 1))


def _summary(batch: BatchResult, dry: bool, duration_ms: float) -> ExecuteResult:
    """The batch as one execute_action result: every step's events, the last run step's effect, the steps."""
    ran = [ExecuteResult.model_validate(step.result) for step in batch.steps if step.result is not None]
    last = ran[-1] if ran else None
    effect = "unverified" if batch.stopped_at is not None or last is None else last.effect
    return ExecuteResult(
        status="dry_run" if dry else "executed",
        action_type="batch",
        performed=[event for result in ran for event in result.performed],
        effect=effect,  # type: ignore[arg-type]
        note=batch.note or ("dry run: nothing was sent" if dry else None),
        screen_changed=any(result.screen_changed for result in ran),
        settled=last.settled if last is not None else True,
        duration_ms=duration_ms,
        confirmation=batch.confirmation,
        batch=batch,
    )

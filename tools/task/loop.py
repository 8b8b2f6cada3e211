"""The task loop: look, plan, act through execute_action's checks, verify; until done, out of steps, or stuck.

Each step: a settled capture of the screen; the model plans on it (thinking, the history of steps
and their verified effects); the action goes through :func:`tools.execute.execute_action`, so the
policy, confirmation, audit log and effect report are the ones every single action gets; the
effect decides what happens next:

* the screen changed, or a check verified the action: the step is done, the next one is planned;
* a click that changed nothing, or an action whose check failed: one retry, planned on a fresh
  look at the screen with the failure in the history (never assumed to have worked);
* the retry fails too: the task stops (``failed_twice``), as it does on a policy refusal, an
  unreachable model or desktop, the step limit, or cancellation. The planner ends it with ``done``.

The same screen and history are never sent to the model twice in a row: the task's plan cache
answers such a repeat (``model_pass: cached``).
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

import anyio

from engine.geometry import box_grown
from tools.actions.vocabulary import Action, Click, ClickElement, ClickText, Done, DoubleClick, RightClick, UploadFile
from tools.answer_cache import AnswerCache
from tools.describe import settled_capture, text_to_screen
from tools.desktop.capture import Capture
from tools.errors import (
    ActionRefused,
    AuditUnavailable,
    DesktopUnavailable,
    ModelFailure,
    ModelUnreachable,
    ToolFailure,
)
from tools.execute import execute_action
from tools.plan import propose
from tools.results import ExecuteResult, PlanResult
from tools.runtime import Caller, Runtime
from tools.task import targets
from tools.task.trajectory import Box, Recorder, ScreenArea, Step, Stop, Target, Trajectory, new_task_id, now_iso

log = logging.getLogger(__name__)

CLICKS = (Click, DoubleClick, RightClick, ClickText, ClickElement)
"""Actions that must change something: one that changed nothing is retried, never assumed to have worked."""
MAX_BOXES = 300


@dataclass(frozen=True)
class TaskOptions:
    """How one task runs."""

    max_steps: int = 30
    dry_run: bool = False
    thinking: bool = True
    max_reasoning_steps: int | None = None
    monitor: int | None = None
    semantic: bool = True
    cwd: str | None = None
    """Relative file paths the model names (upload_file) are taken from here; without it they are refused."""

    def settings(self) -> dict[str, Any]:
        """The options as the trajectory records them."""
        return asdict(self)


@dataclass
class Ending:
    """How a task ended."""

    status: str
    stop: Stop
    reason: str
    answer: str | None = None


Notify = Callable[[Trajectory], Awaitable[None]]
"""Called after every change of the trajectory (a new step, a phase, the end)."""


async def _quiet(trajectory: Trajectory) -> None:
    """A :data:`Notify` that tells no one."""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def model_words(plan: PlanResult) -> str:
    """The action as the model wrote it (grid coordinates), for the history the model reads."""
    args = plan.model_action
    parts = [str(args.get("action", plan.action.type))]
    for key in ("coordinate", "text", "label", "value", "keys", "url", "path", "pixels", "status"):
        if args.get(key) is not None:
            value = args[key]
            parts.append(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}")
    return " ".join(parts)


def history_line(plan: PlanResult, step: Step) -> str:
    """One line of the history: what was done and what it verifiably did."""
    what = model_words(plan)
    if step.outcome == "failed":
        return f"{what} -> failed: {_first_line(step.error or '')}"
    if step.outcome == "no_effect":
        return f"{what} -> nothing changed on the screen (the click had no effect)"
    if step.effect == "changed":
        return f"{what} -> the screen changed"
    if step.effect == "no_change":
        return f"{what} -> done, nothing else changed on the screen"
    return f"{what} -> done (effect not verified)"


def event_points(events: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """The screen points the pointer pressed, released or scrolled at."""
    points: list[tuple[int, int]] = []
    last: tuple[int, int] | None = None
    for event in events:
        if event.get("x") is not None and event.get("y") is not None:
            last = (int(event["x"]), int(event["y"]))
        if event.get("op") in ("click", "mouse_down", "scroll", "hscroll") and last is not None and last not in points:
            points.append(last)
    return points


@dataclass
class TaskLoop:
    """One task, from its goal to its ending, recorded into ``folder``."""

    runtime: Runtime
    goal: str
    options: TaskOptions
    folder: Path
    caller: Caller = field(default_factory=Caller)
    notify: Notify = _quiet
    task_id: str = field(default_factory=new_task_id)
    replay_of: str | None = None

    def __post_init__(self) -> None:
        engine = self.runtime.engine
        self.recorder = Recorder(self.folder)
        self.trajectory = Trajectory(
            task_id=self.task_id,
            goal=self.goal,
            model=engine.model_name if engine is not None else "none",
            settings={**self.options.settings(), "confirm": self.runtime.policy.confirm},
            started_at=now_iso(),
            replay_of=self.replay_of,
        )
        self.history: list[str] = []
        self.cache: AnswerCache[Any] = AnswerCache(capacity=8)

    async def save(self, activity: str | None = None) -> None:
        """Write the trajectory and tell the listener (``activity``: what the task does now)."""
        self.trajectory.activity = activity
        await anyio.to_thread.run_sync(self.recorder.write, self.trajectory)
        await self.notify(self.trajectory)

    async def run(self) -> Trajectory:
        """Run the task to its end; the trajectory says how it ended. Cancellation is recorded, then re-raised."""
        started = time.perf_counter()
        await self.save("starting")
        try:
            ending = await self._steps()
        except DesktopUnavailable as exc:
            ending = Ending("failed", "desktop_error", str(exc))
        except ToolFailure as exc:
            ending = Ending("failed", "error", str(exc))
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self._finish(Ending("cancelled", "cancelled", "the task was cancelled"), started)
            raise
        await self._finish(ending, started)
        return self.trajectory

    async def _finish(self, ending: Ending, started: float) -> None:
        trajectory = self.trajectory
        trajectory.status = ending.status  # type: ignore[assignment]
        trajectory.stop = ending.stop
        trajectory.reason = ending.reason
        trajectory.answer = ending.answer
        trajectory.finished_at = now_iso()
        trajectory.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        for step in trajectory.steps:
            step.phase = "finished"
        await self.save(None)

    async def _steps(self) -> Ending:
        index, attempt, planned = 1, 1, 0
        first_failure = ""
        while True:
            if planned >= self.options.max_steps:
                return Ending(
                    "failed",
                    "step_limit",
                    f"the step limit ({self.options.max_steps}) was reached before the model said the task was done",
                )
            planned += 1
            step, plan, failure = await self._plan(index, attempt)
            if isinstance(failure, ModelUnreachable):
                return Ending("failed", "model_error", f"step {index}: {failure}")
            if plan is not None and isinstance(plan.action, Done):
                step.outcome = "done"
                await self.save()
                if plan.action.status == "success":
                    return Ending("succeeded", "done", "the model says the task is done", plan.action.answer)
                return Ending("failed", "gave_up", "the model says the task cannot be done", plan.action.answer)
            if plan is not None:
                fatal = await self._act(step, plan.action)
                if fatal is not None:
                    return fatal
            if step.outcome == "ok":
                assert plan is not None
                self.history.append(history_line(plan, step))
                index, attempt = index + 1, 1
                continue
            what = (
                _first_line(step.error or "")
                if step.outcome == "failed"
                else f"{step.summary} changed nothing on the screen"
            )
            if plan is None:
                what = f"the model's answer could not be used: {_first_line(str(failure))}"
            if attempt == 2:
                stop: Stop = "model_error" if plan is None else "failed_twice"
                return Ending(
                    "failed", stop, f"step {index} failed twice: first {first_failure}; then, on a fresh look, {what}"
                )
            if plan is not None:
                self.history.append(history_line(plan, step))
            first_failure, attempt = what, 2

    async def _look(self, index: int, attempt: int) -> tuple[Step, Capture]:
        """A settled capture of the screen, recorded as a new step's "before"."""
        await self.save(f"step {index}: looking at the screen")
        capture, _ = await settled_capture(self.runtime, None, self.options.monitor)
        frame = capture.frame
        step = Step(
            index=index,
            attempt=attempt,
            started_at=now_iso(),
            screen=ScreenArea(
                origin=(frame.x, frame.y), width=frame.width, height=frame.height, image_size=capture.image.size
            ),
            before=await anyio.to_thread.run_sync(self.recorder.image, f"{index:03d}-{attempt}-before", capture.image),
        )
        self.trajectory.steps.append(step)
        return step, capture

    async def _plan(self, index: int, attempt: int) -> tuple[Step, PlanResult | None, ModelFailure | None]:
        """Look at the screen and let the model plan; a step is recorded even when the model fails."""
        started = time.perf_counter()
        step, capture = await self._look(index, attempt)
        captured = time.perf_counter()
        name = f"{index:03d}-{attempt}"
        engine = self.trajectory.model
        await self.save(f"step {index}: {engine} is reasoning")
        options = self.options
        try:
            plan = await propose(
                self.runtime,
                capture,
                self.goal,
                self.history,
                options.thinking,
                options.max_reasoning_steps,
                semantic=options.semantic,
                cache=self.cache,
            )
        except ModelFailure as exc:
            step.outcome, step.error, step.phase = "failed", f"model: {exc}", "finished"
            step.timings_ms = {"capture": _ms(started, captured), "total": _ms(started)}
            await self.save()
            return step, None, exc
        step.reasoning = plan.reasoning
        step.model_action = plan.model_action
        step.model_pass = plan.model_pass
        step.action = plan.action.model_dump(mode="json", exclude_none=True)
        step.summary = plan.action.summary()
        step.tokens = plan.tokens
        step.timings_ms = {"capture": _ms(started, captured), "model": plan.timings_ms.get("model", 0.0)}
        await self._look_closer(step, capture, plan, name)
        await self.save(f"step {index}: {step.summary}")
        return step, plan, None

    async def _look_closer(self, step: Step, capture: Capture, plan: PlanResult, name: str) -> None:
        """Text boxes to draw (when OCR is on) and, for a coordinate action, the target a replay looks for."""
        lines = []
        if self.runtime.ocr is not None:
            frame = capture.frame
            try:
                read = await self.runtime.ocr.aread(capture.image, (frame.x, frame.y, frame.width, frame.height))
                lines = text_to_screen(frame, read.lines)
            except ToolFailure as exc:  # boxes are a courtesy to the viewer; the step goes on without them
                log.info("no text boxes for step %s: %s", step.index, exc)
        step.boxes = [Box(box=line.box, label=line.text) for line in lines[:MAX_BOXES]]
        x, y = getattr(plan.action, "x", None), getattr(plan.action, "y", None)
        if x is None or y is None:
            return
        box = targets.patch_box(capture.frame, (x, y))
        patch = targets.cut_patch(capture.image, capture.frame, box)
        under = [line.text for line in lines if _inside((x, y), box_grown(line.box, pixels=2))]
        step.target = Target(
            point=(x, y),
            patch=await anyio.to_thread.run_sync(self.recorder.image, f"{name}-target", patch),
            patch_box=box,
            text=under[0] if under else None,
        )

    async def _act(self, step: Step, action: Action) -> Ending | None:
        """Execute the planned action and judge its effect; the step records what happened.

        Returns the task's ending when the step must end it (a refusal, no desktop to act on).
        """
        started = time.perf_counter()
        action_id = f"{self.task_id}.{step.index}.{step.attempt}"
        step.phase = "acting"
        await self.save(f"step {step.index}: {step.summary}")
        result: ExecuteResult | None = None
        fatal: Ending | None = None
        if isinstance(action, UploadFile) and self.options.cwd and not PurePath(action.path).is_absolute():
            # The goal's "./images/headset.jpg" means the one where the task was started.
            path = posixpath.normpath(str(PurePath(self.options.cwd, action.path)))
            action = action.model_copy(update={"path": path})
            step.action = action.model_dump(mode="json", exclude_none=True)
            step.summary = action.summary()
        try:
            result = await execute_action(self.runtime, action, self.options.dry_run, self.caller, action_id)
        except ActionRefused as exc:
            step.outcome, step.error = "refused", str(exc)
            fatal = Ending("failed", "refused", f"step {step.index} was refused: {exc}")
        except (DesktopUnavailable, AuditUnavailable) as exc:
            step.outcome, step.error = "failed", str(exc)
            fatal = Ending("failed", "desktop_error", f"step {step.index}: {exc}")
        except ToolFailure as exc:  # a check failed, the target was not found, the action was invalid here
            step.outcome, step.error = "failed", str(exc)
        step.timings_ms["execute"] = _ms(started)
        if result is not None:
            self._judge(step, action, result)
            if result.status == "executed":
                after = await self.runtime.capturer.grab(None, self._monitor())
                name = f"{step.index:03d}-{step.attempt}-after"
                step.after = await anyio.to_thread.run_sync(self.recorder.image, name, after.image)
        step.timings_ms["total"] = round(sum(v for k, v in step.timings_ms.items() if k != "total"), 1)
        step.phase = "finished"
        await self.save()
        return fatal

    def _judge(self, step: Step, action: Action, result: ExecuteResult) -> None:
        step.events = result.performed
        step.points = event_points(result.performed)
        step.effect = result.effect
        step.checks = [check.model_dump() for check in result.checks]
        step.changed_region = result.changed_region
        step.note = result.note
        step.audit_id = result.audit_id
        if result.changed_region is not None:
            step.boxes.append(Box(box=result.changed_region, label="changed", kind="changed"))
        for point in step.points:
            hit = [b for b in step.boxes if b.kind == "text" and _inside(point, box_grown(b.box, pixels=4))]
            if hit:
                step.boxes.append(Box(box=hit[0].box, label=hit[0].label, kind="target"))
        verified = bool(result.checks) and all(check.ok for check in result.checks)
        no_effect = result.effect == "no_change" and isinstance(action, CLICKS) and not verified
        step.outcome = "no_effect" if no_effect else "ok"

    def _monitor(self) -> int:
        return self.runtime.settings.monitor if self.options.monitor is None else self.options.monitor


def _inside(point: tuple[int, int], box: tuple[int, int, int, int]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _ms(start: float, end: float | None = None) -> float:
    return round(((time.perf_counter() if end is None else end) - start) * 1000, 1)

"""``start_task``, ``get_task``, ``cancel_task``: the task loop behind explicit handles, as plain tool specs.

Hosts kill long tool calls, and the SDK has no Tasks extension yet, so a task is started by one
call and then looked at by id. ``get_task`` can wait for the next step (sending progress while it
waits), so a host can follow a task without polling fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import anyio
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from tools.errors import ActionRefused, InvalidAction
from tools.registry import Outcome, ToolSpec
from tools.runtime import Caller, Runtime
from tools.task.loop import TaskOptions
from tools.task.manager import TaskManager
from tools.task.trajectory import Trajectory

TASK_ID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$", description="The id start_task returned.")


class StartTaskParams(BaseModel):
    """Arguments of start_task."""

    model_config = ConfigDict(extra="forbid")
    goal: str = Field(min_length=1, max_length=4000, description="What to get done on this desktop, in plain words.")
    max_steps: int = Field(30, ge=1, le=200, description="Stop after this many planned steps.")
    dry_run: bool | None = Field(
        None, description="Plan and validate every step but send no input. Server setting if omitted."
    )
    thinking: bool = Field(True, description="Let the model reason step by step before each action.")
    max_reasoning_steps: int | None = Field(None, ge=1, le=32, description="Cap on numbered reasoning steps.")


class GetTaskParams(BaseModel):
    """Arguments of get_task."""

    model_config = ConfigDict(extra="forbid")
    task_id: str = TASK_ID
    wait_s: float = Field(
        0,
        ge=0,
        le=60,
        description="Wait up to this many seconds for the task to move on (a step planned or performed, or the "
        "end) before answering; progress notifications are sent while waiting. 0: answer at once.",
    )
    include_screenshot: bool = Field(False, description="Also return the latest screenshot of the task.")


class CancelTaskParams(BaseModel):
    """Arguments of cancel_task."""

    model_config = ConfigDict(extra="forbid")
    task_id: str = TASK_ID


class StepSummary(BaseModel):
    """One step as get_task reports it."""

    index: int
    attempt: int = Field(description="2: the retry of a step after a fresh look at the screen.")
    action: str | None = Field(description="The action, in short.")
    outcome: str | None = Field(description="ok, no_effect (a click that changed nothing), failed, refused, done.")
    effect: str | None = Field(description="changed, no_change or unverified, from execute_action's report.")
    reasoning: str | None = Field(description="The model's reasoning (shortened).")
    error: str | None = None


class TaskResult(BaseModel):
    """What start_task, get_task and cancel_task return."""

    task_id: str
    goal: str
    status: Literal["running", "succeeded", "failed", "cancelled"]
    stop: str | None = Field(
        description="Why it ended: done, gave_up, step_limit, failed_twice, refused, model_error, desktop_error, "
        "cancelled, error."
    )
    reason: str | None = Field(description="The ending in words (null while running).")
    answer: str | None = Field(description="The model's final answer, when it gave one.")
    activity: str | None = Field(description="What the task is doing right now.")
    steps_taken: int
    steps: list[StepSummary] = Field(description="The latest steps, oldest first (at most 20).")
    last_screenshot: str | None = Field(description="Resource URI of the latest screenshot of the task.")
    trajectory: str = Field(description="The folder where the run is recorded (trajectory.json and screenshots).")


def _short(text: str | None, limit: int = 400) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def latest_shot(trajectory: Trajectory) -> str | None:
    """The relative file of the task's latest screenshot (after, else before), if any."""
    for step in reversed(trajectory.steps):
        if step.after or step.before:
            return step.after or step.before
    return None


def task_result(trajectory: Trajectory, folder: Path) -> TaskResult:
    """The tool result for a trajectory."""
    shot = latest_shot(trajectory)
    return TaskResult(
        task_id=trajectory.task_id,
        goal=trajectory.goal,
        status=trajectory.status,
        stop=trajectory.stop,
        reason=trajectory.reason,
        answer=trajectory.answer,
        activity=trajectory.activity,
        steps_taken=len(trajectory.steps),
        steps=[
            StepSummary(
                index=s.index,
                attempt=s.attempt,
                action=s.summary,
                outcome=s.outcome,
                effect=s.effect,
                reasoning=_short(s.reasoning),
                error=_short(s.error),
            )
            for s in trajectory.steps[-20:]
        ],
        last_screenshot=None if shot is None else f"vlm-desktop://tasks/{trajectory.task_id}/{shot}",
        trajectory=str(folder),
    )


def task_tools(manager: TaskManager, cwd: str | None = None) -> list[ToolSpec]:
    """The three task tools, bound to ``manager`` (``cwd``: where relative file paths in goals are taken from)."""

    async def start(runtime: Runtime, params: StartTaskParams, caller: Caller) -> Outcome:
        if runtime.engine is None:
            raise InvalidAction("start_task needs a vision model to plan with, and this server has none configured")
        if runtime.policy.confirm == "always":
            raise ActionRefused(
                "confirm",
                "this server asks a person to confirm every action, and a task running in the background cannot "
                "ask anyone. Drive the steps yourself (the gui_task prompt shows how) with execute_action",
            )
        options = TaskOptions(
            max_steps=params.max_steps,
            dry_run=bool(params.dry_run) or runtime.settings.dry_run,
            thinking=params.thinking,
            max_reasoning_steps=params.max_reasoning_steps,
            cwd=cwd,
        )
        # The task outlives this call: it cannot use the call's progress or confirmation channel.
        requester = f"task ({caller.requester})" if caller.requester else "task"
        handle = await manager.start(runtime, params.goal, options, Caller(requester=requester))
        return Outcome(task_result(handle.trajectory, handle.loop.folder))

    async def get(runtime: Runtime, params: GetTaskParams, caller: Caller) -> Outcome:
        trajectory = manager.get(params.task_id)
        if params.wait_s > 0 and trajectory.status == "running":
            with anyio.move_on_after(params.wait_s):
                seen = _progress_key(trajectory)
                while _progress_key(trajectory) == seen:
                    trajectory = await manager.wait(params.task_id, params.wait_s)
                    await caller.progress(len(trajectory.steps), None, trajectory.activity or trajectory.status)
        folder = manager.root / trajectory.task_id
        result = task_result(trajectory, folder)
        shot = latest_shot(trajectory)
        if not params.include_screenshot or shot is None:
            return Outcome(result)
        image = await anyio.to_thread.run_sync(_open, folder / shot)
        return Outcome(result, [image])

    async def cancel(runtime: Runtime, params: CancelTaskParams, caller: Caller) -> Outcome:
        trajectory = await manager.cancel(params.task_id)
        return Outcome(task_result(trajectory, manager.root / trajectory.task_id))

    return [
        ToolSpec(
            name="start_task",
            title="Start a GUI task",
            description=(
                "Hand a whole task to the local vision model: it looks at the screen, reasons, acts through "
                "execute_action's checks (policy, audit log, effect report), verifies each step's effect and goes "
                "on until it is done, stuck (a step that fails twice), refused, or out of steps. Returns at once "
                "with a task_id; follow it with get_task (wait_s waits for the next step) and stop it with "
                "cancel_task. One task at a time. Every run is recorded (trajectory folder, viewer at /viewer over "
                "HTTP). Actions needing a person's confirmation are refused inside a task: drive such work step by "
                "step instead."
            ),
            kind="act",
            params=StartTaskParams,
            result=TaskResult,
            handler=start,
        ),
        ToolSpec(
            name="get_task",
            title="Look at a GUI task",
            description=(
                "A task's status, its latest steps (action, effect, reasoning), the final status and reason once it "
                "ended, and the URI of its latest screenshot. With wait_s it waits for the next step or the end "
                "first, reporting progress meanwhile. It changes nothing."
            ),
            kind="read",
            params=GetTaskParams,
            result=TaskResult,
            handler=get,
        ),
        ToolSpec(
            name="cancel_task",
            title="Cancel a GUI task",
            description=(
                "Stop a running task after its current input event (an action already sent is not undone); "
                "returns its final state. Cancelling a finished task changes nothing."
            ),
            kind="act",
            params=CancelTaskParams,
            result=TaskResult,
            handler=cancel,
        ),
    ]


def _progress_key(trajectory: Trajectory) -> tuple[object, ...]:
    """What get_task waits to see change: a step begun, planned, performed, or the end."""
    last = trajectory.steps[-1] if trajectory.steps else None
    return (len(trajectory.steps), trajectory.status, last and last.phase, last and last.summary, last and last.outcome)


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")

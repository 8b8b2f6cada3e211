"""Tasks by id: started in the background, looked at and cancelled through explicit handles.

Hosts kill long tool calls, so a task does not live inside the call that started it: it runs in
the task group of :meth:`TaskManager.running` (the server's lifespan), and ``get``/``cancel`` find
it by id. One desktop means one task at a time. Finished tasks stay readable from their folders.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup

from tools.errors import InvalidAction, ToolFailure
from tools.runtime import Caller, Runtime
from tools.task import trajectory as files
from tools.task.loop import TaskLoop, TaskOptions
from tools.task.trajectory import Trajectory, TrajectoryError, new_task_id, now_iso

log = logging.getLogger(__name__)


@dataclass
class TaskHandle:
    """A running (or finished) task of this process."""

    loop: TaskLoop
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    changed: anyio.Event = field(default_factory=anyio.Event)

    @property
    def trajectory(self) -> Trajectory:
        """The task's trajectory as it is now."""
        return self.loop.trajectory

    async def updated(self, trajectory: Trajectory) -> None:
        """The loop's :data:`~tools.task.loop.Notify`: wakes whoever waits for a change."""
        self.changed.set()
        self.changed = anyio.Event()


class TaskManager:
    """The tasks of this process, their folders under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tasks: dict[str, TaskHandle] = {}
        self._group: TaskGroup | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[TaskManager]:
        """Let tasks run while this context is open; leaving it cancels the ones still running."""
        async with anyio.create_task_group() as group:
            previous, self._group = self._group, group
            try:
                yield self
            finally:
                self._group = previous
                group.cancel_scope.cancel()

    def active(self) -> TaskHandle | None:
        """The task running now, if any."""
        return next((h for h in self._tasks.values() if not h.done.is_set()), None)

    async def start(self, runtime: Runtime, goal: str, options: TaskOptions, caller: Caller) -> TaskHandle:
        """Start ``goal`` in the background; refused while another task runs (there is one desktop)."""
        if self._group is None:
            raise ToolFailure("tasks cannot be started: the server is shutting down")
        busy = self.active()
        if busy is not None:
            raise InvalidAction(
                f"task {busy.trajectory.task_id} is still running ({busy.trajectory.activity or 'busy'}); there is "
                "one desktop, so one task at a time. Wait for it with get_task, or stop it with cancel_task."
            )
        task_id = new_task_id()
        loop = TaskLoop(runtime, goal, options, self.root / task_id, caller, task_id=task_id)
        handle = TaskHandle(loop)
        loop.notify = handle.updated
        self._tasks[task_id] = handle
        await loop.save("starting")
        self._group.start_soon(self._run, handle)
        return handle

    async def _run(self, handle: TaskHandle) -> None:
        try:
            with handle.scope:
                await handle.loop.run()
        except Exception:  # a bug in the loop: the task ends, the server goes on
            log.exception("task %s crashed", handle.trajectory.task_id)
            trajectory = handle.trajectory
            trajectory.status, trajectory.stop = "failed", "error"
            trajectory.reason, trajectory.finished_at = "the task hit an internal error (see the server log)", now_iso()
            with anyio.CancelScope(shield=True):
                await handle.loop.save(None)
        finally:
            handle.done.set()
            await handle.updated(handle.trajectory)

    def get(self, task_id: str) -> Trajectory:
        """The task's trajectory: live when it runs in this process, else from its folder."""
        handle = self._tasks.get(task_id)
        if handle is not None:
            return handle.trajectory
        if not files.safe_name(task_id):
            raise InvalidAction(f"{task_id!r} is not a task id")
        try:
            return files.load(self.root / task_id)
        except TrajectoryError as exc:
            raise InvalidAction(f"no task {task_id!r} (the recent ones: {self.recent_ids()}): {exc}") from exc

    async def wait(self, task_id: str, timeout: float) -> Trajectory:
        """Wait up to ``timeout`` seconds for the task to change (a new step, its end); its trajectory then."""
        handle = self._tasks.get(task_id)
        if handle is None or handle.done.is_set() or timeout <= 0:
            return self.get(task_id)
        with anyio.move_on_after(timeout):
            await handle.changed.wait()
        return handle.trajectory

    async def cancel(self, task_id: str) -> Trajectory:
        """Cancel a running task and wait (up to 10 s) until its cancellation is recorded."""
        handle = self._tasks.get(task_id)
        if handle is None:
            return self.get(task_id)  # finished in another process, or unknown: nothing to cancel
        handle.scope.cancel()
        with anyio.move_on_after(10):
            await handle.done.wait()
        if not handle.done.is_set():  # input already being sent (a long wait) finishes first
            handle.trajectory.activity = "cancelling: the action being performed finishes first"
        return handle.trajectory

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """Summaries of the newest tasks (live ones as they are now)."""
        found: list[dict[str, Any]] = []
        for folder in files.folders(self.root)[:limit]:
            handle = self._tasks.get(folder.name)
            try:
                found.append(files.summary(handle.trajectory if handle else files.load(folder)))
            except TrajectoryError:
                continue
        return found

    def recent_ids(self, limit: int = 5) -> list[str]:
        """The ids of the newest tasks."""
        return [folder.name for folder in files.folders(self.root)[:limit]]

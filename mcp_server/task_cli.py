"""``run-task``, ``replay`` and ``view``: the task loop from a terminal, with a progress display on stderr.

stdout stays clean (``--json`` prints the outcome there as one JSON object); the progress display,
questions to confirm an action and logs go to stderr. The exit status says how the task ended:
see :data:`EXIT`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.markup import escape

from mcp_server.config import SHORTCUTS, Settings
from mcp_server.lifespan import SharedRuntime
from mcp_server.tasks import trajectories_root
from mcp_server.transports import is_loopback
from mcp_server.viewer import Viewer, runs_under
from tools.runtime import Asked, Caller
from tools.task import trajectory as files
from tools.task.loop import TaskLoop, TaskOptions
from tools.task.replay import Replay
from tools.task.trajectory import Step, Trajectory, TrajectoryError, new_task_id

EXIT: dict[str | None, int] = {
    "done": 0,  # the model says the task is done (or every recorded step was replayed)
    "gave_up": 1,  # the model says the task cannot be done
    "failed_twice": 3,  # a step failed, and failed again on a fresh look
    "step_limit": 4,  # --max-steps were taken and the task was not done
    "refused": 5,  # the policy, or the person asked to confirm, refused an action
    "model_error": 6,  # the model could not be reached or answered unusably
    "desktop_error": 6,  # the screen could not be captured or input not sent
    "error": 6,
    "cancelled": 130,  # Ctrl-C
}
"""Exit status by the trajectory's ``stop``; 2 is a usage or configuration error."""


def add_parsers(commands: Any) -> None:
    """The ``run-task``, ``replay`` and ``view`` subcommands."""
    run = commands.add_parser("run-task", help="let the model carry out a task on this desktop, step by step")
    run.add_argument("goal", help='what to do, e.g. "publish a new product named ..."')
    run.add_argument("--max-steps", type=int, default=30, help="stop after this many planned steps (default 30)")
    _common(run)
    run.add_argument("--no-thinking", action="store_true", help="let the model answer without reasoning first")
    run.add_argument("--max-reasoning-steps", type=int, help="cap on numbered reasoning steps")
    replay = commands.add_parser("replay", help="perform a recorded task's steps again, each found on the live screen")
    replay.add_argument("folder", type=Path, help="the task's folder (holding trajectory.json)")
    _common(replay)
    view = commands.add_parser("view", help="serve the task viewer for saved runs")
    view.add_argument("folder", type=Path, help="a task folder, or a folder of them (default: where tasks are saved)")
    view.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    view.add_argument("--port", type=int, default=8766, help="port (default 8766)")


def _common(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--config", type=Path, help="YAML config file")
    cmd.add_argument("--base-url", help="OpenAI-compatible model server (default http://127.0.0.1:30000/v1)")
    cmd.add_argument("--model", help="model name (default Qwen/Qwen3-VL-2B-Instruct)")
    cmd.add_argument("--backend", choices=["sglang", "openai", "transformers", "none"], help="default sglang")
    cmd.add_argument("--thinking", choices=["auto", "native", "prompted", "off"], help="default auto")
    cmd.add_argument("--monitor", type=int, help="monitor to work on (1 = primary)")
    cmd.add_argument(
        "--dry-run", action="store_const", const=True, default=None, help="validate and record, send no input"
    )
    cmd.add_argument(
        "--confirm",
        choices=["never", "destructive", "always"],
        help="ask on this terminal before destructive actions, or every action (default: the configured policy)",
    )
    cmd.add_argument("--out", type=Path, help="folder for the task's folder (default: trajectories/ by the audit log)")
    cmd.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout")


def flags_of(args: argparse.Namespace) -> dict[str, Any]:
    """The settings shortcuts given on the command line."""
    return {key: getattr(args, key, None) for key in SHORTCUTS}


def with_confirm(settings: Settings, confirm: str | None) -> Settings:
    """``settings`` with the policy's confirm mode replaced (when given)."""
    if confirm is None:
        return settings
    return settings.model_copy(update={"policy": settings.policy.model_copy(update={"confirm": confirm})})


class Display:
    """The terminal progress display: one block per finished step, and what the task does now."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.shown: set[tuple[int, int]] = set()
        self.status = console.status("starting", spinner="dots")

    async def __call__(self, trajectory: Trajectory) -> None:
        """A :data:`~tools.task.loop.Notify`."""
        for step in trajectory.steps:
            if step.phase == "finished" and step.outcome and (step.index, step.attempt) not in self.shown:
                self.shown.add((step.index, step.attempt))
                self.console.print(self.row(step))
        if trajectory.activity:
            self.status.update(escape(trajectory.activity))

    @staticmethod
    def row(step: Step) -> str:
        """A finished step: number, thought, action, effect, time."""
        colour = {"ok": "green", "done": "green", "no_effect": "yellow"}.get(step.outcome or "", "red")
        thought = (step.reasoning or "").strip().splitlines()
        thought_line = escape(thought[-1][:110]) if thought else ""
        seconds = step.timings_ms.get("total", sum(step.timings_ms.values())) / 1000
        effect = step.effect or ("" if step.outcome == "done" else "-")
        words = f"[{colour}]{step.outcome}[/]" + (f" ({effect})" if effect else "")
        retry = " [yellow](retry after a fresh look)[/]" if step.attempt > 1 else ""
        lines = [f"[bold]step {step.index}[/]{retry}  [dim]{thought_line}[/]"]
        lines.append(f"   -> {escape(step.summary or '?')}  {words}  [dim]{seconds:.1f} s[/]")
        if step.error:
            lines.append(f"   [red]{escape(step.error.strip().splitlines()[0][:200])}[/]")
        return "\n".join(lines)

    def ending(self, trajectory: Trajectory, folder: Path) -> None:
        """The final status and reason, and where the run was saved."""
        colour = "green" if trajectory.status == "succeeded" else "red"
        self.console.print(f"[bold {colour}]{trajectory.status}[/]: {escape(trajectory.reason or '')}")
        if trajectory.answer:
            self.console.print(f"answer: {escape(trajectory.answer)}")
        seconds = (trajectory.duration_ms or 0) / 1000
        tokens = trajectory.tokens()
        spent = f", {tokens.get('prompt', 0)} + {tokens.get('completion', 0)} tokens" if tokens else ""
        self.console.print(f"[dim]{len(trajectory.steps)} steps in {seconds:.1f} s{spent}; saved in {folder}[/]")


def terminal_confirm(console: Console) -> Any:
    """A :data:`~tools.runtime.Confirm` that asks on this terminal (stdin); ``None`` when stdin is closed."""

    async def confirm(asked: Asked) -> bool | None:
        console.print(f"[bold yellow]{escape(asked.question)}[/] [y/N] ", end="")
        line = await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
        if not line:
            console.print("(no terminal to answer on)")
            return None
        return line.strip().lower() in ("y", "yes")

    return confirm


async def _until_interrupted(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            scope.cancel()
            return


async def _drive(settings: Settings, make: Any, console: Console) -> tuple[Trajectory, Path]:
    display = Display(console)
    shared = SharedRuntime(settings)
    async with shared.session() as runtime:
        loop: TaskLoop = make(runtime, display)
        with display.status:
            async with anyio.create_task_group() as group:
                group.start_soon(_until_interrupted, group.cancel_scope)
                # As the server does: the canary's verdicts ahead of the first step, and several model
                # servers watched, so one that failed is brought back while the task runs.
                group.start_soon(shared.self_test)
                try:
                    await loop.run()
                finally:
                    group.cancel_scope.cancel()
    display.ending(loop.trajectory, loop.folder)
    return loop.trajectory, loop.folder


def _finish(args: argparse.Namespace, trajectory: Trajectory, folder: Path) -> int:
    if args.json:
        print(json.dumps({**files.summary(trajectory), "answer": trajectory.answer, "folder": str(folder)}))
    return EXIT.get(trajectory.stop, 6)


def run_task(args: argparse.Namespace, settings: Settings) -> int:
    """``vlm-desktop-mcp run-task GOAL``."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if settings.model.backend == "none":
        console.print("vlm-desktop-mcp: run-task needs a vision model (--backend none has none)")
        return 2
    if args.max_steps < 1:
        console.print("vlm-desktop-mcp: --max-steps must be at least 1")
        return 2
    options = TaskOptions(
        max_steps=args.max_steps,
        dry_run=bool(settings.desktop.dry_run),
        thinking=not args.no_thinking,
        max_reasoning_steps=args.max_reasoning_steps,
        monitor=args.monitor,
        cwd=os.getcwd(),
    )
    root = args.out or trajectories_root(settings)
    task_id = new_task_id()
    caller = Caller(confirm=terminal_confirm(console), requester="run-task")

    def make(runtime: Any, display: Display) -> TaskLoop:
        return TaskLoop(runtime, args.goal, options, root / task_id, caller, display, task_id)

    console.print(f"[bold]task[/] {escape(args.goal)}  [dim]({settings.model.name}, at most {args.max_steps} steps)[/]")
    trajectory, folder = anyio.run(_drive, settings, make, console)
    return _finish(args, trajectory, folder)


def replay(args: argparse.Namespace, settings: Settings) -> int:
    """``vlm-desktop-mcp replay DIR``."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        source = files.load(args.folder)
    except TrajectoryError as exc:
        console.print(f"vlm-desktop-mcp: {escape(str(exc))}")
        return 2
    options = TaskOptions(
        max_steps=10_000, dry_run=bool(settings.desktop.dry_run), monitor=args.monitor, cwd=os.getcwd()
    )
    root = args.out or trajectories_root(settings)
    task_id = new_task_id()
    caller = Caller(confirm=terminal_confirm(console), requester="replay")

    def make(runtime: Any, display: Display) -> TaskLoop:
        return Replay(
            runtime,
            f"replay: {source.goal}",
            options,
            root / task_id,
            caller,
            display,
            task_id,
            replay_of=str(args.folder),
            source=source,
            source_folder=args.folder,
        )

    console.print(f"[bold]replay[/] {escape(source.goal)}  [dim]({args.folder})[/]")
    trajectory, folder = anyio.run(_drive, settings, make, console)
    return _finish(args, trajectory, folder)


def view(args: argparse.Namespace) -> int:
    """``vlm-desktop-mcp view DIR``: serve the viewer until interrupted."""
    import uvicorn

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if not is_loopback(args.host):
        console.print("vlm-desktop-mcp: view shows screenshots of this desktop: it listens on loopback addresses only")
        return 2
    if not files.folders(args.folder):
        console.print(f"vlm-desktop-mcp: {escape(str(args.folder))} holds no task run (no trajectory.json)")
        return 2
    hosts = [f"{name}:{args.port}" for name in ("127.0.0.1", "localhost", args.host)]
    app = Viewer(runs_under(args.folder)).app(hosts)
    console.print(f"task viewer: http://{args.host}:{args.port}/viewer  (Ctrl-C to stop)")
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0

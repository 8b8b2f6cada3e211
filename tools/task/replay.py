"""Replaying a recorded task: each step's action again, found again on the live screen, with the same checks.

Only the steps that worked are replayed (a wrong click and its retry are not). Semantic actions
(click_text, fill_input, upload_file...) resolve on the live screen by themselves; a coordinate
action is moved to where its recorded target (the patch of screenshot around the point) is now,
or, when only its text is known, becomes a click on that text. A target that is nowhere on the
screen stops the replay: recorded coordinates are never clicked blindly. A step that changed the
screen when it was recorded must change it again; like in a task, it gets one retry on a fresh look.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from PIL import Image
from pydantic import TypeAdapter

from tools.actions.vocabulary import Action, Click, ClickText, DoubleClick, RightClick
from tools.desktop.capture import Capture
from tools.task import targets
from tools.task.loop import Ending, TaskLoop
from tools.task.trajectory import Step, Trajectory

_ACTION: TypeAdapter[Any] = TypeAdapter(Action)


def replayable(trajectory: Trajectory) -> list[Step]:
    """The steps a replay performs: those whose action worked (the final ``done`` is not an action)."""
    return [s for s in trajectory.steps if s.outcome == "ok" and s.action is not None and s.action["type"] != "done"]


def moved(action: dict[str, Any], dx: int, dy: int) -> dict[str, Any]:
    """The recorded action with its points moved by (dx, dy)."""
    shifted = dict(action)
    for x, y in (("x", "y"), ("to_x", "to_y")):
        if shifted.get(x) is not None and shifted.get(y) is not None:
            shifted[x], shifted[y] = shifted[x] + dx, shifted[y] + dy
    return shifted


@dataclass
class Replay(TaskLoop):
    """A :class:`TaskLoop` whose steps come from a recorded trajectory instead of the model."""

    source: Trajectory | None = None
    source_folder: Path | None = None

    async def _steps(self) -> Ending:
        assert self.source is not None and self.source_folder is not None
        recorded = replayable(self.source)
        if not recorded:
            return Ending("failed", "error", "the trajectory has no step that worked, so nothing to replay")
        for number, old in enumerate(recorded, 1):
            first = ""
            for attempt in (1, 2):
                step, capture = await self._look(number, attempt)
                step.reasoning = f"Replay of step {old.index} of task {self.source.task_id}: {old.summary}"
                step.model_pass = "cached"
                action, problem = await self._resolve(old, capture)
                if action is None:
                    step.outcome, step.error = "failed", problem
                else:
                    step.action = action.model_dump(mode="json", exclude_none=True)
                    step.summary = action.summary()
                    fatal = await self._act(step, action)
                    step.note = "; ".join(note for note in (problem, step.note) if note) or None
                    if fatal is not None:
                        return fatal
                    if step.outcome == "ok" and old.effect == "changed" and step.effect == "no_change":
                        step.outcome = "no_effect"
                        step.error = "it changed nothing on the screen, and when it was recorded it did"
                await self.save()
                if step.outcome == "ok":
                    break
                what = step.error or f"{step.summary} changed nothing on the screen"
                if attempt == 2:
                    return Ending(
                        "failed",
                        "failed_twice",
                        f"replayed step {number} (recorded step {old.index}, {old.summary}) failed twice: first "
                        f"{first}; then, on a fresh look, {what}",
                    )
                first = what
        return Ending("succeeded", "done", f"all {len(recorded)} recorded steps replayed", self.source.answer)

    async def _resolve(self, old: Step, capture: Capture) -> tuple[Action | None, str | None]:
        """The recorded action as it applies to the screen now (or ``None`` and why not)."""
        assert old.action is not None and self.source_folder is not None
        if old.target is None:
            return _ACTION.validate_python(old.action), None
        target = old.target
        patch = await anyio.to_thread.run_sync(_open, self.source_folder / target.patch)
        found = await anyio.to_thread.run_sync(
            targets.relocate, patch, target.patch_box, target.point, capture.image, capture.frame
        )
        if found is not None:
            dx, dy = found.point[0] - target.point[0], found.point[1] - target.point[1]
            note = f"target found {'where it was' if (dx, dy) == (0, 0) else f'moved by ({dx}, {dy})'}"
            return _ACTION.validate_python(moved(old.action, dx, dy)), f"{note} (match {found.score:.2f})"
        kind = old.action["type"]
        if target.text and kind in ("click", "double_click", "right_click"):
            click = _ACTION.validate_python(old.action)
            assert isinstance(click, Click | DoubleClick | RightClick)
            button = click.button if isinstance(click, Click) else "right" if isinstance(click, RightClick) else "left"
            clicks = click.clicks if isinstance(click, Click) else 2 if isinstance(click, DoubleClick) else 1
            text = ClickText(text=target.text, button=button, clicks=clicks)
            return text, f"target not seen as recorded; clicking its text {target.text!r} instead"
        return None, (
            f"the target of {old.summary} (recorded at {target.point}) is not on the screen now; recorded "
            "coordinates are never clicked blindly"
        )


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")

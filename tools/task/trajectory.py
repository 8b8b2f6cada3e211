"""A task run on disk: ``trajectory.json`` plus the screenshots of every step (format in docs/trajectory.md).

The folder is written while the task runs: the JSON is replaced atomically after every change, so a
viewer polling it always reads a whole document, and a crash leaves the steps recorded so far.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT = "vlm-desktop-mcp/trajectory"
VERSION = 1
FILE = "trajectory.json"
STEPS = "steps"

Status = Literal["running", "succeeded", "failed", "cancelled"]
Stop = Literal[
    "done", "gave_up", "step_limit", "failed_twice", "refused", "model_error", "desktop_error", "cancelled", "error"
]
Outcome = Literal["ok", "no_effect", "failed", "refused", "done"]


class TrajectoryError(Exception):
    """A folder that holds no readable trajectory; the message says which file and why."""


class ScreenArea(BaseModel):
    """Where a screenshot sits on the screen: screen pixels = origin + image pixels / scale."""

    model_config = ConfigDict(extra="forbid")
    origin: tuple[int, int]
    width: int = Field(description="Width of the captured area in screen pixels.")
    height: int
    image_size: tuple[int, int] = Field(description="The screenshot's size in image pixels.")


class Box(BaseModel):
    """A labelled screen box ``[x1, y1, x2, y2]`` (screen pixels), drawn by the viewer."""

    model_config = ConfigDict(extra="forbid")
    box: tuple[int, int, int, int]
    label: str
    kind: Literal["text", "changed", "target"] = "text"


class Target(BaseModel):
    """What a coordinate action pointed at, so a replay can find it again on the live screen."""

    model_config = ConfigDict(extra="forbid")
    point: tuple[int, int] = Field(description="The recorded point, screen pixels.")
    patch: str = Field(description="File (relative to the folder) with the screenshot around the point.")
    patch_box: tuple[int, int, int, int] = Field(description="Where the patch was cut, in screen pixels.")
    text: str | None = Field(None, description="The text under the point, when OCR read one there.")


class Step(BaseModel):
    """One planned action: what the model saw and thought, what was done, and what it did."""

    model_config = ConfigDict(extra="forbid")
    index: int = Field(ge=1, description="The step number; a retry keeps the number of the step it retries.")
    attempt: int = Field(1, ge=1, le=2, description="2: the retry after a fresh look at the screen.")
    phase: Literal["planning", "acting", "finished"] = "planning"
    started_at: str
    screen: ScreenArea
    before: str = Field(description="Screenshot the model was shown (relative file name).")
    after: str | None = Field(None, description="Screenshot once the screen settled after acting.")
    reasoning: str | None = None
    model_action: dict[str, Any] = Field(default_factory=dict, description="The model's computer_use arguments.")
    model_pass: Literal["fresh", "cached"] = "fresh"
    action: dict[str, Any] | None = Field(None, description="The action executed, as execute_action takes it.")
    summary: str | None = None
    target: Target | None = None
    events: list[dict[str, Any]] = Field(default_factory=list, description="Primitive input events sent.")
    points: list[tuple[int, int]] = Field(default_factory=list, description="Screen points the pointer acted at.")
    boxes: list[Box] = Field(default_factory=list)
    effect: Literal["changed", "no_change", "unverified"] | None = None
    checks: list[dict[str, Any]] = Field(default_factory=list)
    changed_region: tuple[int, int, int, int] | None = None
    note: str | None = None
    outcome: Outcome | None = None
    error: str | None = None
    audit_id: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    tokens: dict[str, int] = Field(default_factory=dict)


class Trajectory(BaseModel):
    """A whole run: the goal, the model, the settings, every step and how it ended."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["vlm-desktop-mcp/trajectory"] = "vlm-desktop-mcp/trajectory"
    version: int = VERSION
    task_id: str
    goal: str
    model: str
    settings: dict[str, Any]
    started_at: str
    finished_at: str | None = None
    status: Status = "running"
    stop: Stop | None = None
    reason: str | None = None
    answer: str | None = None
    activity: str | None = Field(None, description="What the task is doing right now (while running).")
    replay_of: str | None = Field(None, description="For a replay: the folder of the trajectory replayed.")
    steps: list[Step] = Field(default_factory=list)
    duration_ms: float | None = None

    def tokens(self) -> dict[str, int]:
        """Prompt and completion tokens summed over the steps."""
        total: dict[str, int] = {}
        for step in self.steps:
            for key, value in step.tokens.items():
                total[key] = total.get(key, 0) + value
        return total


def now_iso() -> str:
    """The current UTC time, ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_task_id() -> str:
    """A task id that sorts by start time and is safe in file names and URIs: ``20260314-101500-3fa2``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


class Recorder:
    """Writes one trajectory folder; every method is blocking (call it from a worker thread)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / STEPS).mkdir(parents=True, exist_ok=True)

    def image(self, name: str, image: Image.Image) -> str:
        """Save ``image`` as ``steps/<name>.png``; returns the relative path."""
        relative = f"{STEPS}/{name}.png"
        image.save(self.folder / relative, format="PNG", compress_level=1)
        return relative

    def write(self, trajectory: Trajectory) -> None:
        """Replace ``trajectory.json`` atomically (readers never see half a file)."""
        data = trajectory.model_dump_json(indent=1).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=".trajectory-", suffix=".json", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.folder / FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load(folder: Path) -> Trajectory:
    """The trajectory in ``folder``; a :class:`TrajectoryError` says why it cannot be read."""
    path = folder / FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TrajectoryError(f"{folder} holds no {FILE}: not a trajectory folder") from exc
    except (OSError, ValueError) as exc:
        raise TrajectoryError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise TrajectoryError(f"{path} is not a {FORMAT} document")
    if raw.get("version") != VERSION:
        raise TrajectoryError(f"{path} has format version {raw.get('version')!r}; this program reads version {VERSION}")
    try:
        return Trajectory.model_validate(raw)
    except ValidationError as exc:
        raise TrajectoryError(f"{path} does not follow the trajectory format: {exc}") from exc


def folders(root: Path) -> list[Path]:
    """Trajectory folders: ``root`` itself when it is one, else its subfolders that are, newest first."""
    if (root / FILE).is_file():
        return [root]
    if not root.is_dir():
        return []
    found = [child for child in root.iterdir() if (child / FILE).is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def safe_name(name: str) -> bool:
    """Whether ``name`` is a plain file or task name (no path, nothing hidden)."""
    return bool(name) and all(c.isalnum() or c in "-_." for c in name) and not name.startswith(".")


def summary(trajectory: Trajectory) -> dict[str, Any]:
    """The few fields a list of runs shows."""
    return {
        "task_id": trajectory.task_id,
        "goal": trajectory.goal,
        "status": trajectory.status,
        "stop": trajectory.stop,
        "reason": trajectory.reason,
        "steps": len(trajectory.steps),
        "started_at": trajectory.started_at,
        "finished_at": trajectory.finished_at,
        "model": trajectory.model,
    }

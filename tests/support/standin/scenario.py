"""What the stand-in model "sees" and how it behaves: the :class:`Scenario` a test sets.

Its geometry is its own (:func:`to_grid`, not ``engine.geometry``) and so is its action list: an
oracle must not reuse the code under test.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

REASONING_MODES = ("none", "native", "prompted")
DESCRIBE_FORMATS = ("object", "list", "fenced_list")
FAULTS = ("hang", "stall", "http500", "http503", "truncated", "garbage", "out_of_range", "huge", "swapped")
COORDINATE_ACTIONS = (
    "left_click",
    "double_click",
    "triple_click",
    "right_click",
    "middle_click",
    "mouse_move",
    "left_click_drag",
)
SEMANTIC_ACTIONS = ("click_text", "fill_input", "goto_url", "upload_file")
"""Offered only when the request's ``computer_use`` tool lists them; otherwise a step falls back to a
left_click on its ``target`` (as a model can only call what it is offered)."""
ACTIONS = (*COORDINATE_ACTIONS, "type", "key", "scroll", "hscroll", "wait", "terminate", "answer", *SEMANTIC_ACTIONS)


class ScenarioError(ValueError):
    """The scenario is malformed, or a plan step names an element the scenario does not have."""


def to_grid(value: float, origin: float, size: float) -> int:
    """An absolute screen coordinate on Qwen3-VL's relative 0-1000 grid of the captured area (clamped)."""
    return max(0, min(1000, round((value - origin) / size * 1000)))


@dataclass
class Scenario:
    """What the stand-in model "sees" and how it behaves.

    ``frame`` is the absolute screen area the client captured; ``elements`` are
    ``{"type", "label", "box": [x1, y1, x2, y2]}`` in absolute screen pixels; ``plan`` is consumed
    one step per planning request (the last step repeats).
    """

    frame: Mapping[str, float] = field(default_factory=lambda: {"x": 0, "y": 0, "width": 1366, "height": 768})
    elements: list[dict[str, Any]] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str = "none"
    thinking_tokens: int = 0
    """A Thinking model's reasoning runs on to about this many tokens (real ones think hundreds to thousands
    before every answer, grounding included); 0: a few numbered lines."""
    describe_format: str = "object"
    fault: str | None = None
    fault_count: int | None = None
    hang_seconds: float = 30.0
    """How long the ``hang`` fault waits before answering, and the ``stall`` fault in mid-stream."""
    latency_seconds: float = 0.0
    """How long after its request arrived an answer is sent, as from a GPU server whose whole latency is
    fixed (for benchmarks): the stand-in waits ``max(0, latency_seconds - time already spent)``, so the
    time it takes to read, decode and validate the request is part of it, not added to it."""
    title: str = "Test form"
    canary_offset_px: int = 0
    """Answers to the grounding canary's test screen land this many pixels right of the targets (a serving
    engine whose boxes moved); the canary's requests never take a fault or a plan step (standin/canary.py)."""
    first_point_off: int = 0
    """The first grounding (``point_2d``) answer on each whole screen lies this many screen pixels right of
    the target (negative: left), as a model's first look sometimes misses; later answers on that screen,
    and answers on a crop of it (a second look), are exact."""

    def __post_init__(self) -> None:
        for key in ("x", "y", "width", "height"):
            if not isinstance(self.frame.get(key), int | float):
                raise ScenarioError(f"frame needs numeric x, y, width, height; got {self.frame!r}")
        if self.frame["width"] <= 0 or self.frame["height"] <= 0:
            raise ScenarioError(f"frame must have a positive size; got {self.frame!r}")
        for element in self.elements:
            box = element.get("box")
            if not (isinstance(box, list | tuple) and len(box) == 4):
                raise ScenarioError(f"element needs box [x1, y1, x2, y2]: {element!r}")
            if not isinstance(element.get("label"), str):
                raise ScenarioError(f"element needs a string label: {element!r}")
        for step in self.plan:
            if step.get("action") not in ACTIONS:
                raise ScenarioError(f"unknown plan action {step.get('action')!r}; known: {', '.join(ACTIONS)}")
        if self.reasoning not in REASONING_MODES:
            raise ScenarioError(f"reasoning must be one of {REASONING_MODES}, not {self.reasoning!r}")
        if self.describe_format not in DESCRIBE_FORMATS:
            raise ScenarioError(f"describe_format must be one of {DESCRIBE_FORMATS}, not {self.describe_format!r}")
        if not isinstance(self.first_point_off, int):
            raise ScenarioError(f"first_point_off must be a whole number of pixels, not {self.first_point_off!r}")
        if not isinstance(self.canary_offset_px, int):
            raise ScenarioError(f"canary_offset_px must be a whole number of pixels, not {self.canary_offset_px!r}")
        if self.fault is not None and self.fault not in FAULTS:
            raise ScenarioError(f"fault must be null or one of {FAULTS}, not {self.fault!r}")

    def to_json(self) -> str:
        """The scenario as a JSON string (round-trips through :meth:`from_json`)."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> Scenario:
        """A scenario from a JSON string/bytes or an already-parsed mapping; unknown keys are refused."""
        raw = json.loads(data) if isinstance(data, str | bytes) else dict(data)
        if not isinstance(raw, dict):
            raise ScenarioError("a scenario is a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ScenarioError(f"unknown scenario keys: {sorted(unknown)}")
        return cls(**raw)

    def grid_point(self, x: float, y: float) -> list[int]:
        """An absolute screen point on the 0-1000 grid of the frame."""
        f = self.frame
        return [to_grid(x, f["x"], f["width"]), to_grid(y, f["y"], f["height"])]

    def grid_box(self, box: Sequence[float]) -> list[int]:
        """An absolute screen box ``[x1, y1, x2, y2]`` on the 0-1000 grid of the frame."""
        return [*self.grid_point(box[0], box[1]), *self.grid_point(box[2], box[3])]

    def element(self, label: str) -> dict[str, Any]:
        """The element with exactly this label."""
        for element in self.elements:
            if element["label"] == label:
                return element
        raise ScenarioError(f"the scenario has no element labelled {label!r}; it has {self.labels()}")

    def labels(self) -> list[str]:
        """All element labels, in order."""
        return [str(e["label"]) for e in self.elements]

    def center(self, label: str) -> list[int]:
        """The centre of the labelled element's box, on the grid."""
        x1, y1, x2, y2 = self.element(label)["box"]
        return self.grid_point((x1 + x2) / 2, (y1 + y2) / 2)

    def find(self, text: str) -> dict[str, Any] | None:
        """The element whose label matches ``text``: exact, then substring either way (case-insensitive)."""
        wanted = text.strip().casefold()
        if not wanted:
            return None
        for element in self.elements:
            if element["label"].casefold() == wanted:
                return element
        for element in self.elements:
            if wanted in element["label"].casefold():
                return element
        for element in self.elements:
            if element["label"].casefold() and element["label"].casefold() in wanted:
                return element
        return None

    def find_all(self, text: str) -> list[dict[str, Any]]:
        """The element :meth:`find` picks and every other element carrying the same label (case-insensitive),
        in the scenario's order: look-alike targets (two "OK" buttons) that a description cannot tell apart."""
        first = self.find(text)
        if first is None:
            return []
        label = first["label"].strip().casefold()
        return [e for e in self.elements if e["label"].strip().casefold() == label]


# --- answers ------------------------------------------------------------------------------------

"""The grounding canary: can the served model point at things?

Serving engines have shipped Qwen-VL regressions in which text answers stay perfect while every
box moves by tens of pixels (sglang #35772, #36762, #11896; vllm #30918). Only a pixel check
catches them. The canary renders a synthetic screen with known targets (labelled buttons of
different sizes and an icon, on a 4:3 canvas so a 16:9 assumption shows), asks the model to
ground each one at temperature 0 through :meth:`VisionEngine.locate` (the very prompt and parser
the tools use: the served model's own grounding format, :mod:`engine.vlm.formats`) and measures
how far each answer lands from its target.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from engine.errors import EngineError, ModelOutputError
from engine.geometry import Frame, box_center, grid_to_screen

CANVAS = (1200, 900)
"""4:3: a server or client that assumes 16:9 misplaces every answer vertically."""
REVISION = 1
"""Bumped whenever the screen or the targets change: cached verdicts of older canaries are not reused."""


@dataclass(frozen=True)
class Target:
    """One thing on the canary screen: what the model is asked for, and where it really is."""

    query: str
    box: tuple[int, int, int, int]
    kind: str = "button"


@dataclass(frozen=True)
class CanaryScreen:
    """The rendered screen and its targets."""

    image: Image.Image
    targets: tuple[Target, ...]


# Buttons of different sizes in every part of the canvas, and one unlabelled icon.
_BUTTONS = (
    ("Save", (60, 48, 170, 92)),
    ("Cancel", (1010, 800, 1150, 846)),
    ("Open advanced settings", (420, 400, 780, 460)),
    ("Delete", (1050, 60, 1140, 96)),
    ("Export report", (80, 760, 300, 820)),
)
_ICON = Target("the red circular icon with a white cross", (590, 140, 650, 200), kind="icon")


def render_canary() -> CanaryScreen:
    """Draw the canary screen: a window-like layout with labelled buttons, decoys of text, and an icon."""
    image = Image.new("RGB", CANVAS, (236, 238, 242))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, CANVAS[0], 28), fill=(52, 58, 70))
    draw.text((12, 6), "Canary - grounding self-test", fill=(240, 240, 240), font=_font(15))
    draw.text((420, 300), "Pick an action below. Nothing here is live.", fill=(40, 40, 40), font=_font(18))
    draw.text((80, 600), "Report period: last 30 days", fill=(70, 70, 70), font=_font(16))
    targets: list[Target] = []
    for label, box in _BUTTONS:
        height = box[3] - box[1]
        draw.rounded_rectangle(box, radius=6, fill=(37, 99, 235), outline=(25, 70, 180), width=2)
        font = _font(max(14, round(height * 0.42)))
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        x = (box[0] + box[2] - (right - left)) / 2 - left
        y = (box[1] + box[3] - (bottom - top)) / 2 - top
        draw.text((x, y), label, fill=(255, 255, 255), font=font)
        targets.append(Target(label, box))
    x1, y1, x2, y2 = _ICON.box
    draw.ellipse(_ICON.box, fill=(220, 38, 38))
    inset = (x2 - x1) // 4
    draw.line((x1 + inset, y1 + inset, x2 - inset, y2 - inset), fill=(255, 255, 255), width=6)
    draw.line((x1 + inset, y2 - inset, x2 - inset, y1 + inset), fill=(255, 255, 255), width=6)
    targets.append(_ICON)
    return CanaryScreen(image, tuple(targets))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class TargetResult:
    """How the model did on one target (``point`` is ``None`` when its answer had none)."""

    query: str
    point: tuple[int, int] | None
    error_px: float | None
    hit: bool
    problem: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The canary's measurement and judgement, for one model on one engine version."""

    passed: bool
    model: str
    engine: str
    version: str
    mean_error_px: float
    max_error_px: float
    hits: int
    total: int
    bound_px: float
    checked_at: float
    results: list[TargetResult] = field(default_factory=list)

    @property
    def key(self) -> str:
        """What the verdict holds for: the model, the engine and its version, and the canary's revision."""
        return verdict_key(self.model, self.engine, self.version)

    def summary(self) -> str:
        """One line: the measurement and the bound."""
        return (
            f"mean pointing error {self.mean_error_px:.0f} px (bound {self.bound_px:.0f} px), worst "
            f"{self.max_error_px:.0f} px, {self.hits}/{self.total} targets hit on a {CANVAS[0]}x{CANVAS[1]} test screen"
        )

    def refusal(self) -> str:
        """Why grounding is refused, and what to do (for tool errors and the start-up log)."""
        return (
            f"the served model {self.model} ({self.engine} {self.version}) failed the grounding self-test: "
            f"{self.summary()}. Its text answers may look fine, but its boxes and clicks would land in the wrong "
            "place. Known causes are serving-engine regressions (e.g. sglang #35772, #36762): use another "
            "SGLang/vLLM version or the transformers backend, check the model's image settings, then run "
            "`vlm-desktop-mcp doctor`; set model.canary to warn to use the model anyway"
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (for the verdict cache)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        """Read back :meth:`to_json`; raises ``KeyError``/``TypeError``/``ValueError`` when malformed."""
        results = [
            TargetResult(
                str(r["query"]),
                None if r["point"] is None else (int(r["point"][0]), int(r["point"][1])),
                None if r["error_px"] is None else float(r["error_px"]),
                bool(r["hit"]),
                r.get("problem"),
            )
            for r in data.get("results", [])
        ]
        return cls(
            passed=bool(data["passed"]),
            model=str(data["model"]),
            engine=str(data["engine"]),
            version=str(data["version"]),
            mean_error_px=float(data["mean_error_px"]),
            max_error_px=float(data["max_error_px"]),
            hits=int(data["hits"]),
            total=int(data["total"]),
            bound_px=float(data["bound_px"]),
            checked_at=float(data["checked_at"]),
            results=results,
        )


def verdict_key(model: str, engine: str, version: str) -> str:
    """The cache key of a verdict."""
    return f"{model}|{engine}|{version}|canary-{REVISION}"


MISS_PX = math.hypot(*CANVAS) / 2
"""The error counted for a target the model gave no point for: as bad as pointing half a screen away."""


async def run_canary(
    engine: Any,
    *,
    model: str,
    server: str,
    version: str,
    bound_px: float = 25.0,
) -> Verdict:
    """Ground every target with ``engine`` (a :class:`~engine.vlm.vision.VisionEngine`) and judge.

    Passes when the mean error is within ``bound_px`` and at most one target is missed. Model
    errors (unreachable, timeouts) propagate: no verdict is given about a model that did not answer.
    """
    screen = render_canary()
    frame = Frame(0, 0, CANVAS[0], CANVAS[1], CANVAS[0], CANVAS[1])
    results: list[TargetResult] = []
    for target in screen.targets:
        try:
            elements = await engine.locate(screen.image, target.query)
        except ModelOutputError as exc:
            results.append(TargetResult(target.query, None, None, False, str(exc)))
            continue
        x1, y1, x2, y2 = elements[0].box
        point = grid_to_screen(frame, (x1 + x2) / 2, (y1 + y2) / 2)
        cx, cy = box_center(target.box)
        error = math.hypot(point[0] - cx, point[1] - cy)
        hit = target.box[0] <= point[0] <= target.box[2] and target.box[1] <= point[1] <= target.box[3]
        results.append(TargetResult(target.query, point, round(error, 1), hit))
    errors = [r.error_px if r.error_px is not None else MISS_PX for r in results]
    hits = sum(r.hit for r in results)
    mean = sum(errors) / len(errors)
    return Verdict(
        passed=mean <= bound_px and hits >= len(results) - 1,
        model=model,
        engine=server,
        version=version,
        mean_error_px=round(mean, 1),
        max_error_px=round(max(errors), 1),
        hits=hits,
        total=len(results),
        bound_px=bound_px,
        checked_at=time.time(),
        results=results,
    )


class CanaryError(EngineError):
    """The canary could not be run (the server's identity or answers were unavailable)."""

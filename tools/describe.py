"""``describe_screen``: capture, ask the model for elements, map them to screen pixels."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from engine.coords import box_center, grid_box_to_screen
from tools.capture import Capture, Region
from tools.model_calls import ask_model, require_engine
from tools.results import DescribeResult, Element, ScreenInfo
from tools.runtime import Progress, Runtime, no_progress
from tools.snapshots import Snapshot


class RegionArg(BaseModel):
    """A screen rectangle in absolute screen pixels."""

    model_config = ConfigDict(extra="forbid")
    x: int
    y: int
    width: int = Field(gt=0)
    height: int = Field(gt=0)


def screen_info(capture: Capture) -> ScreenInfo:
    """The :class:`ScreenInfo` of a capture."""
    frame = capture.frame
    return ScreenInfo(
        width=frame.width,
        height=frame.height,
        origin=(frame.x, frame.y),
        monitor=frame.monitor,
        scale=round(frame.scale_x, 4),
    )


async def capture_screen(runtime: Runtime, region: RegionArg | None, monitor: int | None) -> Capture:
    """Grab the requested area (the configured default monitor when neither is given)."""
    target = runtime.settings.default_monitor if monitor is None else monitor
    area = None if region is None else Region(region.x, region.y, region.width, region.height)
    return await runtime.capturer.grab(area, target)


async def describe_screen(
    runtime: Runtime,
    region: RegionArg | None = None,
    monitor: int | None = None,
    question: str | None = None,
    progress: Progress = no_progress,
) -> tuple[DescribeResult, Capture]:
    """Describe the screen; returns the result and the capture (for an optional image part)."""
    engine = require_engine(runtime, "describe_screen")
    started = time.perf_counter()
    await progress(0, 3, "capturing the screen")
    capture = await capture_screen(runtime, region, monitor)
    captured = time.perf_counter()
    await progress(1, 3, f"asking {engine.model_name}")
    description = await ask_model(engine.describe(capture.image, question))
    answered = time.perf_counter()
    elements: list[Element] = []
    for index, item in enumerate(description.grid.elements, 1):
        box = grid_box_to_screen(capture.frame, item.box)
        elements.append(Element(id=f"e{index}", type=item.type, label=item.label, bbox=box, center=box_center(box)))
    snapshot_id = runtime.snapshots.new_id()
    runtime.snapshots.put(Snapshot(snapshot_id, capture.frame, time.time(), [e.model_dump() for e in elements]))
    await progress(3, 3, f"{len(elements)} elements")
    result = DescribeResult(
        snapshot_id=snapshot_id,
        screen=screen_info(capture),
        summary=description.grid.summary,
        elements=elements,
        answer=description.grid.answer,
        model=description.model,
        timings_ms={
            "capture": round((captured - started) * 1000, 1),
            "model": round((answered - captured) * 1000, 1),
            "total": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return result, capture

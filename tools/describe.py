"""``describe_screen``: wait for the screen to settle, capture it, and list its elements.

The vision model (what is there) and OCR (where the text is) run side by side on the same capture;
their results are fused (:mod:`engine.text.fusion`). Without a model, or with the model unreachable,
the elements are the text OCR read, and the result says so: the OCR-only mode that makes the
server useful on a machine without a GPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from engine.geometry import Frame, Rect, grid_box_to_screen, image_to_screen
from engine.ocr.cache import ScreenText
from engine.ocr.reader import OcrUnavailable, TextBox
from engine.text.fusion import ModelElement, fuse
from engine.vlm.vision import Description
from tools.answer_cache import screen_key
from tools.describe_a11y import A11yPart, merge, read_part
from tools.desktop.capture import Capture
from tools.desktop.settle import changed_in_thread, fingerprint_in_thread, wait_for_settle
from tools.errors import ModelDistrusted, ModelFailure, ModelUnreachable, ToolFailure
from tools.model_calls import START_MODEL, ask_model, require_engine
from tools.results import DescribeResult, Element, ScreenInfo
from tools.runtime import Progress, Runtime, no_progress
from tools.snapshots import Snapshot

_OCR_ONLY = "elements are the text OCR read (type 'text', no icons)"


class RegionArg(BaseModel):
    """A screen rectangle in absolute screen pixels."""

    model_config = ConfigDict(extra="forbid")
    x: int
    y: int
    width: int = Field(gt=0)
    height: int = Field(gt=0)

    def rect(self) -> Rect:
        """The same rectangle as a :class:`engine.geometry.Rect`."""
        return Rect(self.x, self.y, self.width, self.height)


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
    target = runtime.settings.monitor if monitor is None else monitor
    area = None if region is None else region.rect()
    return await runtime.capturer.grab(area, target)


async def settled_capture(runtime: Runtime, region: RegionArg | None, monitor: int | None) -> tuple[Capture, bool]:
    """A capture taken once two consecutive grabs agree (bounded wait); and whether they did."""
    timeout = runtime.settings.capture_settle_timeout
    if timeout <= 0:
        return await capture_screen(runtime, region, monitor), True
    first = await capture_screen(runtime, region, monitor)
    area = (first.frame.x, first.frame.y, first.frame.width, first.frame.height)
    still = runtime.settled_screens.get(area)
    if still is not None and await changed_in_thread(still, first.image) is None:
        return first, True  # exactly as it was when it last settled: no need to watch it again
    latest: list[Capture] = [first]
    unused = [first]  # the settle loop's first look is the grab already taken

    async def grab() -> Image.Image:
        latest[:] = [unused.pop() if unused else await capture_screen(runtime, region, monitor)]
        return latest[0].image

    settled = await wait_for_settle(grab, timeout=timeout, interval=runtime.settings.settle_interval, initial_delay=0)
    if settled.settled:
        runtime.settled_screens[area] = settled.image
    return latest[0], settled.settled


def text_to_screen(frame: Frame, lines: list[TextBox]) -> list[TextBox]:
    """OCR lines (image pixels, exclusive corners) as screen boxes (inclusive corners, like elements)."""
    mapped = []
    for line in lines:
        x1, y1, x2, y2 = line.box
        sx1, sy1 = image_to_screen(frame, x1, y1)
        sx2, sy2 = image_to_screen(frame, max(x1, x2 - 1), max(y1, y2 - 1))
        chars = tuple(image_to_screen(frame, x, y1)[0] for x in line.chars)
        mapped.append(TextBox(line.text, (sx1, sy1, sx2, sy2), line.confidence, chars, line.faint))
    return mapped


@dataclass
class _Outcome:
    """What the model and OCR tasks came back with (failures kept to be raised after both ended)."""

    description: Description | None = None
    model_cached: bool = False
    model_failure: ToolFailure | None = None
    model_ms: float = 0.0
    text: ScreenText | None = None
    ocr_problem: str | None = None
    ocr_ms: float = 0.0


async def _ask(runtime: Runtime, image: Image.Image, question: str | None, out: _Outcome) -> None:
    engine = runtime.engine
    assert engine is not None
    started = time.perf_counter()
    key = await anyio.to_thread.run_sync(screen_key, image, question, engine.model_name, id(engine))
    try:
        out.description, out.model_cached = await runtime.answers.get_or_ask(
            key, lambda: ask_model(engine.describe(image, question))
        )
    except ToolFailure as exc:
        out.model_failure = exc
    out.model_ms = round((time.perf_counter() - started) * 1000, 1)


async def _read(runtime: Runtime, capture: Capture, out: _Outcome) -> None:
    assert runtime.ocr is not None
    frame = capture.frame
    started = time.perf_counter()
    try:
        out.text = await runtime.ocr.aread(capture.image, (frame.x, frame.y, frame.width, frame.height))
    except OcrUnavailable as exc:
        out.ocr_problem = str(exc)
    out.ocr_ms = round((time.perf_counter() - started) * 1000, 1)


def _ocr_summary(lines: list[TextBox]) -> str:
    if not lines:
        return "OCR found no text on the screen."
    shown = "; ".join(line.text for line in lines[:12])
    more = f" (and {len(lines) - 12} more lines)" if len(lines) > 12 else ""
    return f"Text on screen, read by OCR: {shown}{more}."[:600]


async def describe_screen(
    runtime: Runtime,
    region: RegionArg | None = None,
    monitor: int | None = None,
    question: str | None = None,
    progress: Progress = no_progress,
) -> tuple[DescribeResult, Capture]:
    """Describe the screen; returns the result and the capture (for an optional image part)."""
    if runtime.ocr is None:
        require_engine(runtime, "describe_screen")
    started = time.perf_counter()
    await progress(0, 3, "capturing the screen once it stops changing")
    capture, settled = await settled_capture(runtime, region, monitor)
    captured = time.perf_counter()
    doing = [w for w, on in (("the model", runtime.engine), ("OCR", runtime.ocr)) if on is not None]
    await progress(1, 3, f"asking {' and '.join(doing)}")
    out = _Outcome()
    a11y = A11yPart()
    async with anyio.create_task_group() as group:
        if runtime.engine is not None:
            group.start_soon(_ask, runtime, capture.image, question, out)
        if runtime.ocr is not None:
            group.start_soon(_read, runtime, capture, out)
        group.start_soon(_structure, runtime, capture, a11y)
    notes: list[str] = []
    if out.model_failure is not None:
        # An unreachable server is the "no GPU here" case: OCR carries on. A model that answers
        # badly is reported, never papered over.
        if not isinstance(out.model_failure, ModelUnreachable) or out.text is None:
            raise out.model_failure
        if isinstance(out.model_failure, ModelDistrusted):  # it answers, but its boxes cannot be trusted
            notes.append(f"The grounding self-test refused the vision model: {out.model_failure}; {_OCR_ONLY}.")
        else:
            notes.append(f"The vision model is unreachable ({out.model_failure}); {_OCR_ONLY}. {START_MODEL}")
    elif runtime.engine is None:
        if out.text is None:
            raise ModelFailure(f"describe_screen has no vision model and OCR is unavailable ({out.ocr_problem}).")
        notes.append(f"No vision model is configured; {_OCR_ONLY}. {START_MODEL}")
    if out.ocr_problem is not None:
        notes.append(f"OCR is unavailable ({out.ocr_problem}); boxes are the model's alone.")
    if question and out.description is None:
        notes.append("The question needs the vision model and was not answered.")
    if not settled:
        notes.append("The screen was still changing when it was captured.")

    frame = capture.frame
    lines = text_to_screen(frame, out.text.lines) if out.text is not None else []
    model = [
        ModelElement(item.type, item.label, grid_box_to_screen(frame, item.box))
        for item in (out.description.grid.elements if out.description is not None else [])
    ]
    elements = [
        Element(
            id=f"e{index}",
            type=p.type,
            label=p.label,
            bbox=p.box,
            center=p.center,
            source=p.source,
            confidence=p.confidence,
            near_invisible=p.faint or None,
            alternatives=list(p.alternatives) or None,
        )
        for index, p in enumerate(fuse(model, lines), 1)
    ]
    elements = merge(a11y.elements, elements)
    notes += a11y.notes
    snapshot_id = runtime.snapshots.new_id()
    shown = await fingerprint_in_thread(capture.image)
    runtime.snapshots.put(Snapshot(snapshot_id, frame, time.time(), [e.model_dump() for e in elements], shown))
    await progress(3, 3, f"{len(elements)} elements")
    timings: dict[str, Any] = {"capture": round((captured - started) * 1000, 1)}
    if runtime.engine is not None:
        timings["model"] = out.model_ms
    if runtime.ocr is not None:
        timings["ocr"] = out.ocr_ms
    if runtime.a11y is not None:
        timings["a11y"] = a11y.elapsed_ms
    timings["total"] = round((time.perf_counter() - started) * 1000, 1)
    description = out.description
    tokens: dict[str, int] = {}
    if description is not None:
        mode = "fused" if out.text is not None else "model_only"
        summary, answer, model_name = description.grid.summary, description.grid.answer, description.model
        if not out.model_cached:
            counted = {"prompt": description.prompt_tokens, "completion": description.completion_tokens}
            tokens = {key: value for key, value in counted.items() if value is not None}
    else:
        mode, summary, answer = "ocr_only", _ocr_summary(lines), None
        model_name = f"ocr:{runtime.ocr.engine.model_name}" if runtime.ocr is not None else "none"
    result = DescribeResult(
        snapshot_id=snapshot_id,
        screen=screen_info(capture),
        summary=summary,
        elements=elements,
        answer=answer,
        model=model_name,
        mode=mode,
        note=" ".join(notes) or None,
        ocr_pass=out.text.how if out.text is not None else None,
        model_pass=None if out.description is None else "cached" if out.model_cached else "fresh",
        focused_window=a11y.focused,
        accessibility=a11y.reports,
        tokens=tokens,
        timings_ms=timings,
    )
    return result, capture


async def _structure(runtime: Runtime, capture: Capture, part: A11yPart) -> None:
    read = await read_part(runtime, capture.frame)
    part.focused, part.elements, part.reports = read.focused, read.elements, read.reports
    part.notes, part.elapsed_ms = read.notes, read.elapsed_ms

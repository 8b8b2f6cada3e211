"""A second look at where to click: confidence from agreement, a zoomed look when answers disagree.

The model's own word is no confidence. :class:`SecondLook` asks where the target is on the whole
image (a grounding call), puts that beside any point it already has (the plan's), and measures how
far the answers lie apart. One agreeing cluster is a decision. Answers that disagree, or a single
answer nothing confirms, are looked at again: a crop around the candidates, sized from their spread,
upscaled to the image budget, is asked the same question, and the crop's 0-1000 grid is mapped back
through a :class:`~engine.geometry.Frame` for the crop. The zoomed answer picks a candidate (and
refines it) when it lands on one; when it does not, or names several, nothing is decided and the
candidates come back instead of a point to click.

All points here are pixels of the image looked at (the caller maps them to the screen through its
capture's frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from engine.errors import ModelOutputError
from engine.geometry import Box, Frame, box_center, fit_to_budget, grid_box_to_screen
from engine.vlm.vision import VisionEngine

Source = Literal["plan", "ground", "zoom"]


class LookSettings(BaseModel):
    """How the second look decides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agree_px: int = Field(
        16, ge=1, le=500, description="Answers at most this many image pixels apart agree on one target."
    )
    min_crop: int = Field(
        320, ge=32, le=4096, description="The zoomed crop's smallest side, image pixels (before upscaling)."
    )
    crop_spread: float = Field(
        2.0, gt=0, le=20, description="The crop reaches this many times the candidates' spread around their centre."
    )
    max_zoom: float = Field(4.0, ge=1, le=16, description="The crop is upscaled at most this many times.")
    min_confidence: float = Field(
        0.6, ge=0, le=1, description="Below this agreement nothing is decided: the candidates are returned."
    )


@dataclass(frozen=True)
class Candidate:
    """One place the target may be, in image pixels, with the answers that put it there."""

    x: int
    y: int
    votes: int
    sources: tuple[Source, ...]
    label: str | None = None


@dataclass(frozen=True)
class Look:
    """The outcome: a point when decided, else only candidates; how sure, and what it cost."""

    point: tuple[int, int] | None
    confidence: float
    candidates: tuple[Candidate, ...]
    spread: float
    """The largest distance between any two answers before zooming (image pixels)."""
    zoom: Box | None
    """The crop that was looked at again (image pixels), when one was."""
    calls: int
    reason: str

    @property
    def decided(self) -> bool:
        """Whether there is one point to click."""
        return self.point is not None


@dataclass(frozen=True)
class _Answer:
    x: float
    y: float
    source: Source
    label: str | None = None


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def spread_of(points: list[tuple[float, float]]) -> float:
    """The largest distance between any two points (0 for fewer than two)."""
    return max((_distance(a, b) for i, a in enumerate(points) for b in points[i + 1 :]), default=0.0)


def cluster(answers: list[_Answer], radius: float) -> list[list[_Answer]]:
    """Group answers lying within ``radius`` of a group's first answer; biggest group first."""
    groups: list[list[_Answer]] = []
    for answer in answers:
        home = next((g for g in groups if _distance((g[0].x, g[0].y), (answer.x, answer.y)) <= radius), None)
        if home is None:
            groups.append([answer])
        else:
            home.append(answer)
    return sorted(groups, key=len, reverse=True)


def _candidate(group: list[_Answer]) -> Candidate:
    x = round(sum(a.x for a in group) / len(group))
    y = round(sum(a.y for a in group) / len(group))
    sources = tuple(dict.fromkeys(a.source for a in group))
    return Candidate(x, y, len(group), sources, next((a.label for a in group if a.label), None))


def crop_around(points: list[tuple[float, float]], size: tuple[int, int], settings: LookSettings) -> Box:
    """The crop to zoom into: centred on the points, its side ``crop_spread`` times their spread (at least
    ``min_crop``), kept inside the image and at the image's aspect ratio."""
    width, height = size
    cx = sum(p[0] for p in points) / len(points)
    cy = sum(p[1] for p in points) / len(points)
    side = max(settings.min_crop, settings.crop_spread * spread_of(points) + 2 * settings.agree_px)
    crop_w = min(width, round(side * max(1.0, width / height)))
    crop_h = min(height, round(side * max(1.0, height / width)))
    x1 = int(min(max(0, cx - crop_w / 2), width - crop_w))
    y1 = int(min(max(0, cy - crop_h / 2), height - crop_h))
    return x1, y1, x1 + crop_w, y1 + crop_h


def crop_frame(crop: Box, sent: tuple[int, int]) -> Frame:
    """The frame of a crop sent at size ``sent``: its "screen" is the original image's pixels."""
    x1, y1, x2, y2 = crop
    return Frame(x1, y1, x2 - x1, y2 - y1, sent[0], sent[1])


def zoomed_image(image: Image.Image, crop: Box, max_pixels: int, max_zoom: float) -> Image.Image:
    """The crop upscaled towards the model's image budget (at most ``max_zoom`` times)."""
    region = image.crop(crop)
    scale = min(max_zoom, math.sqrt(max_pixels / (region.width * region.height)))
    if scale <= 1.0:
        return region
    width, height = fit_to_budget(round(region.width * scale), round(region.height * scale), max_pixels)
    return region.resize((width, height), Image.Resampling.LANCZOS)


class SecondLook:
    """Grounds a target on an image with a second look when unsure (see the module docstring)."""

    def __init__(self, engine: VisionEngine, settings: LookSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings or LookSettings()

    async def _ground(self, image: Image.Image, target: str, frame: Frame, source: Source) -> list[_Answer]:
        try:
            found = await self.engine.locate(image, target)
        except ModelOutputError:  # no point in the answer: this look found nothing
            return []
        answers = []
        for element in found:
            x, y = box_center(grid_box_to_screen(frame, element.box))
            answers.append(_Answer(x, y, source, element.label or None))
        return answers

    async def single(self, image: Image.Image, target: str) -> Look:
        """One grounding call, its first answer taken as is (no second look; confidence 0: nothing confirmed it)."""
        whole = Frame(0, 0, image.width, image.height, image.width, image.height)
        answers = await self._ground(image, target, whole, "ground")
        if not answers:
            return Look(None, 0.0, (), 0.0, None, 1, "the model found no such target")
        first = _candidate([answers[0]])
        rest = tuple(_candidate([a]) for a in answers[1:])
        return Look((first.x, first.y), 0.0, (first, *rest), 0.0, None, 1, "the model's first answer, unchecked")

    async def look(self, image: Image.Image, target: str, first: tuple[int, int] | None = None) -> Look:
        """Where ``target`` is on ``image``; ``first`` is a point already proposed for it (the plan's)."""
        settings = self.settings
        whole = Frame(0, 0, image.width, image.height, image.width, image.height)
        answers = [] if first is None else [_Answer(first[0], first[1], "plan")]
        answers += await self._ground(image, target, whole, "ground")
        calls = 1
        if not answers:
            return Look(None, 0.0, (), 0.0, None, calls, "the model found no such target")
        points = [(a.x, a.y) for a in answers]
        spread = spread_of(points)
        groups = cluster(answers, settings.agree_px)
        if len(groups) == 1 and len(answers) >= 2:
            best = _candidate(groups[0])
            confidence = round(1.0 - 0.5 * spread / (2 * settings.agree_px), 3)
            return Look((best.x, best.y), confidence, (best,), spread, None, calls, "the answers agree")
        crop = crop_around(points, image.size, settings)
        zoomed = zoomed_image(image, crop, self.engine.settings.max_image_pixels, settings.max_zoom)
        zoom_answers = await self._ground(zoomed, target, crop_frame(crop, zoomed.size), "zoom")
        calls += 1
        candidates = tuple(_candidate(g) for g in groups)
        if len(zoom_answers) != 1:
            why = "the zoomed look found nothing" if not zoom_answers else "the zoomed look found several"
            extra = tuple(_candidate([a]) for a in zoom_answers)
            return Look(None, 0.0, _merge(candidates + extra, settings), spread, crop, calls, why)
        zoom = zoom_answers[0]
        near = [g for g in groups if _distance((g[0].x, g[0].y), (zoom.x, zoom.y)) <= settings.agree_px * 2]
        supporters = len(near[0]) if near else 0
        confidence = round((supporters + 1) / (len(answers) + 1), 3)
        chosen = _candidate([zoom, *(near[0] if near else [])])
        rest = tuple(_candidate(g) for g in groups if not near or g is not near[0])
        if not near:
            return await self._confirm(image, target, zoom, answers, candidates, spread, calls)
        if confidence < settings.min_confidence:
            return Look(None, confidence, (chosen, *rest), spread, crop, calls, "too few answers agree")
        point = (round(zoom.x), round(zoom.y))
        return Look(point, confidence, (chosen, *rest), spread, crop, calls, "the zoomed look settled it")

    async def _confirm(
        self,
        image: Image.Image,
        target: str,
        zoom: _Answer,
        answers: list[_Answer],
        candidates: tuple[Candidate, ...],
        spread: float,
        calls: int,
    ) -> Look:
        """The zoomed answer landed where no earlier answer did: the zoom saw more detail than the
        whole image, so it is not thrown away, but nor is it taken on its own word. A crop centred on it
        is asked again; the two zoomed answers agreeing is the agreement that decides."""
        settings = self.settings
        crop = crop_around([(zoom.x, zoom.y)], image.size, settings)
        zoomed = zoomed_image(image, crop, self.engine.settings.max_image_pixels, settings.max_zoom)
        again = await self._ground(zoomed, target, crop_frame(crop, zoomed.size), "zoom")
        calls += 1
        agreeing = [a for a in again if _distance((a.x, a.y), (zoom.x, zoom.y)) <= settings.agree_px]
        chosen = _candidate([zoom, *agreeing[:1]])
        everything = _merge((chosen, *candidates, *(_candidate([a]) for a in again if a not in agreeing)), settings)
        confidence = round((1 + len(agreeing[:1])) / (len(answers) + 2), 3)
        if len(again) != 1 or not agreeing or confidence < settings.min_confidence:
            why = "the zoomed look agrees with no earlier answer, and a second zoom did not confirm it"
            return Look(None, min(confidence, 0.5), everything, spread, crop, calls, why)
        point = (chosen.x, chosen.y)
        return Look(
            point, confidence, everything, spread, crop, calls, "two zoomed looks agree (the first answer was off)"
        )


def _merge(candidates: tuple[Candidate, ...], settings: LookSettings) -> tuple[Candidate, ...]:
    """Candidates with those lying on one spot merged (votes added), most votes first. A merged candidate
    lies where its zoomed answer put it, when it has one: the zoom saw more detail than the whole image."""
    merged: list[Candidate] = []
    for c in candidates:
        same = next((m for m in merged if _distance((m.x, m.y), (c.x, c.y)) <= settings.agree_px * 2), None)
        if same is None:
            merged.append(c)
            continue
        at = c if "zoom" in c.sources and "zoom" not in same.sources else same
        merged[merged.index(same)] = Candidate(
            at.x, at.y, same.votes + c.votes, tuple(dict.fromkeys(same.sources + c.sources)), same.label or c.label
        )
    return tuple(sorted(merged, key=lambda c: -c.votes))

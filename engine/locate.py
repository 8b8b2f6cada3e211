"""Locators: given a screenshot and an instruction ("click Submit"), the point to click, or ``None``.

* :class:`OcrLocator` finds the instruction's text among the OCR lines (no model needed);
* :class:`ModelLocator` asks Qwen3-VL for a ``point_2d`` on its 0-1000 grid;
* :class:`HybridLocator` tries OCR first and asks the model only when OCR finds nothing.

Points are in the image's pixels. A locator abstains (``None``) rather than guess; model errors
other than an unusable answer propagate, so an evaluation never scores a dead server as misses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from engine.coords import Frame, grid_box_to_screen
from engine.errors import ModelOutputError
from engine.ocr_cache import ScreenReader
from engine.textfind import TextIndex, instruction_queries
from engine.vision import VisionEngine


@dataclass(frozen=True)
class Located:
    """Where to click, and which locator decided."""

    point: tuple[int, int]
    by: str
    score: float
    text: str | None = None


class Locator(Protocol):
    """Anything that turns an instruction into a point on a screenshot."""

    name: str

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        """The point to click on ``image`` for ``instruction``, or ``None`` to abstain."""
        ...


class OcrLocator:
    """Clicks the centre of the instruction's text as OCR reads it."""

    name = "ocr"

    def __init__(self, reader: ScreenReader, *, min_score: float = 0.8) -> None:
        self.reader = reader
        self.min_score = min_score
        self._index: tuple[int, TextIndex] | None = None

    async def index(self, image: Image.Image) -> TextIndex:
        """The text of ``image`` (read once per image; the reader's cache covers repeats)."""
        if self._index is not None and self._index[0] == id(image):
            return self._index[1]
        text = await self.reader.aread(image)
        index = TextIndex(text.lines)
        self._index = (id(image), index)
        return index

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        """The best match over the instruction's candidate texts (most specific first)."""
        index = await self.index(image)
        for query in instruction_queries(instruction):
            matches = index.find(query, min_score=self.min_score)
            if matches:
                best = matches[0]
                return Located(best.center, self.name, best.score, best.text)
        return None


class ModelLocator:
    """Asks the vision model to point at the instruction's target (Qwen3-VL ``point_2d``)."""

    name = "model"

    def __init__(self, engine: VisionEngine) -> None:
        self.engine = engine

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        """The first point (or box centre) the model answers; ``None`` when it gives none."""
        try:
            found = await self.engine.locate(image, instruction)
        except ModelOutputError:
            return None
        if not found:
            return None
        frame = Frame(0, 0, image.width, image.height, image.width, image.height)
        x1, y1, x2, y2 = grid_box_to_screen(frame, found[0].box)
        return Located(((x1 + x2) // 2, (y1 + y2) // 2), self.name, 1.0, found[0].label)


class HybridLocator:
    """OCR first (precise for text); the model for everything OCR cannot find (icons, descriptions)."""

    name = "hybrid"

    def __init__(self, ocr: OcrLocator, model: ModelLocator) -> None:
        self.ocr = ocr
        self.model = model

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        """OCR's answer when it has one, else the model's."""
        return await self.ocr.locate(image, instruction) or await self.model.locate(image, instruction)

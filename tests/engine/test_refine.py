"""The second look: agreement, a zoomed look mapped back through the crop's frame, candidates when unsure.

The grounding model here is a pixel finder: it answers the centre of each red button in whatever
image it is shown (whole screen or an upscaled crop) on that image's 0-1000 grid, so a zoomed look
is only right if the crop is mapped back correctly. ``off`` shifts its first answer.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from engine.geometry import GRID
from engine.vlm.parsing import GridElement
from engine.vlm.refine import SecondLook
from engine.vlm.settings import EngineSettings

RED = (220, 30, 30)


class PixelFinder:
    """Points at red blobs, split by columns of no red; its first answer is shifted by ``off`` grid units."""

    def __init__(self, off: tuple[int, int] = (0, 0)) -> None:
        self.settings = EngineSettings()
        self.off = off
        self.calls = 0

    async def locate(self, image: Image.Image, target: str) -> list[GridElement]:
        pixels = np.asarray(image.convert("RGB")).astype(int)
        red = abs(pixels - RED).sum(axis=2) < 60
        columns = np.flatnonzero(red.any(axis=0))
        blobs = np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1) if columns.size else []
        found = []
        for blob in blobs:
            rows = np.flatnonzero(red[:, blob[0] : blob[-1] + 1].any(axis=1))
            gx = (blob[0] + blob[-1] + 1) / 2 / image.width * GRID
            gy = (rows[0] + rows[-1] + 1) / 2 / image.height * GRID
            dx, dy = self.off if self.calls == 0 else (0, 0)
            found.append(GridElement("point", target, (gx + dx, gy + dy, gx + dx, gy + dy)))
        self.calls += 1
        return found


def screen(*buttons: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", (1280, 800), "white")
    draw = ImageDraw.Draw(image)
    for x, y in buttons:
        draw.rectangle((x - 30, y - 12, x + 30, y + 12), fill=RED)
    return image


async def test_agreeing_looks_decide_at_once() -> None:
    finder = PixelFinder()
    look = await SecondLook(finder).look(screen((400, 300)), "OK", first=(401, 299))  # type: ignore[arg-type]
    assert look.decided and abs(look.point[0] - 400) <= 2 and abs(look.point[1] - 300) <= 2  # type: ignore[index]
    assert look.zoom is None and finder.calls == 1


async def test_a_first_answer_that_is_off_is_settled_by_the_zoomed_look() -> None:
    finder = PixelFinder(off=(60, 40))  # about 77 px right and 32 px down of the button
    look = await SecondLook(finder).look(screen((640, 420)), "Save")  # type: ignore[arg-type]
    # One look, the zoom disagrees with it: a second zoom on the zoom's answer confirms it.
    assert look.zoom is not None and finder.calls == 3
    assert look.decided and abs(look.point[0] - 640) <= 3 and abs(look.point[1] - 420) <= 3  # type: ignore[index]
    assert 0.6 <= look.confidence < 1 and "off" in look.reason
    planned = await SecondLook(PixelFinder(off=(60, 40))).look(screen((640, 420)), "Save", first=(641, 421))  # type: ignore[arg-type]
    assert planned.decided and abs(planned.point[0] - 640) <= 3 and abs(planned.point[1] - 420) <= 3  # type: ignore[index]
    assert planned.confidence >= 0.6


async def test_two_equal_buttons_are_candidates_not_a_click() -> None:
    look = await SecondLook(PixelFinder()).look(screen((300, 500), (700, 500)), "OK", first=(300, 500))  # type: ignore[arg-type]
    assert not look.decided and look.point is None
    assert {(round(c.x, -1), round(c.y, -1)) for c in look.candidates} == {(300, 500), (700, 500)}


async def test_candidates_lie_where_the_zoomed_look_put_them() -> None:
    finder = PixelFinder(off=(16, 0))  # the whole-screen answers about 20 px right of both buttons
    look = await SecondLook(finder).look(screen((300, 500), (700, 500)), "OK")  # type: ignore[arg-type]
    assert not look.decided and finder.calls == 2
    for x in (300, 700):  # each button's off answer merged with its zoomed one, at the zoomed point
        (near,) = [c for c in look.candidates if abs(c.x - x) <= 40]
        assert abs(near.x - x) <= 3 and abs(near.y - 500) <= 3 and "zoom" in near.sources, look.candidates


class WanderingFinder(PixelFinder):
    """Its first answer is off and so is its third (the second zoom): the two zoomed looks cannot agree."""

    async def locate(self, image: Image.Image, target: str) -> list[GridElement]:
        call = self.calls
        found = await super().locate(image, target)
        if call == 2:
            found = [GridElement("point", e.label, (e.box[0], e.box[1] + 150, e.box[2], e.box[3] + 150)) for e in found]
        return found


async def test_zoomed_looks_that_disagree_click_nothing() -> None:
    finder = WanderingFinder(off=(60, 40))
    look = await SecondLook(finder).look(screen((640, 420)), "Save")  # type: ignore[arg-type]
    assert finder.calls == 3 and not look.decided and look.confidence <= 0.5
    assert len(look.candidates) >= 2

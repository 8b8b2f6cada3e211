"""click_element's staleness check on a HiDPI screen (2 image pixels per screen point), with no X."""

from __future__ import annotations

import time

import pytest
from PIL import Image, ImageDraw

from engine.geometry import Frame
from tests.support.fakes import FakeScreen
from tools.actions.semantic import resolve
from tools.actions.vocabulary import ClickElement
from tools.desktop.settle import fingerprint
from tools.errors import InvalidAction
from tools.runtime import Runtime, ToolSettings
from tools.snapshots import Snapshot

SCREEN = (1440, 900)
ELEMENT = {"id": "e1", "bbox": [600, 400, 700, 440], "center": [650, 420]}  # screen points


def runtime_with(before: Image.Image, now: Image.Image) -> Runtime:
    screen = FakeScreen(now, *SCREEN)
    runtime = Runtime(settings=ToolSettings(), engine=None, capturer=screen, driver=None)  # type: ignore[arg-type]
    frame = Frame(0, 0, *SCREEN, before.width, before.height, 1)
    runtime.snapshots.put(Snapshot("s1", frame, time.time(), [ELEMENT], fingerprint(before)))
    return runtime


def hidpi_screen(changed: tuple[int, int, int, int] | None = None) -> Image.Image:
    image = Image.new("RGB", (SCREEN[0] * 2, SCREEN[1] * 2), "white")
    if changed is not None:
        ImageDraw.Draw(image).rectangle(changed, fill="black")
    return image


async def test_a_change_at_the_element_itself_is_seen_on_hidpi() -> None:
    # The element's own image pixels are (1200..1400, 800..880); only they changed.
    runtime = runtime_with(hidpi_screen(), hidpi_screen((1210, 810, 1390, 870)))
    with pytest.raises(InvalidAction, match="the element itself changed"):
        await resolve(runtime, ClickElement(element_id="e1", snapshot_id="s1"))


async def test_a_change_elsewhere_leaves_the_element_clickable_on_hidpi() -> None:
    # Where the element would be if screen points were image pixels: not the element on a 2x screen.
    runtime = runtime_with(hidpi_screen(), hidpi_screen((600, 400, 700, 440)))
    (stage,) = (await resolve(runtime, ClickElement(element_id="e1", snapshot_id="s1"))).stages
    (click,) = stage.actions
    assert (click.x, click.y) == (650, 420)  # type: ignore[union-attr]

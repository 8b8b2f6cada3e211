"""The stand-in answers a grounding request on a crop where the target lies in that crop (it finds the
crop inside the last whole screen it received), and ``first_point_off`` makes its first whole-screen
answer miss, which the second look's zoom then settles."""

from __future__ import annotations

import base64
import io
import json
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.vlm.backends.openai_http import OpenAIHTTPBackend
from engine.vlm.refine import SecondLook
from engine.vlm.vision import VisionEngine
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tests.support.standin.sight import Sight, find_crop

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1366, 768
OK = [600, 400, 680, 430]
CANCEL = [700, 400, 800, 430]


def screen() -> Image.Image:
    """A busy screen (seeded clutter) with two buttons drawn where the scenario says they are."""
    rng = random.Random(4)
    image = Image.new("RGB", (WIDTH, HEIGHT), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    for _ in range(160):
        x, y = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.rectangle((x, y, x + rng.randrange(8, 90), y + rng.randrange(6, 40)), fill=colour)
        draw.text((x + 3, y + 2), f"item {rng.randrange(1000)}", fill=(0, 0, 0))
    for box, label in ((OK, "OK"), (CANCEL, "Cancel")):
        draw.rectangle(box, fill=(40, 90, 200), outline=(0, 0, 0))
        draw.text((box[0] + 12, box[1] + 9), label, fill=(255, 255, 255))
    return image


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def ground(standin: StandIn, image: Image.Image, target: str) -> list[int] | None:
    """Ask the stand-in where ``target`` is on ``image``; the grid point, or ``None`` for an empty answer."""
    prompt = f'Locate "{target}". Output JSON: [{{"point_2d": [x, y], "label": "..."}}]'
    content = [{"type": "image_url", "image_url": {"url": data_url(image)}}, {"type": "text", "text": prompt}]
    body = {"model": "m", "messages": [{"role": "user", "content": content}]}
    answer = httpx.post(f"{standin.base_url}/chat/completions", json=body, timeout=30).json()
    text = answer["choices"][0]["message"]["content"].removeprefix("```json\n").removesuffix("\n```")
    points = json.loads(text)
    return points[0]["point_2d"] if points else None


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as server:
        server.set_scenario(
            Scenario(
                frame={"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT},
                elements=[
                    {"type": "button", "label": "OK", "box": OK},
                    {"type": "button", "label": "Cancel", "box": CANCEL},
                ],
            )
        )
        yield server


def test_a_crop_is_answered_on_its_own_grid(standin: StandIn) -> None:
    whole = screen()
    assert ground(standin, whole, "OK") == [469, 540]  # the centre (640, 415) on the whole screen's grid
    crop_box = (500, 300, 900, 525)  # cut and upscaled here, with no help from the code under test
    crop = whole.crop(crop_box).resize((1200, 675), Image.Resampling.LANCZOS)
    point = ground(standin, crop, "OK")
    assert point is not None
    x = crop_box[0] + point[0] / 1000 * (crop_box[2] - crop_box[0])
    y = crop_box[1] + point[1] / 1000 * (crop_box[3] - crop_box[1])
    assert abs(x - 640) <= 3 and abs(y - 415) <= 3, (x, y)
    assert standin.requests[-1]["_crop"]["width"] == pytest.approx(400, abs=4)


def test_a_target_outside_the_crop_is_not_seen(standin: StandIn) -> None:
    whole = screen()
    ground(standin, whole, "OK")
    crop = whole.crop((0, 0, 400, 225)).resize((1200, 675), Image.Resampling.LANCZOS)
    assert ground(standin, crop, "OK") is None


def test_only_the_first_whole_screen_answer_is_off(standin: StandIn) -> None:
    standin.set_scenario({**json.loads(standin.scenario.to_json()), "first_point_off": 41})
    whole = screen()
    assert ground(standin, whole, "OK") == [499, 540]  # (681, 415): 41 px right
    assert ground(standin, whole, "OK") == [469, 540]
    crop = whole.crop((500, 300, 900, 525)).resize((1200, 675), Image.Resampling.LANCZOS)
    point = ground(standin, crop, "OK")
    assert point is not None and abs(point[0] - 350) <= 3 and abs(point[1] - 511) <= 3  # exact, to a pixel


async def test_the_zoomed_look_settles_a_first_answer_that_is_off(standin: StandIn) -> None:
    standin.set_scenario({**json.loads(standin.scenario.to_json()), "first_point_off": 45})
    backend = OpenAIHTTPBackend(standin.base_url, "Qwen/Qwen3-VL-2B-Instruct")
    try:
        look = await SecondLook(VisionEngine(backend)).look(screen(), "OK", first=(640, 415))
    finally:
        await backend.aclose()
    assert look.decided and look.zoom is not None, look
    assert look.point is not None and abs(look.point[0] - 640) <= 4 and abs(look.point[1] - 415) <= 4
    assert look.spread == pytest.approx(45, abs=2)
    assert "_crop" in standin.requests[-1]


def dark_table() -> Image.Image:
    """A dark-themed screen of thin lines and small text (where full-resolution matching is fragile)."""
    rng = random.Random(7)
    image = Image.new("RGB", (WIDTH, HEIGHT), (43, 43, 46))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 24), fill=(30, 30, 33))
    for y in range(60, 740, 22):
        draw.line((20, y, WIDTH - 20, y), fill=(70, 70, 74))
        for x in range(30, 1300, 160):
            draw.text((x, y + 5), f"INV-{rng.randrange(10000)}", fill=(200, 200, 205))
    return image


@pytest.mark.parametrize("crop", [(797, 4, 1366, 324), (540, 448, 1109, 768)])
def test_an_upscaled_crop_of_thin_text_is_found(crop: tuple[int, int, int, int]) -> None:
    image = dark_table()
    sent = image.crop(crop).resize((1920, 1088), Image.Resampling.LANCZOS)
    found = find_crop(np.asarray(image.convert("L")), np.asarray(sent.convert("L")))
    assert found is not None
    assert max(abs(a - b) for a, b in zip(found[0], crop, strict=True)) <= 3


def test_a_new_screen_like_a_faint_patch_of_the_last_is_a_new_screen() -> None:
    """Normalised correlation ignores brightness and contrast: a new whole screen that looks like a small,
    faint patch of the last one (there a thumbnail at a third of its contrast) scores high there, but is
    not that patch's pixels. It must become the new reference, not a crop of the old one."""
    new = screen()
    thumbnail = np.asarray(new.convert("L").resize((160, 90), Image.Resampling.LANCZOS), dtype=np.float32)
    old = Image.new("L", (WIDTH, HEIGHT), 236)
    old.paste(Image.fromarray((thumbnail / 3 + 150).astype(np.uint8)), (1100, 80))
    old_grey, new_grey = np.asarray(old), np.asarray(new.convert("L"))
    assert find_crop(old_grey, new_grey) is None
    sight = Sight()
    assert sight.look(old_grey, may_be_crop=True).new_screen
    seen = sight.look(new_grey, may_be_crop=True)
    assert seen.whole and seen.new_screen, seen


@pytest.mark.parametrize("crop", [(124, 217, 693, 537), (64, 86, 633, 406), (300, 300, 869, 620)])
def test_a_crop_of_table_rows_is_found_on_its_own_rows(crop: tuple[int, int, int, int]) -> None:
    """Sent as the client sends it (sides multiples of 32, so its height stretched a little more than its
    width), a crop of look-alike rows scores low at the coarse pass's nearest scale: it is found where it
    was cut, not on rows above or below (it was found up to 29 rows off)."""
    image = dark_table()
    sent = image.crop(crop).resize((1920, 1088), Image.Resampling.LANCZOS)
    found = find_crop(np.asarray(image.convert("L")), np.asarray(sent.convert("L")))
    assert found is not None
    assert max(abs(a - b) for a, b in zip(found[0], crop, strict=True)) <= 3, found


@pytest.mark.parametrize("crop", [(209, 168, 1276, 768), (150, 168, 1217, 768)])
def test_a_crop_most_of_a_screen_wide_is_found_where_it_was_cut(
    crop: tuple[int, int, int, int], tmp_path: Path
) -> None:
    """A generated desktop (bench/generate_ui.py, seed 5: settings, editor with a menu, a table), cut as
    the second look cuts around two look-alikes far apart. The crop's thumbnail-sized coarse templates
    scored higher by chance than the crop at its own scale, so it was placed as a 66x36 patch of the
    table (score 0.90) or not found: each band of template widths now has its best place matched again."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (scripts/setup dev installs it)")
    command = [sys.executable, "bench/generate_ui.py", "--out", str(tmp_path), "--screens", "1", "--seed", "5"]
    subprocess.run([*command, "--sizes", f"{WIDTH}x{HEIGHT}"], cwd=ROOT, check=True, capture_output=True, timeout=120)
    with Image.open(tmp_path / "images" / "ui_05000_1366x768.png") as opened:
        image = opened.convert("L")
    sent = image.crop(crop).resize((1920, 1088), Image.Resampling.LANCZOS)
    found = find_crop(np.asarray(image), np.asarray(sent))
    assert found is not None
    assert max(abs(a - b) for a, b in zip(found[0], crop, strict=True)) <= 5, found

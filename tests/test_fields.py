"""fill_input's field finder on synthetic layouts and on the real Tk form."""

from __future__ import annotations

from pathlib import Path

import mss
import pytest
from PIL import Image, ImageDraw

from engine.coords import Frame
from tests.conftest import needs_display
from tests.support.tkapp import TkApp
from tests.support.xvfb import Xvfb
from tools.fields import find_field


def canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (800, 400), (217, 217, 217))
    return image, ImageDraw.Draw(image)


def test_field_to_the_right_of_the_label() -> None:
    image, draw = canvas()
    draw.text((20, 50), "Name:", fill="black")
    draw.rectangle((90, 40, 500, 70), fill="white", outline=(120, 120, 120))
    point = find_field(image, Frame(0, 0, 800, 400, 800, 400), (20, 50, 60, 62))
    assert point is not None and 90 < point[0] < 500 and 40 < point[1] < 70


def test_field_below_the_label() -> None:
    image, draw = canvas()
    draw.text((20, 50), "Comments", fill="black")
    draw.rectangle((18, 80, 400, 200), fill="white", outline=(120, 120, 120))
    point = find_field(image, Frame(100, 50, 800, 400, 800, 400), (120, 100, 180, 112))
    assert point is not None and 118 < point[0] < 500 and 130 < point[1] < 250  # screen space: offset by (100, 50)


def test_no_field_at_all() -> None:
    image, draw = canvas()
    draw.text((20, 50), "Just text", fill="black")
    assert find_field(image, Frame(0, 0, 800, 400, 800, 400), (20, 50, 80, 62)) is None


@needs_display
@pytest.mark.parametrize(("label", "field"), [("name_label", "name_entry"), ("notes_label", "notes")])
def test_real_tk_form(display: Xvfb, tmp_path: Path, label: str, field: str) -> None:
    with TkApp(tmp_path / "state.json", env=display.env(), geometry="760x560+180+90") as app:
        app.state()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DISPLAY", display.display)
            patch.setenv("XAUTHORITY", display.xauthority)
            with mss.MSS() as grabber:
                shot = grabber.grab(grabber.monitors[1])
        image = Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")
        w = app.widget(label)
        point = find_field(
            image, Frame(0, 0, *image.size, *image.size), (w["x"], w["y"], w["x"] + w["width"], w["y"] + w["height"])
        )
        target = app.widget(field)
        assert point is not None
        assert target["x"] <= point[0] < target["x"] + target["width"]
        assert target["y"] <= point[1] < target["y"] + target["height"]

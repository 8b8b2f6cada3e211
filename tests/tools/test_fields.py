"""fill_input's field finder on the form styles real sites use, and on the real Tk form."""

from __future__ import annotations

from pathlib import Path

import mss
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.support.markers import needs_display
from tests.support.tkapp import TkApp
from tests.support.xvfb import Xvfb
from tools.actions.fields import find_field

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LIGHT = {"page": (255, 255, 255), "text": (15, 23, 42), "border": (203, 213, 225), "fill": (241, 245, 249)}
DARK = {"page": (30, 41, 59), "text": (226, 232, 240), "border": (71, 85, 105), "fill": (51, 65, 85)}


def font(size: int = 15) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, size)


def label_box(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, colors: dict[str, tuple[int, int, int]]):
    draw.text(xy, text, fill=colors["text"], font=font())
    x1, y1, x2, y2 = draw.textbbox(xy, text, font=font())
    return int(x1), int(y1), int(x2), int(y2)


def draw_field(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], style: str, colors) -> None:
    x1, _, x2, y2 = box
    if style == "bordered":
        draw.rounded_rectangle(box, radius=6, fill=colors["page"], outline=colors["border"], width=1)
    elif style == "filled":
        draw.rounded_rectangle(box, radius=4, fill=colors["fill"])
    else:  # underline only
        draw.line((x1, y2, x2, y2), fill=colors["border"], width=1)


Box = tuple[int, int, int, int]


def form(style: str, placement: str, colors) -> tuple[Image.Image, Box, Box]:
    """One card with two labelled fields; returns the image, the first label's box and its field's box."""
    image = Image.new("RGB", (900, 420), colors["page"])
    draw = ImageDraw.Draw(image)
    boxes = []
    for row, text in enumerate(("Product name", "Price")):
        top = 60 + row * 110
        if placement == "left":
            label = label_box(draw, (40, top + 10), text, colors)
            field = (160, top, 560, top + 38)
        elif placement == "above":
            label = label_box(draw, (40, top), text, colors)
            field = (40, top + 26, 440, top + 64)
        else:  # placeholder: the text sits inside the field
            field = (40, top, 440, top + 38)
            label = label_box(draw, (54, top + 10), text, {**colors, "text": (148, 163, 184)})
        draw_field(draw, field, style, colors)
        boxes.append((label, field))
    return image, boxes[0][0], boxes[0][1]


@pytest.mark.parametrize("colors", [LIGHT, DARK], ids=["light", "dark"])
@pytest.mark.parametrize("placement", ["left", "above", "placeholder"])
@pytest.mark.parametrize("style", ["bordered", "filled", "underline"])
def test_the_field_of_a_label_is_found_in_every_common_style(style: str, placement: str, colors) -> None:
    image, label, field = form(style, placement, colors)
    found = find_field(image, label)
    assert found is not None, (style, placement)
    x, y = found.click
    assert field[0] <= x <= field[2] and field[1] - 30 <= y <= field[3], (found, field)
    if style != "underline":
        assert field[1] <= y <= field[3]
        # Rounded corners shorten the straight edges by their radius; rows are exact.
        fx1, fy1, fx2, fy2 = found.box
        assert abs(fy1 - field[1]) <= 2 and abs(fy2 - field[3] - 1) <= 2, (found.box, field)
        assert abs(fx1 - field[0]) <= 7 and abs(fx2 - field[2] - 1) <= 7, (found.box, field)


def test_a_text_area_below_its_label_is_clicked_near_its_first_line() -> None:
    image = Image.new("RGB", (800, 400), LIGHT["page"])
    draw = ImageDraw.Draw(image)
    label = label_box(draw, (40, 40), "Description", LIGHT)
    draw.rounded_rectangle((40, 66, 600, 220), radius=6, fill="white", outline=LIGHT["border"])
    found = find_field(image, label)
    assert found is not None and found.relation == "below"
    assert 40 < found.click[0] < 80 and 66 < found.click[1] < 100


def test_plain_text_has_no_field() -> None:
    image = Image.new("RGB", (800, 400), (217, 217, 217))
    draw = ImageDraw.Draw(image)
    label = label_box(draw, (20, 50), "Just text", LIGHT)
    draw.text((20, 90), "More words on the next line, no fields anywhere", fill="black", font=font())
    assert find_field(image, label) is None


def test_a_column_header_over_a_list_loses_to_a_label_with_a_field_beside_it() -> None:
    """GTK's save dialog: "Name:" beside the name field, and a "Name" column header over the file list."""
    image = Image.new("RGB", (900, 500), (246, 245, 244))
    draw = ImageDraw.Draw(image)
    name = label_box(draw, (30, 30), "Name:", LIGHT)
    draw.rounded_rectangle((100, 22, 600, 54), radius=4, fill="white", outline=(200, 200, 200))
    header = label_box(draw, (220, 140), "Name", LIGHT)
    draw.line((200, 162, 880, 162), fill=(220, 220, 220))
    with_field = find_field(image, name)
    beside_header = find_field(image, header)
    assert with_field is not None and with_field.relation == "right"
    assert beside_header is None or beside_header.distance > with_field.distance


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
        found = find_field(image, (w["x"], w["y"], w["x"] + w["width"], w["y"] + w["height"]))
        target = app.widget(field)
        assert found is not None
        assert target["x"] <= found.click[0] < target["x"] + target["width"]
        assert target["y"] <= found.click[1] < target["y"] + target["height"]

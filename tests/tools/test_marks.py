"""Set-of-marks drawing: tags land on the right boxes, in image pixels, also on HiDPI and offset frames."""

from __future__ import annotations

from PIL import Image

from engine.geometry import Frame
from tools.marks import draw_marks
from tools.results import Element


def element(id_: str, box: tuple[int, int, int, int]) -> Element:
    return Element(id=id_, type="button", label=id_, bbox=box, center=((box[0] + box[2]) // 2, (box[1] + box[3]) // 2))


def changed(before: Image.Image, after: Image.Image, box: tuple[int, int, int, int]) -> bool:
    return any(
        before.getpixel((x, y)) != after.getpixel((x, y)) for x in range(box[0], box[2]) for y in range(box[1], box[3])
    )


def test_marks_outline_each_box_and_leave_the_rest() -> None:
    frame = Frame(0, 0, 400, 300, 400, 300)
    image = Image.new("RGB", (400, 300), "white")
    marked = draw_marks(image, frame, [element("e1", (50, 100, 150, 140)), element("e2", (200, 200, 300, 260))])
    assert marked.size == image.size and image.getpixel((50, 100)) == (255, 255, 255)  # input untouched
    assert marked.getpixel((150, 120)) != (255, 255, 255)  # right edge of e1 outlined
    assert changed(image, marked, (50, 80, 80, 100))  # e1's tag sits above its box
    assert not changed(image, marked, (320, 20, 400, 80))  # nothing drawn where no element is


def test_marks_follow_offset_and_scale() -> None:
    # A region at (1000, 500) on a 2x HiDPI screen: screen box (1010, 520)-(1060, 540) -> image (20, 40)-(120, 80).
    frame = Frame(1000, 500, 200, 150, 400, 300)
    image = Image.new("RGB", (400, 300), "white")
    marked = draw_marks(image, frame, [element("e7", (1010, 520, 1060, 540))])
    assert marked.getpixel((120, 60)) != (255, 255, 255)
    assert not changed(image, marked, (200, 150, 400, 300))

"""Real OCR (the PP-OCR models shipped in the rapidocr wheel) on rendered text, and its screen cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw, ImageFont

from engine.ocr.cache import ScreenReader
from engine.ocr.reader import OcrEngine, OcrSettings, TextBox
from tests.support.ocr_screens import by_text, font, form

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


@pytest.fixture(scope="module")
def engine() -> Iterator[OcrEngine]:
    ocr = OcrEngine()
    yield ocr
    ocr.close()


def inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int], slack: int = 0) -> bool:
    return (
        outer[0] - slack <= box[0] and outer[1] - slack <= box[1] and box[2] <= outer[2] + slack
        and box[3] <= outer[3] + slack
    )  # fmt: skip


def test_reads_form_text_exactly_with_boxes_around_the_ink(engine: OcrEngine) -> None:
    image, drawn = form()
    found = by_text(engine.read(image))
    assert {"Your name:", "Submit", "Settings"} <= set(found)
    for text, ink in drawn.items():
        box = found[text].box
        assert inside(ink, box, slack=2), (text, ink, box)  # the box holds all the ink...
        assert box[2] - box[0] < (ink[2] - ink[0]) * 1.6 + 16  # ...and not much more
        assert found[text].confidence > 0.8
        assert len(found[text].chars) == len(text)


def ink_box(size: tuple[int, int], at: tuple[int, int], text: str, face: ImageFont.FreeTypeFont) -> tuple[int, ...]:
    """The extent of the pixels drawing ``text`` puts ink on (``x2``/``y2`` exclusive), from a mask of its own:
    ``textbbox`` is the layout box, which reaches past the ink."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).text(at, text, font=face, fill=255)
    box = mask.getbbox()
    assert box is not None
    return box


WORDS = ("Alpha", "Settings", "Quality gjpqy", "OK", "user@example.com", "Save As", "$1,234.56")
THEMES = {
    "black on white": ((255, 255, 255), (0, 0, 0)),
    "light on dark": ((30, 30, 30), (230, 230, 230)),
    "white on a blue button": ((0, 120, 215), (255, 255, 255)),
    "white on a green button": ((46, 160, 67), (255, 255, 255)),
    "blue on light grey": ((240, 240, 240), (0, 70, 160)),
    "in a bordered field": ((236, 236, 236), (20, 20, 20)),
}


@pytest.fixture(scope="module")
def fp32() -> Iterator[OcrEngine]:
    ocr = OcrEngine(OcrSettings(precision="fp32"))
    yield ocr
    ocr.close()


def assert_tight(lines: list[TextBox], drawn: list[tuple[str, tuple[int, ...]]], slack: int = 2) -> None:
    """Each drawn text is one line whose box is its ink within ``slack`` px on every side."""
    for text, ink in drawn:
        over = [line for line in lines if line.box[0] < ink[2] and ink[0] < line.box[2] and line.box[1] < ink[3]
                and ink[1] < line.box[3]]  # fmt: skip
        assert len(over) == 1, (text, ink, lines)
        box = over[0].box
        assert max(abs(a - b) for a, b in zip(box, ink, strict=True)) <= slack, (text, ink, box)
        assert all(box[0] <= c < box[2] for c in over[0].chars), (text, box, over[0].chars)


@pytest.mark.parametrize("size", [12, 14, 16, 18])
@pytest.mark.parametrize("theme", list(THEMES))
def test_every_box_is_the_ink_of_its_text(fp32: OcrEngine, theme: str, size: int) -> None:
    # The detector's boxes are padded 4-7 px on every side: "Alpha" at 14 px, ink (40, 44, 79, 58),
    # came back as (33, 37, 85, 68).
    background, colour = THEMES[theme]
    image = Image.new("RGB", (520, 40 + 3 * size * len(WORDS)), background)
    draw = ImageDraw.Draw(image)
    drawn = []
    for row, word in enumerate(WORDS):
        at = (40 + 13 * row, 20 + 3 * size * row)
        ink = ink_box(image.size, at, word, font(size))
        if theme == "in a bordered field":  # the field's edge 3 px from the text: not ink of it
            draw.rectangle((ink[0] - 3, ink[1] - 3, ink[2] + 90, ink[3] + 3), fill="white", outline=(110, 110, 110))
        draw.text(at, word, font=font(size), fill=colour)
        drawn.append((word, ink))
    assert_tight(fp32.read(image), drawn)


@pytest.mark.parametrize("size", [12, 15, 18])
def test_a_label_box_stops_at_its_ink_before_the_field_beside_it(fp32: OcrEngine, size: int) -> None:
    image = Image.new("RGB", (640, 200), (217, 217, 217))
    draw = ImageDraw.Draw(image)
    drawn = []
    for row, (label, gap) in enumerate([("City", 3), ("Email address:", 5), ("Notes:", 8), ("Name", 12)]):
        at = (12, 16 + row * 44)
        ink = ink_box(image.size, at, label, font(size))
        draw.text(at, label, font=font(size), fill="black")
        draw.rectangle(
            (ink[2] + gap, ink[1] - 6, ink[2] + gap + 300, ink[3] + 6), fill="white", outline=(120, 120, 120)
        )
        drawn.append((label, ink))
    assert_tight(fp32.read(image), drawn)


@pytest.mark.parametrize("size", [12, 14, 16, 18])
def test_chinese_boxes_are_the_ink_too(fp32: OcrEngine, size: int) -> None:
    try:
        face = ImageFont.truetype(CJK_FONT, size)
    except OSError:
        pytest.skip("WenQuanYi Zen Hei is not installed (fonts-wqy-zenhei)")
    image = Image.new("RGB", (400, 160), "white")
    draw = ImageDraw.Draw(image)
    drawn = []
    for row, (text, background, colour) in enumerate(
        [("你好世界", "white", "black"), ("文件 编辑", (30, 30, 30), (230, 230, 230)), ("设置", (0, 120, 215), "white")]
    ):
        top = 10 + row * 50
        draw.rectangle((0, top - 8, 400, top + 40), fill=background)
        ink = ink_box(image.size, (30, top + 8), text, face)
        draw.text((30, top + 8), text, font=face, fill=colour)
        drawn.append((text, ink))
    assert_tight(fp32.read(image), drawn)


def test_a_line_with_wide_gaps_comes_back_as_separate_texts(engine: OcrEngine) -> None:
    image = Image.new("RGB", (480, 80), "white")
    draw = ImageDraw.Draw(image)
    x = 12
    boxes = {}
    for word in ("File", "Edit", "View", "Help"):
        draw.text((x, 30), word, fill="black", font=font(15))
        boxes[word] = draw.textbbox((x, 30), word, font=font(15))
        x = boxes[word][2] + 24  # a menu bar's spacing, well over a word space
    found = by_text(engine.read(image))
    assert set(boxes) <= set(found), found
    for word, ink in boxes.items():
        assert inside(ink, found[word].box, slack=3)


@pytest.mark.parametrize("precision", ["int8", "fp32"])
@pytest.mark.parametrize(("label", "gap"), [("City", 2), ("Notes:", 4)])
def test_a_field_edge_next_to_its_label_is_not_read_as_a_bracket(precision: str, label: str, gap: int) -> None:
    image = Image.new("RGB", (400, 60), (217, 217, 217))
    draw = ImageDraw.Draw(image)
    draw.text((10, 18), label, font=font(19), fill="black")
    edge = 10 + int(font(19).getlength(label)) + gap
    draw.rectangle((edge, 12, edge + 250, 46), fill="white", outline=(120, 120, 120), width=2)
    draw.line((edge, 12, edge, 46), fill=(80, 80, 80), width=2)
    ocr = OcrEngine(OcrSettings(precision=precision))
    ocr.load(wait=True)
    lines = ocr.read(image)
    ocr.close()
    assert [line.text for line in lines] == [label]  # read as "City[" / "Notes:[" before the border rule
    assert lines[0].box[2] <= edge + 1


def test_an_unchanged_screen_is_read_once(engine: OcrEngine) -> None:
    reader = ScreenReader(engine)
    image, _ = form()
    first = reader.read(image)
    again = reader.read(image.copy())
    assert (first.how, again.how) == ("full", "cached")
    assert again.lines == first.lines and again.reread == 0.0


def test_a_small_change_rereads_only_its_tiles(engine: OcrEngine) -> None:
    reader = ScreenReader(engine)
    image, _ = form()
    before = reader.read(image)
    changed = image.copy()
    ImageDraw.Draw(changed).text((170, 60), "Ada Lovelace", fill=(20, 20, 20), font=font())  # typed into the field
    after = reader.read(changed)
    assert after.how == "incremental" and 0 < after.reread < 0.3
    texts = by_text(after.lines)
    assert "Ada Lovelace" in texts
    # Text away from the change is the very same line as before, not read again.
    assert texts["Submit"] == by_text(before.lines)["Submit"]
    full = {line.text for line in engine.read(changed)}
    assert set(texts) == full


def test_a_different_screen_is_read_in_full(engine: OcrEngine) -> None:
    reader = ScreenReader(engine)
    image, _ = form()
    reader.read(image)
    other = Image.new("RGB", image.size, (30, 30, 30))
    ImageDraw.Draw(other).text((100, 100), "Welcome back", fill="white", font=font(20))
    result = reader.read(other)
    assert result.how == "full" and [line.text for line in result.lines] == ["Welcome back"]


async def test_async_reads_run_off_the_event_loop(engine: OcrEngine) -> None:
    reader = ScreenReader(engine)
    image, _ = form()
    result = await reader.aread(image)
    assert "Submit" in by_text(result.lines)

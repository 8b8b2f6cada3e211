"""Screens drawn in code for OCR tests: text at known places, with PIL's ink boxes to check OCR against."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from engine.ocr.reader import TextBox

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def font(size: int = 16) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at ``size`` pixels; skips the test when it is not installed."""
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        pytest.skip("DejaVu Sans is not installed (scripts/setup dev installs fonts-dejavu-core)")


def form() -> tuple[Image.Image, dict[str, tuple[float, float, float, float]]]:
    """A small form: where each text was drawn (PIL's ink boxes)."""
    image = Image.new("RGB", (640, 360), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    drawn = {}
    for text, (x, y) in {"Your name:": (40, 60), "Submit": (70, 240), "Settings": (420, 20)}.items():
        if text == "Submit":
            draw.rectangle((50, 228, 170, 268), fill=(255, 255, 255), outline=(90, 90, 90))
        draw.text((x, y), text, fill=(20, 20, 20), font=font())
        drawn[text] = draw.textbbox((x, y), text, font=font())
    draw.rectangle((160, 52, 520, 88), fill=(255, 255, 255), outline=(90, 90, 90))
    return image, drawn


def by_text(lines: list[TextBox]) -> dict[str, TextBox]:
    """OCR lines keyed by the text read."""
    return {line.text: line for line in lines}

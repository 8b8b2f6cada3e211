"""Set-of-marks screenshots: element ids drawn on their boxes, so a host with vision can point at ids."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from engine.geometry import Frame, screen_to_image
from tools.results import Element

_COLORS = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (0, 128, 128))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def draw_marks(image: Image.Image, frame: Frame, elements: Sequence[Element]) -> Image.Image:
    """A copy of ``image`` with each element's box outlined and its id in a filled tag at the top-left.

    Boxes are in screen pixels; ``frame`` maps them into the image (offsets and HiDPI scale).
    """
    marked = image.convert("RGB")
    draw = ImageDraw.Draw(marked)
    size = max(11, round(13 * frame.scale_y))
    font = _font(size)
    for index, element in enumerate(elements):
        color = _COLORS[index % len(_COLORS)]
        x1, y1 = screen_to_image(frame, element.bbox[0], element.bbox[1])
        x2, y2 = screen_to_image(frame, element.bbox[2], element.bbox[3])
        draw.rectangle((x1, y1, max(x1, x2), max(y1, y2)), outline=color, width=max(1, round(2 * frame.scale_x)))
        left, top, right, bottom = draw.textbbox((0, 0), element.id, font=font)
        tag_w, tag_h = right - left + 6, bottom - top + 4
        tag_y = y1 - tag_h if y1 - tag_h >= 0 else y1
        draw.rectangle((x1, tag_y, x1 + tag_w, tag_y + tag_h), fill=color)
        draw.text((x1 + 3 - left, tag_y + 2 - top), element.id, fill=(255, 255, 255), font=font)
    return marked

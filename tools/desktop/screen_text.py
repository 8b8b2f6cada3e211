"""The text on a capture, read by OCR, in screen pixels."""

from __future__ import annotations

from engine.geometry import image_to_screen
from engine.ocr.reader import TextBox
from tools.desktop.capture import Capture
from tools.errors import DesktopUnavailable
from tools.runtime import Runtime


async def screen_lines(runtime: Runtime, capture: Capture) -> list[TextBox]:
    """The text on ``capture`` (cached/incremental OCR), boxes and character positions in screen pixels."""
    if runtime.ocr is None:
        raise DesktopUnavailable("reading text on screen needs OCR, which is off or not installed")
    frame = capture.frame
    text = await runtime.ocr.aread(capture.image, (frame.x, frame.y, frame.width, frame.height))
    lines = []
    for line in text.lines:
        x1, y1 = image_to_screen(frame, line.box[0], line.box[1])
        x2, y2 = image_to_screen(frame, line.box[2], line.box[3])
        chars = tuple(image_to_screen(frame, x, line.box[1])[0] for x in line.chars)
        lines.append(TextBox(line.text, (x1, y1, x2, y2), line.confidence, chars, line.faint))
    return lines

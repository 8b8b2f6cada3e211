"""Finding the input that belongs to a visible label: to its right on the same line, else below it.

Input fields are drawn as areas that differ from the background around their label (a border,
then a usually lighter fill). Scanning from the label outwards finds the first such area; the
click goes a little inside its leading edge, where a caret belongs.
"""

from __future__ import annotations

from PIL import Image

from engine.coords import Frame, image_to_screen, screen_to_image

_TOLERANCE = 24
"""Per-channel difference that counts as 'not background' (antialiasing stays below it)."""
MAX_RIGHT = 700
MAX_BELOW = 160
_MIN_FIELD = 24
"""A field is at least this long along the scan line (shorter runs are text or icons)."""


def _differs(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=False)) > _TOLERANCE


def _background(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The label's background: the most common colour in its box (text is the minority)."""
    crop = image.crop((box[0], box[1], max(box[0] + 1, box[2]), max(box[1] + 1, box[3])))
    colors = crop.getcolors(crop.width * crop.height) or [(1, crop.getpixel((0, 0)))]
    return tuple(max(colors, key=lambda c: c[0])[1])  # type: ignore[arg-type]


def _scan(image: Image.Image, points: list[tuple[int, int]], background: tuple[int, ...]) -> int | None:
    """Index in ``points`` where the first long run that is not ``background`` starts."""
    if len(points) < 2:
        return None
    pixels = [image.getpixel(p) for p in points]
    run_start: int | None = None
    for index, pixel in enumerate(pixels):
        assert isinstance(pixel, tuple)
        if _differs(pixel, background):  # type: ignore[arg-type]
            run_start = index if run_start is None else run_start
            if index - run_start + 1 >= _MIN_FIELD:
                return run_start
        elif run_start is not None and index - run_start >= 3:
            run_start = None
    return None


def find_field(image: Image.Image, frame: Frame, label_box: tuple[int, int, int, int]) -> tuple[int, int] | None:
    """Screen point inside the input field next to the label at ``label_box`` (screen pixels), or ``None``."""
    rgb = image.convert("RGB")
    lx1, ly1 = screen_to_image(frame, label_box[0], label_box[1])
    lx2, ly2 = screen_to_image(frame, label_box[2], label_box[3])
    cy = (ly1 + ly2) // 2
    background = _background(rgb, (lx1, ly1, lx2, ly2))
    right = [(x, cy) for x in range(lx2 + 1, min(rgb.width, lx2 + 1 + MAX_RIGHT))]
    found = _scan(rgb, right, background)
    if found is not None:
        x = right[found][0] + 12
        return image_to_screen(frame, min(x, rgb.width - 1), cy)
    cx = lx1 + 6
    below = [(cx, y) for y in range(ly2 + 1, min(rgb.height, ly2 + 1 + MAX_BELOW))]
    found = _scan(rgb, below, background)
    if found is not None:
        return image_to_screen(frame, cx + 8, min(below[found][1] + 10, rgb.height - 1))
    return None

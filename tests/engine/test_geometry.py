"""engine/geometry.py: the 0-1000 grid, screen and image spaces, and the image token budget."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.geometry import (
    Frame,
    Rect,
    box_area,
    box_center,
    box_grown,
    box_intersection,
    box_iou,
    box_share_inside,
    fit_to_budget,
    grid_box_to_screen,
    grid_to_screen,
    image_box_to_screen,
    image_to_screen,
    screen_to_grid,
    screen_to_image,
    visual_tokens,
)


def frame(x: int, y: int, w: int, h: int, scale: int = 1) -> Frame:
    return Frame(x=x, y=y, width=w, height=h, pixel_width=w * scale, pixel_height=h * scale)


FULL_HD = frame(0, 0, 1920, 1080)
LAPTOP = frame(0, 0, 1366, 768)
SXGA = frame(0, 0, 1280, 1024)
ULTRAWIDE = frame(0, 0, 3440, 1440)
PORTRAIT = frame(0, 0, 1080, 1920)
REGION = frame(200, 150, 800, 600)
LEFT_MONITOR = frame(-1280, 0, 1280, 1024)
RIGHT_MONITOR = frame(1920, 0, 1280, 1024)
HIDPI = frame(0, 0, 1440, 900, scale=2)


@pytest.mark.parametrize(
    ("f", "grid", "screen"),
    [
        (FULL_HD, (0, 0), (0, 0)),
        (FULL_HD, (500, 500), (960, 540)),
        (FULL_HD, (250, 750), (480, 810)),
        (FULL_HD, (1000, 1000), (1919, 1079)),  # the far edge is the last pixel, not one past it
        (FULL_HD, (-20, 1500), (0, 1079)),
        (FULL_HD, (1500, -20), (1919, 0)),
        (FULL_HD, (499.9, 500.4), (959, 540)),  # fractional grid values floor
        (LAPTOP, (500, 500), (683, 384)),
        (LAPTOP, (123, 456), (168, 350)),
        (SXGA, (500, 500), (640, 512)),
        (SXGA, (999, 999), (1278, 1022)),
        (ULTRAWIDE, (500, 500), (1720, 720)),
        (ULTRAWIDE, (100, 900), (344, 1296)),
        (ULTRAWIDE, (575, 700), (1978, 1008)),  # 700/1000*1440 is 1007.999... in floating point
        (PORTRAIT, (500, 250), (540, 480)),
        (PORTRAIT, (1000, 1000), (1079, 1919)),
        (REGION, (0, 0), (200, 150)),
        (REGION, (500, 500), (600, 450)),
        (REGION, (1000, 1000), (999, 749)),
        (REGION, (-20, 1500), (200, 749)),
        (LEFT_MONITOR, (0, 0), (-1280, 0)),
        (LEFT_MONITOR, (500, 500), (-640, 512)),
        (LEFT_MONITOR, (1000, 1000), (-1, 1023)),
        (RIGHT_MONITOR, (0, 0), (1920, 0)),
        (RIGHT_MONITOR, (500, 500), (2560, 512)),
        (HIDPI, (500, 500), (720, 450)),  # screen points, not the 2880x1800 image's pixels
        (HIDPI, (1000, 1000), (1439, 899)),
    ],
)
def test_grid_to_screen(f: Frame, grid: tuple[float, float], screen: tuple[int, int]) -> None:
    assert grid_to_screen(f, *grid) == screen


@pytest.mark.parametrize(
    ("f", "box", "screen_box"),
    [
        (FULL_HD, (100, 200, 300, 400), (192, 216, 576, 432)),
        (FULL_HD, (300, 400, 100, 200), (192, 216, 576, 432)),  # both corners swapped
        (FULL_HD, (300, 200, 100, 400), (192, 216, 576, 432)),  # x swapped only
        (FULL_HD, (-20, -20, 1500, 1500), (0, 0, 1919, 1079)),
        (REGION, (250, 250, 750, 750), (400, 300, 800, 600)),
        (LEFT_MONITOR, (0, 0, 500, 500), (-1280, 0, -640, 512)),
    ],
)
def test_grid_box_to_screen(f: Frame, box: tuple[float, ...], screen_box: tuple[int, ...]) -> None:
    assert grid_box_to_screen(f, box) == screen_box


def test_box_center() -> None:
    assert box_center((192, 216, 576, 432)) == (384, 324)
    assert box_center((-1280, 0, -640, 513)) == (-960, 256)


@pytest.mark.parametrize(
    ("f", "screen", "grid"),
    [
        (FULL_HD, (960, 540), (500, 500)),
        (FULL_HD, (0, 0), (0, 0)),
        (FULL_HD, (1920, 1080), (1000, 1000)),
        (LAPTOP, (683, 384), (500, 500)),
        (LAPTOP, (100, 700), (73, 911)),
        (REGION, (600, 450), (500, 500)),
        (REGION, (0, 0), (0, 0)),  # left of and above the region: clamped
        (REGION, (5000, 5000), (1000, 1000)),
        (LEFT_MONITOR, (-640, 512), (500, 500)),
        (RIGHT_MONITOR, (2560, 256), (500, 250)),
        (HIDPI, (720, 450), (500, 500)),
    ],
)
def test_screen_to_grid(f: Frame, screen: tuple[int, int], grid: tuple[int, int]) -> None:
    assert screen_to_grid(f, *screen) == grid


def test_screen_grid_screen_round_trip_within_one_pixel() -> None:
    for x in range(LAPTOP.width):
        y = x * LAPTOP.height // LAPTOP.width
        back = grid_to_screen(LAPTOP, *screen_to_grid(LAPTOP, x, y))
        assert abs(back[0] - x) <= 1 and abs(back[1] - y) <= 1, (x, y, back)


@pytest.mark.parametrize(
    ("f", "image", "screen"),
    [
        (FULL_HD, (960, 540), (960, 540)),
        (REGION, (0, 0), (200, 150)),
        (REGION, (799, 599), (999, 749)),
        (REGION, (-20, 1500), (200, 749)),
        (HIDPI, (1440, 900), (720, 450)),  # physical pixels / 2
        (HIDPI, (1441, 901), (720, 450)),
        (HIDPI, (2879, 1799), (1439, 899)),
        (HIDPI, (4000, -5), (1439, 0)),
        (frame(-1280, 0, 1280, 1024, scale=2), (1280, 1024), (-640, 512)),
    ],
)
def test_image_to_screen(f: Frame, image: tuple[int, int], screen: tuple[int, int]) -> None:
    assert image_to_screen(f, *image) == screen


@pytest.mark.parametrize(
    ("f", "screen", "image"),
    [
        (FULL_HD, (960, 540), (960, 540)),
        (REGION, (200, 150), (0, 0)),
        (REGION, (600, 450), (400, 300)),
        (REGION, (0, 0), (0, 0)),
        (REGION, (5000, 5000), (799, 599)),
        (HIDPI, (720, 450), (1440, 900)),
        (HIDPI, (1439, 899), (2878, 1798)),
        (frame(1920, 0, 1280, 1024, scale=2), (2560, 512), (1280, 1024)),
    ],
)
def test_screen_to_image(f: Frame, screen: tuple[int, int], image: tuple[int, int]) -> None:
    assert screen_to_image(f, *screen) == image


def test_frame_scale_and_contains() -> None:
    assert (HIDPI.scale_x, HIDPI.scale_y) == (2.0, 2.0)
    assert (REGION.scale_x, REGION.scale_y) == (1.0, 1.0)
    assert REGION.contains(200, 150) and REGION.contains(999, 749)
    assert not REGION.contains(1000, 400) and not REGION.contains(500, 149)
    assert LEFT_MONITOR.contains(-1, 0) and not LEFT_MONITOR.contains(0, 0)


@pytest.mark.parametrize("size", [(0, 10, 10, 10), (10, 10, 10, -1)])
def test_frame_needs_positive_size(size: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError, match="positive size"):
        Frame(0, 0, *size)


CAP_1280 = 1280 * 32 * 32  # a 1280-token budget
DEFAULT_MAX = 16_777_216


@pytest.mark.parametrize(
    ("size", "max_pixels", "fitted", "grid_cells"),
    [
        # Qwen3-VL reference numbers: one visual token per 32x32 cell, sides rounded to multiples of 32.
        ((1920, 1080), DEFAULT_MAX, (1920, 1088), 2040),
        ((1280, 720), DEFAULT_MAX, (1280, 704), 880),  # 22.5 rounds half to even, like smart_resize
        ((2560, 1440), DEFAULT_MAX, (2560, 1440), 3600),
        ((3840, 2160), DEFAULT_MAX, (3840, 2176), 8160),
        ((1920, 1080), CAP_1280, (1504, 832), 1222),
        ((1920, 1080), 1920 * 1088, (1920, 1088), 2040),  # the config default keeps 1080p whole
        ((1366, 768), DEFAULT_MAX, (1376, 768), 1032),
        ((1280, 1024), DEFAULT_MAX, (1280, 1024), 1280),
        ((3440, 1440), DEFAULT_MAX, (3456, 1440), 4860),
        ((3440, 1440), CAP_1280, (1760, 736), 1265),
        ((1080, 1920), CAP_1280, (832, 1504), 1222),  # portrait: the transpose of landscape
        ((100, 50), DEFAULT_MAX, (384, 192), 72),  # scaled up to min_pixels (65,536)
        ((20, 3000), DEFAULT_MAX, (32, 3008), 94),  # a side never goes below one cell
    ],
)
def test_fit_to_budget(size: tuple[int, int], max_pixels: int, fitted: tuple[int, int], grid_cells: int) -> None:
    w, h = fit_to_budget(*size, max_pixels)
    assert (w, h) == fitted
    assert w % 32 == 0 and h % 32 == 0
    assert w * h <= max_pixels
    assert (w // 32) * (h // 32) == grid_cells
    # visual_tokens counts the two delimiters (<|vision_start|>, <|vision_end|>) on top of the cells.
    assert visual_tokens(w, h) == grid_cells + 2


@pytest.mark.parametrize("size", [(0, 1080), (1920, 0), (-1, 5)])
def test_fit_to_budget_refuses_empty_images(size: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="positive"):
        fit_to_budget(*size, DEFAULT_MAX)


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(
    x=st.integers(-10_000, 10_000),
    y=st.integers(-10_000, 10_000),
    w=st.integers(1, 8000),
    h=st.integers(1, 8000),
    scale=st.sampled_from([1, 2, 3]),
    gx=st.floats(allow_nan=False, min_value=-1e9, max_value=1e9),
    gy=st.floats(allow_nan=False, min_value=-1e9, max_value=1e9),
)
def test_grid_to_screen_always_lands_inside_the_frame(
    x: int, y: int, w: int, h: int, scale: int, gx: float, gy: float
) -> None:
    f = frame(x, y, w, h, scale)
    sx, sy = grid_to_screen(f, gx, gy)
    assert isinstance(sx, int) and isinstance(sy, int)
    assert f.contains(sx, sy)


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(
    w=st.integers(1, 10_000),
    h=st.integers(1, 10_000),
    max_pixels=st.integers(1_000_000, 16_777_216),
)
def test_fit_to_budget_stays_within_the_budget(w: int, h: int, max_pixels: int) -> None:
    assume(max(w, h) <= 10 * min(w, h))  # extreme slivers cannot keep both bounds (one cell is 32 px)
    fw, fh = fit_to_budget(w, h, max_pixels)
    assert fw % 32 == 0 and fh % 32 == 0
    assert 65_536 <= fw * fh <= max_pixels


@pytest.mark.parametrize(
    ("f", "box", "screen_box"),
    [
        (frame(0, 0, 1366, 768), (10, 20, 30, 40), (10, 20, 29, 39)),
        (frame(1280, 100, 1024, 768), (0, 0, 1024, 768), (1280, 100, 2303, 867)),
        # HiDPI: the 2880x1800 image's pixels are halved; the old offset-only mapping gave (200, 100, 399, 299).
        (HIDPI, (200, 100, 400, 300), (100, 50, 199, 149)),
        (HIDPI, (0, 0, 2880, 1800), (0, 0, 1439, 899)),
    ],
)
def test_image_box_to_screen(f: Frame, box: tuple[int, int, int, int], screen_box: tuple[int, int, int, int]) -> None:
    """What execute_action reports as changed_region, from a box of changed image pixels."""
    assert image_box_to_screen(f, box) == screen_box


def test_rect_holds_its_pixels_and_no_others() -> None:
    rect = Rect(-1280, 0, 1280, 1024)  # a monitor left of the primary one
    assert rect.contains(-1280, 0) and rect.contains(-1, 1023)
    assert not rect.contains(0, 0) and not rect.contains(-1281, 5) and not rect.contains(-5, 1024)
    assert rect.box == (-1280, 0, 0, 1024)
    assert str(rect) == "x -1280..-1, y 0..1023"


def test_a_frame_knows_its_rect_in_screen_points_also_on_hidpi() -> None:
    hidpi = frame(100, 50, 1440, 900, scale=2)
    assert hidpi.rect == Rect(100, 50, 1440, 900)
    assert hidpi.contains(1539, 949) and not hidpi.contains(1540, 949)


@pytest.mark.parametrize(
    ("a", "b", "area_a", "shared", "iou", "share_of_a"),
    [
        ((0, 0, 10, 10), (5, 5, 15, 15), 100, 25, 25 / 175, 0.25),
        ((0, 0, 10, 10), (10, 0, 20, 10), 100, 0, 0.0, 0.0),  # touching, x2 exclusive: nothing shared
        ((2, 2, 4, 4), (0, 0, 10, 10), 4, 4, 4 / 100, 1.0),
        ((5, 5, 5, 9), (0, 0, 10, 10), 0, 0, 0.0, 0.0),  # empty
    ],
)
def test_box_measures(a: tuple[int, int, int, int], b: tuple[int, int, int, int], area_a: int, shared: int,
                      iou: float, share_of_a: float) -> None:  # fmt: skip
    assert box_area(a) == area_a
    assert box_intersection(a, b) == box_intersection(b, a) == shared
    assert box_iou(a, b) == pytest.approx(iou)
    assert box_share_inside(a, b) == pytest.approx(share_of_a)


def test_box_grown_by_share_and_pixels() -> None:
    assert box_grown((10, 20, 30, 30), share=0.5, pixels=2) == (-2, 13, 42, 37)
    assert box_grown((10, 20, 30, 30)) == (10, 20, 30, 30)

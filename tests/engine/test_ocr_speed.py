"""The OCR pipeline's speed levers change how much work it does, never what it reads.

Work is counted (pixels the detector sees, recognition calls and columns), never timed.
"""

from __future__ import annotations

import ctypes
import platform
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from engine.ocr.detection import content_areas, detector_size
from engine.ocr.models import _FenvX86
from engine.ocr.reader import OcrEngine, to_bgr
from engine.ocr.settings import OcrSettings

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def face(size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        pytest.skip("DejaVu Sans is not installed (scripts/setup dev installs fonts-dejavu-core)")


class Counting:
    """A session stand-in that passes calls through and counts what they were given."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.calls = 0
        self.pixels = 0
        self.columns = 0

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> Any:
        (tensor,) = feeds.values()
        self.calls += 1
        self.pixels += tensor.shape[2] * tensor.shape[3]
        self.columns += tensor.shape[0] * tensor.shape[3]
        return self.session.run(names, feeds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def counted(engine: OcrEngine) -> tuple[Counting, Counting]:
    """Count the engine's detector and recogniser calls from now on."""
    engine.load(wait=True)
    det, rec = Counting(engine._det), Counting(engine._rec)
    engine._det, engine._rec = det, rec
    return det, rec


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[OcrEngine, OcrEngine]]:
    """The default pipeline and one with every speed lever off, both fp32 and without a crop cache."""
    fast = OcrEngine(OcrSettings(precision="fp32", crop_cache_size=0))
    plain = OcrEngine(OcrSettings(precision="fp32", crop_cache_size=0, det_content_only=False, share_readings=False))
    yield fast, plain
    fast.close()
    plain.close()


def desktop() -> Image.Image:
    """A 1920x1080 desktop: a top panel, one window with a few labels and buttons, a dialog, much blank."""
    image = Image.new("RGB", (1920, 1080), (222, 230, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1920, 26), fill=(30, 60, 100))
    draw.text((10, 5), "Activities", font=face(15), fill="white")
    draw.text((1780, 5), "Wed 16:29", font=face(15), fill="white")
    draw.rectangle((8, 40, 960, 1070), fill="white", outline=(60, 60, 60))  # a window: frame lines only
    draw.rectangle((8, 40, 960, 66), fill=(40, 80, 140))
    draw.text((16, 45), "Options", font=face(15), fill="white")
    for row, label in enumerate(["Subscribe to newsletter", "Show hidden files", "Enable notifications"]):
        draw.text((40, 100 + 28 * row), label, font=face(14), fill=(20, 20, 20))
    draw.rectangle((700, 1010, 800, 1040), fill=(240, 240, 240), outline=(90, 90, 90))
    draw.text((722, 1016), "Reset", font=face(14), fill="black")
    draw.rectangle((1120, 440, 1760, 660), fill="white", outline=(60, 60, 60))  # a dialog
    draw.text((1150, 490), "The server stopped responding.", font=face(16), fill="black")
    draw.rectangle((1600, 590, 1700, 625), fill=(0, 120, 215))
    draw.text((1625, 597), "Retry", font=face(15), fill="white")
    return image


WORDS = {"Activities", "Wed 16:29", "Options", "Subscribe to newsletter", "Show hidden files"}
WORDS |= {"Enable notifications", "Reset", "The server stopped responding.", "Retry"}


def test_content_areas_hold_the_text_and_leave_blank_and_frames_out() -> None:
    image = to_bgr(desktop())
    width, height = detector_size(1920, 1080, 1600)
    import cv2

    small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    areas = content_areas(small)
    covered = sum((x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in areas)
    assert 0 < covered < 0.3 * width * height  # the window's and the dialog's blank insides are left out
    for i, a in enumerate(areas):  # none overlap, all whole tiles
        assert all(v % 32 == 0 for v in a)
        assert all(not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]) for b in areas[i + 1 :])
    blank = np.full((height, width, 3), 200, dtype=np.uint8)
    assert content_areas(blank) == []
    frames = blank.copy()
    cv2.rectangle(frames, (40, 40), (900, 700), (60, 60, 60), 1)  # a window's frame and a rule: no text
    cv2.line(frames, (100, 300), (800, 300), (0, 0, 0), 1)
    assert content_areas(frames) == []


def test_detecting_only_content_areas_reads_the_same_for_a_fraction_of_the_pixels(
    engines: tuple[OcrEngine, OcrEngine],
) -> None:
    fast, plain = engines
    (fast_det, _), (plain_det, _) = counted(fast), counted(plain)
    image = desktop()
    ours, theirs = fast.read(image), plain.read(image)
    assert {line.text for line in theirs} >= WORDS
    assert sorted(line.text for line in ours) == sorted(line.text for line in theirs)
    for a, b in zip(sorted(ours, key=str), sorted(theirs, key=str), strict=True):
        assert a.text == b.text and max(abs(p - q) for p, q in zip(a.box, b.box, strict=True)) <= 1, (a, b)
    assert plain_det.calls == 1 and fast_det.pixels < 0.3 * plain_det.pixels


def test_a_blank_screen_never_reaches_the_detector(engines: tuple[OcrEngine, OcrEngine]) -> None:
    fast, _ = engines
    det, rec = counted(fast)
    assert fast.read(Image.new("RGB", (1366, 768), (40, 40, 40))) == []
    assert (det.calls, rec.calls) == (0, 0)


def table(origin: tuple[int, int], rows: int = 8) -> tuple[Image.Image, list[tuple[str, tuple[int, int, int, int]]]]:
    """A table whose columns repeat the same few words row after row, and where each word's ink is."""
    image = Image.new("RGB", (900, 40 + 30 * rows), "white")
    draw = ImageDraw.Draw(image)
    drawn = []
    words = (("Seoul", "Osaka"), ("On hold", "Overdue"), ("Ada Lovelace", "Grace Hopper"))
    for row in range(rows):
        for column, pair in enumerate(words):
            word = pair[row % 2]
            at = (origin[0] + 220 * column + (row % 3), origin[1] + 30 * row)  # not on one pixel grid
            draw.text(at, word, font=face(15), fill=(20, 20, 20))
            drawn.append((word, draw.textbbox(at, word, font=face(15))))
    return image, drawn


def test_a_word_shown_many_times_is_recognised_once(engines: tuple[OcrEngine, OcrEngine]) -> None:
    engine = OcrEngine(OcrSettings(precision="fp32"))
    try:
        image, drawn = table((20, 12))
        before = engine.recognised
        lines = engine.read(image)
        assert engine.recognised - before == len({word for word, _ in drawn}) == 6
        plain = engines[1]
        before = plain.recognised
        assert sorted(line.text for line in plain.read(image)) == sorted(line.text for line in lines)
        assert plain.recognised - before >= 20  # keyed by the box's pixels: nearly every one of the 24 copies
        assert sorted(line.text for line in lines) == sorted(word for word, _ in drawn)
        for line in lines:  # every copy got its own place: the box around its own ink
            (ink,) = [box for word, box in drawn if word == line.text and abs(box[1] - line.box[1]) < 8
                      and abs(box[0] - line.box[0]) < 8]  # fmt: skip
            assert max(abs(a - b) for a, b in zip(line.box, ink, strict=True)) <= 3, (line, ink)
            assert all(line.box[0] <= c < line.box[2] for c in line.chars)
        # The same lines elsewhere (a scrolled or moved table): nothing is recognised again.
        moved, drawn = table((57, 21), rows=6)
        before = engine.recognised
        again = engine.read(moved)
        assert engine.recognised == before
        assert sorted(line.text for line in again) == sorted(word for word, _ in drawn)
        assert all(line.box[0] <= c < line.box[2] for line in again for c in line.chars)
    finally:
        engine.close()


def mxcsr() -> int | None:
    """The calling thread's SSE control register, where there is one to read (x86-64 Linux)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    env = _FenvX86()
    assert ctypes.CDLL("libm.so.6").fegetenv(ctypes.byref(env)) == 0
    return int(env.mxcsr)


def test_model_calls_run_on_ocr_threads_that_flush_denormals(engines: tuple[OcrEngine, OcrEngine]) -> None:
    fast = engines[0]
    fast.load()
    before = mxcsr()
    image = desktop()
    lines = fast.read(image)
    assert mxcsr() == before  # the caller's thread is left as it was
    assert fast._pool is not None
    flags = fast._pool.submit(mxcsr).result()
    if flags is not None:
        assert flags & 0x8040 == 0x8040  # flush-to-zero and denormals-are-zero
    exact = OcrEngine(OcrSettings(precision="fp32", crop_cache_size=0, flush_denormals=False))
    try:
        assert exact.read(image) == lines  # the same lines, to the pixel and the confidence
    finally:
        exact.close()

"""The strip PNG encoder: lossless, valid for any decoder, and reusing only strips that did not change."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.vlm.png import StripPngEncoder, adler32_combine


def screen(width: int = 300, height: int = 203, mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    for _ in range(20):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 12))
        draw.text((x, y), "Save 299", fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image.convert(mode)


def decoded(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    image.load()
    return np.asarray(image)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
@pytest.mark.parametrize("rows", [1, 16, 64, 1000])
def test_round_trip_is_exact(mode: str, rows: int) -> None:
    image = screen(mode=mode)
    data = StripPngEncoder(rows_per_strip=rows).encode(image)
    assert np.array_equal(decoded(data), np.asarray(image))
    # zlib itself accepts the stream (checksum included), not only Pillow's tolerant reader
    assert Image.open(io.BytesIO(data)).mode == mode


def test_other_modes_are_sent_as_rgb() -> None:
    image = screen().convert("P")
    assert np.array_equal(decoded(StripPngEncoder().encode(image)), np.asarray(image.convert("RGB")))


def test_only_changed_strips_are_compressed_again() -> None:
    encoder = StripPngEncoder(rows_per_strip=20)
    first = screen(height=200)
    encoder.encode(first)
    assert encoder.reused == 0
    second = first.copy()
    ImageDraw.Draw(second).rectangle((10, 45, 60, 55), fill=(255, 0, 0))  # inside strips 2 (40..59) only
    data = encoder.encode(second)
    assert encoder.reused == 9
    assert np.array_equal(decoded(data), np.asarray(second))
    assert np.array_equal(decoded(encoder.encode(second)), np.asarray(second)) and encoder.reused == 10


def test_a_new_size_starts_afresh() -> None:
    encoder = StripPngEncoder(rows_per_strip=20)
    encoder.encode(screen(height=200))
    other = screen(width=301, height=200)
    assert np.array_equal(decoded(encoder.encode(other)), np.asarray(other))
    assert encoder.reused == 0


@pytest.mark.parametrize("split", [0, 1, 5, 65521, 70000])
def test_adler32_combine_matches_zlib(split: int) -> None:
    data = bytes(np.random.default_rng(split).integers(0, 256, 140_000, dtype=np.uint8))
    head, tail = data[:split], data[split:]
    assert adler32_combine(zlib.adler32(head), zlib.adler32(tail), len(tail)) == zlib.adler32(data)

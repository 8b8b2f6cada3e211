"""Did the screen change, and has it stopped changing?"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from PIL import Image, ImageChops

_NOISE = 24
"""Grey-level difference below which a pixel counts as unchanged (JPEG-free captures are exact,
but antialiased carets and cursors flicker by a few levels)."""


def fingerprint(image: Image.Image) -> Image.Image:
    """A greyscale copy to compare screens with (full resolution: one typed character must show)."""
    return image.convert("L")


def changed_box(before: Image.Image, after: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box (image pixels) of what differs between two fingerprints, or ``None``."""
    if before.size != after.size:
        return (0, 0, after.width, after.height)
    diff = ImageChops.difference(before, after).point(lambda v: 255 if v > _NOISE else 0)
    return diff.getbbox()


async def fingerprint_in_thread(image: Image.Image) -> Image.Image:
    """:func:`fingerprint`, in a worker thread (a full-screen conversion must not stall the event loop)."""
    return await anyio.to_thread.run_sync(fingerprint, image)


async def changed_in_thread(before: Image.Image, image: Image.Image) -> tuple[int, int, int, int] | None:
    """:func:`changed_box` between the fingerprint ``before`` and a new ``image``, in a worker thread."""
    return await anyio.to_thread.run_sync(lambda: changed_box(before, fingerprint(image)))


@dataclass(frozen=True)
class Settled:
    """The last fingerprint taken, whether it was stable, and how long waiting took."""

    image: Image.Image
    settled: bool
    waited_ms: float


async def wait_for_settle(
    grab: Callable[[], Awaitable[Image.Image]],
    *,
    timeout: float = 3.0,
    interval: float = 0.1,
    initial_delay: float = 0.05,
) -> Settled:
    """Grab until two consecutive fingerprints match, or ``timeout`` passes (bounded either way)."""
    started = time.perf_counter()
    await anyio.sleep(initial_delay)
    previous = await fingerprint_in_thread(await grab())
    while True:
        await anyio.sleep(interval)
        current = await fingerprint_in_thread(await grab())
        if await anyio.to_thread.run_sync(changed_box, previous, current) is None:
            return Settled(current, True, (time.perf_counter() - started) * 1000)
        if time.perf_counter() - started >= timeout:
            return Settled(current, False, (time.perf_counter() - started) * 1000)
        previous = current

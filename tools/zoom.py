"""``zoom``: a region of the screen, upscaled to the image budget, with the frame that maps it back.

A host that is unsure where a small control is can look closer: the region comes back enlarged (up
to the size hosts take without resizing, at most :data:`MAX_ZOOM` times), and the result says
exactly how a pixel of that image maps back to the screen, so the next click lands where the host
pointed on the enlarged image.
"""

from __future__ import annotations

import math
import time

import anyio
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from engine.geometry import Frame, image_to_screen
from tools.describe import RegionArg, capture_screen
from tools.errors import InvalidAction
from tools.results_trust import ZoomResult
from tools.runtime import Caller, Runtime
from tools.snapshots import Snapshot
from tools.spec import Outcome, ToolSpec

MAX_ZOOM = 8.0


class ZoomParams(BaseModel):
    """Arguments of zoom."""

    model_config = ConfigDict(extra="forbid")
    region: RegionArg = Field(description="The screen rectangle {x, y, width, height} to enlarge (screen pixels).")
    monitor: int | None = Field(None, ge=0, le=16, description="Monitor the region is on (default: the server's).")


def zoom_scale(width: int, height: int, max_side: int, max_pixels: int) -> float:
    """How many times a ``width`` x ``height`` region is enlarged to fit the host's image budget (at most MAX_ZOOM).

    The budget is the one the server scales the hosts' screenshots to, so the enlarged image arrives unscaled
    and its mapping holds.
    """
    return max(1.0, min(MAX_ZOOM, max_side / max(width, height), math.sqrt(max_pixels / (width * height))))


def zoomed_frame(frame: Frame, scale: float) -> Frame:
    """The frame of the enlarged image: the same screen area, ``scale`` times the pixels of the capture."""
    return Frame(
        frame.x,
        frame.y,
        frame.width,
        frame.height,
        max(1, round(frame.width * scale)),
        max(1, round(frame.height * scale)),
        frame.monitor,
    )


async def zoom(runtime: Runtime, params: ZoomParams, caller: Caller) -> Outcome:
    """Capture ``params.region``, enlarge it, and say how its pixels map back to the screen."""
    capture = await capture_screen(runtime, params.region, params.monitor)
    frame = capture.frame
    if frame.width < 4 or frame.height < 4:
        raise InvalidAction(f"the region is too small to zoom into ({frame.width}x{frame.height} on screen)")
    settings = runtime.settings
    scale = zoom_scale(frame.width, frame.height, settings.host_image_max_side, settings.host_image_max_pixels)
    shown = zoomed_frame(frame, scale)
    image: Image.Image = await anyio.to_thread.run_sync(
        lambda: capture.image.resize((shown.pixel_width, shown.pixel_height), Image.Resampling.LANCZOS)
    )
    snapshot_id = runtime.snapshots.new_id()
    runtime.snapshots.put(Snapshot(snapshot_id, shown, time.time()))
    x2, y2 = image_to_screen(shown, shown.pixel_width - 1, shown.pixel_height - 1)
    actual = shown.pixel_width / frame.width
    result = ZoomResult(
        region=(frame.x, frame.y, x2 + 1, y2 + 1),
        image_size=(shown.pixel_width, shown.pixel_height),
        scale=round(actual, 4),
        snapshot_id=snapshot_id,
        mapping=f"screen_x = {frame.x} + floor(image_x / {actual:.4f}); screen_y = {frame.y} + "
        f"floor(image_y / {shown.pixel_height / frame.height:.4f})",
    )
    return Outcome(result, [image])


ZOOM_TOOLS = [
    ToolSpec(
        name="zoom",
        title="Zoom into a screen region",
        description=(
            "Return a screen region enlarged (up to 8 times, to the host image budget: by default 1568 px on its "
            "long side), to see small controls and text clearly before clicking. The result gives `scale` and "
            "`mapping`: a point (image_x, image_y) "
            "on the returned image is the screen point region.x + image_x / scale, region.y + image_y / scale, "
            "which execute_action takes. It never changes anything on screen."
        ),
        kind="read",
        params=ZoomParams,
        result=ZoomResult,
        handler=zoom,
    )
]

"""The host's image budget is its own: screenshots and zooms come back within it, whatever the model's."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from mcp.types import ImageContent
from PIL import Image

from tests.support.inprocess import serve

pytestmark = pytest.mark.usefixtures("display_env")


def images_of(result: object) -> list[Image.Image]:
    """The images a tool result carries, decoded."""
    content = getattr(result, "content", [])
    return [Image.open(io.BytesIO(base64.b64decode(p.data))) for p in content if isinstance(p, ImageContent)]


async def test_screenshots_are_scaled_to_the_hosts_budget(tmp_path: Path) -> None:
    env = {"VLM_DESKTOP_DESKTOP__HOST_IMAGE_MAX_SIDE": "640"}
    async with serve(tmp_path, env) as client:
        small = await client.call_tool("describe_screen", {"include_screenshot": True, "marks": False})
    async with serve(tmp_path) as client:
        default = await client.call_tool("describe_screen", {"include_screenshot": True, "marks": False})
    assert not small.is_error and not default.is_error, (small.content, default.content)
    [shrunk], [full] = images_of(small), images_of(default)
    assert max(shrunk.size) == 640, shrunk.size
    assert full.size == (1366, 768)  # within the default budget (1568 px, 1.15 MP): sent as captured


async def test_a_zoom_fills_the_hosts_budget_and_arrives_unscaled(tmp_path: Path) -> None:
    env = {"VLM_DESKTOP_DESKTOP__HOST_IMAGE_MAX_SIDE": "600"}
    region = {"x": 100, "y": 100, "width": 200, "height": 100}
    async with serve(tmp_path, env) as client:
        zoomed = await client.call_tool("zoom", {"region": region})
    assert not zoomed.is_error, zoomed.content
    result = zoomed.structured_content
    assert result is not None
    [image] = images_of(zoomed)
    # Enlarged to the budget's long side (3x), and the image the host gets is the one the mapping describes.
    assert tuple(result["image_size"]) == image.size == (600, 300), (result, image.size)
    assert result["scale"] == 3.0

"""Two real RandR monitors (Xorg dummy): capture geometry, and input on the second monitor.

The display (tests/support/xorg_dummy.py) has monitor 1 at 1280x800+0+0 and monitor 2 at
1024x768+1280+100, so the bounding box (2304x868) has a dead strip under monitor 1. The Tk form
sits on monitor 2. Input goes through the real server over stdio, so pyautogui and xdotool run in
a process of their own bound to this display.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import ImageChops

from tests.support.servers import mcp_client
from tests.support.tkapp import TkApp
from tests.support.xorg_dummy import TwoMonitorDisplay, skip_reason
from tools.actions.vocabulary import ClickText
from tools.desktop.capture import Monitor, MssCapturer

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

FORM_GEOMETRY = "760x560+1420+200"  # wholly on monitor 2 (x 1280..2303, y 100..867)


@pytest.fixture(scope="module")
def two_monitors() -> Iterator[TwoMonitorDisplay]:
    """One Xorg dummy server with two monitors for the module."""
    with TwoMonitorDisplay() as display:
        yield display


@pytest.fixture
def capturer(two_monitors: TwoMonitorDisplay, monkeypatch: pytest.MonkeyPatch) -> Iterator[MssCapturer]:
    """An in-process capturer on the two-monitor display (mss reads DISPLAY when it opens)."""
    monkeypatch.setenv("DISPLAY", two_monitors.display)
    monkeypatch.setenv("XAUTHORITY", two_monitors.xauthority)
    capturer = MssCapturer()
    try:
        yield capturer
    finally:
        capturer.close()


@pytest.fixture
def form(two_monitors: TwoMonitorDisplay, tmp_path: Path) -> Iterator[TkApp]:
    """The Tk form on monitor 2."""
    with TkApp(tmp_path / "state.json", env=two_monitors.env(), geometry=FORM_GEOMETRY) as app:
        yield app


def _center(widget: dict[str, Any]) -> dict[str, int]:
    return {"x": widget["x"] + widget["width"] // 2, "y": widget["y"] + widget["height"] // 2}


def _inside(point: list[int], widget: dict[str, Any]) -> bool:
    x, y = point
    return widget["x"] <= x < widget["x"] + widget["width"] and widget["y"] <= y < widget["y"] + widget["height"]


def test_capture_lists_both_monitors(two_monitors: TwoMonitorDisplay, capturer: MssCapturer) -> None:
    box, (first, second) = two_monitors.bounding_box, two_monitors.monitors
    assert capturer.monitors_sync() == [
        Monitor(box.x, box.y, box.width, box.height, index=0),
        Monitor(first.x, first.y, first.width, first.height, index=1),
        Monitor(second.x, second.y, second.width, second.height, index=2),
    ]


def test_capturing_all_monitors_places_each_at_its_offset(
    two_monitors: TwoMonitorDisplay, capturer: MssCapturer, form: TkApp
) -> None:
    everything = capturer.grab_sync(None, 0)
    assert (everything.frame.x, everything.frame.y) == (0, 0)
    assert everything.image.size == (2304, 868)
    for index, head in enumerate(two_monitors.monitors, start=1):
        one = capturer.grab_sync(None, index)
        assert (one.frame.x, one.frame.y, one.frame.monitor) == (head.x, head.y, index)
        assert one.image.size == (head.width, head.height)
        crop = everything.image.crop((head.x, head.y, head.x + head.width, head.y + head.height))
        assert ImageChops.difference(crop, one.image).getbbox() is None, f"monitor {index} differs from its crop"
    # The form is drawn where Tk says it is, in absolute screen pixels, on monitor 2 only.
    window = form.state()["window"]
    assert window["x"] >= 1280 and window["y"] >= 100
    background = everything.image.getpixel((window["x"] + 4, window["y"] + 4))
    assert background == (217, 217, 217)  # Tk's default background, #d9d9d9
    submit = form.widget("submit")
    button = everything.image.crop(
        (submit["x"], submit["y"], submit["x"] + submit["width"], submit["y"] + submit["height"])
    )
    assert len(button.getcolors(1 << 16) or []) > 2  # its label is drawn there, not a flat fill
    second = capturer.grab_sync(None, 2).image
    assert second.getpixel((window["x"] - 1280 + 4, window["y"] - 100 + 4)) == background


async def test_input_reaches_a_window_on_the_second_monitor(two_monitors: TwoMonitorDisplay, form: TkApp) -> None:
    entry, submit = form.widget("name_entry"), form.widget("submit")
    env = {**two_monitors.env(), "VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "1.0"}
    async with mcp_client("stdio", env, ["--backend", "none"]) as client:
        point = {"x": entry["x"] + 15, "y": entry["y"] + entry["height"] // 2}
        clicked = await client.call_tool("execute_action", {"action": {"type": "click", **point}})
        assert not clicked.is_error, clicked.content
        state = form.wait_for(lambda s: s["events"]["focused"] == "name_entry")
        assert state["events"]["last_click"] == [point["x"], point["y"]]  # absolute coordinates, exactly
        text = "Zoë Ñandú 你好"  # pyautogui types the ASCII, xdotool the rest
        typed = await client.call_tool("execute_action", {"action": {"type": "type", "text": text}})
        assert not typed.is_error, typed.content
        form.wait_for(lambda s: s["widgets"]["name_entry"]["value"] == text)
        pressed = await client.call_tool("execute_action", {"action": {"type": "click", **_center(submit)}})
        assert not pressed.is_error, pressed.content
        form.wait_for(lambda s: s["events"]["submit_clicks"] == 1)
        # Inside the bounding box but on no monitor: refused, nothing sent.
        dead = await client.call_tool("execute_action", {"action": {"type": "click", "x": 100, "y": 850}})
        assert dead.is_error
        assert "outside the screen" in str(dead.content)
    assert form.settle()["events"]["submit_clicks"] == 1


@pytest.mark.skipif(
    "monitor" not in ClickText.model_fields, reason="click_text does not search every monitor yet (semantic.py)"
)
async def test_click_text_finds_a_button_on_the_second_monitor(two_monitors: TwoMonitorDisplay, form: TkApp) -> None:
    cancel = form.widget("cancel")
    env = {**two_monitors.env(), "VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "1.0"}
    async with mcp_client("stdio", env, ["--backend", "none"]) as client:
        everywhere = await client.call_tool("execute_action", {"action": {"type": "click_text", "text": "Cancel"}})
        assert not everywhere.is_error, everywhere.content
        state = form.wait_for(lambda s: s["events"]["cancel_clicks"] == 1)
        assert _inside(state["events"]["last_click"], cancel)
        named = {"type": "click_text", "text": "Cancel", "monitor": 2}
        on_two = await client.call_tool("execute_action", {"action": named})
        assert not on_two.is_error, on_two.content
        form.wait_for(lambda s: s["events"]["cancel_clicks"] == 2)
        on_one = await client.call_tool("execute_action", {"action": {**named, "monitor": 1}})
        assert on_one.is_error  # not on monitor 1: nothing is clicked
    assert form.settle()["events"]["cancel_clicks"] == 2

"""The tools through an in-process MCP client (fast), on a real X display and a real Tk app."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from engine.text.find import squash
from tests.support.inprocess import connect
from tests.support.markers import needs_display
from tests.support.scenarios import check_described, inside, scenario_for
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp, nothing_but_the_marker

pytestmark = [needs_display, pytest.mark.usefixtures("display_env")]


async def test_region_describe_maps_into_the_region(app: TkApp, standin: StandIn) -> None:
    window = app.state()["window"]
    region = {"x": window["x"], "y": window["y"], "width": window["width"], "height": window["height"]}
    standin.set_scenario(scenario_for(app, frame=region))
    async with connect(standin) as client:
        result = await client.call_tool("describe_screen", {"region": region})
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["screen"]["origin"] == [region["x"], region["y"]]
    check_described(data["elements"], app.state()["widgets"])
    request = standin.requests[-1]
    assert request["_image_size"] == [region["width"], region["height"]]  # within budget: sent as captured


async def test_model_request_is_sglang_shaped(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(scenario_for(app))
    async with connect(standin) as client:
        result = await client.call_tool("describe_screen", {"include_screenshot": True, "question": "Is there a form?"})
    assert not result.is_error
    assert result.structured_content["answer"]
    images = [part for part in result.content if part.type == "image"]
    assert len(images) == 1
    shot = Image.open(io.BytesIO(base64.b64decode(images[0].data)))
    assert shot.size == (1366, 768)
    body = standin.requests[-1]
    content = body["messages"][-1]["content"]
    assert [part["type"] for part in content] == ["image_url", "text"]
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert body["temperature"] == 0
    assert body["_image_size"] == [1366, 768]


async def test_screenshots_over_the_pixel_budget_are_shrunk(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(scenario_for(app))
    async with connect(standin, env={"VLM_DESKTOP_MODEL__MAX_IMAGE_PIXELS": str(640 * 360)}) as client:
        result = await client.call_tool("describe_screen", {})
    assert not result.is_error, result.content
    width, height = standin.requests[-1]["_image_size"]
    assert width % 32 == 0 and height % 32 == 0 and width * height <= 640 * 360
    assert abs(width / height - 1366 / 768) < 0.1
    # The grid is relative: boxes still land on the real widgets (OCR reads the full capture).
    check_described(result.structured_content["elements"], app.state()["widgets"], exact_boxes=False)


def last_plan_prompt(standin: StandIn) -> str:
    """The user text of the last planning request the stand-in received."""
    plans = [r for r in standin.requests if r.get("_kind") == "plan"]
    assert plans, "no planning request reached the stand-in"
    return str(plans[-1]["messages"][-1]["content"][1]["text"])


async def test_native_reasoning_from_reasoning_content(app: TkApp, standin: StandIn) -> None:
    plan = [{"action": "left_click", "target": "submit", "thought": "Submit is the only button left."}]
    standin.set_scenario(scenario_for(app, plan, reasoning="native"))
    async with connect(standin, model="Qwen/Qwen3-VL-8B-Thinking") as client:
        result = await client.call_tool("plan_next_action", {"goal": "submit the form"})
    data = result.structured_content
    assert data["thinking_mode"] == "native"
    assert data["reasoning"] and "<think>" not in data["reasoning"]
    assert data["action"]["type"] == "click" and inside(
        [data["action"]["x"], data["action"]["y"]], app.widget("submit")
    )


async def test_prompted_reasoning_and_thinking_off(app: TkApp, standin: StandIn) -> None:
    plan = [{"action": "left_click", "target": "cancel", "thought": "Cancel it."}]
    standin.set_scenario(scenario_for(app, plan, reasoning="prompted"))
    async with connect(standin) as client:
        prompted = await client.call_tool("plan_next_action", {"goal": "cancel", "max_reasoning_steps": 3})
        assert "at most 3" in last_plan_prompt(standin)  # the second look's grounding calls come after it
        off = await client.call_tool("plan_next_action", {"goal": "cancel", "thinking": False})
    assert prompted.structured_content["thinking_mode"] == "prompted"
    assert prompted.structured_content["reasoning"] and "<think>" not in prompted.structured_content["reasoning"]
    assert off.structured_content["thinking_mode"] == "off"
    assert "reason step by step" not in last_plan_prompt(standin)


async def test_dry_run_sends_nothing(app: TkApp, standin: StandIn) -> None:
    submit = app.widget("submit")
    point = {"x": submit["x"] + submit["width"] // 2, "y": submit["y"] + submit["height"] // 2}
    async with connect(standin) as client:
        result = await client.call_tool("execute_action", {"action": {"type": "click", **point}, "dry_run": True})
    assert result.structured_content["status"] == "dry_run"
    assert result.structured_content["performed"] == [{"op": "click", "button": "left", "clicks": 1, **point}]
    assert app.settle()["events"]["submit_clicks"] == 0


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"type": "click", "x": 1366, "y": 10}, "outside the screen"),
        ({"type": "click", "x": -1, "y": 10}, "outside the screen"),
        ({"type": "key", "keys": ["ctrl", "definitely_not_a_key"]}, "unknown key name"),
        ({"type": "type", "text": "bell\x07"}, "control characters"),
        ({"type": "teleport", "x": 1, "y": 1}, "teleport"),
    ],
)
async def test_bad_actions_are_refused_and_nothing_happens(
    app: TkApp, standin: StandIn, action: dict[str, Any], message: str
) -> None:
    before = app.state()["events"]
    async with connect(standin) as client:
        result = await client.call_tool("execute_action", {"action": action})
    assert result.is_error
    assert message in result.content[0].text
    assert nothing_but_the_marker(before, app.settle()["events"])


async def test_plan_without_a_model_says_what_to_start(standin: StandIn) -> None:
    async with connect(standin, backend="none") as client:
        result = await client.call_tool("plan_next_action", {"goal": "anything"})
    assert result.is_error and "SGLang" in result.content[0].text


async def test_without_a_model_describe_reads_the_screen_and_its_text_can_be_clicked(
    app: TkApp, standin: StandIn
) -> None:
    async with connect(standin, backend="none") as client:
        described = await client.call_tool("describe_screen", {"question": "Is there a form?"})
        assert not described.is_error, described.content
        data = described.structured_content
        assert data["mode"] == "ocr_only" and data["answer"] is None and data["model"].startswith("ocr:")
        assert "No vision model is configured" in data["note"] and "SGLang" in data["note"]
        assert "not answered" in data["note"] and "Submit" in data["summary"]
        assert {e["source"] for e in data["elements"]} == {"ocr"} and {e["type"] for e in data["elements"]} == {"text"}
        by_label = {e["label"]: e for e in data["elements"]}
        widgets = app.state()["widgets"]
        for text, wid in {
            "Submit": "submit",
            "Cancel": "cancel",
            "Subscribe": "subscribe",
            "Name:": "name_label",
        }.items():
            assert inside(by_label[text]["center"], widgets[wid]), text
        x, y = by_label["Submit"]["center"]
        clicked = await client.call_tool("execute_action", {"action": {"type": "click", "x": x, "y": y}})
        assert not clicked.is_error, clicked.content
        planned = await client.call_tool("plan_next_action", {"goal": "submit"})
    app.wait_for(lambda s: s["events"]["submit_clicks"] == 1)
    assert planned.is_error and "SGLang" in planned.content[0].text


async def test_an_unchanged_screen_is_read_once_and_a_changed_field_alone_again(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(scenario_for(app))
    entry = app.widget("name_entry")
    async with connect(standin) as client:
        first = (await client.call_tool("describe_screen", {})).structured_content
        second = (await client.call_tool("describe_screen", {})).structured_content
        assert (first["ocr_pass"], second["ocr_pass"]) == ("full", "cached")
        assert second["elements"] == first["elements"] and second["snapshot_id"] != first["snapshot_id"]
        point = {"x": entry["x"] + 20, "y": entry["y"] + entry["height"] // 2}
        typed = await client.call_tool("execute_action", {"action": {"type": "type", "text": "Grace Hopper", **point}})
        assert not typed.is_error, typed.content
        app.wait_for(lambda s: s["widgets"]["name_entry"]["value"] == "Grace Hopper")
        third = (await client.call_tool("describe_screen", {})).structured_content
    assert third["ocr_pass"] == "incremental"
    text = {e["label"]: e for e in third["elements"] if e["source"] == "ocr"}
    # The field's blinking caret may be read as one more letter at the end.
    [typed_text] = [e for label, e in text.items() if squash(label).startswith("gracehopper")]
    assert inside(typed_text["center"], app.widget("name_entry"))
    # The rest of the screen is still there, where it was (tests/engine/test_ocr.py proves it is not re-read).
    for label, wid in {"Email:": "email_label", "Notes:": "notes_label", "Ready": "status"}.items():
        assert inside(text[label]["center"], app.widget(wid)), label

"""A failing model gives a clear error result in bounded time, never a guessed action."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.support.inprocess import connect
from tests.support.markers import needs_display
from tests.support.scenarios import scenario_for
from tests.support.servers import free_port
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp, nothing_but_the_marker

pytestmark = [needs_display, pytest.mark.usefixtures("display_env")]

FAST = {"VLM_DESKTOP_MODEL__READ_TIMEOUT": "2", "VLM_DESKTOP_MODEL__RETRIES": "1"}
PLAN = [{"action": "left_click", "target": "submit"}]


@pytest.mark.parametrize(
    ("fault", "tool", "expected"),
    [
        ("http500", "describe_screen", "HTTP 500"),
        ("http503", "plan_next_action", "HTTP 503"),
        ("garbage", "describe_screen", "no readable JSON"),
        ("garbage", "plan_next_action", "no readable <tool_call>"),
        ("truncated", "describe_screen", "could not be used"),
        ("truncated", "plan_next_action", "could not be used"),
        ("hang", "plan_next_action", "timed out"),
        ("huge", "describe_screen", "could not be used"),
    ],
)
async def test_model_faults_become_error_results(
    app: TkApp, standin: StandIn, fault: str, tool: str, expected: str
) -> None:
    standin.set_scenario(scenario_for(app, PLAN, fault=fault, hang_seconds=6))
    before = app.state()["events"]
    args: dict[str, Any] = {"goal": "submit"} if tool == "plan_next_action" else {}
    async with connect(standin, env=FAST) as client:
        with anyio.fail_after(20):  # a hang guard, not a timing assertion
            result = await client.call_tool(tool, args)
    assert result.is_error
    assert expected in result.content[0].text
    if fault in ("garbage", "truncated"):
        assert "--- model output ---" in result.content[0].text
    assert nothing_but_the_marker(before, app.settle()["events"])


async def test_out_of_range_and_swapped_answers_are_clamped_into_the_screen(app: TkApp, standin: StandIn) -> None:
    for fault in ("out_of_range", "swapped"):
        standin.set_scenario(scenario_for(app, PLAN, fault=fault))
        async with connect(standin) as client:
            result = await client.call_tool("describe_screen", {})
        assert not result.is_error, result.content
        for element in result.structured_content["elements"]:
            x1, y1, x2, y2 = element["bbox"]
            assert 0 <= x1 <= x2 <= 1365 and 0 <= y1 <= y2 <= 767


async def test_transient_503_is_retried(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(scenario_for(app, PLAN, fault="http503", fault_count=1))
    async with connect(standin) as client:
        result = await client.call_tool("plan_next_action", {"goal": "submit"})
    assert not result.is_error, result.content
    assert result.structured_content["action"]["type"] == "click"


async def test_model_server_down(standin: StandIn) -> None:
    port = free_port()
    async with connect(standin, base_url=f"http://127.0.0.1:{port}/v1", env=FAST) as client:
        with anyio.fail_after(20):
            described = await client.call_tool("describe_screen", {})
            planned = await client.call_tool("plan_next_action", {"goal": "submit"})
    # describe_screen carries on with OCR alone, and says why; planning needs the model.
    assert not described.is_error, described.content
    assert described.structured_content["mode"] == "ocr_only"
    assert "cannot reach the model server" in described.structured_content["note"]
    assert planned.is_error
    assert "cannot reach the model server" in planned.content[0].text


async def test_model_server_down_without_ocr_is_an_error(standin: StandIn) -> None:
    port = free_port()
    env = {**FAST, "VLM_DESKTOP_OCR__ENABLED": "false"}
    async with connect(standin, base_url=f"http://127.0.0.1:{port}/v1", env=env) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("describe_screen", {})
    assert result.is_error
    assert "cannot reach the model server" in result.content[0].text

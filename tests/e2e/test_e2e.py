"""End to end on a real X display: a real MCP client, the real server process, a real Tk app.

The stand-in model answers in Qwen3-VL's formats from the app's real widget geometry, so these
tests prove the whole chain: capture -> model request -> parsing -> 0-1000 grid -> screen pixels
-> pyautogui/xdotool input -> the app's own record of what arrived.
"""

from __future__ import annotations

import pytest

from tests.support.markers import needs_display
from tests.support.scenarios import check_described, inside, scenario_for
from tests.support.servers import mcp_client
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp
from tests.support.xvfb import Xvfb
from tools.registry import TOOLS

pytestmark = [needs_display]

UNICODE_TEXT = "Café Ñandú 你好"


@pytest.mark.parametrize("transport", ["stdio", "http", "sse"])
async def test_describe_plan_execute_loop(transport: str, display: Xvfb, app: TkApp, standin: StandIn) -> None:
    plan = [
        {"action": "left_click", "target": "name_entry", "thought": "The name field is empty; click it first."},
        {"action": "type", "text": UNICODE_TEXT, "thought": "Type the name."},
        {"action": "key", "keys": ["ctrl", "a"], "thought": "Select it all."},
        {"action": "left_click", "target": "submit", "thought": "Submit the form."},
        {"action": "terminate", "status": "success", "thought": "The form is submitted."},
    ]
    standin.set_scenario(scenario_for(app, plan))
    async with mcp_client(transport, display.env(), ["--base-url", standin.base_url]) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        tasks = {"start_task", "get_task", "cancel_task"}
        assert set(tools) == {spec.name for spec in TOOLS} | tasks  # every registered tool, nothing else
        assert {"describe_screen", "plan_next_action", "execute_action"} <= set(tools)
        assert tools["get_task"].annotations.read_only_hint is True
        assert tools["start_task"].annotations.destructive_hint is True
        assert tools["describe_screen"].annotations.read_only_hint is True
        assert tools["plan_next_action"].annotations.read_only_hint is True
        assert tools["execute_action"].annotations.destructive_hint is True
        assert tools["execute_action"].annotations.idempotent_hint is False
        assert all(tool.output_schema for tool in tools.values())

        described = await client.call_tool("describe_screen", {})
        assert not described.is_error, described.content
        result = described.structured_content
        assert result["screen"] == {"width": 1366, "height": 768, "origin": [0, 0], "monitor": 1, "scale": 1.0}
        assert result["mode"] == "fused" and result["note"] is None and result["ocr_pass"] == "full"
        widgets = app.state()["widgets"]
        check_described(result["elements"], widgets)

        history: list[str] = []
        checks = [
            lambda s: (
                s["events"]["focused"] == "name_entry" and inside(s["events"]["last_click"], widgets["name_entry"])
            ),
            lambda s: s["widgets"]["name_entry"]["value"] == UNICODE_TEXT,
            lambda s: s["events"]["ctrl_a"] == 1,
            lambda s: s["events"]["submit_clicks"] == 1,
        ]
        for check in checks:
            planned = await client.call_tool(
                "plan_next_action", {"goal": "Fill in the name and submit", "history": history}
            )
            assert not planned.is_error, planned.content
            proposal = planned.structured_content
            assert proposal["done"] is False and proposal["reasoning"]
            executed = await client.call_tool("execute_action", {"action": proposal["action"]})
            assert not executed.is_error, executed.content
            assert executed.structured_content["status"] == "executed"
            app.wait_for(check)
            history.append(f"{proposal['action']['type']}: {proposal['reasoning'][:60]}")
        assert app.state()["widgets"]["name_entry"]["value"] == UNICODE_TEXT

        final = await client.call_tool("plan_next_action", {"goal": "Fill in the name and submit", "history": history})
        assert final.structured_content["done"] is True
        assert final.structured_content["action"] == {"type": "done", "status": "success", "answer": None}

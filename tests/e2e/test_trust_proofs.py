"""Proofs that the server's word can be trusted, each checked against what the application itself recorded.

On the real Tk form under Xvfb (tests/support/tkapp.py writes the input events it received): a click on
something that does nothing is reported as ``effect: no_change``, never as a change; a click on a
consequential button asks a person first, and without their yes nothing reaches the application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import types

from tests.support.inprocess import serve
from tests.support.markers import needs_display
from tests.support.tkapp import TkApp, center

pytestmark = [needs_display, pytest.mark.usefixtures("display_env")]

RISKY = {
    "VLM_DESKTOP_POLICY__CONFIRM": "destructive",
    "VLM_DESKTOP_POLICY__CONSEQUENTIAL_WORDS": "submit,delete",
}


def text_of(result: types.CallToolResult) -> str:
    """The result's first content block, which must be text."""
    block = result.content[0]
    assert isinstance(block, types.TextContent), block
    return block.text


async def test_a_click_that_does_nothing_is_reported_as_no_change(app: TkApp, tmp_path: Path) -> None:
    before = app.settle()
    target = center(app, "notes_label")  # a label: the click arrives, nothing happens
    async with serve(tmp_path, {}) as client:
        done = await client.call_tool("execute_action", {"action": {"type": "click", **target}})
    after = app.wait_for(lambda s: s["events"]["last_click"] == [target["x"], target["y"]])
    assert after["events"]["left_clicks"] == before["events"]["left_clicks"] + 1
    assert after["events"]["submit_clicks"] == before["events"]["submit_clicks"]
    assert after["events"]["focused"] == before["events"]["focused"]
    assert app.widget("status")["value"] == "Ready"
    assert not done.is_error, done.content
    result = done.structured_content
    assert result["status"] == "executed" and result["performed"]
    assert result["effect"] == "no_change" and not result["screen_changed"], result
    assert result["changed_region"] is None
    assert "may have had no effect" in (result["note"] or ""), result


async def test_a_consequential_click_asks_first_and_nothing_is_clicked_without_a_yes(
    app: TkApp, tmp_path: Path
) -> None:
    questions: list[str] = []

    async def declines(context: Any, params: Any) -> types.ElicitResult:
        questions.append(params.message)
        return types.ElicitResult(action="decline")

    before = app.settle()["events"]
    action = {"type": "click", **center(app, "submit")}
    async with serve(tmp_path, RISKY, elicitation_callback=declines) as client:
        declined = await client.call_tool("execute_action", {"action": action})
    async with serve(tmp_path, RISKY) as client:  # a host that cannot ask
        unasked = await client.call_tool("execute_action", {"action": action})
    assert len(questions) == 1 and "Submit" in questions[0], questions
    assert declined.is_error and "was declined" in text_of(declined)
    assert unasked.is_error and "confirmation_token" in text_of(unasked)
    after = app.settle()["events"]
    assert after["left_clicks"] == before["left_clicks"] + 1  # settle's own marker: nothing else arrived
    assert after["submit_clicks"] == before["submit_clicks"]

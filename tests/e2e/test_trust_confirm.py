"""Risk read from the target and confirmation that works in real hosts, on a real Tk form under Xvfb.

The form's Submit and Cancel buttons are made consequential by the policy's word list; OCR reads it under the
click. A host that cannot (or, declining on its own, will not) confirm gets the token path: a dry
run's single-use token, bound to the exact input events.
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
    "VLM_DESKTOP_POLICY__CONSEQUENTIAL_WORDS": "submit,cancel,delete",
}


async def declines(context: Any, params: Any) -> types.ElicitResult:
    """A host that declares elicitation and declines every question on its own."""
    return types.ElicitResult(action="decline")


def click(app: TkApp, wid: str) -> dict[str, Any]:
    return {"type": "click", **center(app, wid)}


async def test_a_click_on_a_consequential_button_is_refused_without_confirmation(app: TkApp, tmp_path: Path) -> None:
    before = app.settle()["events"]["submit_clicks"]
    async with serve(tmp_path, RISKY) as client:
        refused = await client.call_tool("execute_action", {"action": click(app, "submit")})
        harmless = await client.call_tool("execute_action", {"action": click(app, "name_entry")})
    assert refused.is_error
    message = refused.content[0].text
    assert "lands on 'Submit'" in message and "confirmation_token" in message
    assert not harmless.is_error, harmless.content
    assert app.settle()["events"]["submit_clicks"] == before


async def test_a_host_that_declines_on_its_own_confirms_with_a_dry_run_token(app: TkApp, tmp_path: Path) -> None:
    before = app.settle()["events"]
    async with serve(tmp_path, RISKY, elicitation_callback=declines) as client:
        declined = await client.call_tool("execute_action", {"action": click(app, "submit")})
        dry = await client.call_tool("execute_action", {"action": click(app, "submit"), "dry_run": True})
        token = dry.structured_content["confirmation"]["token"]
        other = await client.call_tool("execute_action", {"action": click(app, "cancel"), "confirmation_token": token})
        dry = await client.call_tool("execute_action", {"action": click(app, "submit"), "dry_run": True})
        token = dry.structured_content["confirmation"]["token"]
        done = await client.call_tool("execute_action", {"action": click(app, "submit"), "confirmation_token": token})
        again = await client.call_tool("execute_action", {"action": click(app, "submit"), "confirmation_token": token})
    assert declined.is_error and "was declined" in declined.content[0].text
    assert "Submit" in dry.structured_content["confirmation"]["reasons"][0]
    assert other.is_error and "different input events" in other.content[0].text
    assert not done.is_error, done.content
    assert done.structured_content["confirmation"]["via"] == "token"
    assert again.is_error and "already used" in again.content[0].text
    after = app.settle()["events"]
    assert after["submit_clicks"] == before["submit_clicks"] + 1
    assert after["cancel_clicks"] == before["cancel_clicks"]


async def test_a_batch_is_confirmed_once_and_runs_in_order(app: TkApp, tmp_path: Path) -> None:
    before = app.settle()["events"]
    steps = [click(app, "cancel"), click(app, "submit")]
    async with serve(tmp_path, RISKY) as client:
        refused = await client.call_tool("execute_action", {"actions": steps})
        dry = await client.call_tool("execute_action", {"actions": steps, "dry_run": True})
        token = dry.structured_content["confirmation"]["token"]
        done = await client.call_tool("execute_action", {"actions": steps, "confirmation_token": token})
    assert refused.is_error and "step 2 (click)" in refused.content[0].text
    assert app.settle()["events"]["cancel_clicks"] >= before["cancel_clicks"]
    assert not done.is_error, done.content
    batch = done.structured_content["batch"]
    assert batch["status"] == "completed" and [s["status"] for s in batch["steps"]] == ["executed", "executed"]
    after = app.settle()["events"]
    assert after["submit_clicks"] == before["submit_clicks"] + 1
    assert after["cancel_clicks"] == before["cancel_clicks"] + 1


async def test_a_batch_stops_at_a_step_that_changes_nothing(app: TkApp, tmp_path: Path) -> None:
    before = app.settle()["events"]
    label = app.widget("name_label")
    blank = {"type": "click", "x": label["x"] + 4, "y": label["y"] - 10}  # the form's empty top padding
    async with serve(tmp_path, {}) as client:
        done = await client.call_tool("execute_action", {"actions": [blank, click(app, "submit")]})
    assert not done.is_error, done.content
    batch = done.structured_content["batch"]
    assert batch["status"] == "stopped" and batch["stopped_at"] == 0
    assert [s["status"] for s in batch["steps"]] == ["executed", "not_run"]
    assert app.settle()["events"]["submit_clicks"] == before["submit_clicks"]

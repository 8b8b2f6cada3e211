"""Semantic actions on the real Tk form: text found by real OCR, fields by their labels, stale ids refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.vlm.prompts import COMPUTER_USE_ACTIONS, SEMANTIC_PLAN_ACTIONS
from tests.support.inprocess import connect
from tests.support.markers import needs_display
from tests.support.scenarios import inside, scenario_for
from tests.support.standin.answers import offered_actions
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp, nothing_but_the_marker
from tests.support.xvfb import Xvfb

pytestmark = [needs_display, pytest.mark.usefixtures("display_env")]
OCR_ONLY = {"backend": "none"}


async def execute(standin: StandIn, action: dict[str, Any], **flags: Any) -> Any:
    async with connect(standin, **{**OCR_ONLY, **flags}) as client:
        return await client.call_tool("execute_action", {"action": action})


async def test_click_text_clicks_the_visible_text(app: TkApp, standin: StandIn) -> None:
    result = await execute(standin, {"type": "click_text", "text": "submit"})
    assert not result.is_error, result.content
    state = app.wait_for(lambda s: s["events"]["submit_clicks"] == 1)
    assert inside(state["events"]["last_click"], app.widget("submit"))
    assert state["events"]["cancel_clicks"] == 0


async def test_click_text_absent_lists_near_matches_and_clicks_nothing(app: TkApp, standin: StandIn) -> None:
    before = app.state()["events"]
    result = await execute(standin, {"type": "click_text", "text": "Cancle order"})
    assert result.is_error and "not visible" in result.content[0].text
    assert nothing_but_the_marker(before, app.settle()["events"])


async def test_fill_input_replaces_the_field_next_to_its_label(app: TkApp, standin: StandIn) -> None:
    first = await execute(standin, {"type": "fill_input", "label": "Email", "value": "old@example.org"})
    assert not first.is_error, first.content
    app.wait_for(lambda s: s["widgets"]["email_entry"]["value"] == "old@example.org")
    second = await execute(standin, {"type": "fill_input", "label": "email:", "value": "Ñandú@example.org"})
    assert not second.is_error, second.content
    state = app.wait_for(lambda s: s["widgets"]["email_entry"]["value"] == "Ñandú@example.org")
    assert state["widgets"]["name_entry"]["value"] == ""


async def test_click_element_by_id_and_stale_ids_are_refused(app: TkApp, standin: StandIn) -> None:
    async with connect(standin, **OCR_ONLY) as client:
        described = await client.call_tool("describe_screen", {})
        assert not described.is_error, described.content
        data = described.structured_content
        cancel = next(e for e in data["elements"] if e["label"].strip(": ").lower() == "cancel")
        clicked = await client.call_tool(
            "execute_action",
            {"action": {"type": "click_element", "element_id": cancel["id"], "snapshot_id": data["snapshot_id"]}},
        )
        assert not clicked.is_error, clicked.content
        app.wait_for(lambda s: s["events"]["cancel_clicks"] == 1)  # the status label now says "Cancelled"
        status = next(e for e in data["elements"] if e["label"] == "Ready")
        stale = await client.call_tool(
            "execute_action",
            {"action": {"type": "click_element", "element_id": status["id"], "snapshot_id": data["snapshot_id"]}},
        )
        unknown = await client.call_tool(
            "execute_action", {"action": {"type": "click_element", "element_id": "e1", "snapshot_id": "nope"}}
        )
    assert stale.is_error and "changed since snapshot" in stale.content[0].text
    assert unknown.is_error and "unknown or too old" in unknown.content[0].text


async def test_goto_url_and_upload_file_key_sequences(app: TkApp, standin: StandIn, tmp_path: Path) -> None:
    goto = await execute(standin, {"type": "goto_url", "url": "example.org/a?b=1"}, dry_run=True)
    assert [e.get("keys") or e.get("text") for e in goto.structured_content["performed"]] == [
        ["ctrl", "l"],
        "https://example.org/a?b=1",
        ["enter"],
    ]
    bad = await execute(standin, {"type": "goto_url", "url": "javascript:alert(1)"}, dry_run=True)
    assert bad.is_error and "http(s) URL" in bad.content[0].text
    missing = await execute(standin, {"type": "upload_file", "path": str(tmp_path / "nope.pdf")}, dry_run=True)
    assert missing.is_error and "existing file" in missing.content[0].text
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF-1.4\n")
    upload = await execute(standin, {"type": "upload_file", "path": str(target), "label": "Submit"}, dry_run=True)
    assert not upload.is_error, upload.content
    ops = [e["op"] for e in upload.structured_content["performed"]]
    assert ops == ["click", "hotkey", "sleep", "hotkey", "write", "hotkey"]
    assert inside(
        [upload.structured_content["performed"][0]["x"], upload.structured_content["performed"][0]["y"]],
        app.widget("submit"),
    )
    assert app.settle()["events"]["submit_clicks"] == 0  # dry run: nothing sent


@pytest.mark.parametrize("allowed", ["click_text,type,key"])
async def test_primitives_of_a_semantic_action_pass_the_policy(app: TkApp, standin: StandIn, allowed: str) -> None:
    async with connect(standin, **OCR_ONLY, env={"VLM_DESKTOP_POLICY__ALLOWED_ACTIONS": allowed}) as client:
        result = await client.call_tool("execute_action", {"action": {"type": "click_text", "text": "Submit"}})
    assert result.is_error and "allowed_actions" in result.content[0].text  # the click it resolves to is not allowed
    assert app.settle()["events"]["submit_clicks"] == 0


async def test_set_of_marks_screenshot_differs_from_the_plain_one(app: TkApp, standin: StandIn) -> None:
    async with connect(standin, **OCR_ONLY) as client:
        plain = await client.call_tool("describe_screen", {"include_screenshot": True})
        marked = await client.call_tool("describe_screen", {"include_screenshot": True, "marks": True})
    images = [next(p for p in r.content if p.type == "image") for r in (plain, marked)]
    assert plain.structured_content["elements"] and images[0].data != images[1].data


async def test_plan_proposes_semantic_actions_that_execute_on_the_live_screen(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(
        scenario_for(
            app,
            plan=[
                {"action": "fill_input", "label": "Email", "value": "ada@example.org", "target": "email_entry"},
                {"action": "click_text", "text": "Submit", "target": "submit", "thought": "The form is filled."},
            ],
        )
    )
    expected = [
        {"type": "fill_input", "label": "Email", "value": "ada@example.org", "near": None, "monitor": None},
        {
            "type": "click_text",
            "text": "Submit",
            "occurrence": None,
            "near": None,
            "monitor": None,
            "button": "left",
            "clicks": 1,
        },
    ]
    async with connect(standin) as client:
        for want in expected:
            planned = await client.call_tool("plan_next_action", {"goal": "Subscribe ada@example.org"})
            assert not planned.is_error, planned.content
            assert planned.structured_content["action"] == want
            assert offered_actions(standin.requests[-1]["messages"]) == {*COMPUTER_USE_ACTIONS, *SEMANTIC_PLAN_ACTIONS}
            executed = await client.call_tool("execute_action", {"action": planned.structured_content["action"]})
            assert not executed.is_error, executed.content
    # Resolved by OCR on the live screen: the real field got the text, the real button the click.
    state = app.wait_for(lambda s: s["events"]["submit_clicks"] == 1)
    assert state["widgets"]["email_entry"]["value"] == "ada@example.org"
    assert inside(state["events"]["last_click"], app.widget("submit"))


async def test_plan_without_semantic_actions_offers_only_the_cookbook_tool(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(scenario_for(app, plan=[{"action": "click_text", "text": "Submit", "target": "submit"}]))
    async with connect(standin) as client:
        planned = await client.call_tool("plan_next_action", {"goal": "Submit the form", "semantic": False})
    assert not planned.is_error, planned.content
    assert offered_actions(standin.requests[-1]["messages"]) == set(COMPUTER_USE_ACTIONS)
    action = planned.structured_content["action"]
    assert action["type"] == "click" and inside([action["x"], action["y"]], app.widget("submit"))


async def test_upload_file_through_a_real_file_dialog(display: Xvfb, standin: StandIn, tmp_path: Path) -> None:
    target = tmp_path / "quarterly report.pdf"
    target.write_bytes(b"%PDF-1.4\n")
    with TkApp(tmp_path / "state.json", env=display.env(), geometry="760x560+180+90", upload=True) as app:
        result = await execute(standin, {"type": "upload_file", "path": str(target), "label": "Attach file"})
        assert not result.is_error, result.content
        # Tk's file dialog took the typed path and returned it to the application.
        state = app.wait_for(lambda s: s["events"]["uploaded"] is not None)
    assert state["events"]["uploaded"] == str(target)
    checks = {c["name"]: c["ok"] for c in result.structured_content["checks"]}
    assert checks == {"dialog opened": True, "path entered": True, "dialog closed": True, "file attached": True}
    assert result.structured_content["effect"] == "changed"


async def test_plan_offers_only_the_semantic_actions_the_policy_allows(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(
        scenario_for(app, plan=[{"action": "upload_file", "path": "/etc/hostname", "target": "submit"}])
    )
    allowed = {"VLM_DESKTOP_POLICY__ALLOWED_ACTIONS": "click,type,key,click_text,done"}
    async with connect(standin, env=allowed) as client:
        planned = await client.call_tool("plan_next_action", {"goal": "Upload the host name"})
    assert not planned.is_error, planned.content
    assert offered_actions(standin.requests[-1]["messages"]) == {*COMPUTER_USE_ACTIONS, "click_text"}
    assert planned.structured_content["action"]["type"] == "click"  # upload_file was not on offer

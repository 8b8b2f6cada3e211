"""Confirmation: a person approves actions through MCP elicitation, or the server refuses to act."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import types

from tests.support.inprocess import records, serve
from tests.support.markers import needs_display
from tests.support.tkapp import TkApp, center

pytestmark = [needs_display, pytest.mark.usefixtures("display_env")]


class Person:
    """An elicitation callback standing in for the human at the client: answers as told, remembers questions."""

    def __init__(self, answer: str = "accept", approve: bool = True, hang: bool = False) -> None:
        self.answer = answer
        self.approve = approve
        self.hang = hang
        self.questions: list[types.ElicitRequestFormParams] = []

    async def __call__(self, context: Any, params: Any) -> types.ElicitResult:
        self.questions.append(params)
        if self.hang:
            await anyio.sleep_forever()
        content = {"approve": self.approve} if self.answer == "accept" else None
        return types.ElicitResult(action=self.answer, content=content)


DESTRUCTIVE = {"VLM_DESKTOP_POLICY__CONFIRM": "destructive"}
MODES = pytest.mark.parametrize("mode", ["auto", "legacy"])
"""2026-07-28 asks through an InputRequiredResult round trip; the initialize handshake ("legacy") mid-call."""


@MODES
async def test_an_approved_destructive_action_runs(app: TkApp, tmp_path: Path, mode: str) -> None:
    person = Person()
    before = app.settle()["events"]["right_clicks"]
    async with serve(tmp_path, DESTRUCTIVE, elicitation_callback=person, mode=mode) as client:
        result = await client.call_tool("execute_action", {"action": {"type": "right_click", **center(app, "notes")}})
    assert not result.is_error, result.content
    assert app.settle()["events"]["right_clicks"] == before + 1
    (question,) = person.questions
    assert "right_click" in question.message and "Allow it?" in question.message
    assert question.requested_schema["properties"]["approve"]["type"] == "boolean"
    assert [r["status"] for r in records(tmp_path) if r["kind"] == "outcome"] == ["executed"]


@MODES
@pytest.mark.parametrize(("answer", "approve"), [("decline", True), ("cancel", True), ("accept", False)])
async def test_a_declined_action_is_refused_and_not_performed(
    app: TkApp, tmp_path: Path, answer: str, approve: bool, mode: str
) -> None:
    person = Person(answer, approve)
    async with serve(tmp_path, DESTRUCTIVE, elicitation_callback=person, mode=mode) as client:
        await client.call_tool("execute_action", {"action": {"type": "click", **center(app, "name_entry")}})
        result = await client.call_tool("execute_action", {"action": {"type": "type", "text": "should not appear"}})
    assert result.is_error and "rule `confirm`" in result.content[0].text and "declined" in result.content[0].text
    assert len(person.questions) == 1  # the left click needed no confirmation
    assert "should not appear" in person.questions[0].message  # the person sees the text to be typed
    assert app.settle()["widgets"]["name_entry"]["value"] == ""
    assert [r["status"] for r in records(tmp_path) if r["kind"] == "outcome"] == ["executed", "refused"]


@MODES
async def test_a_client_that_cannot_elicit_gets_a_clear_refusal(app: TkApp, tmp_path: Path, mode: str) -> None:
    before = app.settle()["events"]
    async with serve(tmp_path, {"VLM_DESKTOP_POLICY__CONFIRM": "always"}, mode=mode) as client:
        result = await client.call_tool("execute_action", {"action": {"type": "click", **center(app, "submit")}})
        waited = await client.call_tool("execute_action", {"action": {"type": "wait", "seconds": 0}})
        dry = await client.call_tool(
            "execute_action", {"action": {"type": "click", **center(app, "submit")}, "dry_run": True}
        )
    assert result.is_error
    text = result.content[0].text
    assert "rule `confirm`" in text and "does not support MCP elicitation" in text and "Nothing was done" in text
    assert not waited.is_error and not dry.is_error  # no input, or no sending: nothing to confirm
    assert app.settle()["events"]["submit_clicks"] == before["submit_clicks"]


async def test_always_asks_even_for_a_left_click(app: TkApp, tmp_path: Path) -> None:
    person = Person()
    before = app.settle()["events"]["submit_clicks"]
    async with serve(tmp_path, {"VLM_DESKTOP_POLICY__CONFIRM": "always"}, elicitation_callback=person) as client:
        result = await client.call_tool("execute_action", {"action": {"type": "click", **center(app, "submit")}})
    assert not result.is_error and len(person.questions) == 1
    assert app.settle()["events"]["submit_clicks"] == before + 1


async def test_an_unanswered_question_times_out_into_a_refusal(app: TkApp, tmp_path: Path) -> None:
    # Only the mid-call request can go unanswered while the server waits; a round trip leaves the wait to the client.
    person = Person(hang=True)
    env = {**DESTRUCTIVE, "VLM_DESKTOP_POLICY__CONFIRM_TIMEOUT": "0.3"}
    before = app.settle()["events"]["right_clicks"]
    with anyio.fail_after(30):
        async with serve(tmp_path, env, elicitation_callback=person, mode="legacy") as client:
            result = await client.call_tool(
                "execute_action", {"action": {"type": "right_click", **center(app, "notes")}}
            )
    assert result.is_error and "nobody confirmed it within 0.3 s" in result.content[0].text
    assert app.settle()["events"]["right_clicks"] == before


async def test_a_replayed_action_id_needs_no_second_confirmation(app: TkApp, tmp_path: Path) -> None:
    person = Person()
    call = {"action": {"type": "right_click", **center(app, "notes")}, "action_id": "ctx-menu-1"}
    async with serve(tmp_path, DESTRUCTIVE, elicitation_callback=person) as client:
        first = await client.call_tool("execute_action", call)
        second = await client.call_tool("execute_action", call)
    assert not first.is_error and second.structured_content["replayed"] is True
    assert len(person.questions) == 1


async def test_the_confirmation_parameter_is_not_a_tool_argument(app: TkApp, tmp_path: Path) -> None:
    before = app.settle()["events"]["right_clicks"]
    async with serve(tmp_path, DESTRUCTIVE) as client:  # a client that cannot elicit
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        smuggled = await client.call_tool(
            "execute_action",
            {"action": {"type": "right_click", **center(app, "notes")}, "confirmation_": {"approve": True}},
        )
    assert set(tools["execute_action"].input_schema["properties"]) == {
        "action",
        "actions",
        "dry_run",
        "action_id",
        "confirmation_token",
    }
    # Refused as an unknown argument before the confirmation machinery even looks at it.
    assert smuggled.is_error and "Extra inputs are not permitted" in smuggled.content[0].text
    assert app.settle()["events"]["right_clicks"] == before


class MovingPerson(Person):
    """Approves, but the window moves while the question is on screen (as a page reflows mid-question)."""

    def __init__(self, app: TkApp) -> None:
        super().__init__()
        self.app = app

    async def __call__(self, context: Any, params: Any) -> types.ElicitResult:
        window = self.app.state()["window"]
        x, y = window["x"] + 220, window["y"] + 60
        await anyio.run_process(
            ["xdotool", "search", "--sync", "--name", self.app.title, "windowmove", str(x), str(y)], env=self.app.env
        )
        await anyio.to_thread.run_sync(lambda: self.app.wait_for(lambda s: s["window"]["x"] == x))
        return await super().__call__(context, params)


async def test_an_approval_does_not_cover_a_click_that_moved(app: TkApp, tmp_path: Path) -> None:
    """The person approved clicking 'Cancel' where it was; it moved before the click: nothing is clicked."""
    person = MovingPerson(app)
    env = {"VLM_DESKTOP_POLICY__CONFIRM": "always", "VLM_DESKTOP_OCR__ENABLED": "1"}
    async with serve(tmp_path, env, elicitation_callback=person, mode="legacy") as client:
        result = await client.call_tool("execute_action", {"action": {"type": "click_text", "text": "Cancel"}})
    assert result.is_error and "differs from what the person approved" in result.content[0].text
    assert len(person.questions) == 1
    assert app.settle()["events"]["cancel_clicks"] == 0
    assert [r["status"] for r in records(tmp_path) if r["kind"] == "outcome"] == ["refused"]


async def test_an_approved_semantic_action_is_prepared_once_when_nothing_moved(
    app: TkApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question's preparation (OCR, choosing the match) is what runs: the call does not resolve it again."""
    import tools.execute

    resolved: list[str] = []
    real_resolve = tools.execute.resolve

    async def counting_resolve(runtime: Any, action: Any, capture: Any = None) -> Any:
        resolved.append(action.type)
        return await real_resolve(runtime, action, capture)

    monkeypatch.setattr(tools.execute, "resolve", counting_resolve)
    person = Person()
    env = {"VLM_DESKTOP_POLICY__CONFIRM": "always", "VLM_DESKTOP_OCR__ENABLED": "1"}
    async with serve(tmp_path, env, elicitation_callback=person, mode="legacy") as client:
        result = await client.call_tool("execute_action", {"action": {"type": "click_text", "text": "Cancel"}})
    assert not result.is_error, result.content
    assert len(person.questions) == 1 and "Cancel" in person.questions[0].message
    assert resolved == ["click_text"]
    assert app.settle()["events"]["cancel_clicks"] == 1

"""The grounding self-test as the tools meet it: run at start-up without a tool call, and a model that
fails it leaves describe_screen to OCR (with a note saying so) and makes plan_next_action fail."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.support.inprocess import connect
from tests.support.markers import needs_display
from tests.support.scenarios import scenario_for
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp

pytestmark = [needs_display, pytest.mark.usefixtures("display_env")]


def _own_cache(tmp_path: Path) -> dict[str, str]:
    return {"VLM_DESKTOP_MODEL__CANARY_CACHE": str(tmp_path / "canary.json")}


async def test_the_self_test_runs_at_start_up_before_any_tool_call(standin: StandIn, tmp_path: Path) -> None:
    standin.clear_requests()
    async with connect(standin, env=_own_cache(tmp_path)) as client:
        with anyio.fail_after(60):
            # The stand-in answers in its own thread: there is no event of this loop's to wait on.
            # The verdict is written after the last answer is read: wait for it, not only for the answers.
            cache = tmp_path / "canary.json"
            while len(standin.canary_requests) < 6 or not cache.exists():  # noqa: ASYNC110
                await anyio.sleep(0.05)
        assert (await client.list_tools()).tools  # the server answered while the test ran
    assert standin.requests == []
    assert "|canary-" in (tmp_path / "canary.json").read_text(encoding="utf-8")


async def test_a_refused_model_leaves_describe_to_ocr_and_plan_fails(
    app: TkApp, standin: StandIn, tmp_path: Path
) -> None:
    plan = [{"action": "left_click", "target": "submit", "thought": "Submit."}]
    standin.set_scenario(scenario_for(app, plan, canary_offset_px=90))
    standin.clear_requests()
    async with connect(standin, env=_own_cache(tmp_path)) as client:
        described = await client.call_tool("describe_screen", {})
        planned = await client.call_tool("plan_next_action", {"goal": "submit the form"})
    assert not described.is_error, described.content
    note = described.structured_content["note"]
    assert note.startswith("The grounding self-test refused the vision model: ")
    assert "Qwen/Qwen3-VL-2B-Instruct (sglang stand-in)" in note and "mean pointing error 90 px" in note
    assert {e["source"] for e in described.structured_content["elements"]} <= {"ocr", "a11y"}
    assert planned.is_error
    text = planned.content[0].text  # type: ignore[union-attr]
    assert "failed the grounding self-test" in text and "another SGLang/vLLM version" in text
    assert standin.requests == []  # neither describe nor plan reached the refused model

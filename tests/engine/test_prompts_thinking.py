"""engine/vlm/prompts.py and engine/vlm/thinking.py: the planning prompts and who does the reasoning."""

from __future__ import annotations

import json
import re

import pytest

from engine.vlm.presets import preset_for
from engine.vlm.prompts import (
    COMPUTER_USE_ACTIONS,
    DESCRIBE_PROMPT,
    SEMANTIC_PLAN_ACTIONS,
    computer_use_tool,
    describe_prompt,
    planning_system_prompt,
    planning_user_prompt,
    point_prompt,
)
from engine.vlm.thinking import ThinkingMode, resolve_thinking


def _embedded_tool(system: str) -> dict[str, object]:
    match = re.search(r"<tools>\n(.*)\n</tools>", system, re.DOTALL)
    assert match, "no <tools></tools> block"
    return json.loads(match.group(1))


def test_system_prompt_embeds_the_computer_use_tool_as_valid_json() -> None:
    system = planning_system_prompt()
    tool = _embedded_tool(system)
    assert tool == computer_use_tool()
    function = tool["function"]
    assert isinstance(function, dict)
    assert function["name"] == "computer_use"
    assert "The screen's resolution is 1000x1000." in function["description"]
    params = function["parameters"]
    assert params["required"] == ["action"]
    assert params["properties"]["action"]["enum"] == list(COMPUTER_USE_ACTIONS)
    assert set(params["properties"]) == {
        "action", "keys", "text", "coordinate", "start_coordinate", "pixels", "time", "status",
    }  # fmt: skip
    assert params["properties"]["status"]["enum"] == ["success", "failure"]


def test_system_prompt_is_qwens_tool_block() -> None:
    system = planning_system_prompt()
    assert system.startswith("You are a helpful assistant.\n\n# Tools\n")
    assert system.endswith('<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>')
    assert system.count("<tools>\n") == 1 and system.count("\n</tools>") == 1


def test_computer_use_actions_are_the_cookbook_set() -> None:
    assert set(COMPUTER_USE_ACTIONS) == {
        "key", "type", "mouse_move", "left_click", "left_click_drag", "right_click", "middle_click",
        "double_click", "triple_click", "scroll", "hscroll", "wait", "terminate", "answer",
    }  # fmt: skip
    assert len(COMPUTER_USE_ACTIONS) == 14
    description = computer_use_tool()["function"]["parameters"]["properties"]["action"]["description"]  # type: ignore[index]
    for action in COMPUTER_USE_ACTIONS:
        assert f"* `{action}`:" in description


def test_semantic_actions_extend_the_cookbook_tool_only_when_asked() -> None:
    plain, semantic = computer_use_tool(), computer_use_tool(SEMANTIC_PLAN_ACTIONS)
    assert plain == computer_use_tool(())
    action = semantic["function"]["parameters"]["properties"]["action"]  # type: ignore[index]
    assert action["enum"] == [*COMPUTER_USE_ACTIONS, *SEMANTIC_PLAN_ACTIONS]
    for name in SEMANTIC_PLAN_ACTIONS:
        assert f"* `{name}`:" in action["description"]
    properties = semantic["function"]["parameters"]["properties"]  # type: ignore[index]
    assert {"label", "value", "url", "path", "occurrence"} <= set(properties)
    assert _embedded_tool(planning_system_prompt(SEMANTIC_PLAN_ACTIONS)) == semantic
    hint = "Prefer `click_text`"
    prompt = planning_user_prompt(
        "Log in", [], reasoning="off", max_reasoning_steps=3, use_thinking_tokens=True, semantic=SEMANTIC_PLAN_ACTIONS
    )
    assert hint in prompt and "`goto_url`" in prompt
    assert hint not in _user([], "off")


def test_only_the_semantic_actions_asked_for_are_offered() -> None:
    tool = computer_use_tool(["goto_url"])
    params = tool["function"]["parameters"]  # type: ignore[index]
    assert params["properties"]["action"]["enum"] == [*COMPUTER_USE_ACTIONS, "goto_url"]
    assert set(params["properties"]) - set(computer_use_tool()["function"]["parameters"]["properties"]) == {"url"}  # type: ignore[index]
    assert "click_text" not in params["properties"]["action"]["description"]
    prompt = planning_user_prompt(
        "Open x", [], reasoning="off", max_reasoning_steps=3, use_thinking_tokens=True, semantic=["upload_file"]
    )
    assert "Prefer" not in prompt  # upload_file has no coordinate equivalent to prefer it over


def _user(history: list[str], reasoning: str, steps: int = 4, tokens: bool = True) -> str:
    return planning_user_prompt(
        "Log in as alice", history, reasoning=reasoning, max_reasoning_steps=steps, use_thinking_tokens=tokens
    )


def test_user_prompt_has_goal_and_numbered_history() -> None:
    prompt = _user(["Clicked the Name field", "Typed alice"], "off")
    assert prompt.startswith("The user query: Log in as alice\n\n")
    assert "Step 1: Clicked the Name field\nStep 2: Typed alice" in prompt
    assert "Step 3" not in prompt


def test_user_prompt_without_history() -> None:
    prompt = _user([], "off")
    assert "None yet." in prompt and "Step 1" not in prompt


def test_prompted_reasoning_in_think_tags() -> None:
    prompt = _user([], "prompted", steps=3, tokens=True)
    assert "at most 3 short numbered steps" in prompt
    assert "inside <think></think> tags" in prompt
    assert "Thought:" not in prompt
    assert prompt.endswith("then give exactly one <tool_call></tool_call>.")


def test_prompted_reasoning_as_thought_lines() -> None:
    prompt = _user([], "prompted", steps=7, tokens=False)
    assert "`Thought:` followed by at most 7 short numbered reasoning steps" in prompt
    assert "`Action:`" in prompt
    assert "<think>" not in prompt
    assert prompt.endswith("then exactly one <tool_call></tool_call>.")


@pytest.mark.parametrize("reasoning", ["off", "native"])
@pytest.mark.parametrize("tokens", [True, False])
def test_no_reasoning_request_when_off_or_native(reasoning: str, tokens: bool) -> None:
    prompt = _user(["Opened the form"], reasoning, steps=5, tokens=tokens)
    assert prompt.endswith("Answer with exactly one <tool_call></tool_call>.")
    for asked in ("<think>", "Thought:", "numbered steps", "at most 5"):
        assert asked not in prompt


def test_describe_prompt_asks_for_grounding_json() -> None:
    assert describe_prompt(None) == DESCRIBE_PROMPT
    assert describe_prompt("") == DESCRIBE_PROMPT
    assert "Report bbox coordinates in JSON format" in DESCRIBE_PROMPT
    example = DESCRIBE_PROMPT.splitlines()[2]
    assert json.loads(example.replace("[x1, y1, x2, y2]", "[1, 2, 3, 4]"))["elements"][0]["bbox_2d"] == [1, 2, 3, 4]
    with_question = describe_prompt("Is the dialog open?")
    assert with_question.startswith(DESCRIBE_PROMPT)
    assert with_question.endswith('"answer" field of the same JSON object.\nQuestion: Is the dialog open?')


def test_point_prompt() -> None:
    prompt = point_prompt("the Submit button")
    assert 'following description: "the Submit button"' in prompt
    assert prompt.endswith('[{"point_2d": [x, y], "label": "..."}]')


INSTRUCT = "Qwen/Qwen3-VL-2B-Instruct"
THINKING = "Qwen/Qwen3-VL-8B-Thinking"


@pytest.mark.parametrize(
    ("mode", "model", "requested", "expected"),
    [
        (ThinkingMode.AUTO, INSTRUCT, True, ThinkingMode.PROMPTED),
        (ThinkingMode.AUTO, THINKING, True, ThinkingMode.NATIVE),
        (ThinkingMode.AUTO, "qwen3-vl-30b-a3b-thinking-fp8", True, ThinkingMode.NATIVE),  # case-insensitive
        (ThinkingMode.AUTO, INSTRUCT, False, ThinkingMode.OFF),
        (ThinkingMode.AUTO, THINKING, False, ThinkingMode.NATIVE),  # a Thinking checkpoint always thinks
        (ThinkingMode.OFF, INSTRUCT, True, ThinkingMode.OFF),
        (ThinkingMode.OFF, THINKING, True, ThinkingMode.NATIVE),
        (ThinkingMode.PROMPTED, INSTRUCT, True, ThinkingMode.PROMPTED),
        (ThinkingMode.PROMPTED, THINKING, True, ThinkingMode.PROMPTED),  # explicit modes are kept
        (ThinkingMode.NATIVE, INSTRUCT, True, ThinkingMode.NATIVE),
        (ThinkingMode.NATIVE, THINKING, True, ThinkingMode.NATIVE),
        (ThinkingMode.PROMPTED, INSTRUCT, False, ThinkingMode.OFF),  # requested=False wins
        (ThinkingMode.NATIVE, INSTRUCT, False, ThinkingMode.OFF),
        (ThinkingMode.PROMPTED, THINKING, False, ThinkingMode.NATIVE),
        (ThinkingMode.AUTO, "Qwen/Qwen3.5-9B", True, ThinkingMode.NATIVE),  # thinks by default; no "Thinking"
        (ThinkingMode.AUTO, "Qwen/Qwen3.5-9B", False, ThinkingMode.NATIVE),
    ],
)
def test_resolve_thinking(mode: ThinkingMode, model: str, requested: bool, expected: ThinkingMode) -> None:
    resolved = resolve_thinking(mode, preset_for(model).thinking is ThinkingMode.NATIVE, requested=requested)
    assert resolved is expected
    assert resolved is not ThinkingMode.AUTO


def test_thinking_mode_values() -> None:
    assert [m.value for m in ThinkingMode] == ["auto", "native", "prompted", "off"]
    assert ThinkingMode("off") is ThinkingMode.OFF

"""engine/vlm/parsing.py: reading Qwen3-VL's answers in every shape it produces."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ModelOutputError
from engine.vlm.parsing import (
    GridElement,
    ToolCall,
    extract_json,
    parse_description,
    parse_points,
    parse_tool_call,
    split_thinking,
    thought_before_call,
)

OBJECT = (
    '{"summary": "A login form.", "elements": ['
    '{"type": "button", "label": "Submit", "bbox_2d": [100, 200, 300, 260]}, '
    '{"type": "input", "label": "Name", "bbox_2d": [100, 100, 500, 150]}]}'
)
SUBMIT = GridElement("button", "Submit", (100.0, 200.0, 300.0, 260.0))
NAME = GridElement("input", "Name", (100.0, 100.0, 500.0, 150.0))
LIST = '[{"bbox_2d": [100, 200, 300, 260], "label": "Submit", "type": "button"}]'


@pytest.mark.parametrize(
    "text",
    [
        OBJECT,
        f"```json\n{OBJECT}\n```",
        f"```\n{OBJECT}\n```",
        f"Here is what I see:\n```json\n{OBJECT}\n```\nLet me know if you need more.",
        f"<think>The form has [two] fields {{maybe}}.</think>\n```json\n{OBJECT}\n```",
        f"I looked at the screen carefully.</think>{OBJECT}",
        f"The screen: {OBJECT} (done)",
    ],
    ids=["bare", "fenced", "fenced-no-lang", "prose-around", "think-first", "lone-close-think", "inline"],
)
def test_description_object_in_every_wrapping(text: str) -> None:
    parsed = parse_description(text)
    assert parsed.summary == "A login form."
    assert parsed.elements == [SUBMIT, NAME]
    assert parsed.answer is None


@pytest.mark.parametrize(
    "text",
    [LIST, f"```json\n{LIST}\n```", f"Sure! Found one element:\n```json\n{LIST}\n```\nThat is all."],
)
def test_description_bare_list(text: str) -> None:
    parsed = parse_description(text)
    assert parsed.summary == ""
    assert parsed.elements == [SUBMIT]


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ([300, 260, 100, 200], (100.0, 200.0, 300.0, 260.0)),  # both corners swapped
        ([300, 200, 100, 260], (100.0, 200.0, 300.0, 260.0)),
        ([-20, 1500, 400, 900], (0.0, 900.0, 400.0, 1000.0)),  # clamped, then ordered
        (["10", "20", "30.5", "40"], (10.0, 20.0, 30.5, 40.0)),  # numbers as strings
    ],
)
def test_description_box_repair(box: list[object], expected: tuple[float, ...]) -> None:
    element = {"type": "Button", "label": " OK ", "bbox_2d": box}
    text = json.dumps({"summary": "s", "elements": [element]})
    assert parse_description(text).elements == [GridElement("button", "OK", expected)]


def test_description_drops_elements_with_bad_boxes() -> None:
    text = (
        '{"summary": "s", "elements": ['
        '{"label": "three", "bbox_2d": [1, 2, 3]}, {"label": "text", "bbox_2d": [1, "a", 3, 4]}, '
        '{"label": "bool", "bbox_2d": [true, 2, 3, 4]}, {"label": "none", "bbox_2d": null}, '
        '{"label": "nobox"}, "a string", 7, '
        '{"label": "good", "bbox_2d": [1, 2, 3, 4]}]}'
    )
    assert parse_description(text).elements == [GridElement("element", "good", (1.0, 2.0, 3.0, 4.0))]


def test_description_point_2d_becomes_a_zero_size_box() -> None:
    parsed = parse_description('[{"point_2d": [450, 1200], "label": "OK"}]')
    assert parsed.elements == [GridElement("element", "OK", (450.0, 1000.0, 450.0, 1000.0))]


def test_description_answer_field_and_summary_only() -> None:
    text = '{"summary": "A dialog.", "answer": " Yes, it is open. ", "elements": []}'
    parsed = parse_description(text)
    assert (parsed.summary, parsed.answer, parsed.elements) == ("A dialog.", "Yes, it is open.", [])


@pytest.mark.parametrize(
    "text",
    [
        "I can see a login form with a Submit button.",
        "",
        '{"elements": [{"label": "x", "bbox_2d": [1, 2]}]}',  # nothing usable
        "[1, 2, 3]",
        '<think>[{"bbox_2d": [1, 2, 3, 4]}]</think>No elements.',  # JSON only inside the reasoning
        "[" * 3000,  # a degenerate, repeating answer
    ],
    ids=["prose", "empty", "no-usable", "numbers", "json-only-in-think", "deep-nesting"],
)
def test_description_without_usable_json_raises_with_raw(text: str) -> None:
    with pytest.raises(ModelOutputError) as info:
        parse_description(text)
    # raw is the whole answer, reasoning included, capped at 2000 characters
    assert info.value.raw == (text if len(text) <= 2000 else text[:2000] + f"... [{len(text)} chars]")


@pytest.mark.parametrize("answer", [OBJECT, LIST], ids=["object", "list"])
def test_answers_cut_off_at_the_token_limit_are_refused(answer: str) -> None:
    # Every proper prefix: the complete elements inside a cut-off answer are not the answer.
    for cut in range(1, len(answer)):
        with pytest.raises(ModelOutputError):
            parse_description(f"```json\n{answer[:cut]}")


def test_a_repetition_loop_that_never_closes_is_refused() -> None:
    unit = '{"type": "text", "label": "Name", "bbox_2d": [10, 10, 20, 20]},\n\t'
    with pytest.raises(ModelOutputError):
        parse_description("```json\n[\n\t" + unit * 2000)


def test_unbalanced_brackets_in_prose_do_not_hide_the_json() -> None:
    assert parse_description(f"Elements (see [1): {LIST}").elements == [SUBMIT]


def test_raw_is_capped() -> None:
    with pytest.raises(ModelOutputError) as info:
        extract_json("x" * 5000)
    assert info.value.raw.startswith("x" * 2000) and info.value.raw.endswith("[5000 chars]")


def test_parse_points() -> None:
    text = '```json\n[{"point_2d": [512, 384], "label": "Submit"}, {"bbox_2d": [0, 0, 10, 10], "label": "x"}]\n```'
    assert parse_points(text) == [
        GridElement("element", "Submit", (512.0, 384.0, 512.0, 384.0)),
        GridElement("element", "x", (0.0, 0.0, 10.0, 10.0)),
    ]
    assert parse_points('{"point_2d": [1, 2]}') == [GridElement("element", "", (1.0, 2.0, 1.0, 2.0))]
    with pytest.raises(ModelOutputError):
        parse_points('[{"label": "no point"}]')


CLICK = ToolCall("computer_use", {"action": "left_click", "coordinate": [512, 384]})
CALL_JSON = '{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [512, 384]}}'


@pytest.mark.parametrize(
    "text",
    [
        f"<tool_call>\n{CALL_JSON}\n</tool_call>",
        f"Thought: The Submit button is at the bottom.\nAction: click Submit.\n<tool_call>\n{CALL_JSON}\n</tool_call>",
        f"<think>1. find Submit\n2. click it</think>\n<tool_call>\n{CALL_JSON}\n</tool_call>",
        f"<tool_call>\n{CALL_JSON}",  # generation stopped before the closing tag
        f"<tool_call>{CALL_JSON}</tool_call><|im_end|>",
        CALL_JSON,  # no tags at all
        f"```json\n{CALL_JSON}\n```",
        f"<tool_call>\n```json\n{CALL_JSON}\n```\n</tool_call>",
        '{"name": "computer_use", "arguments": "{\\"action\\": \\"left_click\\", \\"coordinate\\": [512, 384]}"}',
        '<tool_call>{"action": "left_click", "coordinate": [512, 384]}</tool_call>',  # bare arguments
        '{"action": "left_click", "coordinate": [512, 384]}',
        '{"name": "computer_use", "parameters": {"action": "left_click", "coordinate": [512, 384]}}',
    ],
    ids=[
        "canonical", "thought-action", "think", "unclosed", "im-end", "untagged", "fenced", "tag-and-fence",
        "string-arguments", "bare-action-tagged", "bare-action", "parameters-key",
    ],
)  # fmt: skip
def test_tool_call_shapes(text: str) -> None:
    assert parse_tool_call(text) == CLICK


def test_first_tool_call_wins() -> None:
    text = (
        '<tool_call>{"name": "computer_use", "arguments": {"action": "key", "keys": ["ctrl", "a"]}}</tool_call>\n'
        f"<tool_call>{CALL_JSON}</tool_call>"
    )
    assert parse_tool_call(text) == ToolCall("computer_use", {"action": "key", "keys": ["ctrl", "a"]})


def test_other_function_names_are_returned_for_the_caller_to_refuse() -> None:
    call = parse_tool_call('<tool_call>{"name": "browser", "arguments": {"url": "x"}}</tool_call>')
    assert call == ToolCall("browser", {"url": "x"})


@pytest.mark.parametrize(
    "text",
    [
        "I will click the Submit button.",
        "<tool_call>click(512, 384)</tool_call>",
        '<tool_call>{"name": "computer_use", "arguments": "not json"}</tool_call>',
        '<tool_call>{"name": 5, "arguments": []}</tool_call>',
        '{"name": "computer_use"}',
        "<tool_call>" + "{" * 3000,
        '{"name": "computer_use", "arguments": "' + "[" * 3000 + '"}',
        "<tool_call>" + '{"a": ' * 3000,
    ],
    ids=["prose", "python-call", "bad-string-args", "bad-name", "no-args", "braces", "deep-string-args", "deep"],
)
def test_unreadable_tool_calls(text: str) -> None:
    with pytest.raises(ModelOutputError) as info:
        parse_tool_call(text)
    assert info.value.raw[:50] == text[:50]


def test_tool_call_object_inside_a_list() -> None:
    assert parse_tool_call('[{"action": "scroll", "pixels": -5}]') == ToolCall(
        "computer_use", {"action": "scroll", "pixels": -5}
    )


@pytest.mark.parametrize(
    ("text", "thought"),
    [
        (
            f"Thought: Submit is at the bottom.\nAction: click Submit.\n<tool_call>\n{CALL_JSON}\n</tool_call>",
            "Thought: Submit is at the bottom.\nAction: click Submit.",
        ),
        (f"<think>hidden</think>Thought: visible\n<tool_call>{CALL_JSON}</tool_call>", "Thought: visible"),
        (f"<tool_call>{CALL_JSON}</tool_call>", None),
        (f"<think>only reasoning</think>\n<tool_call>{CALL_JSON}</tool_call>", None),
    ],
)
def test_thought_before_call(text: str, thought: str | None) -> None:
    assert thought_before_call(text) == thought


@pytest.mark.parametrize(
    ("content", "reasoning", "expected"),
    [
        ("<tool_call>x</tool_call>", "  1. look\n2. click  ", ("1. look\n2. click", "<tool_call>x</tool_call>")),
        ("</think>\n\nanswer", "server split", ("server split", "answer")),  # stray tag removed
        ("answer", "   ", (None, "answer")),  # empty server reasoning is no reasoning
        ("<think>\n1. look\n</think>\n\nanswer", None, ("1. look", "answer")),
        ("before <think>mid</think> after", None, ("mid", "before  after")),
        ("1. look\n2. click\n</think>\n\nanswer", None, ("1. look\n2. click", "answer")),  # template opened <think>
        ("</think>answer", None, (None, "answer")),
        ("  plain answer \n", None, (None, "plain answer")),
        ("<think>unfinished reasoning", None, (None, "<think>unfinished reasoning")),
    ],
    ids=["server", "server-stray-tag", "server-blank", "tags", "tags-mid", "close-only", "empty-close", "none",
         "unclosed"],
)  # fmt: skip
def test_split_thinking(content: str, reasoning: str | None, expected: tuple[str | None, str]) -> None:
    assert split_thinking(content, reasoning) == expected


TEXTS = st.one_of(
    st.text(max_size=300),
    st.text(alphabet='{}[]":,0123456789 \n<>/abcdefghijklmnopqrstuvwxyz_-`', max_size=300),
    st.lists(st.sampled_from(['{"', '"}', "[", "]", "<tool_call>", "</tool_call>", "<think>", "</think>",
                              "```json\n", "```", '"bbox_2d": [', '"action": "', '"arguments": ', '"name": ',
                              "1, 2, 3, 4", ", ", ": ", "null", "true", '"'])).map("".join),
)  # fmt: skip


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(TEXTS)
def test_parsers_only_ever_raise_model_output_error(text: str) -> None:
    for parse in (parse_description, parse_tool_call, parse_points):
        try:
            result = parse(text)
        except ModelOutputError as exc:
            assert isinstance(exc.raw, str)
        else:
            assert result is not None

"""Describe asks for its answer in a JSON schema: as SGLang's (and vLLM's) ``response_format``, as vLLM's
``structured_outputs``, or not at all; the stand-in checks the schema as those servers do and answers in
its shape; a server that refuses the schema gets an error that says what to switch; a Thinking model's
``<think>...</think>`` before the JSON is read past; and the call's tokens come back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from engine.errors import ModelServerError
from engine.vlm import prompts
from engine.vlm.backend import ChatRequest, ChatResponse
from engine.vlm.backends.openai_http import OpenAIHTTPBackend
from engine.vlm.parsing import parse_description
from engine.vlm.settings import EngineSettings, StructuredOutput
from engine.vlm.streaming import StreamAssembler
from engine.vlm.vision import Description, VisionEngine
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn

FRAME = {"x": 0, "y": 0, "width": 400, "height": 300}
ELEMENTS = [
    {"type": "button", "label": "Save", "box": [40, 200, 120, 230]},
    {"type": "input", "label": "Name", "box": [40, 60, 360, 90]},
    {"type": "slider", "label": "Volume", "box": [40, 120, 360, 140]},  # not a type the schema lists
]


def _scenario(**overrides: Any) -> Scenario:
    return Scenario.from_json({"frame": FRAME, "elements": ELEMENTS, "describe_format": "fenced_list", **overrides})


def _screen() -> Image.Image:
    return Image.new("RGB", (FRAME["width"], FRAME["height"]), (240, 240, 240))


@pytest.fixture
async def engine_for(standin: StandIn) -> AsyncIterator[Any]:
    """Builds a :class:`VisionEngine` on the stand-in with the given switch (and model name)."""
    made: list[VisionEngine] = []

    def build(mode: StructuredOutput = "response_format", model: str = "Qwen/Qwen3-VL-2B-Instruct") -> VisionEngine:
        backend = OpenAIHTTPBackend(standin.base_url, model, retries=0)
        made.append(VisionEngine(backend, EngineSettings(structured_output=mode)))
        return made[-1]

    yield build
    for engine in made:
        await engine.backend.aclose()


def test_the_schema_is_valid_json_schema_and_matches_the_prompt() -> None:
    for question in (None, "Is there a Save button?"):
        schema = prompts.describe_schema(question)
        Draft202012Validator.check_schema(schema)
        assert ("answer" in schema["required"]) == bool(question)  # type: ignore[operator]
    assert all(kind in prompts.DESCRIBE_PROMPT for kind in prompts.DESCRIBE_TYPES)


async def test_describe_sends_the_schema_as_response_format(standin: StandIn, engine_for: Any) -> None:
    standin.set_scenario(_scenario())
    description: Description = await engine_for("response_format").describe(_screen())
    body = standin.requests[-1]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "screen_description", "schema": prompts.describe_schema(None)},
    }
    assert "structured_outputs" not in body
    # The stand-in answered as constrained decoding does: the bare object, not its usual fenced list.
    assert description.raw.startswith("{") and "```" not in description.raw
    assert [(e.type, e.label) for e in description.grid.elements] == [
        ("button", "Save"),
        ("input", "Name"),
        ("text", "Volume"),
    ]
    assert description.grid.summary


async def test_describe_sends_vllms_structured_outputs(standin: StandIn, engine_for: Any) -> None:
    standin.set_scenario(_scenario())
    question = "Is there a Save button?"
    description = await engine_for("structured_outputs").describe(_screen(), question)
    body = standin.requests[-1]
    assert body["structured_outputs"] == {"json": prompts.describe_schema(question)}
    assert "response_format" not in body
    assert description.grid.answer and len(description.grid.elements) == 3


async def test_switched_off_describe_sends_no_schema(standin: StandIn, engine_for: Any) -> None:
    standin.set_scenario(_scenario())
    description = await engine_for("off").describe(_screen())
    body = standin.requests[-1]
    assert "response_format" not in body and "structured_outputs" not in body
    assert "```json" in description.raw  # the unconstrained answer, fenced as the scenario says
    assert len(description.grid.elements) == 3


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        (
            "response_format",
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "objekt"}}},
            "Invalid grammar request",
        ),
        ("response_format", {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}, "name"),
        ("response_format", {"type": "json_schema", "json_schema": {"name": "x"}}, "schema_ is required"),
        ("response_format", {"type": "xml"}, "response_format.type"),
        ("structured_outputs", {"json": {"type": 5}}, "Invalid grammar request"),
        ("structured_outputs", {"json": {"type": "object"}, "regex": "a+"}, "only use one kind"),
    ],
)
def test_the_stand_in_refuses_a_malformed_schema_with_a_400(
    standin: StandIn, field: str, value: dict[str, Any], says: str
) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "Describe."}], field: value}
    response = httpx.post(f"{standin.base_url}/chat/completions", json=body, timeout=10)
    assert response.status_code == 400
    assert says in response.json()["message"]


async def test_a_refused_schema_says_to_switch_it_off(
    standin: StandIn, engine_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.set_scenario(_scenario())
    monkeypatch.setattr(prompts, "describe_schema", lambda question: {"type": "objekt"})
    with pytest.raises(ModelServerError) as refused:
        await engine_for("response_format").describe(_screen())
    message = str(refused.value)
    assert "HTTP 400" in message and "Invalid grammar request" in message
    assert "structured_output" in message and "off" in message


@pytest.mark.parametrize("reasoning", ["prompted", "native"])
async def test_a_thinking_models_answer_parses_after_its_thinking(
    standin: StandIn, engine_for: Any, reasoning: str
) -> None:
    standin.set_scenario(_scenario(reasoning=reasoning))
    description = await engine_for("response_format", "Qwen/Qwen3-VL-2B-Thinking").describe(_screen())
    if reasoning == "prompted":  # the server did not split the thinking out: it precedes the JSON
        assert description.raw.startswith("<think>") and "</think>\n{" in description.raw
    assert [e.label for e in description.grid.elements] == ["Save", "Name", "Volume"]


def test_parse_description_reads_the_schema_shape_after_a_think_block() -> None:
    text = (
        "<think>\n1. A dialog.\n2. One button.\n</think>\n"
        '{"summary": "A dialog.", "elements": [{"type": "button", "label": "OK", "bbox_2d": [10, 20, 30, 40]}], '
        '"answer": "Yes."}'
    )
    grid = parse_description(text)
    assert (grid.summary, grid.answer) == ("A dialog.", "Yes.")
    assert [(e.type, e.label, e.box) for e in grid.elements] == [("button", "OK", (10.0, 20.0, 30.0, 40.0))]


async def test_describe_reports_the_tokens_the_server_counted(standin: StandIn, engine_for: Any) -> None:
    standin.set_scenario(_scenario())
    description = await engine_for().describe(_screen())
    assert description.prompt_tokens is not None and description.prompt_tokens > 0
    assert description.completion_tokens == max(1, len(description.raw) // 4)  # the stand-in's count


class _StreamedRefusal:
    """A server that streams SGLang's grammar error after HTTP 200, as SGLang does over a stream when its
    grammar backend cannot compile the schema (an abort with status 400 sent as an error event)."""

    model_name = "Qwen/Qwen3-VL-2B-Instruct"

    async def chat(self, request: ChatRequest) -> ChatResponse:
        event = {"error": {"object": "error", "message": "Invalid grammar request: unsupported keyword", "code": 400}}
        StreamAssembler(self.model_name).feed(json.dumps(event))
        raise AssertionError("the error event was not raised")

    async def aclose(self) -> None:
        """Nothing to release."""


async def test_a_schema_refused_mid_stream_says_to_switch_it_off_too() -> None:
    engine = VisionEngine(_StreamedRefusal(), EngineSettings(structured_output="structured_outputs"))
    with pytest.raises(ModelServerError, match=r"Invalid grammar request.*structured_output to off"):
        await engine.describe(_screen())


@pytest.mark.parametrize("mode", ["response_format", "off"])
async def test_other_server_errors_pass_unchanged(standin: StandIn, engine_for: Any, mode: StructuredOutput) -> None:
    standin.set_scenario(_scenario(fault="http500"))
    with pytest.raises(ModelServerError) as failed:
        await engine_for(mode).describe(_screen())
    assert "HTTP 500" in str(failed.value) and "structured_output" not in str(failed.value)

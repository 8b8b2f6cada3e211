"""Each preset's own grounding format, through a real HTTP stand-in answering in that model's format:
the canary passes, a located element lands on its screen pixels (MAI-UI's 0-999 grid at the right
edge included), and unreadable or "not found" answers are clear ModelOutputErrors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from engine.errors import ModelOutputError
from engine.vlm.backends.openai_http import OpenAIHTTPBackend
from engine.vlm.formats import FORMATS, format_for
from engine.vlm.parsing import GridElement
from engine.vlm.presets import by_name, preset_for
from engine.vlm.refine import SecondLook
from engine.vlm.trust import CanaryMode, GroundingGate, VerdictCache
from engine.vlm.vision import VisionEngine
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tests.support.standin_launcher import canary_scenario

MODELS = {
    "qwen3-vl": "Qwen/Qwen3-VL-2B-Instruct",
    "gui-owl-1.5": "mPLUG/GUI-Owl-1.5-2B-Instruct",
    "ui-venus-1.5": "inclusionAI/UI-Venus-1.5-8B",
    "mai-ui": "Tongyi-MAI/MAI-UI-2B",
}


@pytest.fixture(params=sorted(MODELS))
def model(request: pytest.FixtureRequest) -> str:
    return MODELS[request.param]


@pytest.fixture
def served(model: str) -> Iterator[StandIn]:
    with StandIn(model=model) as server:
        yield server


def _engine(standin: StandIn) -> VisionEngine:
    return VisionEngine(OpenAIHTTPBackend(standin.base_url, standin.model, retries=0))


def test_every_preset_has_a_format_on_its_own_grid() -> None:
    assert {format_for(m).name for m in MODELS.values()} == set(FORMATS) == set(MODELS)
    for name in MODELS.values():
        assert format_for(name).grid == preset_for(name).grid
    assert format_for("Qwen/Qwen3.5-9B").name == format_for("some/unknown-model").name == "qwen3-vl"


async def test_the_canary_passes_in_each_models_own_format(served: StandIn, model: str, tmp_path: Path) -> None:
    served.set_scenario(canary_scenario())
    backend = OpenAIHTTPBackend(served.base_url, model, retries=0)
    gate = GroundingGate(
        VisionEngine(backend), backend, mode=CanaryMode.ENFORCE, bound_px=25, cache=VerdictCache(tmp_path / "c.json")
    )
    try:
        verdict = await gate.judge()
    finally:
        await backend.aclose()
    assert verdict is not None and verdict.passed, verdict
    assert verdict.hits == verdict.total == 6 and verdict.mean_error_px <= 2
    asked = served.canary_requests
    assert asked and all(r["messages"][-1]["content"] for r in asked)
    own = format_for(model).prompt("Save")
    first = asked[0]["messages"]
    assert (first[0]["role"] == "system") == (own.system is not None)


# 1998 px wide: MAI-UI's 0-999 grid has a whole number of pixels (2) per step, so a point it names
# lies on an exact pixel; read as 0-1000 it would land 2 px left of it at the right edge.
EDGE_FRAME = {"x": 0, "y": 0, "width": 1998, "height": 999}
EDGE_ELEMENTS = [
    {"type": "button", "label": "Close", "box": [1992, 4, 2000, 12]},  # centre x 1996: MAI-UI's 998
    {"type": "button", "label": "Help", "box": [996, 496, 1004, 504]},
]


async def test_a_located_element_lands_on_its_screen_pixels(served: StandIn) -> None:
    served.set_scenario(Scenario(frame=dict(EDGE_FRAME), elements=EDGE_ELEMENTS))
    engine = _engine(served)
    image = Image.new("RGB", (EDGE_FRAME["width"], EDGE_FRAME["height"]), (240, 240, 240))
    try:
        close = await SecondLook(engine).single(image, "Close")
        help_ = await SecondLook(engine).single(image, "Help")
    finally:
        await engine.backend.aclose()
    assert close.point is not None and abs(close.point[0] - 1996) <= 1 and abs(close.point[1] - 8) <= 1
    assert help_.point is not None and abs(help_.point[0] - 1000) <= 1 and abs(help_.point[1] - 500) <= 1
    sent = served.requests[-1]
    own = format_for(served.model).prompt("Help")
    assert sent["messages"][-1]["content"][-1]["text"] == own.user


async def test_mai_ui_right_edge_is_exact_not_a_step_short() -> None:
    with StandIn(model=MODELS["mai-ui"]) as served:
        served.set_scenario(Scenario(frame=dict(EDGE_FRAME), elements=EDGE_ELEMENTS))
        engine = _engine(served)
        try:
            found = await SecondLook(engine).single(Image.new("RGB", (1998, 999)), "Close")
        finally:
            await engine.backend.aclose()
    assert found.point is not None and found.point[0] == 1996


async def test_a_target_the_model_does_not_see_is_a_clear_error(served: StandIn) -> None:
    served.set_scenario(Scenario(frame=dict(EDGE_FRAME), elements=EDGE_ELEMENTS))
    engine = _engine(served)
    try:
        with pytest.raises(ModelOutputError) as failure:
            await engine.locate(Image.new("RGB", (1998, 999)), "Submit order")
    finally:
        await engine.backend.aclose()
    assert "no" in str(failure.value) and failure.value.raw


@pytest.mark.parametrize(
    ("name", "answer", "message"),
    [
        ("mai-ui", "<grounding_think>It is the close button.</grounding_think>", "coordinate"),
        ("mai-ui", '<answer>\n{"coordinate": [12]}\n</answer>', "not [x, y]"),
        ("mai-ui", '<answer>\n{"coordinate": ["a", "b"]}\n</answer>', "unreadable"),
        ("ui-venus-1.5", "The close button is at the top right.", "no [x,y]"),
        ("ui-venus-1.5", "[-1,-1]", "found no"),
        ("ui-venus-1.5", "[1, 2, 3]", "neither a point nor a box"),
        ("gui-owl-1.5", "I would click the close button.", "<tool_call>"),
        (
            "gui-owl-1.5",
            '<tool_call>\n{"name": "computer_use", "arguments": {"action": "terminate", "status": "failure"}}\n'
            "</tool_call>",
            "found no",
        ),
        (
            "gui-owl-1.5",
            '<tool_call>{"name": "computer_use", "arguments": {"action": "left_click"}}</tool_call>',
            "no [x, y]",
        ),
        ("qwen3-vl", "```json\n[]\n```", "no point"),
    ],
)
def test_malformed_answers_are_model_output_errors(name: str, answer: str, message: str) -> None:
    with pytest.raises(ModelOutputError) as failure:
        FORMATS[name].parse(answer, "Close")
    assert message in str(failure.value) and failure.value.raw == answer


@pytest.mark.parametrize(
    ("name", "answer", "box"),
    [
        ("mai-ui", '<grounding_think>x</grounding_think>\n<answer>\n{"coordinate": [999,0]}\n</answer>', (1000, 0)),
        ("mai-ui", '<grounding_think>x</grounding_think>{"coordinate": [0, 999]}', (0, 1000)),
        ("ui-venus-1.5", "[1000,500]", (1000, 500)),
        ("ui-venus-1.5", "[100, 200], [300, 400]", (100, 200, 300, 400)),
        (
            "gui-owl-1.5",
            '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [10, 20]}}\n'
            "</tool_call>",
            (10, 20),
        ),
    ],
)
def test_answers_come_back_on_the_0_1000_grid(name: str, answer: str, box: tuple[int, ...]) -> None:
    (element,) = FORMATS[name].parse(answer, "Close")
    expected = box if len(box) == 4 else (*box, *box)
    assert element.box == pytest.approx(expected, abs=1e-3)


async def test_the_grounders_format_is_used_not_the_planners() -> None:
    with StandIn(model="Qwen/Qwen3-VL-8B-Thinking") as planner, StandIn(model=MODELS["mai-ui"]) as grounder:
        grounder.set_scenario(Scenario(frame=dict(EDGE_FRAME), elements=EDGE_ELEMENTS))
        planning = OpenAIHTTPBackend(planner.base_url, planner.model, retries=0)
        grounding = OpenAIHTTPBackend(grounder.base_url, grounder.model, retries=0)
        engine = VisionEngine(planning, grounder=grounding)
        try:
            found = await SecondLook(engine).single(Image.new("RGB", (1998, 999)), "Close")
        finally:
            await planning.aclose()
            await grounding.aclose()
        assert not planner.requests and grounder.requests[-1]["messages"][0]["role"] == "system"
    assert found.point == (1996, 8)


async def _locate_thinking(thinking_tokens: int) -> tuple[list[GridElement], dict[str, Any]]:
    """Locate "Help" with a -Thinking grounder that reasons ``thinking_tokens`` before its point; the request."""
    with StandIn(model="Qwen/Qwen3-VL-8B-Thinking") as served:
        scenario = Scenario(frame=dict(EDGE_FRAME), elements=EDGE_ELEMENTS, reasoning="native")
        scenario.thinking_tokens = thinking_tokens
        served.set_scenario(scenario)
        engine = _engine(served)
        image = Image.new("RGB", (EDGE_FRAME["width"], EDGE_FRAME["height"]), (240, 240, 240))
        try:
            found = await engine.locate(image, "Help")
        finally:
            await engine.backend.aclose()
        return found, served.requests[-1]


async def test_a_thinking_grounder_may_think_before_its_point() -> None:
    # A -Thinking checkpoint reasons before every answer, and the server counts that against max_tokens.
    [point], sent = await _locate_thinking(900)
    x, y = (point.box[0] + point.box[2]) / 2, (point.box[1] + point.box[3]) / 2
    assert abs(x - 500) <= 1 and abs(y - 500) <= 1  # Help's centre on the grid
    assert sent["max_tokens"] >= 900 + 256


async def test_a_point_cut_off_mid_thought_is_an_error_not_a_guess() -> None:
    with pytest.raises(ModelOutputError, match="cut off at the token limit"):
        await _locate_thinking(9000)


async def test_a_model_served_under_an_alias_is_asked_in_its_configured_presets_format() -> None:
    # SGLang with --served-model-name grounder: the name says nothing of MAI-UI, the preset does.
    with StandIn(model="grounder", checkpoint=MODELS["mai-ui"]) as served:
        served.set_scenario(Scenario(frame=dict(EDGE_FRAME), elements=EDGE_ELEMENTS))
        image = Image.new("RGB", (EDGE_FRAME["width"], EDGE_FRAME["height"]), (240, 240, 240))
        configured = VisionEngine(OpenAIHTTPBackend(served.base_url, "grounder", retries=0, preset=by_name("mai-ui")))
        guessed = VisionEngine(OpenAIHTTPBackend(served.base_url, "grounder", retries=0))
        try:
            look = await SecondLook(configured).single(image, "Close")
            with pytest.raises(ModelOutputError):  # asked as Qwen3-VL, it answers as MAI-UI: unreadable
                await guessed.locate(image, "Close")
        finally:
            await configured.backend.aclose()
            await guessed.backend.aclose()
    assert configured.grounding_format.name == "mai-ui" and guessed.grounding_format.name == "qwen3-vl"
    assert look.point is not None and abs(look.point[0] - 1996) <= 1 and abs(look.point[1] - 8) <= 1

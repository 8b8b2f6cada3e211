"""The grounding canary against the stand-in: a model that points right is trusted, one whose boxes are
offset is refused (with who it is, how far off, and what to do), and verdicts are cached per model and
engine version."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from engine.errors import ModelError, ModelUntrusted
from engine.vlm.backends.openai_http import OpenAIHTTPBackend
from engine.vlm.canary import CANVAS, render_canary
from engine.vlm.trust import CanaryMode, GroundingGate, VerdictCache
from engine.vlm.vision import VisionEngine
from tests.support.standin.canary import CANARY_FRAME, CANARY_TARGETS
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tests.support.standin_launcher import canary_scenario

MODEL = "Qwen/Qwen3-VL-2B-Instruct"


def _gated(standin: StandIn, cache: Path, mode: CanaryMode = CanaryMode.ENFORCE) -> tuple[VisionEngine, GroundingGate]:
    backend = OpenAIHTTPBackend(standin.base_url, MODEL, retries=0)
    gate = GroundingGate(VisionEngine(backend), backend, mode=mode, bound_px=25, cache=VerdictCache(cache))
    return VisionEngine(backend, gate=gate), gate


def test_the_stand_ins_table_is_the_canary_screen() -> None:
    screen = render_canary()
    assert screen.image.size == CANVAS == (CANARY_FRAME["width"], CANARY_FRAME["height"])
    assert {t.query: t.box for t in screen.targets} == CANARY_TARGETS
    assert CANVAS[0] * 9 != CANVAS[1] * 16  # not 16:9


async def test_a_model_that_points_right_passes_and_grounds(standin: StandIn, tmp_path: Path) -> None:
    standin.set_scenario(canary_scenario())
    engine, gate = _gated(standin, tmp_path / "canary.json")
    try:
        verdict = await gate.judge()
        assert verdict is not None and verdict.passed and verdict.hits == verdict.total == 6
        assert verdict.mean_error_px <= 2 and (verdict.engine, verdict.version) == ("sglang", "stand-in")
        points = await engine.locate(render_canary().image, "Save")
        assert points
    finally:
        await engine.backend.aclose()


async def test_offset_boxes_are_refused_with_who_how_far_and_what_to_do(standin: StandIn, tmp_path: Path) -> None:
    standin.set_scenario(canary_scenario(offset=(90, 0)))
    standin.clear_requests()
    engine, _ = _gated(standin, tmp_path / "canary.json")
    try:
        with pytest.raises(ModelUntrusted) as failure:
            await engine.locate(render_canary().image, "Save")
    finally:
        await engine.backend.aclose()
    message = str(failure.value)
    assert f"{MODEL} (sglang stand-in) failed the grounding self-test" in message
    # The two widest buttons are still hit 90 px off: the mean error fails it.
    assert "mean pointing error 90 px (bound 25 px)" in message and "2/6 targets hit" in message
    assert "another SGLang/vLLM version" in message and "doctor" in message
    # The canary's six requests, answered from its screen; the refused call was never sent.
    assert [r["_kind"] for r in standin.canary_requests] == ["point"] * 6 and standin.requests == []


async def test_the_verdict_is_cached_per_model_and_engine_version(standin: StandIn, tmp_path: Path) -> None:
    cache = tmp_path / "canary.json"
    standin.set_scenario(canary_scenario(offset=(90, 0)))
    engine, _ = _gated(standin, cache)
    try:
        with pytest.raises(ModelUntrusted):
            await engine.locate(render_canary().image, "Save")
    finally:
        await engine.backend.aclose()
    assert f"{MODEL}|sglang|stand-in|canary-1" in cache.read_text(encoding="utf-8")
    standin.clear_requests()
    again, _ = _gated(standin, cache)
    try:
        with pytest.raises(ModelUntrusted, match="90 px"):
            await again.plan(render_canary().image, "save the file")
    finally:
        await again.backend.aclose()
    assert standin.requests == [] and standin.canary_requests == []  # read back, not measured again


async def test_warn_mode_reports_but_still_grounds(standin: StandIn, tmp_path: Path) -> None:
    standin.set_scenario(canary_scenario(offset=(90, 0)))
    engine, gate = _gated(standin, tmp_path / "canary.json", CanaryMode.WARN)
    try:
        assert await engine.locate(render_canary().image, "Save")
        assert gate.verdict is not None and not gate.verdict.passed
    finally:
        await engine.backend.aclose()


async def test_the_canary_takes_no_planned_fault_or_step_of_the_scenario(standin: StandIn, tmp_path: Path) -> None:
    plan = [{"action": "terminate", "status": "success", "thought": "Done."}]
    standin.set_scenario(Scenario(fault="http500", fault_count=1, plan=plan))
    standin.clear_requests()
    engine, gate = _gated(standin, tmp_path / "canary.json")
    try:
        verdict = await gate.judge()
        assert verdict is not None and verdict.passed and len(standin.canary_requests) == 6
        with pytest.raises(ModelError, match="500"):  # the planned fault is still there for the tools
            await engine.describe(Image.new("RGB", (640, 480), "white"))
        step = await engine.plan(Image.new("RGB", (640, 480), "white"), "finish")
        assert step.call.arguments["action"] == "terminate"  # and so is the plan's first step
    finally:
        await engine.backend.aclose()

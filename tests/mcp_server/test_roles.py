"""A thinking planner and an instruct grounder on two servers: plan_next_action reasons with the planner,
describe_screen and locate (click_text's model fallback, the second look) ground with the grounder, and
the canary judges both. Checked by what each real stand-in server received."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from engine.errors import ModelUntrusted
from mcp_server.config import Settings, load_settings
from mcp_server.lifespan import make_backend, make_engine, make_grounder
from tests.support.inprocess import connect
from tests.support.markers import needs_display
from tests.support.scenarios import scenario_for
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp

PLANNER = "Qwen/Qwen3-VL-8B-Thinking"
GROUNDER = "Qwen/Qwen3-VL-2B-Instruct"


@pytest.fixture
def roles() -> Iterator[tuple[StandIn, StandIn]]:
    """The planner's server (a Thinking model) and the grounder's (an Instruct model)."""
    with StandIn(model=PLANNER) as planner, StandIn(model=GROUNDER) as grounder:
        yield planner, grounder


def _env(planner: StandIn, grounder: StandIn, tmp_path: Path) -> dict[str, str]:
    return {
        "VLM_DESKTOP_MODEL": PLANNER,
        "VLM_DESKTOP_MODEL__GROUNDER__NAME": GROUNDER,
        "VLM_DESKTOP_MODEL__GROUNDER__BASE_URL": grounder.base_url,
        "VLM_DESKTOP_MODEL__CANARY_CACHE": str(tmp_path / "canary.json"),
    }


def _kinds(server: StandIn) -> set[str]:
    return {str(request.get("_kind")) for request in server.requests}


def _settings(planner: StandIn, grounder: StandIn, tmp_path: Path) -> Settings:
    return load_settings({"base_url": planner.base_url}, _env(planner, grounder, tmp_path))


@needs_display
@pytest.mark.usefixtures("display_env")
async def test_the_tools_plan_with_the_planner_and_describe_with_the_grounder(
    app: TkApp, roles: tuple[StandIn, StandIn], tmp_path: Path
) -> None:
    planner, grounder = roles
    plan = [{"action": "left_click", "target": "submit", "thought": "Submit the form."}]
    planner.set_scenario(scenario_for(app, plan, reasoning="native"))
    grounder.set_scenario(scenario_for(app))
    async with connect(planner, env=_env(planner, grounder, tmp_path)) as client:
        described = await client.call_tool("describe_screen", {})
        planned = await client.call_tool("plan_next_action", {"goal": "submit the form"})
    assert not described.is_error and not planned.is_error, (described.content, planned.content)
    # the grounder also took the second look at the planned click (a point request on a crop)
    assert _kinds(planner) == {"plan"} and _kinds(grounder) == {"describe", "point"}
    assert planner.requests[0]["model"] == PLANNER and grounder.requests[0]["model"] == GROUNDER
    # the grounder is judged by the canary; the planner is not while the second look checks its clicks
    assert grounder.canary_requests and not planner.canary_requests


async def test_locate_goes_to_the_grounder(roles: tuple[StandIn, StandIn], tmp_path: Path) -> None:
    planner, grounder = roles
    frame = {"x": 0, "y": 0, "width": 800, "height": 600}
    elements = [{"type": "button", "label": "OK", "box": [100, 100, 200, 140]}]
    for server in roles:
        server.set_scenario(Scenario(frame=frame, elements=elements))
    settings = _settings(planner, grounder, tmp_path)
    backend, second = make_backend(settings), make_grounder(settings)
    assert backend is not None and second is not None
    engine = make_engine(settings, backend, second)
    try:
        found = await engine.locate(Image.new("RGB", (800, 600), "white"), "OK")
    finally:
        await backend.aclose()
        await second.aclose()
    assert found and _kinds(grounder) == {"point"} and planner.requests == []


async def test_a_grounder_that_fails_the_canary_is_refused_while_the_planner_plans(
    roles: tuple[StandIn, StandIn], tmp_path: Path
) -> None:
    planner, grounder = roles
    planner.set_scenario(Scenario(plan=[{"action": "wait", "thought": "Let it load."}], reasoning="native"))
    grounder.set_scenario(Scenario(canary_offset_px=90))
    settings = _settings(planner, grounder, tmp_path)
    backend, second = make_backend(settings), make_grounder(settings)
    assert backend is not None and second is not None
    engine = make_engine(settings, backend, second)
    screen = Image.new("RGB", (800, 600), "white")
    try:
        proposal = await engine.plan(screen, "wait for the page")
        with pytest.raises(ModelUntrusted, match=f"{GROUNDER} .*mean pointing error 90 px"):
            await engine.describe(screen)
    finally:
        await backend.aclose()
        await second.aclose()
    assert proposal.call.arguments.get("action") == "wait" and _kinds(planner) == {"plan"} and grounder.requests == []


async def test_without_the_second_look_the_planner_is_judged_too(
    roles: tuple[StandIn, StandIn], tmp_path: Path
) -> None:
    planner, grounder = roles
    planner.set_scenario(Scenario(plan=[{"action": "wait", "thought": "Let it load."}], canary_offset_px=90))
    grounder.set_scenario(Scenario())
    env = {**_env(planner, grounder, tmp_path), "VLM_DESKTOP_DESKTOP__SECOND_LOOK": "false"}
    settings = load_settings({"base_url": planner.base_url}, env)
    backend, second = make_backend(settings), make_grounder(settings)
    assert backend is not None and second is not None
    engine = make_engine(settings, backend, second)
    screen = Image.new("RGB", (800, 600), "white")
    try:
        with pytest.raises(ModelUntrusted, match=f"{PLANNER} .*mean pointing error 90 px"):
            await engine.plan(screen, "wait for the page")
        await engine.describe(screen)
    finally:
        await backend.aclose()
        await second.aclose()
    assert planner.requests == [] and _kinds(grounder) == {"describe"}


def test_one_model_on_one_server_has_no_separate_grounder() -> None:
    settings = load_settings()
    assert make_grounder(settings) is None and not settings.model.split_roles
    named = load_settings(env={"VLM_DESKTOP_MODEL__GROUNDER__NAME": settings.model.name})
    assert make_grounder(named) is None

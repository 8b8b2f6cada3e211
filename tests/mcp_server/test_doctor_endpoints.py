"""``doctor``'s model rows with several servers and with a separate grounder: a row per server and role,
checked against real stand-in servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_server.config import load_settings
from mcp_server.doctor import Check, format_table, model_checks
from tests.support.servers import free_port
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn


@pytest.fixture
def pair() -> Iterator[tuple[StandIn, StandIn]]:
    with StandIn() as first, StandIn(model="Qwen/Qwen3-VL-8B-Thinking") as second:
        for server in (first, second):
            server.set_scenario(Scenario())
        yield first, second


def _statuses(checks: list[Check]) -> dict[str, str]:
    return {check.name: check.status for check in checks}


async def test_each_server_gets_its_rows_and_a_dead_one_is_a_warning_while_another_works(
    pair: tuple[StandIn, StandIn], tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    env = {
        "VLM_DESKTOP_MODEL__BASE_URLS": f"{pair[0].base_url},{dead}",
        "VLM_DESKTOP_MODEL__CANARY_CACHE": str(tmp_path / "canary.json"),
    }
    checks = await model_checks(load_settings(env=env))
    rows = _statuses(checks)
    assert rows["endpoint 1"] == "ok" and rows["model info 1"] == "ok" and rows["canary 1"] == "ok"
    assert rows["endpoint 2"] == "warn" and rows["model info 2"] == "skip" and rows["canary 2"] == "skip"
    table = format_table(checks)
    assert f"{pair[0].url}/health answers" in table and dead.removesuffix("/v1") in table
    assert "requests go to the working servers" in table and "or take it out of model.base_urls" in table


async def test_with_every_server_dead_each_is_a_failure(tmp_path: Path) -> None:
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]
    checks = await model_checks(load_settings(env={"VLM_DESKTOP_MODEL__BASE_URLS": ",".join(urls)}))
    rows = _statuses(checks)
    assert rows["endpoint 1"] == rows["endpoint 2"] == "fail"


async def test_a_separate_grounder_gets_its_own_rows(pair: tuple[StandIn, StandIn], tmp_path: Path) -> None:
    instruct, thinking = pair
    env = {
        "VLM_DESKTOP_MODEL": "Qwen/Qwen3-VL-8B-Thinking",
        "VLM_DESKTOP_BASE_URL": thinking.base_url,
        "VLM_DESKTOP_MODEL__GROUNDER__NAME": "Qwen/Qwen3-VL-2B-Instruct",
        "VLM_DESKTOP_MODEL__GROUNDER__BASE_URL": instruct.base_url,
        "VLM_DESKTOP_MODEL__CANARY_CACHE": str(tmp_path / "canary.json"),
    }
    checks = await model_checks(load_settings(env=env))
    rows = _statuses(checks)
    for role in ("planner", "grounder"):
        for kind in ("endpoint", "model info", "canary"):
            assert rows[f"{role} {kind}"] == "ok", format_table(checks)
    assert thinking.canary_requests and instruct.canary_requests

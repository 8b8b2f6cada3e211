"""A screen already described is not sent to the model again; identical concurrent asks share one call."""

from __future__ import annotations

import anyio
import pytest
from PIL import Image

from tests.support.inprocess import connect
from tests.support.markers import needs_display
from tests.support.scenarios import scenario_for
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp
from tools.answer_cache import AnswerCache, screen_key

# Servers built here act on the shared screen.
pytestmark = pytest.mark.usefixtures("display_env")


async def test_identical_asks_share_one_call_and_failures_are_not_remembered() -> None:
    cache: AnswerCache[str] = AnswerCache(capacity=2)
    calls: list[str] = []

    async def ask(answer: str) -> str:
        calls.append(answer)
        await anyio.sleep(0.05)
        return answer

    results: list[tuple[str, bool]] = []
    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(lambda: _collect(results, cache.get_or_ask("k", lambda: ask("a"))))
    assert calls == ["a"] and sorted(cached for _, cached in results) == [False, True, True]

    async def fail() -> str:
        raise RuntimeError("model down")

    with pytest.raises(RuntimeError):
        await cache.get_or_ask("x", fail)
    assert await cache.get_or_ask("x", lambda: ask("b")) == ("b", False)  # the failure was not kept


async def _collect(results: list[tuple[str, bool]], call: object) -> None:
    results.append(await call)  # type: ignore[misc]


def test_the_key_is_the_pixels_and_the_question() -> None:
    white, black = Image.new("RGB", (8, 8), "white"), Image.new("RGB", (8, 8), "black")
    assert screen_key(white, "q") == screen_key(white.copy(), "q")
    assert screen_key(white, "q") != screen_key(black, "q")
    assert screen_key(white, "q") != screen_key(white, "other question")


@needs_display
async def test_a_repeated_describe_of_an_unchanged_screen_asks_the_model_once(app: TkApp, standin: StandIn) -> None:
    standin.set_scenario(scenario_for(app))
    async with connect(standin) as client:
        before = len(standin.requests)
        first = (await client.call_tool("describe_screen", {})).structured_content
        second = (await client.call_tool("describe_screen", {})).structured_content
        asked = (await client.call_tool("describe_screen", {"question": "Is there a form?"})).structured_content
    assert (first["model_pass"], second["model_pass"], asked["model_pass"]) == ("fresh", "cached", "fresh")
    assert len(standin.requests) - before == 2  # the repeat made no model call; the new question did
    assert second["elements"] == first["elements"]
    assert second["timings_ms"]["model"] < first["timings_ms"]["model"]

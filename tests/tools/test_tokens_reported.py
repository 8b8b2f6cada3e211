"""Results report the tokens their model calls used (the server's ``usage``): describe_screen's one call,
click_text's model fallback (however many grounding calls the second look made), none for an answer
reused from cache or an action that asked no model."""

from __future__ import annotations

from engine.vlm.backend import ChatResponse
from engine.vlm.usage import TokenMeter, metering, record
from tests.support.fake_desktop import PAGES, FakeDesktop, runtime_on, scenario
from tests.support.standin.server import StandIn
from tools.actions.vocabulary import Click, ClickText
from tools.describe import describe_screen
from tools.execute import execute_action


def _answer(prompt: int | None, completion: int | None) -> ChatResponse:
    return ChatResponse("{}", None, "m", "stop", prompt, completion)


def test_meters_count_calls_inside_them_and_nest() -> None:
    record(_answer(5, 5))  # no meter open: nothing to count into
    with metering() as outer:
        record(_answer(100, 10))
        with metering() as inner:
            record(_answer(200, 20))
            record(_answer(None, None))  # a server that reported no usage
    record(_answer(7, 7))
    assert inner.as_dict() == {"prompt": 200, "completion": 20, "calls": 2, "uncounted_calls": 1}
    assert outer.as_dict() == {"prompt": 300, "completion": 30, "calls": 3, "uncounted_calls": 1}
    assert TokenMeter().as_dict() == {}


async def test_describe_screen_reports_its_calls_tokens_and_none_when_cached(standin: StandIn) -> None:
    screen = FakeDesktop(PAGES, "home")
    standin.set_scenario(scenario(screen, []))
    async with runtime_on(screen, standin) as runtime:
        fresh, _ = await describe_screen(runtime)
        again, _ = await describe_screen(runtime)
    described = [r for r in standin.requests if r.get("_kind") == "describe"]
    assert len(described) == 1
    assert fresh.model_pass == "fresh" and set(fresh.tokens) == {"prompt", "completion"}
    assert fresh.tokens["prompt"] > 0 and fresh.tokens["completion"] > 0
    assert again.model_pass == "cached" and again.tokens == {}


async def test_click_texts_model_fallback_reports_its_grounding_tokens(standin: StandIn) -> None:
    screen = FakeDesktop(PAGES, "home")  # no OCR in this runtime: the text is found by the model
    standin.set_scenario(scenario(screen, []))
    standin.clear_requests()  # the stand-in serves the whole session: count this test's requests only
    async with runtime_on(screen, standin) as runtime:
        clicked = await execute_action(runtime, ClickText(text="Help"), dry_run=True)
        plain = await execute_action(runtime, Click(x=10, y=10), dry_run=True)
    grounded = [r for r in standin.requests if r.get("_kind") == "point"]
    assert grounded and clicked.tokens["calls"] == len(grounded)
    assert clicked.tokens["prompt"] > 0 and clicked.tokens["completion"] > 0
    assert plain.tokens == {}

"""The SGLang HTTP backend against real sockets: circuit breaker, recovery, SGLang/vLLM reasoning fields."""

from __future__ import annotations

import pytest

from engine.errors import ModelUnavailable
from engine.vlm.backend import ChatRequest
from engine.vlm.backends.openai_http import CircuitBreaker, OpenAIHTTPBackend
from tests.support.servers import free_port
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn


async def test_circuit_opens_after_repeated_failures_and_fails_fast() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens here
    backend = OpenAIHTTPBackend(url, "m", retries=0, breaker=CircuitBreaker(threshold=2, cooldown=60))
    try:
        for _ in range(2):
            with pytest.raises(ModelUnavailable, match="cannot reach"):
                await backend.chat(ChatRequest(prompt="hi"))
        with pytest.raises(ModelUnavailable, match="not retrying for another"):
            await backend.chat(ChatRequest(prompt="hi"))
    finally:
        await backend.aclose()


async def test_circuit_closes_again_when_the_server_comes_back(standin: StandIn) -> None:
    standin.set_scenario(Scenario(frame={"x": 0, "y": 0, "width": 100, "height": 100}, elements=[], plan=[]))
    backend = OpenAIHTTPBackend(standin.base_url, "m", retries=0, breaker=CircuitBreaker(threshold=1, cooldown=0))
    backend.breaker.record(False)  # opened by an earlier failure; the cooldown is over
    try:
        response = await backend.chat(ChatRequest(prompt="hello"))
        assert response.content and backend.breaker._opened_at is None
    finally:
        await backend.aclose()


async def test_native_reasoning_field_is_read(standin: StandIn) -> None:
    standin.set_scenario(
        Scenario(frame={"x": 0, "y": 0, "width": 100, "height": 100}, elements=[], plan=[], reasoning="native")
    )
    backend = OpenAIHTTPBackend(standin.base_url, "Qwen/Qwen3-VL-8B-Thinking", retries=0)
    try:
        response = await backend.chat(ChatRequest(prompt="hello"))
    finally:
        await backend.aclose()
    assert response.reasoning and response.model == "Qwen/Qwen3-VL-8B-Thinking"
    assert response.prompt_tokens and response.completion_tokens

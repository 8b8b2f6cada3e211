"""The endpoint pool against real stand-in servers: requests spread over the usable servers, a failed or
untrusted one is skipped and its requests answered elsewhere, a recovered one is brought back, and with
none left the error names each server and why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from engine.errors import ModelUnavailable, ModelUntrusted
from engine.vlm.backend import ChatRequest
from engine.vlm.backends.openai_http import CircuitBreaker, OpenAIHTTPBackend, RequestRefused
from engine.vlm.backends.pool import EndpointPool, EndpointState
from engine.vlm.trust import VerdictCache, canary_vet
from engine.vlm.vision import VisionEngine
from tests.support.servers import free_port
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tests.support.standin_process import StandInProcess

MODEL = "Qwen/Qwen3-VL-2B-Instruct"
HELLO = ChatRequest(prompt="hello", purpose="test")


class Clock:
    """A clock the test moves: probe backoff without waiting for it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pair() -> Iterator[tuple[StandIn, StandIn]]:
    """Two stand-in servers of the same model."""
    with StandIn() as first, StandIn() as second:
        for server in (first, second):
            server.set_scenario(Scenario())
        yield first, second


def _backend(url: str, first_token_timeout: float = 30.0) -> OpenAIHTTPBackend:
    return OpenAIHTTPBackend(
        url, MODEL, retries=0, breaker=CircuitBreaker(cooldown=0), first_token_timeout=first_token_timeout
    )


def _pool(*urls: str, clock: Clock | None = None, **options: object) -> EndpointPool:
    return EndpointPool([_backend(url) for url in urls], clock=clock or Clock(), **options)  # type: ignore[arg-type]


def _dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


async def test_one_request_at_a_time_takes_turns(pair: tuple[StandIn, StandIn]) -> None:
    pool = _pool(pair[0].base_url, pair[1].base_url)
    try:
        for _ in range(6):
            await pool.chat(HELLO)
    finally:
        await pool.aclose()
    assert [len(server.requests) for server in pair] == [3, 3]


async def test_concurrent_requests_go_to_the_least_busy_server(pair: tuple[StandIn, StandIn]) -> None:
    slow, fast = pair
    slow.set_scenario(Scenario(latency_seconds=1.5))
    pool = _pool(slow.base_url, fast.base_url)
    try:
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(pool.chat, HELLO)
                await anyio.sleep(0.1)  # one at a time: the slow server still has its first
    finally:
        await pool.aclose()
    assert len(slow.requests) == 1 and len(fast.requests) == 4


async def test_a_server_that_refuses_connections_is_skipped(pair: tuple[StandIn, StandIn]) -> None:
    dead = _dead_url()
    pool = _pool(dead, pair[0].base_url)
    try:
        answers = [await pool.chat(HELLO) for _ in range(4)]
    finally:
        await pool.aclose()
    assert all(answer.content for answer in answers) and len(pair[0].requests) == 4
    out = pool.endpoints[0]
    assert out.state is EndpointState.DOWN and "cannot reach" in (out.reason or "")


async def test_a_request_that_met_a_5xx_is_answered_by_the_other_server(pair: tuple[StandIn, StandIn]) -> None:
    broken, healthy = pair
    broken.set_scenario(Scenario(fault="http500"))
    pool = _pool(broken.base_url, healthy.base_url)
    try:
        answer = await pool.chat(HELLO)
    finally:
        await pool.aclose()
    assert answer.content and len(broken.requests) == 1 and len(healthy.requests) == 1
    assert pool.endpoints[0].state is EndpointState.DOWN and "HTTP 500" in (pool.endpoints[0].reason or "")


async def test_a_server_that_sends_no_first_token_is_left_for_another(pair: tuple[StandIn, StandIn]) -> None:
    stuck, healthy = pair
    stuck.set_scenario(Scenario(fault="hang", hang_seconds=20))
    pool = EndpointPool([_backend(stuck.base_url, first_token_timeout=0.5), _backend(healthy.base_url)], clock=Clock())
    try:
        answer = await pool.chat(HELLO)
    finally:
        await pool.aclose()
    assert answer.content and len(healthy.requests) == 1
    assert "sent no token" in (pool.endpoints[0].reason or "")


async def test_a_request_the_server_refuses_is_not_sent_elsewhere(pair: tuple[StandIn, StandIn]) -> None:
    pool = _pool(pair[0].base_url, pair[1].base_url)
    try:
        with pytest.raises(RequestRefused, match="HTTP 400"):
            await pool.chat(ChatRequest(prompt="look", image_png=b"not a png"))
    finally:
        await pool.aclose()
    assert sum(len(server.requests) for server in pair) == 1
    assert all(e.state is EndpointState.UP for e in pool.endpoints)


async def test_with_every_server_down_the_error_names_each_and_why() -> None:
    first, second = _dead_url(), _dead_url()
    pool = _pool(first, second, retries=1)
    try:
        with pytest.raises(ModelUnavailable) as caught:
            await pool.chat(HELLO)
    finally:
        await pool.aclose()
    message = str(caught.value)
    assert "none of the 2 model servers could answer (test)" in message
    for url in (first, second):
        assert f"{url.removesuffix('/v1')}: down, " in message
    assert message.count("did not answer") + message.count("cannot reach") >= 2


async def test_a_failed_server_is_probed_again_and_brought_back() -> None:
    port = free_port()
    clock = Clock()
    with StandIn() as other:
        other.set_scenario(Scenario())
        pool = _pool(f"http://127.0.0.1:{port}/v1", other.base_url, clock=clock, probe_interval=1.0)
        try:
            await pool.chat(HELLO)
            await pool.chat(HELLO)
            assert pool.endpoints[0].state is EndpointState.DOWN
            await pool.probe_due()  # not due yet: its backoff has not passed
            assert pool.endpoints[0].state is EndpointState.DOWN
            with StandIn(port=port) as revived:
                revived.set_scenario(Scenario())
                clock.now += 1.0
                await pool.probe_due()
                assert pool.endpoints[0].state is EndpointState.UP
                for _ in range(4):
                    await pool.chat(HELLO)
                assert len(revived.requests) == 2
        finally:
            await pool.aclose()


async def test_a_server_whose_health_fails_is_taken_out_before_a_request_finds_out() -> None:
    clock = Clock()
    with StandInProcess() as doomed, StandInProcess() as other:
        pool = _pool(doomed.base_url, other.base_url, clock=clock, health_interval=5.0)
        try:
            await pool.probe_due()
            assert all(e.state is EndpointState.UP for e in pool.endpoints)
            doomed.kill()
            clock.now += 5.0
            await pool.probe_due()
            assert pool.endpoints[0].state is EndpointState.DOWN
            await pool.chat(HELLO)
            assert len(other.requests()) == 1
        finally:
            await pool.aclose()


def _vetted(*servers: StandIn, cache: Path) -> EndpointPool:
    vet = canary_vet(lambda backend: VisionEngine(backend), cache=VerdictCache(cache))
    return EndpointPool([_backend(server.base_url) for server in servers], vet=vet, clock=Clock())


async def test_a_server_that_fails_the_canary_is_taken_out(pair: tuple[StandIn, StandIn], tmp_path: Path) -> None:
    offset, sighted = pair
    offset.set_scenario(Scenario(canary_offset_px=90))
    pool = _vetted(offset, sighted, cache=tmp_path / "canary.json")
    try:
        for _ in range(3):
            await pool.chat(HELLO)
    finally:
        await pool.aclose()
    assert pool.endpoints[0].state is EndpointState.UNTRUSTED
    assert "failed the grounding self-test" in (pool.endpoints[0].reason or "")
    assert pool.endpoints[1].state is EndpointState.UP
    assert len(offset.requests) == 0 and len(sighted.requests) == 3
    assert offset.canary_requests and sighted.canary_requests  # each judged on its own


async def test_when_every_server_fails_the_canary_the_pool_is_untrusted(
    pair: tuple[StandIn, StandIn], tmp_path: Path
) -> None:
    for server in pair:
        server.set_scenario(Scenario(canary_offset_px=90))
    pool = _vetted(*pair, cache=tmp_path / "canary.json")
    try:
        with pytest.raises(ModelUntrusted, match="mean pointing error 90 px"):
            await pool.chat(HELLO)
    finally:
        await pool.aclose()
    assert not any(server.requests for server in pair)


async def test_a_pool_needs_one_model_and_distinct_servers() -> None:
    with pytest.raises(ValueError, match="at least one"):
        EndpointPool([])
    same = [OpenAIHTTPBackend("http://127.0.0.1:1/v1", MODEL), OpenAIHTTPBackend("http://127.0.0.1:1/v1/", MODEL)]
    two_models = [OpenAIHTTPBackend("http://a/v1", MODEL), OpenAIHTTPBackend("http://b/v1", "other")]
    try:
        with pytest.raises(ValueError, match="listed twice"):
            EndpointPool(same)
        with pytest.raises(ValueError, match="serve one model"):
            EndpointPool(two_models)
    finally:
        for backend in (*same, *two_models):
            await backend.aclose()


async def test_a_server_that_wants_another_key_is_taken_out_and_the_request_answered_elsewhere() -> None:
    # A 401 is about that server (its --api-key), not the request: another server may answer it.
    with StandIn(api_key="another-key") as locked, StandIn() as open_:
        pool = _pool(locked.base_url, open_.base_url)
        try:
            answers = [await pool.chat(HELLO) for _ in range(2)]
        finally:
            await pool.aclose()
        assert all(answer.content for answer in answers) and len(open_.requests) == 2
        assert pool.endpoints[0].state is EndpointState.DOWN and "HTTP 401" in (pool.endpoints[0].reason or "")

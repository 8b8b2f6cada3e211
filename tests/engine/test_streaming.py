"""Streamed model calls: bounded by the first token, by stalls and in total; reasoning shown as it streams."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import anyio
import pytest

from engine.errors import ModelServerError, ModelTimeout, RequestRefused
from engine.vlm.backend import ChatRequest
from engine.vlm.backends.openai_http import OpenAIHTTPBackend
from engine.vlm.streaming import StreamAssembler, listening
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn

FRAME = {"x": 0, "y": 0, "width": 100, "height": 100}


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections, reads the request and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


async def test_a_server_that_never_answers_fails_at_the_first_token_bound(silent_server: str) -> None:
    backend = OpenAIHTTPBackend(silent_server, "m", retries=0, read_timeout=600, first_token_timeout=0.5)
    try:
        with (
            anyio.fail_after(60),
            pytest.raises(ModelTimeout, match=r"timed out: .* sent no token within 0.5 s \(plan\)"),
        ):
            await backend.chat(ChatRequest(prompt="hi", purpose="plan"))
    finally:
        await backend.aclose()


async def test_a_stream_that_stops_mid_answer_fails_at_the_stall_bound(standin: StandIn) -> None:
    standin.set_scenario(Scenario(frame=FRAME, fault="stall", hang_seconds=30))
    backend = OpenAIHTTPBackend(standin.base_url, "m", retries=0, read_timeout=600, stall_timeout=0.5)
    try:
        with (
            anyio.fail_after(60),
            pytest.raises(ModelTimeout, match=r"timed out: .* stopped mid-answer, nothing for 0.5 s after"),
        ):
            await backend.chat(ChatRequest(prompt="hi", purpose="describe"))
    finally:
        await backend.aclose()


async def test_a_slow_answer_fails_at_the_total_bound(standin: StandIn) -> None:
    standin.set_scenario(Scenario(frame=FRAME, fault="hang", hang_seconds=30))
    backend = OpenAIHTTPBackend(standin.base_url, "m", retries=0, read_timeout=0.5, first_token_timeout=30)
    try:
        with anyio.fail_after(60), pytest.raises(ModelTimeout, match=r"timed out: .* took longer than 0.5 s in all"):
            await backend.chat(ChatRequest(prompt="hi"))
    finally:
        await backend.aclose()


async def test_native_reasoning_streams_to_the_listener_and_the_answer_is_whole(standin: StandIn) -> None:
    standin.set_scenario(Scenario(frame=FRAME, reasoning="native"))
    backend = OpenAIHTTPBackend(standin.base_url, "Qwen/Qwen3-VL-8B-Thinking", retries=0)
    heard: list[str] = []

    async def listen(text: str) -> None:
        heard.append(text)

    try:
        with listening(listen):
            response = await backend.chat(ChatRequest(prompt="hello"))
    finally:
        await backend.aclose()
    body = standin.requests[-1]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert response.reasoning and heard and heard[-1] in " ".join(response.reasoning.split())
    assert response.content == "I see a screen." and response.finish_reason == "stop"
    assert response.prompt_tokens and response.completion_tokens


def _chunk(delta: dict[str, object], finish: str | None = None) -> str:
    return json.dumps({"model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def test_prompted_thinking_inside_the_answer_is_reported_until_think_closes() -> None:
    assembler = StreamAssembler("m")
    shown = [assembler.feed(_chunk({"content": piece})) for piece in ("<think>\n1. Find Save.\n", "2. Click it.\n")]
    after = assembler.feed(_chunk({"content": "</think>\n<tool_call>{}</tool_call>\n"}, "stop"))
    assert shown == ["1. Find Save.", "2. Click it."] and after is None
    assert assembler.response(1.0).content.startswith("<think>") and assembler.finish_reason == "stop"


def test_vllm_reasoning_field_and_usage_chunk_are_read() -> None:
    assembler = StreamAssembler("m")
    assembler.feed(_chunk({"reasoning": "looking\n"}))
    assembler.feed(_chunk({"content": "ok"}, "stop"))
    assembler.feed(json.dumps({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}))
    response = assembler.response(1.0)
    assert (response.reasoning, response.content, response.prompt_tokens, response.completion_tokens) == (
        "looking\n",
        "ok",
        7,
        3,
    )


@pytest.mark.parametrize(
    "event",
    [
        {"error": {"object": "error", "message": "context too long", "type": "BadRequestError", "code": 400}},
        {"object": "error", "message": "context too long", "type": "BadRequestError", "code": 400},
    ],
)
def test_an_error_event_mid_stream_is_a_server_error(event: dict[str, object]) -> None:
    with pytest.raises(ModelServerError, match="failed mid-answer: context too long"):
        StreamAssembler("m").feed(json.dumps(event))


@pytest.mark.parametrize(
    ("event", "refused"),
    [
        ({"error": {"message": "Invalid grammar request", "type": "BadRequestError", "code": 400}}, True),
        ({"object": "error", "message": "Invalid grammar request", "code": 400}, True),
        ({"error": {"message": "scheduler crashed", "type": "InternalServerError", "code": 500}}, False),
        ({"error": {"message": "out of memory"}}, False),
    ],
)
def test_a_4xx_error_event_is_the_requests_fault_not_the_servers(event: dict[str, object], refused: bool) -> None:
    # A pool must not take a healthy server out for a request every server would refuse.
    with pytest.raises(ModelServerError) as failed:
        StreamAssembler("m").feed(json.dumps(event))
    assert isinstance(failed.value, RequestRefused) is refused

"""The stand-in's fixed latency: an answer is sent ``latency_seconds`` after its request arrived, so the
time the stand-in spent reading, decoding and validating the request is part of the latency."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn


class SteppingClock:
    """A clock that moves ``step`` seconds each time it is read: the stand-in reads it when a request
    arrives and again before it waits, so ``step`` is the time it spent on the request in between."""

    def __init__(self, step: float) -> None:
        self.now = 100.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        self.reads += 1
        return value


def chat_body() -> dict[str, object]:
    """A plain question with one real PNG, so the stand-in decodes an image before it waits."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    content = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "What is on screen?"}]
    return {"model": "m", "messages": [{"role": "user", "content": content}]}


@pytest.mark.parametrize(
    ("latency", "spent", "wait"),
    [(0.5, 0.2, 0.3), (0.2, 0.5, 0.0), (0.25, 0.25, 0.0)],
    ids=["waits-the-rest", "already-late", "exactly-spent"],
)
def test_the_wait_is_the_latency_less_the_time_already_spent(latency: float, spent: float, wait: float) -> None:
    clock = SteppingClock(spent)
    with StandIn(clock=clock) as server:
        server.set_scenario(Scenario(latency_seconds=latency))
        response = httpx.post(f"{server.base_url}/chat/completions", json=chat_body(), timeout=10)
        assert response.status_code == 200, response.text
        request = server.requests[-1]
    assert clock.reads == 2  # on arrival (before the body is read) and just before waiting
    assert request["_image_size"] == [64, 48]
    assert request["_latency_wait"] == pytest.approx(wait)


def test_no_latency_means_no_wait() -> None:
    clock = SteppingClock(0.1)
    with StandIn(clock=clock) as server:
        response = httpx.post(f"{server.base_url}/chat/completions", json=chat_body(), timeout=10)
        assert response.status_code == 200, response.text
        assert "_latency_wait" not in server.requests[-1]

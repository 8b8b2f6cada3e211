"""Counting the tokens model calls use, for results that report them.

A tool that calls the model through several layers (``click_text``'s fallback grounds through the
second look, which may ask two or three times) reports what all those calls cost without each layer
passing counts up: :func:`metering` opens a :class:`TokenMeter` that every call made inside the block
adds its server-reported ``usage`` to (a context variable, as :func:`engine.vlm.streaming.listening`
carries its listener, so tasks started inside the block count too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from engine.vlm.backend import ChatResponse

_METERS: ContextVar[tuple[TokenMeter, ...]] = ContextVar("vlm_token_meters", default=())


@dataclass
class TokenMeter:
    """Tokens of the model calls made while it was open."""

    calls: int = 0
    prompt: int = 0
    completion: int = 0
    uncounted: int = 0
    """Calls whose server reported no usage (their tokens are not in ``prompt``/``completion``)."""

    def add(self, response: ChatResponse) -> None:
        """Count one answered call."""
        self.calls += 1
        if response.prompt_tokens is None and response.completion_tokens is None:
            self.uncounted += 1
            return
        self.prompt += response.prompt_tokens or 0
        self.completion += response.completion_tokens or 0

    def as_dict(self) -> dict[str, int]:
        """``{"prompt", "completion", "calls"}`` for a result; empty when no call was counted."""
        if self.calls == self.uncounted:
            return {}
        counted = {"prompt": self.prompt, "completion": self.completion, "calls": self.calls}
        if self.uncounted:
            counted["uncounted_calls"] = self.uncounted
        return counted


@contextmanager
def metering() -> Iterator[TokenMeter]:
    """Count the tokens of the model calls made inside this block (meters nest: an outer one counts them too)."""
    meter = TokenMeter()
    token = _METERS.set((*_METERS.get(), meter))
    try:
        yield meter
    finally:
        _METERS.reset(token)


def record(response: ChatResponse) -> None:
    """Add an answered call to every open meter."""
    for meter in _METERS.get():
        meter.add(response)

"""Streamed answers: reading SGLang's server-sent events, bounding the wait, and showing thinking.

A streamed call is bounded three ways (:class:`StreamLimits`): the first token must come within
``first_token`` seconds, no gap between tokens may exceed ``stall``, and the whole answer must be
done within ``total``. A server that accepts the connection and then says nothing is found out in
``first_token`` seconds instead of the full total.

What a model thinks while it streams reaches whoever listens (:func:`listening`): the server layer
turns it into progress messages for the host, so a Thinking model's minute of reasoning is not a
minute of silence. A context variable carries the listener because the model call sits several
layers below the tool that knows its caller, and those layers should not all grow a parameter for
something only a few hosts show.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ModelServerError, RequestRefused
from engine.vlm.backend import ChatResponse

ReasoningListener = Callable[[str], Awaitable[None]]
"""``await listener(text)``: the latest line of the model's reasoning, while it streams."""

_LISTENER: ContextVar[ReasoningListener | None] = ContextVar("vlm_reasoning_listener", default=None)

REPORT_EVERY_CHARS = 160
"""Reasoning is reported line by line, and at least this often when a line runs long."""
SHOWN_CHARS = 200
"""How much of the latest reasoning a progress message carries."""


@dataclass(frozen=True)
class StreamLimits:
    """How long a streamed model call may take (seconds)."""

    first_token: float = 30.0
    """From sending the request to the first streamed token (SGLang sends its headers with it)."""
    stall: float = 15.0
    """Most time between two streamed events once tokens flow."""
    total: float = 120.0
    """The whole answer."""


@contextmanager
def listening(listener: ReasoningListener | None) -> Iterator[None]:
    """Send streamed reasoning to ``listener`` for model calls made inside this block (and tasks it starts)."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def current_listener() -> ReasoningListener | None:
    """The listener set by the innermost :func:`listening` block, if any."""
    return _LISTENER.get()


def sse_data(line: str) -> str | None:
    """The payload of one ``data:`` line of an event stream (``None`` for other lines)."""
    if not line.startswith("data:"):
        return None
    return line[5:].strip()


@dataclass
class StreamAssembler:
    """Puts a streamed chat completion back together from its ``chat.completion.chunk`` events.

    Reads SGLang's ``delta.reasoning_content`` and vLLM's ``delta.reasoning``; the usage chunk
    (``choices: []``, sent with ``stream_options.include_usage``); and error events
    (``{"error": {...}}``, or the bare error object newer vLLM sends) as :class:`ModelServerError`.
    """

    model: str
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    events: int = 0
    """Data events carrying a token (content or reasoning)."""
    _unreported: str = ""

    def feed(self, payload: str) -> str | None:
        """Take one event's payload; returns reasoning text worth reporting now, if any."""
        try:
            chunk = json.loads(payload)
        except ValueError as exc:
            raise ModelServerError(f"the model server streamed something that is not JSON: {payload[:300]}") from exc
        if not isinstance(chunk, dict):
            raise ModelServerError(f"the model server streamed an unexpected event: {payload[:300]}")
        error = chunk.get("error")
        if error is not None or chunk.get("object") == "error":
            detail = error if isinstance(error, dict) else chunk
            message = f"the model server failed mid-answer: {str(detail.get('message') or detail)[:300]}"
            code = detail.get("code")
            if isinstance(code, int) and 400 <= code < 500:
                # SGLang streams a request it aborts (a schema its grammar backend cannot compile) as an
                # error event with the status it would have answered: the request's fault, not the server's.
                raise RequestRefused(message)
            raise ModelServerError(message)
        if isinstance(chunk.get("model"), str) and chunk["model"]:
            self.model = chunk["model"]
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = usage.get("prompt_tokens", self.prompt_tokens)
            self.completion_tokens = usage.get("completion_tokens", self.completion_tokens)
        choices = chunk.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            return None
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        delta = choice.get("delta") or {}
        thought = delta.get("reasoning_content") or delta.get("reasoning") or ""
        text = delta.get("content") or ""
        if thought or text:
            self.events += 1
        if thought:
            self.reasoning.append(str(thought))
        if text:
            self.content.append(str(text))
            if self._thinking_inline():
                thought = text
        return self._to_report(str(thought)) if thought else None

    def _thinking_inline(self) -> bool:
        # A prompted model (or a Thinking model without a reasoning parser) thinks inside the answer.
        so_far = "".join(self.content)
        return so_far.lstrip().startswith("<think>") and "</think>" not in so_far

    def _to_report(self, text: str) -> str | None:
        self._unreported += text
        if "\n" not in text and len(self._unreported) < REPORT_EVERY_CHARS:
            return None
        shown = " ".join(self._unreported.replace("<think>", "").split())
        self._unreported = ""
        return shown[-SHOWN_CHARS:] or None

    def response(self, latency_ms: float) -> ChatResponse:
        """The assembled answer."""
        reasoning = "".join(self.reasoning)
        return ChatResponse(
            content="".join(self.content),
            reasoning=reasoning or None,
            model=self.model,
            finish_reason=self.finish_reason,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            latency_ms=latency_ms,
        )


def completion_from_json(payload: Any, model: str, latency_ms: float, text: str) -> ChatResponse:
    """A non-streamed ``chat.completion`` body as a :class:`ChatResponse` (servers that ignore ``stream``)."""
    try:
        choice = payload["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError) as exc:
        raise ModelServerError(f"the model server's response is not a chat completion: {text[:300]}") from exc
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    usage = payload.get("usage") or {}
    return ChatResponse(
        content=str(content),
        reasoning=str(reasoning) if reasoning else None,
        model=str(payload.get("model") or model),
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        latency_ms=latency_ms,
    )

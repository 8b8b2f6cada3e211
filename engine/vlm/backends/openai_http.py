"""Backend for SGLang (or vLLM) over the OpenAI-compatible ``/v1/chat/completions`` API."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx

from engine.errors import ModelError, ModelServerError, ModelTimeout, ModelUnavailable, RequestRefused
from engine.vlm.backend import ChatRequest, ChatResponse
from engine.vlm.imaging import png_data_url
from engine.vlm.presets import Preset
from engine.vlm.streaming import StreamAssembler, StreamLimits, completion_from_json, current_listener, sse_data

log = logging.getLogger(__name__)

_RETRY_STATUS = {502, 503, 504}
_SERVER_SIDE_4XX = {401, 403, 404, 408, 429}
"""4xx answers about the server rather than the request (its key, the model it serves, its load): another
server may well answer the same request, so they are not :class:`RequestRefused`."""


class CircuitBreaker:
    """Fails fast after ``threshold`` consecutive failures, for ``cooldown`` seconds.

    After the cooldown one request is let through; its success closes the circuit again.
    """

    def __init__(self, threshold: int = 3, cooldown: float = 10.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._failures = 0
        self._opened_at: float | None = None

    def check(self) -> None:
        """Raise :class:`ModelUnavailable` while the circuit is open."""
        if self._opened_at is None:
            return
        remaining = self.cooldown - (time.monotonic() - self._opened_at)
        if remaining > 0:
            raise ModelUnavailable(
                f"the model server failed {self._failures} times in a row; not retrying for another {remaining:.0f} s"
            )

    def record(self, ok: bool) -> None:
        """Count one outcome."""
        if ok:
            self._failures = 0
            self._opened_at = None
            return
        self._failures += 1
        if self._failures >= self.threshold:
            self._opened_at = time.monotonic()


class OpenAIHTTPBackend:
    """Talks to SGLang's OpenAI-compatible server.

    Images go as PNG data URLs before the text. Model calls never act on the desktop, so failed
    connections and 502/503/504 are retried (bounded, with backoff); a read timeout is not, since
    the server may still be busy with the first request.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        first_token_timeout: float = 30.0,
        stall_timeout: float = 15.0,
        retries: int = 2,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        preset: Preset | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._model = model
        self.preset = preset
        """The model's preset when its name does not select it (see :func:`engine.vlm.backend.backend_preset`)."""
        self.retries = retries
        self.limits = StreamLimits(
            min(first_token_timeout, read_timeout), min(stall_timeout, read_timeout), read_timeout
        )
        self.breaker = breaker or CircuitBreaker()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
            transport=transport,
        )

    @property
    def model_name(self) -> str:
        """The model name sent with each request."""
        return self._model

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        content: list[dict[str, Any]] = []
        if request.image_png is not None:
            content.append({"type": "image_url", "image_url": {"url": png_data_url(request.image_png)}})
        content.append({"type": "text", "text": request.prompt})
        messages.append({"role": "user", "content": content})
        body: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        for key, value in (
            ("top_p", request.top_p),
            ("top_k", request.top_k),
            ("presence_penalty", request.presence_penalty),
        ):
            if value is not None:
                body[key] = value
        body.update(request.extra_body)
        return body

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """Send one turn and read the streamed answer, bounded by :class:`StreamLimits`.

        Maps transport and protocol failures to engine errors; streamed reasoning goes to the
        :func:`~engine.vlm.streaming.listening` listener as it arrives.
        """
        self.breaker.check()
        body = self._body(request)
        started = time.perf_counter()
        try:
            with anyio.fail_after(self.limits.total):
                response = await self._stream_with_retries(body, request, started)
        except TimeoutError as exc:
            self.breaker.record(False)
            raise AnswerTimeout(
                f"timed out: the model's answer took longer than {self.limits.total:g} s in all ({request.purpose}) at "
                f"{self.base_url}; ask for less (a smaller region, fewer reasoning steps) or raise model.read_timeout"
            ) from exc
        except ModelError as exc:
            self.breaker.record(isinstance(exc, RequestRefused))  # a refused request says the server is up
            raise
        self.breaker.record(True)
        return response

    async def _stream_with_retries(self, body: dict[str, Any], request: ChatRequest, started: float) -> ChatResponse:
        attempt = 0
        while True:
            try:
                return await self._stream(body, request, started)
            except _Retryable as exc:
                if attempt >= self.retries:
                    raise exc.error from exc.__cause__
                attempt += 1
                await anyio.sleep(0.25 * 2**attempt)

    async def _stream(self, body: dict[str, Any], request: ChatRequest, started: float) -> ChatResponse:
        listener = current_listener()
        clock = _Clock(self.limits, self.base_url, request.purpose)
        async with contextlib.AsyncExitStack() as stack:
            try:
                with clock.bound():
                    response = await stack.enter_async_context(
                        self._client.stream("POST", "/chat/completions", json=body)
                    )
            except httpx.ConnectTimeout as exc:
                raise _Retryable(ModelTimeout(f"timed out connecting to the model server at {self.base_url}")) from exc
            except httpx.TimeoutException as exc:
                raise ModelTimeout(
                    f"timed out waiting for the model server at {self.base_url} ({request.purpose})"
                ) from exc
            except httpx.TransportError as exc:
                raise _Retryable(
                    ModelUnavailable(f"cannot reach the model server at {self.base_url}: {exc.__class__.__name__}")
                ) from exc
            if response.status_code != 200:
                with clock.bound():
                    await response.aread()
                error = ModelServerError(
                    f"the model server answered HTTP {response.status_code}: {_error_message(response)}"
                )
                if response.status_code in _RETRY_STATUS:
                    raise _Retryable(error)
                if response.status_code < 500 and response.status_code not in _SERVER_SIDE_4XX:
                    raise RequestRefused(str(error))
                raise error
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                with clock.bound():  # a server that ignores "stream" answers in one piece
                    raw = await response.aread()
                try:
                    payload = json.loads(raw)
                except ValueError as exc:
                    raise ModelServerError(
                        f"the model server's response is not a chat completion: {raw[:300]!r}"
                    ) from exc
                return completion_from_json(payload, self._model, _ms_since(started), response.text)
            assembler = StreamAssembler(self._model)
            lines = response.aiter_lines()
            while True:
                try:
                    with clock.bound():
                        line = await anext(lines)
                except StopAsyncIteration:
                    break
                except httpx.TransportError as exc:
                    raise ModelServerError(
                        f"the model server at {self.base_url} broke off its answer ({request.purpose}): "
                        f"{exc.__class__.__name__}"
                    ) from exc
                data = sse_data(line)
                if data is None or not data:
                    continue
                if data == "[DONE]":
                    break
                shown = assembler.feed(data)
                clock.tokens = assembler.events
                if shown and listener is not None:
                    await listener(shown)
        return assembler.response(_ms_since(started))

    async def models(self) -> list[str]:
        """The model ids the server serves (``GET /v1/models``)."""
        try:
            response = await self._client.get("/models")
            response.raise_for_status()
            return [str(m.get("id")) for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError) as exc:
            raise ModelUnavailable(f"cannot list models at {self.base_url}: {exc}") from exc

    @property
    def root_url(self) -> str:
        """The server's root, where SGLang's own endpoints live (the base URL without ``/v1``)."""
        return self.base_url.removesuffix("/v1")

    async def server_get(self, path: str, timeout: float = 5.0) -> Any:
        """``GET`` one of the server's own endpoints (``/health``, ``/get_model_info``...): its JSON, or None.

        Raises :class:`ModelUnavailable` when the server does not answer it with HTTP 200.
        """
        try:
            response = await self._client.get(self.root_url + path, timeout=timeout)
        except httpx.HTTPError as exc:
            raise ModelUnavailable(f"{self.root_url}{path} did not answer: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise ModelUnavailable(f"{self.root_url}{path} answered HTTP {response.status_code}")
        try:
            return response.json() if response.content else None
        except ValueError:
            return None

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _error_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
        if payload.get("message"):
            return str(payload["message"])[:300]
    return str(payload)[:300]


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class AnswerTimeout(ModelTimeout):
    """The whole answer took longer than ``read_timeout``: the server was working on it, not dead.

    Sending it to another server would wait that long again, so a pool does not retry it elsewhere.
    """


class _Retryable(Exception):
    """A failure before the answer began that another attempt may not meet (carries the error to raise)."""

    def __init__(self, error: ModelError) -> None:
        super().__init__(str(error))
        self.error = error


class _Clock:
    """The deadline for the next thing a stream must deliver: its first token, then each next event."""

    def __init__(self, limits: StreamLimits, url: str, purpose: str) -> None:
        self.limits = limits
        self.url = url
        self.purpose = purpose
        self.tokens = 0

    @contextlib.contextmanager
    def bound(self) -> Iterator[None]:
        """Raise :class:`ModelTimeout` if the block outlasts the current phase's limit."""
        first = self.tokens == 0
        limit = self.limits.first_token if first else self.limits.stall
        try:
            with anyio.fail_after(limit):
                yield
        except TimeoutError as exc:
            if first:
                message = (
                    f"timed out: the model server at {self.url} accepted the request but sent no token "
                    f"within {limit:g} s ({self.purpose}); it may be loading, overloaded or stuck: "
                    "check its log or its /health_generate"
                )
            else:
                message = (
                    f"timed out: the model server at {self.url} stopped mid-answer, nothing for {limit:g} s after "
                    f"{self.tokens} streamed tokens ({self.purpose}); check its log"
                )
            raise ModelTimeout(message) from exc

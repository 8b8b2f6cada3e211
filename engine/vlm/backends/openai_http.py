"""Backend for SGLang (or vLLM) over the OpenAI-compatible ``/v1/chat/completions`` API."""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import httpx

from engine.errors import ModelServerError, ModelTimeout, ModelUnavailable
from engine.vlm.backend import ChatRequest, ChatResponse
from engine.vlm.imaging import png_data_url

log = logging.getLogger(__name__)

_RETRY_STATUS = {502, 503, 504}


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
        retries: int = 2,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._model = model
        self.retries = retries
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
            "stream": False,
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
        """Send one turn; map transport and protocol failures to engine errors."""
        self.breaker.check()
        body = self._body(request)
        started = time.perf_counter()
        attempt = 0
        while True:
            try:
                response = await self._client.post("/chat/completions", json=body)
            except httpx.TimeoutException as exc:
                self.breaker.record(False)
                if isinstance(exc, httpx.ConnectTimeout) and attempt < self.retries:
                    attempt += 1
                    await anyio.sleep(0.25 * 2**attempt)
                    continue
                kind = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
                raise ModelTimeout(f"timed out {kind} the model server at {self.base_url} ({request.purpose})") from exc
            except httpx.TransportError as exc:
                self.breaker.record(False)
                if attempt < self.retries:
                    attempt += 1
                    await anyio.sleep(0.25 * 2**attempt)
                    continue
                raise ModelUnavailable(
                    f"cannot reach the model server at {self.base_url}: {exc.__class__.__name__}"
                ) from exc
            if response.status_code in _RETRY_STATUS and attempt < self.retries:
                attempt += 1
                await anyio.sleep(0.25 * 2**attempt)
                continue
            break
        if response.status_code != 200:
            self.breaker.record(response.status_code < 500)
            raise ModelServerError(f"the model server answered HTTP {response.status_code}: {_error_message(response)}")
        self.breaker.record(True)
        return _parse_completion(response, self._model, (time.perf_counter() - started) * 1000)

    async def models(self) -> list[str]:
        """The model ids the server serves (``GET /v1/models``)."""
        try:
            response = await self._client.get("/models")
            response.raise_for_status()
            return [str(m.get("id")) for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError) as exc:
            raise ModelUnavailable(f"cannot list models at {self.base_url}: {exc}") from exc

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


def _parse_completion(response: httpx.Response, model: str, latency_ms: float) -> ChatResponse:
    try:
        payload = response.json()
        choice = payload["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ModelServerError(f"the model server's response is not a chat completion: {response.text[:300]}") from exc
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

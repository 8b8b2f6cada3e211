"""Several model servers as one backend: requests spread over the usable ones, a failed one is skipped
until it recovers.

:class:`EndpointPool` is a :class:`~engine.vlm.backend.ChatBackend` over several
:class:`~engine.vlm.backends.openai_http.OpenAIHTTPBackend` s serving the same model. Each request goes
to the usable endpoint with the fewest requests in flight (ties in turn). An endpoint that refuses the
connection, answers 5xx, sends no first token in time or breaks off mid-answer is taken out, and the
request is sent to another one: model calls never act on the desktop, so a request that failed before
its answer was complete can be asked again elsewhere and none is lost. Two failures are the request's
own and are not retried elsewhere: a 4xx (:class:`~engine.errors.RequestRefused`, another server would
refuse it too; not 401, 403, 404, 408 or 429, which are about the server: its key, the model it serves,
its load) and an answer that outlasted ``read_timeout`` in all
(:class:`~engine.vlm.backends.openai_http.AnswerTimeout`, another server would take as long).

An endpoint is used only after it answered ``/health`` and passed ``vet`` (the grounding canary, in
the server: :func:`engine.vlm.trust.canary_vet`); one that fails the canary is *untrusted* and taken
out like a dead one. Taken-out endpoints are probed again (``/health``, then ``vet``) with backoff,
by :meth:`EndpointPool.watch` in the background and at once whenever a request finds no usable
endpoint; a healthy one is brought back. When none can answer, :class:`ModelUnavailable` names each
endpoint and why (:class:`ModelUntrusted` when every one failed the canary).

One URL of an SGLang router (``sglang_router``) needs no pool: the router spreads requests itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import anyio

from engine.errors import ModelError, ModelUnavailable, ModelUntrusted
from engine.vlm.backend import ChatRequest, ChatResponse, backend_preset
from engine.vlm.backends.openai_http import AnswerTimeout, OpenAIHTTPBackend, RequestRefused
from engine.vlm.presets import Preset

log = logging.getLogger(__name__)

Vet = Callable[[OpenAIHTTPBackend], Awaitable[None]]
"""Checks an endpoint before it is used: raises :class:`ModelUntrusted` when it must not be (its
grounding is off), another :class:`ModelError` when it did not answer."""


class EndpointState(StrEnum):
    """Where an endpoint stands: only ``up`` endpoints get requests."""

    UNCHECKED = "unchecked"
    """Not probed and vetted yet."""
    UP = "up"
    DOWN = "down"
    """It failed a request or its ``/health``."""
    UNTRUSTED = "untrusted"
    """It answers, but failed ``vet`` (the grounding canary)."""


@dataclass(eq=False)
class Endpoint:
    """One model server of the pool and what the pool knows about it."""

    backend: OpenAIHTTPBackend
    state: EndpointState
    reason: str | None = None
    """Why it is out (``down`` or ``untrusted``)."""
    in_flight: int = 0
    answered: int = 0
    """Requests it answered."""
    failures: int = 0
    """Failed requests and probes since it last answered a request: the backoff grows with them."""
    next_probe: float = 0.0
    probed_at: float | None = None
    lock: anyio.Lock = field(default_factory=anyio.Lock)

    @property
    def url(self) -> str:
        """The server's root URL."""
        return self.backend.root_url


class EndpointPool:
    """A :class:`~engine.vlm.backend.ChatBackend` over several servers of one model (see the module docs).

    ``retries`` is how many more rounds a request makes, with backoff, once every endpoint has failed
    it; ``probe_interval`` the first wait before a failed endpoint is probed again (doubling per failed
    probe, up to ``max_probe_interval``); ``health_interval`` how often :meth:`watch` checks the
    ``/health`` of endpoints in use.
    """

    def __init__(
        self,
        backends: Sequence[OpenAIHTTPBackend],
        *,
        vet: Vet | None = None,
        retries: int = 2,
        probe_interval: float = 1.0,
        max_probe_interval: float = 30.0,
        health_interval: float = 10.0,
        health_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not backends:
            raise ValueError("an endpoint pool needs at least one model server URL")
        names = sorted({backend.model_name for backend in backends})
        if len(names) > 1:
            raise ValueError(f"the endpoints of one pool serve one model, not {', '.join(names)}")
        urls = [backend.root_url for backend in backends]
        if len(set(urls)) < len(urls):
            raise ValueError(f"a model server is listed twice: {', '.join(urls)}")
        start = EndpointState.UP if vet is None else EndpointState.UNCHECKED
        self.endpoints = [Endpoint(backend, start) for backend in backends]
        self.vet = vet
        self.retries = retries
        self.probe_interval = probe_interval
        self.max_probe_interval = max_probe_interval
        self.health_interval = health_interval
        self.health_timeout = health_timeout
        self._clock = clock
        self._turn = 0

    @property
    def model_name(self) -> str:
        """The model every endpoint serves."""
        return self.endpoints[0].backend.model_name

    @property
    def preset(self) -> Preset:
        """The preset of the model every endpoint serves."""
        return backend_preset(self.endpoints[0].backend)

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """Answer ``request`` on the least busy usable endpoint, on another one if that one fails.

        Raises :class:`ModelUnavailable` (:class:`ModelUntrusted` when every endpoint failed the
        canary) naming each endpoint and why, when none answered after ``retries`` more rounds.
        """
        failed: dict[Endpoint, str] = {}
        rounds = 0
        while True:
            endpoint = self._pick(failed)
            if endpoint is None:
                if await self._bring_back(failed):
                    continue
                if rounds >= self.retries:
                    raise self._nobody(request, failed)
                rounds += 1
                await anyio.sleep(0.25 * 2**rounds)
                failed.clear()
                continue
            endpoint.in_flight += 1
            try:
                response = await endpoint.backend.chat(request)
            except (RequestRefused, AnswerTimeout):
                raise
            except ModelError as exc:
                failed[endpoint] = str(exc)
                self._take_out(endpoint, EndpointState.DOWN, str(exc), probed=False)
                continue
            finally:
                endpoint.in_flight -= 1
            endpoint.answered += 1
            endpoint.failures = 0
            return response

    def _pick(self, failed: dict[Endpoint, str]) -> Endpoint | None:
        """The usable endpoint with the fewest requests in flight; among equals, the next in turn."""
        count = len(self.endpoints)
        order = [self.endpoints[(self._turn + i) % count] for i in range(count)]
        usable = [e for e in order if e.state is EndpointState.UP and e not in failed]
        if not usable:
            return None
        chosen = min(usable, key=lambda e: e.in_flight)  # min keeps the first of equals: the next in turn
        self._turn = (self.endpoints.index(chosen) + 1) % count
        return chosen

    async def _bring_back(self, failed: dict[Endpoint, str]) -> bool:
        """Probe every endpoint that is not up, now; whether one this request has not failed on is up."""
        waiting = [e for e in self.endpoints if e.state is not EndpointState.UP]
        async with anyio.create_task_group() as group:
            for endpoint in waiting:
                group.start_soon(self._probe, endpoint, True)
        return any(e.state is EndpointState.UP and e not in failed for e in self.endpoints)

    async def _probe(self, endpoint: Endpoint, urgent: bool) -> None:
        """``/health``, then ``vet`` unless the endpoint was up: it is up, down or untrusted after.

        A request with no endpoint to go to (``urgent``) waits for a probe already running rather than
        starting its own, and does not repeat one made a moment ago; :meth:`watch` skips a busy one.
        """
        if endpoint.lock.locked() and not urgent:
            return
        async with endpoint.lock:
            was = endpoint.state
            recent = endpoint.probed_at is not None and self._clock() - endpoint.probed_at < self.probe_interval / 2
            if urgent and (was is EndpointState.UP or recent):
                return
            try:
                await endpoint.backend.server_get("/health", timeout=self.health_timeout)
                if self.vet is not None and was is not EndpointState.UP:
                    await self.vet(endpoint.backend)
            except ModelUntrusted as exc:
                self._take_out(endpoint, EndpointState.UNTRUSTED, str(exc), probed=True)
            except ModelError as exc:
                self._take_out(endpoint, EndpointState.DOWN, str(exc), probed=True)
            else:
                # failures stay counted until it answers a request: a server whose /health answers while
                # its model hangs costs a request only every so often, at a growing interval
                endpoint.state, endpoint.reason = EndpointState.UP, None
                endpoint.next_probe = self._clock() + self.health_interval
                if was is not EndpointState.UP:
                    log.info(
                        "model server %s is %s", endpoint.url, "back" if was is not EndpointState.UNCHECKED else "up"
                    )
            finally:
                endpoint.probed_at = self._clock()

    def _take_out(self, endpoint: Endpoint, state: EndpointState, reason: str, *, probed: bool) -> None:
        if endpoint.state is not state or endpoint.reason != reason:
            others = sum(e.state is EndpointState.UP and e is not endpoint for e in self.endpoints)
            log.warning("model server %s is %s (%s); %d other(s) in use", endpoint.url, state.value, reason, others)
        if probed or endpoint.state is EndpointState.UP:  # the requests that were in flight there fail once, together
            endpoint.failures += 1
        endpoint.state, endpoint.reason = state, reason
        wait = min(self.max_probe_interval, self.probe_interval * 2 ** (endpoint.failures - 1))
        endpoint.next_probe = self._clock() + wait

    def _nobody(self, request: ChatRequest, failed: dict[Endpoint, str]) -> ModelUnavailable:
        why = "; ".join(f"{e.url}: {e.state.value}, {failed.get(e) or e.reason or 'no answer'}" for e in self.endpoints)
        message = (
            f"none of the {len(self.endpoints)} model servers could answer ({request.purpose}): {why}. "
            "Start or fix them, or list only working ones in model.base_urls"
        )
        if all(e.state is EndpointState.UNTRUSTED for e in self.endpoints):
            return ModelUntrusted(message)
        return ModelUnavailable(message)

    async def refresh(self) -> None:
        """Probe (and vet) every endpoint now, e.g. at start-up so the first request need not wait."""
        async with anyio.create_task_group() as group:
            for endpoint in self.endpoints:
                if endpoint.state is not EndpointState.UP:
                    group.start_soon(self._probe, endpoint, True)

    async def probe_due(self) -> None:
        """Probe each endpoint whose turn has come: taken-out ones after their backoff, used ones every
        ``health_interval`` (a used one whose ``/health`` fails is taken out before a request finds out)."""
        now = self._clock()
        async with anyio.create_task_group() as group:
            for endpoint in self.endpoints:
                if endpoint.next_probe <= now:
                    group.start_soon(self._probe, endpoint, False)

    async def watch(self, tick: float = 0.5) -> None:
        """Probe due endpoints every ``tick`` seconds until cancelled (run it in a task group)."""
        while True:
            await self.probe_due()
            await anyio.sleep(tick)

    def summary(self) -> str:
        """One line per endpoint: its URL, state, load and, when out, why."""
        return "\n".join(
            f"{e.url}: {e.state.value}, {e.in_flight} in flight, {e.answered} answered"
            + (f" ({e.reason})" if e.reason else "")
            for e in self.endpoints
        )

    async def aclose(self) -> None:
        """Close every endpoint's connections."""
        for endpoint in self.endpoints:
            await endpoint.backend.aclose()

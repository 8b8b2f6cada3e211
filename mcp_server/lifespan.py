"""The lifespan: the shared runtime (model backend, capture, input, OCR, policy, audit log) opened
once from the settings and closed once. Each layer's settings arrive as they are configured; nothing
here copies them field by field."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import anyio

from engine.errors import ModelError
from engine.ocr.cache import ScreenReader
from engine.ocr.reader import OcrEngine, OcrUnavailable
from engine.vlm.backend import ChatBackend
from engine.vlm.backends.openai_http import CircuitBreaker, OpenAIHTTPBackend
from engine.vlm.backends.pool import EndpointPool
from engine.vlm.canary import Verdict
from engine.vlm.presets import Preset
from engine.vlm.trust import CanaryMode, GroundingGate, VerdictCache, canary_vet
from engine.vlm.vision import VisionEngine
from mcp_server.config import Settings, audit_path, canary_cache_path
from mcp_server.remedies import remedy
from tools.desktop.a11y.reader import A11yReader
from tools.desktop.capture import MssCapturer
from tools.desktop.inputs import PyAutoGuiDriver
from tools.errors import AuditUnavailable
from tools.runtime import Runtime
from tools.safety.audit import AuditLog
from tools.safety.policy import RateLimiter
from tools.snapshots import SnapshotStore

log = logging.getLogger(__name__)


Role = Literal["planner", "grounder"]
"""Who a backend serves: the planner (``plan_next_action``) or the grounder (describe, locate, second look)."""


def make_backend(settings: Settings, role: Role = "planner") -> ChatBackend | None:
    """The configured model backend for ``role`` (``None`` for ``backend: none``).

    One URL gives one :class:`OpenAIHTTPBackend`; several (``model.base_urls``) an :class:`EndpointPool`
    over them, each endpoint vetted by the grounding canary unless ``model.canary`` is off.
    """
    model = settings.model
    if model.backend == "none":
        return None
    name = model.name if role == "planner" else model.grounder_name
    if model.backend == "transformers":
        from engine.vlm.backends.transformers_backend import TransformersBackend

        return TransformersBackend(
            name, device=model.device, max_pixels=model.engine.max_image_pixels, preset=model.preset_of(role)
        )
    urls = model.endpoints if role == "planner" else model.grounder_endpoints
    api_key = model.api_key
    if role == "grounder" and model.grounder is not None and model.grounder.api_key:
        api_key = model.grounder.api_key
    preset = model.preset_of(role)
    if len(urls) == 1:
        return _http_backend(settings, urls[0], name, api_key, preset, retries=model.retries)
    # The pool is each endpoint's circuit breaker and retries elsewhere: an endpoint fails over at once.
    endpoints = [
        _http_backend(settings, url, name, api_key, preset, retries=0, breaker=CircuitBreaker(cooldown=0))
        for url in urls
    ]
    vet = None
    if judged(settings, role):
        vet = canary_vet(
            lambda backend: VisionEngine(backend, model.engine),
            mode=model.canary,
            bound_px=model.canary_bound_px,
            cache=VerdictCache(model.canary_cache or canary_cache_path(None)),
        )
    return EndpointPool(endpoints, vet=vet, retries=model.retries)


def _http_backend(
    settings: Settings,
    url: str,
    name: str,
    api_key: str | None,
    preset: Preset | None,
    *,
    retries: int,
    breaker: CircuitBreaker | None = None,
) -> OpenAIHTTPBackend:
    model = settings.model
    return OpenAIHTTPBackend(
        url,
        name,
        api_key=api_key,
        preset=preset,
        connect_timeout=model.connect_timeout,
        read_timeout=model.read_timeout,
        first_token_timeout=model.first_token_timeout,
        stall_timeout=model.stall_timeout,
        retries=retries,
        breaker=breaker,
    )


def make_grounder(settings: Settings) -> ChatBackend | None:
    """The grounder's own backend when ``model.grounder`` names another model or other servers, else ``None``
    (the planner's backend grounds too)."""
    return make_backend(settings, "grounder") if settings.model.split_roles else None


def judged(settings: Settings, role: Role) -> bool:
    """Whether the grounding canary judges ``role``'s model before it is used.

    The grounder always (its boxes are clicked), and one model that does both. A separate planner only
    when ``desktop.second_look`` is off: its clicks' coordinates are clicked as it gave them then, and a
    serving-engine regression moves them as much as any box. With the second look on, the grounder
    grounds every click the planner proposes again before it is clicked, so the planner's pointing is
    checked where it matters, and a Thinking planner (which grounds worse, and reasons at length before
    a point) is not refused for pointing it is never trusted with.
    """
    if settings.model.canary is CanaryMode.OFF:
        return False
    return role == "grounder" or not settings.model.split_roles or not settings.desktop.second_look


def make_engine(settings: Settings, backend: ChatBackend, grounder: ChatBackend | None = None) -> VisionEngine:
    """The vision engine over the planner ``backend`` (and ``grounder``), gated by the canary as :func:`judged`
    says. A pool vets each of its servers itself, so it needs no gate."""
    return VisionEngine(
        backend,
        settings.model.engine,
        gate=_gate(settings, backend, "planner"),
        grounder=grounder,
        grounder_gate=None if grounder is None else _gate(settings, grounder, "grounder"),
    )


def _gate(settings: Settings, backend: ChatBackend, role: Role) -> GroundingGate | None:
    model = settings.model
    if not judged(settings, role) or isinstance(backend, EndpointPool):
        return None
    return GroundingGate(
        VisionEngine(backend, model.engine),
        backend,
        mode=model.canary,
        bound_px=model.canary_bound_px,
        cache=VerdictCache(model.canary_cache or canary_cache_path(None)),
    )


async def startup_canary(settings: Settings) -> Verdict | None:
    """Run (or read back) the grounding self-test of the configured model now, and log its verdict.

    ``None`` when the canary is off, there is no HTTP model, or the model could not be asked (logged).
    """
    backend = make_backend(settings)
    if backend is None:
        return None
    try:
        engine = make_engine(settings, backend)
        if engine.gate is None:
            return None
        try:
            return await engine.gate.judge()
        except ModelError as exc:
            log.warning("the grounding self-test could not ask the model (%s); it runs again at the first call", exc)
            return None
    finally:
        await backend.aclose()


def make_screen_reader(settings: Settings, *, force: bool = False) -> ScreenReader | None:
    """The OCR reader from the ocr section (``None`` when OCR is off, unless ``force``); loads lazily."""
    if not (settings.ocr.enabled or force):
        return None
    return ScreenReader(OcrEngine(settings.ocr))


def make_audit(settings: Settings) -> AuditLog:
    """The audit log from the audit section (not opened yet)."""
    return AuditLog.from_settings(audit_path(settings), settings.audit)


async def _check_model(backend: ChatBackend) -> None:
    servers = [e.backend for e in backend.endpoints] if isinstance(backend, EndpointPool) else [backend]
    for server in servers:
        if not isinstance(server, OpenAIHTTPBackend):
            continue
        with anyio.move_on_after(3):
            try:
                served = await server.models()
            except ModelError as exc:
                log.warning("model server not reachable yet (%s); tools that need it will fail until it is", exc)
                continue
            log.info("model server at %s serves %s", server.base_url, ", ".join(served) or "no models")


class SharedRuntime:
    """One runtime per process, shared by every session (SSE opens the lifespan per connection).

    Reference-counted: the first session opens it, the last one closes it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None
        self._users = 0
        self._lock = anyio.Lock()
        self._backend: ChatBackend | None = None
        self._grounder: ChatBackend | None = None
        self._capturer: MssCapturer | None = None
        self._reader: ScreenReader | None = None
        self._a11y: A11yReader | None = None
        # Policy, rate limit and audit log outlive sessions: reconnecting must not reset the rate limit.
        self.policy = settings.policy
        self.limiter = RateLimiter(self.policy.rate_limit_actions, self.policy.rate_limit_seconds)
        self.audit = make_audit(settings)

    def open_audit(self) -> None:
        """Open the audit log now: interrupted actions are reported at start-up, not at the first call.

        A log that cannot be opened is logged; execute_action then refuses to act until it can write.
        """
        try:
            self.audit.open()
        except AuditUnavailable as exc:
            log.warning("%s%s execute_action will refuse to act until it can be written.", exc, remedy(exc))

    async def _open(self) -> Runtime:
        await anyio.to_thread.run_sync(self.open_audit)
        self._backend = make_backend(self.settings)
        self._grounder = None if self._backend is None else make_grounder(self.settings)
        engine = None if self._backend is None else make_engine(self.settings, self._backend, self._grounder)
        for backend in (self._backend, self._grounder):
            if backend is not None:
                await _check_model(backend)
        self._capturer = MssCapturer()
        desktop = self.settings.desktop
        if desktop.accessibility:  # connects when first used: a desktop without the bus costs nothing until then
            self._a11y = A11yReader(None, desktop.accessibility_max_nodes, desktop.accessibility_max_seconds)
        self._reader = make_screen_reader(self.settings)
        if self._reader is not None:
            try:  # load now: the first describe_screen should not pay for it, and a broken install shows here
                await anyio.to_thread.run_sync(self._reader.engine.load)
            except OcrUnavailable as exc:
                log.warning("OCR is not available (%s); describe_screen will use the model alone", exc)
                self._reader = None
        driver = PyAutoGuiDriver(pause=self.settings.desktop.pause, failsafe=self.settings.desktop.failsafe)
        try:
            await anyio.to_thread.run_sync(driver.load)
        except Exception as exc:  # the server still starts; desktop tools report the problem
            log.warning("desktop input is not available: %s", exc)
        return Runtime(
            self.settings.desktop,
            engine,
            self._capturer,
            driver,
            SnapshotStore(),
            policy=self.policy,
            limiter=self.limiter,
            audit=self.audit,
            ocr=self._reader,
            a11y=self._a11y,
        )

    async def self_test(self) -> None:
        """Run (or read back) the grounding self-test of the configured model(s), so verdicts are ready
        before the first tool asks; a model that cannot be asked yet is tried again at the first call.

        Pools of several servers are then watched until cancelled: a failed server is probed again with
        backoff and brought back when it recovers, a used one is dropped when its ``/health`` fails.
        """
        runtime = self.runtime
        engine = None if runtime is None else runtime.engine
        if engine is None:
            return
        for gate in {id(g): g for g in (engine.gate, engine.grounder_gate) if g is not None}.values():
            try:
                await gate.judge()
            except ModelError as exc:
                log.warning(
                    "the grounding self-test could not ask the model (%s); it runs again at the first call", exc
                )
        pools = {id(b): b for b in (engine.backend, engine.grounder) if isinstance(b, EndpointPool)}
        if not pools:
            return
        async with anyio.create_task_group() as group:
            for pool in pools.values():
                await pool.refresh()
                log.info("model servers of %s:\n%s", pool.model_name, pool.summary())
                group.start_soon(pool.watch)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Runtime]:
        """Use the runtime for the duration of one session."""
        async with self._lock:
            if self.runtime is None:
                self.runtime = await self._open()
            self._users += 1
        try:
            yield self.runtime
        finally:
            async with self._lock:
                self._users -= 1
                if self._users == 0:
                    await self.close()

    async def close(self) -> None:
        """Release the backend and capture handles."""
        for backend in (self._backend, self._grounder):
            if backend is not None:
                await backend.aclose()
        if self._capturer is not None:
            self._capturer.close()
        if self._reader is not None:
            await anyio.to_thread.run_sync(self._reader.engine.close)
        if self._a11y is not None:
            self._a11y.close()
        self._reader = None
        self._a11y = None
        self.runtime = None
        self._backend = None
        self._grounder = None
        self._capturer = None

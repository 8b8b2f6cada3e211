"""The lifespan: the shared runtime (model backend, capture, input, OCR, policy, audit log) opened
once from the settings and closed once. Each layer's settings arrive as they are configured; nothing
here copies them field by field."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from engine.errors import ModelError
from engine.ocr.cache import ScreenReader
from engine.ocr.reader import OcrEngine, OcrUnavailable
from engine.vlm.backend import ChatBackend
from engine.vlm.backends.openai_http import OpenAIHTTPBackend
from engine.vlm.canary import Verdict
from engine.vlm.trust import CanaryMode, GroundingGate, VerdictCache
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


def make_backend(settings: Settings) -> ChatBackend | None:
    """The configured model backend (``None`` for ``backend: none``)."""
    model = settings.model
    if model.backend == "none":
        return None
    if model.backend == "transformers":
        from engine.vlm.backends.transformers_backend import TransformersBackend

        return TransformersBackend(model.name, device=model.device, max_pixels=model.engine.max_image_pixels)
    return OpenAIHTTPBackend(
        model.base_url,
        model.name,
        api_key=model.api_key,
        connect_timeout=model.connect_timeout,
        read_timeout=model.read_timeout,
        first_token_timeout=model.first_token_timeout,
        stall_timeout=model.stall_timeout,
        retries=model.retries,
    )


def make_engine(settings: Settings, backend: ChatBackend) -> VisionEngine:
    """The vision engine over ``backend``, gated by the grounding canary as ``model.canary`` says."""
    model = settings.model
    if model.canary is CanaryMode.OFF:
        return VisionEngine(backend, model.engine)
    gate = GroundingGate(
        VisionEngine(backend, model.engine),
        backend,
        mode=model.canary,
        bound_px=model.canary_bound_px,
        cache=VerdictCache(model.canary_cache or canary_cache_path(None)),
    )
    return VisionEngine(backend, model.engine, gate=gate)


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
    if not isinstance(backend, OpenAIHTTPBackend):
        return
    with anyio.move_on_after(3):
        try:
            served = await backend.models()
        except ModelError as exc:
            log.warning("model server not reachable yet (%s); tools that need it will fail until it is", exc)
            return
        log.info("model server at %s serves %s", backend.base_url, ", ".join(served) or "no models")


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
        engine = None if self._backend is None else make_engine(self.settings, self._backend)
        if self._backend is not None:
            await _check_model(self._backend)
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
        """Run (or read back) the grounding self-test of the configured model, so its verdict is ready
        before the first tool asks; a model that cannot be asked yet is tried again at the first call."""
        runtime = self.runtime
        gate = None if runtime is None or runtime.engine is None else runtime.engine.gate
        if gate is None:
            return
        try:
            await gate.judge()
        except ModelError as exc:
            log.warning("the grounding self-test could not ask the model (%s); it runs again at the first call", exc)

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
        if self._backend is not None:
            await self._backend.aclose()
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
        self._capturer = None

"""Trust in the served model's grounding: the canary's verdict, found once per model and engine version.

:class:`GroundingGate` asks the server who it is (``/get_server_info`` and ``/get_model_info`` on
SGLang, ``/version`` on vLLM), reuses a cached verdict for that model, engine and version, or runs
the canary (:mod:`engine.vlm.canary`) and caches its verdict. Under ``enforce`` a failed verdict
makes every model call that grounds or plans raise :class:`~engine.errors.ModelUntrusted`; under
``warn`` it is only logged. With several endpoints (:mod:`engine.vlm.backends.pool`) each one is
judged on its own by :func:`canary_vet`, and one that fails is taken out of the pool.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import Any

import anyio

from engine.errors import ModelError, ModelUntrusted
from engine.vlm.backend import ChatBackend
from engine.vlm.canary import Verdict, run_canary, verdict_key

log = logging.getLogger(__name__)


class CanaryMode(StrEnum):
    """What a failed canary does: refuse grounding and planning (``enforce``), only say so (``warn``), or
    the canary is not run at all (``off``)."""

    ENFORCE = "enforce"
    WARN = "warn"
    OFF = "off"


@dataclass(frozen=True)
class ServedModel:
    """Who answers: the model, the engine and the engine's version."""

    model: str
    engine: str
    version: str

    def __str__(self) -> str:
        return f"{self.model} ({self.engine} {self.version})"


async def identify(backend: ChatBackend) -> ServedModel:
    """Ask the server behind ``backend`` who it is; in-process backends name themselves."""
    getter = getattr(backend, "server_get", None)
    if getter is None:
        name = type(backend).__name__.removesuffix("Backend").lower() or "local"
        return ServedModel(backend.model_name, name, _package_version("transformers"))
    model, engine, version = backend.model_name, "unknown engine", "unknown version"
    try:
        info = await getter("/get_server_info")
        engine = "sglang"
        if isinstance(info, dict):
            version = str(info.get("version") or version)
            model = str(info.get("model_path") or model)
    except ModelError:
        try:
            info = await getter("/version")
            engine = "vllm"
            if isinstance(info, dict):
                version = str(info.get("version") or version)
        except ModelError:
            pass
    if engine == "sglang":
        try:
            info = await getter("/get_model_info")
            if isinstance(info, dict) and info.get("model_path"):
                model = str(info["model_path"])
        except ModelError:
            pass
    return ServedModel(model, engine, version)


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown version"


class VerdictCache:
    """Verdicts in one small JSON file, keyed by model, engine, version and canary revision."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def get(self, key: str) -> Verdict | None:
        """The cached verdict for ``key``, if any (an unreadable cache is treated as empty)."""
        entry = self._read().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            return Verdict.from_json(entry)
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, verdict: Verdict, key: str | None = None) -> None:
        """Remember ``verdict`` under ``key`` (default: its own), written atomically; a cache that cannot
        be written is only logged."""
        if self.path is None:
            return
        data = self._read()
        data[key or verdict.key] = verdict.to_json()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".canary-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot write the canary cache %s: %s", self.path, exc)

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


class GroundingGate:
    """Runs the canary at most once per served model (concurrent callers wait for the one run).

    ``engine`` is an ungated :class:`~engine.vlm.vision.VisionEngine` over the same backend: the
    canary asks through it, with the tools' own prompt and parser. ``endpoint``, when given, is part of
    the cache key: one of several servers is judged on its own, even when they report the same version
    (a server's own image settings can move its boxes too).
    """

    def __init__(
        self,
        engine: Any,
        backend: ChatBackend,
        *,
        mode: CanaryMode = CanaryMode.ENFORCE,
        bound_px: float = 25.0,
        cache: VerdictCache | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.engine = engine
        self.endpoint = endpoint
        self.backend = backend
        self.mode = mode
        self.bound_px = bound_px
        self.cache = cache or VerdictCache(None)
        self.verdict: Verdict | None = None
        self._lock = anyio.Lock()

    async def judge(self, *, fresh: bool = False) -> Verdict | None:
        """The verdict for the served model: cached, or measured now (``fresh``: always measured).

        ``None`` when the canary is off. Model errors propagate and leave no verdict behind.
        """
        if self.mode is CanaryMode.OFF:
            return None
        async with self._lock:
            if self.verdict is not None and not fresh:
                return self.verdict
            served = await identify(self.backend)
            key = verdict_key(served.model, served.engine, served.version) + (
                f"|{self.endpoint}" if self.endpoint else ""
            )
            cached = None if fresh else self.cache.get(key)
            if cached is not None and cached.bound_px == self.bound_px:
                self.verdict = cached
                log.info("grounding self-test of %s: cached verdict, %s", served, cached.summary())
                return cached
            log.info("grounding self-test of %s: running", served)
            verdict = await run_canary(
                self.engine, model=served.model, server=served.engine, version=served.version, bound_px=self.bound_px
            )
            self.cache.put(verdict, key)
            self.verdict = verdict
            if verdict.passed:
                log.info("grounding self-test of %s passed: %s", served, verdict.summary())
            else:
                log.warning("%s", verdict.refusal())
            return verdict

    async def check(self) -> None:
        """Raise :class:`ModelUntrusted` when the served model failed the canary and the mode enforces it."""
        verdict = await self.judge()
        if verdict is not None and not verdict.passed and self.mode is CanaryMode.ENFORCE:
            raise ModelUntrusted(verdict.refusal())


def canary_vet(
    make_engine: Callable[[ChatBackend], Any],
    *,
    mode: CanaryMode = CanaryMode.ENFORCE,
    bound_px: float = 25.0,
    cache: VerdictCache | None = None,
) -> Callable[[ChatBackend], Awaitable[None]]:
    """A check of one endpoint by the canary, for :class:`~engine.vlm.backends.pool.EndpointPool`'s ``vet``.

    Each endpoint is judged on its own: a fresh :class:`GroundingGate` over its backend (the ungated
    engine from ``make_engine``), its verdict cached under its URL as well as the model, engine and
    version, so a restarted server of the same version is not measured again and every other one is.
    Under ``enforce`` an endpoint that fails raises :class:`ModelUntrusted` and the pool takes it out.
    """
    shared = cache or VerdictCache(None)

    async def vet(backend: ChatBackend) -> None:
        where = getattr(backend, "root_url", None)
        gate = GroundingGate(make_engine(backend), backend, mode=mode, bound_px=bound_px, cache=shared, endpoint=where)
        await gate.check()

    return vet

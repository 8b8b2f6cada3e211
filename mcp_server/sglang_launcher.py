"""``serve --launch-sglang``: start SGLang for the configured model, keep it up, and never leave it behind.

The server is started on loopback and a free port with the model's own flags (:mod:`engine.vlm.presets`:
``--reasoning-parser qwen3`` only for thinking checkpoints, never a chat-template override), its logs
going to stderr or a file (never stdout: stdout is the stdio protocol channel). Start-up waits for
``/health`` and says how long it has waited. A server that dies is started again with growing
pauses, up to ``max_restarts`` times in a row. It runs in its own process group, stopped (TERM,
then KILL) when this server exits for any reason, and on Linux it is also told to stop if this
process dies without cleaning up (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, Field

from engine.vlm.presets import Preset, by_name, preset_for

log = logging.getLogger(__name__)


class LaunchConfig(BaseModel):
    """The ``sglang:`` section: whether and how this server starts SGLang itself."""

    model_config = ConfigDict(extra="forbid")
    launch: bool = Field(False, description="Start SGLang for model.name (model.base_url then points at it).")
    command: list[str] = Field(
        default_factory=list,
        description="The program to run instead of `<this python> -m sglang.launch_server` (it gets the same flags).",
    )
    preset: str | None = Field(
        None, description="Model preset for the flags (default: model.preset, else chosen from model.name)."
    )
    port: int | None = Field(None, ge=1, le=65535, description="Port on 127.0.0.1 (default: a free one).")
    context_length: int | None = Field(None, ge=1024, description="--context-length.")
    mem_fraction_static: float | None = Field(None, gt=0, lt=1, description="--mem-fraction-static.")
    max_pixels: int | None = Field(
        None, ge=65_536, description='Image pixel limit, as --mm-process-config \'{"image": {"max_pixels": N}}\'.'
    )
    extra_args: list[str] = Field(default_factory=list, description="More flags for sglang.launch_server.")
    log_file: Path | None = Field(None, description="Where SGLang's output goes (default: this server's stderr).")
    startup_timeout: float = Field(900.0, gt=0, description="Seconds to wait for /health at start-up.")
    max_restarts: int = Field(5, ge=0, le=100, description="Restarts in a row before giving up on a dying server.")
    restart_backoff: float = Field(2.0, gt=0, le=300, description="Seconds before the first restart (doubling).")


class LaunchError(Exception):
    """SGLang could not be started (the message says why and where its log is)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch_argv(config: LaunchConfig, model: str, port: int, python: str = sys.executable) -> list[str]:
    """The command line: the launcher program, the model, loopback and ``port``, and the model's flags."""
    preset: Preset = by_name(config.preset) if config.preset else preset_for(model)
    argv = [*(config.command or [python, "-m", "sglang.launch_server"])]
    argv += ["--model-path", model, "--host", "127.0.0.1", "--port", str(port)]
    argv += list(preset.sglang_args)
    if config.context_length is not None:
        argv += ["--context-length", str(config.context_length)]
    if config.mem_fraction_static is not None:
        argv += ["--mem-fraction-static", str(config.mem_fraction_static)]
    if config.max_pixels is not None:
        argv += ["--mm-process-config", json.dumps({"image": {"max_pixels": config.max_pixels}})]
    return argv + list(config.extra_args)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class SGLangServer:
    """One launched SGLang: start, wait until healthy, supervise, stop."""

    def __init__(self, config: LaunchConfig, model: str, *, on_progress: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.model = model
        self.port = config.port or free_port()
        self.argv = launch_argv(config, model, self.port)
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._log: IO[bytes] | None = None
        self._progress = on_progress or (lambda message: log.info("%s", message))
        self._stopping = False

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API of the launched server."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def log_place(self) -> str:
        """Where its output goes, for messages."""
        return str(self.config.log_file) if self.config.log_file else "this server's stderr"

    def spawn(self) -> None:
        """Start the process (its own process group; output to the log file or stderr)."""
        if self.config.log_file is not None and self._log is None:
            self.config.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.config.log_file.open("ab")
        out: Any = self._log if self._log is not None else sys.stderr.fileno()
        log.info("starting SGLang: %s", " ".join(self.argv))
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                preexec_fn=_die_with_parent if os.name == "posix" else None,
            )
        except OSError as exc:
            raise LaunchError(f"cannot start {self.argv[0]}: {exc.strerror or exc}") from exc

    async def wait_healthy(self) -> None:
        """Wait for ``/health`` to answer 200; :class:`LaunchError` if the process exits or time runs out."""
        started = time.monotonic()
        next_report = 10.0
        async with httpx.AsyncClient(timeout=5.0) as client:
            while True:
                assert self.process is not None
                code = self.process.poll()
                if code is not None:
                    raise LaunchError(
                        f"SGLang exited with status {code} while starting (command: {' '.join(self.argv)}); "
                        f"its log is in {self.log_place}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(f"http://127.0.0.1:{self.port}/health")
                    if response.status_code == 200:
                        self._progress(f"SGLang is up at {self.base_url} after {time.monotonic() - started:.0f} s")
                        return
                waited = time.monotonic() - started
                if waited > self.config.startup_timeout:
                    raise LaunchError(
                        f"SGLang did not become healthy within {self.config.startup_timeout:g} s (loading "
                        f"{self.model}); its log is in {self.log_place}; raise sglang.startup_timeout if the "
                        "model is just slow to load"
                    )
                if waited >= next_report:
                    self._progress(f"waiting for SGLang to load {self.model}: {waited:.0f} s so far")
                    next_report += 10.0
                await anyio.sleep(0.5)

    async def start(self) -> None:
        """Spawn and wait until healthy; stops the process again if that fails."""
        self.spawn()
        try:
            await self.wait_healthy()
        except BaseException:
            await self.stop()
            raise

    async def supervise(self) -> None:
        """Restart the server whenever it dies, with doubling pauses; give up after ``max_restarts`` in a row."""
        backoff = self.config.restart_backoff
        while not self._stopping:
            assert self.process is not None
            code = await anyio.to_thread.run_sync(self.process.wait, abandon_on_cancel=True)
            if self._stopping:
                return
            if self.restarts >= self.config.max_restarts:
                log.error(
                    "SGLang exited with status %s and was restarted %d times in a row; giving up (log: %s)",
                    code,
                    self.restarts,
                    self.log_place,
                )
                return
            self.restarts += 1
            log.warning("SGLang exited with status %s; restarting in %.0f s (restart %d)", code, backoff, self.restarts)
            await anyio.sleep(backoff)
            try:
                await self.start()
            except LaunchError as exc:
                log.error("restarting SGLang failed: %s", exc)
                backoff = min(backoff * 2, 300.0)
                continue
            backoff = self.config.restart_backoff
            self.restarts = 0

    async def stop(self, grace: float = 10.0) -> None:
        """TERM the process group, KILL it after ``grace`` seconds; safe to call twice."""
        self._stopping = True
        process = self.process
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            with anyio.move_on_after(grace) as scope, anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(process.wait)
            if scope.cancelled_caught:
                _signal_group(process, signal.SIGKILL)
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(process.wait)
        if process is not None:
            _signal_group(process, signal.SIGKILL)  # whatever it left in its group
        if self._log is not None:
            self._log.close()
            self._log = None


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(process.pid, sig)
        else:  # pragma: no cover - no process groups
            process.send_signal(sig)


@contextlib.asynccontextmanager
async def launched(config: LaunchConfig, model: str) -> AsyncIterator[SGLangServer]:
    """SGLang started and healthy for the block, supervised while it runs, stopped after it.

    SIGTERM and SIGINT end the block (so the server is stopped) instead of killing this process outright.
    """
    server = SGLangServer(config, model)
    failure: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(_stop_on_signal, group.cancel_scope, server)
        try:
            await server.start()
            group.start_soon(server.supervise)
            yield server
        except Exception as exc:  # raised below, outside the group, so callers see it unwrapped
            failure = exc
        finally:
            with anyio.CancelScope(shield=True):
                await server.stop()
            group.cancel_scope.cancel()
    if failure is not None:
        raise failure


async def _stop_on_signal(scope: anyio.CancelScope, server: SGLangServer) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for received in signals:
            log.info("received %s: stopping SGLang and exiting", signal.Signals(received).name)
            with anyio.CancelScope(shield=True):
                await server.stop()
            scope.cancel()
            # The stdio transport reads stdin in a thread that cancellation cannot interrupt: once SGLang
            # is stopped, a host that signals without closing stdin must not keep this process alive.
            timer = threading.Timer(EXIT_GRACE, os._exit, args=(0,))
            timer.daemon = True
            timer.start()
            return


EXIT_GRACE = 5.0
"""Seconds a signalled server may take to wind down on its own before it exits regardless."""


def pointed_at(settings: Any, url: str) -> Any:
    """``settings`` with the planner's model served at ``url`` (the launched SGLang).

    With ``model.base_urls`` (several servers) the launched one joins them; else it is the one server.
    """
    urls = list(settings.model.base_urls)
    model = settings.model.model_copy(update={"base_url": url, "base_urls": [*urls, url] if urls else []})
    return settings.model_copy(update={"model": model})


def run_launched(settings: Any, serve: Callable[[Any], Awaitable[None]]) -> int:
    """Start SGLang, run the grounding self-test on it, then ``await serve(settings)`` pointed at it.

    Returns the exit status: 0 after a clean stop (including SIGTERM/SIGINT), 1 when SGLang could
    not be started. ``settings`` is the server's :class:`~mcp_server.config.Settings`.
    """
    from mcp_server.lifespan import startup_canary

    async def main() -> None:
        config = settings.sglang
        if config.preset is None and settings.model.preset is not None:  # the model's family, said once
            config = config.model_copy(update={"preset": settings.model.preset})
        async with launched(config, settings.model.name) as server:
            pointed = pointed_at(settings, server.base_url)
            await startup_canary(pointed)
            await serve(pointed)

    try:
        anyio.run(main)
    except LaunchError as exc:
        log.error("%s", exc)
        print(f"vlm-desktop-mcp: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0

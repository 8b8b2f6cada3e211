"""Run the real server as a subprocess and connect a real MCP client over stdio, SSE or HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters

from tests.support.processes import stop_process

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"server did not listen on {port} within {timeout} s")


def server_command(args: Sequence[str]) -> list[str]:
    """The command line that starts ``vlm-desktop-mcp serve`` with ``args``."""
    return [sys.executable, "-m", "mcp_server", "serve", *args]


def spawn_stdio(
    args: Sequence[str], env: Mapping[str, str], stderr: int | IO[bytes] = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    """``vlm-desktop-mcp serve`` on stdio with raw pipes, for tests that write the protocol bytes themselves."""
    return subprocess.Popen(
        server_command(args), cwd=ROOT, env=dict(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr
    )


@asynccontextmanager
async def mcp_client(transport: str, env: Mapping[str, str], args: Sequence[str] = ()) -> AsyncIterator[Client]:
    """Start the server on ``transport`` (stdio, sse or http) and yield a connected client."""
    if transport == "stdio":
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcp_server", "serve", *args], env=dict(env), cwd=str(ROOT)
        )
        async with Client(params, read_timeout_seconds=60) as client:
            yield client
        return
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once per test, before any await
        server_command(["--transport", transport, "--port", str(port), *args]),
        env=dict(env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, proc)
        if transport == "http":
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=60) as client:
                yield client
        else:
            async with Client(sse_client(f"http://127.0.0.1:{port}/sse"), read_timeout_seconds=60) as client:
                yield client
    finally:
        stop_process(proc, 10)

"""MCP servers built in this process, with a real MCP client (no subprocess, no transport).

The server captures and clicks on whatever display ``DISPLAY`` names: tests that act on the shared
virtual screen request the ``display_env`` fixture (tests/conftest.py) to point it there.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer

from mcp_server.config import load_settings
from mcp_server.server import build_server
from tests.support.standin.server import StandIn


@asynccontextmanager
async def connect(standin: StandIn, **flags: Any) -> AsyncIterator[Client]:
    """A client connected to a server that asks ``standin`` (flags and ``env=`` as the CLI would give them)."""
    env = {"VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "1.5", **flags.pop("env", {})}
    settings = load_settings({"base_url": standin.base_url, **flags}, env)
    async with Client(build_server(settings)) as client:
        yield client


def make_server(tmp_path: Path, env: Mapping[str, str] | None = None) -> MCPServer[Any]:
    """An in-process server (no model) logging to ``tmp_path/audit.jsonl``."""
    settings = load_settings(
        {"backend": "none"},
        {
            "VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "1.0",
            "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
            **(env or {}),
        },
    )
    return build_server(settings)


@asynccontextmanager
async def serve(tmp_path: Path, env: Mapping[str, str] | None = None, **client_args: Any) -> AsyncIterator[Client]:
    """A client connected to a fresh :func:`make_server`."""
    async with Client(make_server(tmp_path, env), **client_args) as client:
        yield client


def records(tmp_path: Path) -> list[dict[str, Any]]:
    """The records of the audit log at ``tmp_path/audit.jsonl``, oldest first."""
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()]

"""Running the server over stdio, SSE or streamable HTTP."""

from __future__ import annotations

import ipaddress
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from mcp_server.config import Settings


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_security(host: str, port: int) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: only Host/Origin values naming this server pass."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if not is_loopback(host) and host not in ("0.0.0.0", "::"):
        names.add(host)
    hosts = [f"{name}:{port}" for name in sorted(names)] + sorted(names)
    origins = [f"{scheme}://{name}:{port}" for scheme in ("http", "https") for name in sorted(names)]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


async def serve(server: MCPServer[Any], settings: Settings) -> None:
    """Serve on the configured transport until cancelled or the client goes away."""
    cfg = settings.server
    if cfg.transport == "stdio":
        await server.run_stdio_async()
    elif cfg.transport == "sse":
        await server.run_sse_async(
            host=cfg.host, port=cfg.port, transport_security=transport_security(cfg.host, cfg.port)
        )
    else:
        await server.run_streamable_http_async(
            host=cfg.host, port=cfg.port, transport_security=transport_security(cfg.host, cfg.port)
        )

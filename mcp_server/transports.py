"""Running the server over stdio, SSE or streamable HTTP.

HTTP transports bind to loopback by default, always check Host/Origin (DNS-rebinding protection),
refuse to listen beyond loopback without a bearer token, and, with a token, answer 401 to any
request that does not carry ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server.config import ConfigError, Settings
from mcp_server.tasks import trajectories_root
from mcp_server.viewer import Viewer, runs_under, with_viewer


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_security(host: str, port: int, extra_hosts: list[str] | None = None) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: only Host/Origin values naming this server pass."""
    names = {"127.0.0.1", "localhost", "[::1]", *(extra_hosts or [])}
    if not is_loopback(host) and host not in ("0.0.0.0", "::"):
        names.add(host)
    hosts = [f"{name}:{port}" for name in sorted(names)] + sorted(names)
    origins = [f"{scheme}://{name}:{port}" for scheme in ("http", "https") for name in sorted(names)]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def check_exposure(settings: Settings) -> None:
    """Refuse to listen beyond loopback without a bearer token (a :class:`ConfigError` says how to fix it)."""
    cfg = settings.server
    if cfg.transport == "stdio" or is_loopback(cfg.host) or cfg.auth_token is not None:
        return
    raise ConfigError(
        f"refusing to listen on {cfg.host} without an auth token: anyone who can reach that address could drive "
        "this desktop. Set VLM_DESKTOP_AUTH_TOKEN (at least 16 characters; clients then send "
        "'Authorization: Bearer <token>'), or listen on 127.0.0.1."
    )


class BearerAuth:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>`` (compared in constant time)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan events carry no headers
            await self.app(scope, receive, send)
            return
        supplied = b""
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                supplied = value
                break
        if hmac.compare_digest(supplied, self._expected):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "unauthorized", "error_description": "send Authorization: Bearer <token>"})
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="vlm-desktop-mcp"'),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


def http_app(server: MCPServer[Any], settings: Settings) -> ASGIApp:
    """The ASGI app for the configured HTTP transport, behind the bearer check when a token is set."""
    cfg = settings.server
    security = transport_security(cfg.host, cfg.port, cfg.allowed_hosts)
    app: ASGIApp
    if cfg.transport == "sse":
        app = server.sse_app(transport_security=security, host=cfg.host)
    else:
        app = server.streamable_http_app(transport_security=security, host=cfg.host)
    # The task viewer at /viewer, behind the same Host check and bearer token as the MCP endpoint.
    viewer = Viewer(runs_under(trajectories_root(settings))).app(security.allowed_hosts)
    app = with_viewer(app, viewer)
    if cfg.auth_token is not None:
        app = BearerAuth(app, cfg.auth_token.get_secret_value())
    return app


async def serve(server: MCPServer[Any], settings: Settings) -> None:
    """Serve on the configured transport until cancelled or the client goes away."""
    cfg = settings.server
    if cfg.transport == "stdio":
        await server.run_stdio_async()
        return
    check_exposure(settings)
    import uvicorn

    config = uvicorn.Config(http_app(server, settings), host=cfg.host, port=cfg.port, log_level=cfg.log_level.lower())
    await uvicorn.Server(config).serve()

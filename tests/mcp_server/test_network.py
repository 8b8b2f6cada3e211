"""Network exposure: loopback by default, Host/Origin always checked, a bearer token beyond loopback."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_server import cli
from tests.support.processes import stop_process
from tests.support.servers import ROOT, _wait_for_port, free_port, server_command

TOKEN = "s3cret-token-for-tests-0123456789"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@contextmanager
def running(tmp_path: Path, transport: str, *args: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """The real server on a free port; yields the port."""
    port = free_port()
    environment = {
        **os.environ,
        "VLM_DESKTOP_BACKEND": "none",
        "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
        **(env or {}),
    }
    proc = subprocess.Popen(
        server_command(["--transport", transport, "--port", str(port), *args]),
        env=environment,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, proc)
        yield port
    finally:
        stop_process(proc, 10)
        if proc.stderr is not None:
            proc.stderr.close()


def test_listening_beyond_loopback_needs_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--transport", "http", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0 without an auth token" in err and "VLM_DESKTOP_AUTH_TOKEN" in err
    assert cli.main(["serve", "--transport", "sse", "--host", "192.0.2.10", "--auth-token", "short"]) == 2
    assert "server.auth_token" in capsys.readouterr().err  # at least 16 characters


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_with_a_token_every_http_request_must_carry_it(tmp_path: Path, host: str) -> None:
    with running(tmp_path, "http", "--host", host, env={"VLM_DESKTOP_AUTH_TOKEN": TOKEN}) as port:
        url = f"http://127.0.0.1:{port}/mcp"
        missing = httpx.post(url, json=INIT, headers=HEADERS)
        wrong = httpx.post(url, json=INIT, headers={**HEADERS, "authorization": f"Bearer {TOKEN}x"})
        basic = httpx.post(url, json=INIT, headers={**HEADERS, "authorization": "Basic dXNlcjpwYXNz"})
        good = httpx.post(url, json=INIT, headers={**HEADERS, "authorization": f"Bearer {TOKEN}"})
        auth = {**HEADERS, "authorization": f"Bearer {TOKEN}"}
        bad_host = httpx.post(url, json=INIT, headers={**auth, "host": f"evil.example:{port}"})
        bad_origin = httpx.post(url, json=INIT, headers={**auth, "origin": "http://evil.example"})
    for response in (missing, wrong, basic):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"] == "unauthorized"
    assert good.status_code == 200 and "vlm-desktop-mcp" in good.text
    assert bad_host.status_code == 421  # DNS-rebinding protection stays on behind the token
    assert bad_origin.status_code == 403


async def test_real_clients_connect_with_the_token(tmp_path: Path) -> None:
    env = {"VLM_DESKTOP_AUTH_TOKEN": TOKEN}
    auth = {"authorization": f"Bearer {TOKEN}"}
    with running(tmp_path, "http", env=env) as port:
        url = f"http://127.0.0.1:{port}/mcp"
        async with (
            httpx2.AsyncClient(headers=auth) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            tools = await client.list_tools()
    assert {t.name for t in tools.tools} >= {"execute_action"}
    with running(tmp_path, "sse", env=env) as port:
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/sse")).status_code == 401
        async with Client(sse_client(f"http://127.0.0.1:{port}/sse", headers=auth)) as client:
            assert {t.name for t in (await client.list_tools()).tools} >= {"execute_action"}


def test_extra_allowed_hosts_pass_the_host_check(tmp_path: Path) -> None:
    env = {"VLM_DESKTOP_AUTH_TOKEN": TOKEN, "VLM_DESKTOP_SERVER__ALLOWED_HOSTS": "desktop.example"}
    with running(tmp_path, "http", "--host", "0.0.0.0", env=env) as port:
        auth = {**HEADERS, "authorization": f"Bearer {TOKEN}"}
        url = f"http://127.0.0.1:{port}/mcp"
        named = httpx.post(url, json=INIT, headers={**auth, "host": f"desktop.example:{port}"})
        other = httpx.post(url, json=INIT, headers={**auth, "host": f"other.example:{port}"})
    assert named.status_code == 200 and other.status_code == 421


def test_without_a_token_loopback_works_as_before(tmp_path: Path) -> None:
    with running(tmp_path, "http") as port:
        response = httpx.post(f"http://127.0.0.1:{port}/mcp", json=INIT, headers=HEADERS)
    assert response.status_code == 200

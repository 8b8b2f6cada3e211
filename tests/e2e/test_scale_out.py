"""Scale-out end to end: two stand-in model servers in their own processes behind the pool the server
builds from ``model.base_urls`` (each vetted by the grounding canary). One is killed while concurrent
requests flow: every request is answered, the dead server is skipped, and once restarted it is brought
back and answers again; the server's own watch brings a server back without waiting for a request."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from engine.vlm.backend import ChatRequest
from engine.vlm.backends.pool import EndpointPool, EndpointState
from mcp_server.config import load_settings
from mcp_server.lifespan import SharedRuntime, make_backend
from tests.support.markers import needs_display
from tests.support.servers import free_port
from tests.support.standin_process import StandInProcess

CLIENTS = 4
SCENARIO = {"latency_seconds": 0.2}
"""Answers take a while, so several are in flight on the server when it is killed."""
HANG_GUARD = 120  # seconds; the run takes a few


class Traffic:
    """Clients sending requests until told to stop; what was asked and answered."""

    def __init__(self, pool: EndpointPool) -> None:
        self.pool = pool
        self.asked = 0
        self.answered = 0
        self.stop = anyio.Event()

    async def client(self, number: int) -> None:
        while not self.stop.is_set():
            self.asked += 1
            answer = await self.pool.chat(ChatRequest(prompt=f"hello from client {number}", purpose="scale-out"))
            assert answer.content
            self.answered += 1

    async def until(self, answered: int) -> None:
        # The servers answer from their own processes: there is no event of this loop's to wait on.
        while self.answered < answered:  # noqa: ASYNC110
            await anyio.sleep(0.05)


async def test_a_server_killed_mid_run_loses_no_request_and_is_brought_back_when_restarted(tmp_path: Path) -> None:
    with StandInProcess() as doomed, StandInProcess() as survivor:
        for server in (doomed, survivor):
            server.set_scenario(SCENARIO)
        env = {
            "VLM_DESKTOP_MODEL__BASE_URLS": f"{doomed.base_url},{survivor.base_url}",
            "VLM_DESKTOP_MODEL__CANARY_CACHE": str(tmp_path / "canary.json"),
        }
        pool = make_backend(load_settings(env=env))
        assert isinstance(pool, EndpointPool)
        first, second = pool.endpoints
        traffic = Traffic(pool)
        revived: StandInProcess | None = None
        try:
            with anyio.fail_after(HANG_GUARD):
                async with anyio.create_task_group() as watching:
                    watching.start_soon(pool.watch, 0.1)
                    async with anyio.create_task_group() as clients:
                        for number in range(CLIENTS):
                            clients.start_soon(traffic.client, number)
                        await traffic.until(12)
                        assert first.answered and second.answered  # both served
                        while not first.in_flight:  # noqa: ASYNC110 - killed with requests in flight
                            await anyio.sleep(0.01)
                        doomed.kill()
                        served_at_kill = first.answered
                        await traffic.until(traffic.answered + 16)
                        assert first.state is EndpointState.DOWN and doomed.url in (first.reason or "")
                        assert first.answered == served_at_kill  # skipped while dead
                        revived = StandInProcess(port=doomed.port)
                        revived.set_scenario(SCENARIO)
                        while not revived.requests():  # noqa: ASYNC110 - it answers in its own process
                            await anyio.sleep(0.05)
                        await traffic.until(traffic.answered + 8)
                        traffic.stop.set()  # the clients finish what they asked, then stop
                    watching.cancel_scope.cancel()
        finally:
            await pool.aclose()
            if revived is not None:
                revived.stop()
        print(  # the figures RELIABILITY.md reports (-s)
            f"scale-out: {traffic.asked} asked, {traffic.answered} answered; killed server: {served_at_kill} "
            f"answered before the kill, {first.answered - served_at_kill} after its restart; other: {second.answered}"
        )
        assert first.state is EndpointState.UP and first.answered > served_at_kill
        assert traffic.answered == traffic.asked  # every request answered, those in flight at the kill too
        assert survivor.requests()


@needs_display
@pytest.mark.usefixtures("display_env")
async def test_the_server_brings_a_server_back_as_soon_as_it_answers_without_waiting_for_a_request(
    tmp_path: Path,
) -> None:
    late_port = free_port()
    with StandInProcess() as running:
        env = {
            "VLM_DESKTOP_MODEL__BASE_URLS": f"http://127.0.0.1:{late_port}/v1,{running.base_url}",
            "VLM_DESKTOP_MODEL__CANARY_CACHE": str(tmp_path / "canary.json"),
            "VLM_DESKTOP_OCR__ENABLED": "false",
            "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
        }
        shared = SharedRuntime(load_settings(env=env))
        with anyio.fail_after(HANG_GUARD):
            async with shared.session() as runtime, anyio.create_task_group() as background:
                background.start_soon(shared.self_test)  # as the server's lifespan does
                pool = runtime.engine.backend if runtime.engine is not None else None
                assert isinstance(pool, EndpointPool)
                late, up = pool.endpoints
                while late.state is not EndpointState.DOWN or up.state is not EndpointState.UP:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
                with StandInProcess(port=late_port) as started:
                    while late.state is not EndpointState.UP:  # noqa: ASYNC110 - the server's watch brings it back
                        await anyio.sleep(0.05)
                    assert started.requests() == [] and running.requests() == []  # no request was needed
                background.cancel_scope.cancel()

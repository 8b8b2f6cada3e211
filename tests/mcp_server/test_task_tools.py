"""The task tools, the gui_task prompt, the task resources and /viewer, through an in-process MCP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from PIL import Image

from mcp_server.config import load_settings
from mcp_server.server import build_server
from mcp_server.tasks import trajectories_root
from mcp_server.transports import http_app
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tools.task.trajectory import Recorder, ScreenArea, Step, Trajectory, load

pytestmark = pytest.mark.usefixtures("display_env")


def settings_for(tmp_path: Path, standin: StandIn | None = None, **env: str) -> Any:
    flags = {"base_url": standin.base_url} if standin else {"backend": "none"}
    return load_settings(
        flags,
        {
            "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
            "VLM_DESKTOP_OCR__ENABLED": "false",
            "VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "0.5",
            **env,
        },
    )


@asynccontextmanager
async def connect(tmp_path: Path, standin: StandIn | None = None) -> AsyncIterator[Client]:
    async with Client(build_server(settings_for(tmp_path, standin))) as client:
        yield client


def recorded(tmp_path: Path, task_id: str = "20260101-000000-abcd") -> Trajectory:
    """A finished two-step task on disk, where the server keeps its runs."""
    folder = trajectories_root(settings_for(tmp_path)) / task_id
    recorder = Recorder(folder)
    shot = recorder.image("001-1-before", Image.new("RGB", (64, 48), "white"))
    area = ScreenArea(origin=(0, 0), width=64, height=48, image_size=(64, 48))
    steps = [
        Step(index=1, started_at="t", screen=area, before=shot, summary="click (3, 4)", outcome="ok", effect="changed"),
        Step(index=2, started_at="t", screen=area, before=shot, summary="done success", outcome="done"),
    ]
    trajectory = Trajectory(
        task_id=task_id, goal="a goal", model="m", settings={}, started_at="t", status="succeeded", stop="done",
        reason="the model says the task is done", steps=steps,
    )  # fmt: skip
    recorder.write(trajectory)
    return trajectory


async def test_the_gui_task_prompt_teaches_both_ways(tmp_path: Path) -> None:
    async with connect(tmp_path) as client:
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        assert "gui_task" in prompts
        prompt = await client.get_prompt("gui_task", {"goal": "publish the product"})
    text = prompt.messages[0].content.text  # type: ignore[union-attr]
    assert "publish the product" in text
    for tool in ("start_task", "get_task", "cancel_task", "describe_screen", "execute_action"):
        assert tool in text


async def test_recorded_tasks_are_resources_and_get_task_reads_them(tmp_path: Path) -> None:
    trajectory = recorded(tmp_path)
    async with connect(tmp_path) as client:
        listed = json.loads((await client.read_resource("vlm-desktop://tasks")).contents[0].text)  # type: ignore[union-attr]
        assert [t["task_id"] for t in listed] == [trajectory.task_id]
        whole = await client.read_resource(f"vlm-desktop://tasks/{trajectory.task_id}")
        assert json.loads(whole.contents[0].text)["steps"][0]["summary"] == "click (3, 4)"  # type: ignore[union-attr]
        shot = await client.read_resource(f"vlm-desktop://tasks/{trajectory.task_id}/steps/001-1-before.png")
        assert shot.contents[0].mime_type == "image/png"
        latest = await client.read_resource("vlm-desktop://screenshot/latest")
        assert latest.contents[0].mime_type == "image/png"
        got = await client.call_tool("get_task", {"task_id": trajectory.task_id, "include_screenshot": True})
        assert not got.is_error, got.content
        data = got.structured_content
        assert (data["status"], data["stop"], data["steps_taken"]) == ("succeeded", "done", 2)
        assert data["last_screenshot"] == f"vlm-desktop://tasks/{trajectory.task_id}/steps/001-1-before.png"
        assert [part.type for part in got.content] == ["text", "image"]
        unknown = await client.call_tool("get_task", {"task_id": "nope"})
        assert unknown.is_error and "no task 'nope'" in unknown.content[0].text  # type: ignore[union-attr]


async def test_start_task_needs_a_model(tmp_path: Path) -> None:
    async with connect(tmp_path) as client:
        result = await client.call_tool("start_task", {"goal": "anything"})
    assert result.is_error and "needs a vision model" in result.content[0].text  # type: ignore[union-attr]


async def test_a_running_task_is_one_at_a_time_and_can_be_cancelled(tmp_path: Path, standin: StandIn) -> None:
    standin.set_scenario(Scenario(plan=[{"action": "wait", "time": 4, "thought": "Let the page load."}]))
    async with connect(tmp_path, standin) as client:
        started = await client.call_tool("start_task", {"goal": "wait for it", "max_steps": 3})
        assert not started.is_error, started.content
        task_id = started.structured_content["task_id"]
        again = await client.call_tool("start_task", {"goal": "another"})
        assert again.is_error and f"task {task_id} is still running" in again.content[0].text  # type: ignore[union-attr]
        with anyio.fail_after(30):
            while True:  # until the wait is being performed
                got = await client.call_tool("get_task", {"task_id": task_id, "wait_s": 5})
                steps = got.structured_content["steps"]
                if steps and steps[-1]["action"] == "wait 4.0 s":
                    break
        cancelled = await client.call_tool("cancel_task", {"task_id": task_id})
    data = cancelled.structured_content
    assert (data["status"], data["stop"]) == ("cancelled", "cancelled")
    saved = load(Path(data["trajectory"]))
    assert saved.status == "cancelled" and saved.reason == "the task was cancelled"


async def test_the_viewer_is_served_beside_mcp_behind_the_same_checks(tmp_path: Path) -> None:
    trajectory = recorded(tmp_path)
    settings = settings_for(tmp_path, VLM_DESKTOP_SERVER__TRANSPORT="http")
    app = http_app(build_server(settings), settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as http:
        page = await http.get("/viewer")
        assert page.status_code == 200 and "<title>vlm-desktop-mcp · task viewer</title>" in page.text
        assert "http://" not in page.text.replace("http://www.w3.org/", "")  # nothing loaded from elsewhere
        runs = (await http.get("/viewer/api/runs")).json()
        assert runs[0]["id"] == trajectory.task_id
        rebound = await http.get("/viewer/api/runs", headers={"Host": "evil.example:8765"})
        assert rebound.status_code == 421
        escape = await http.get(f"/viewer/api/runs/{trajectory.task_id}/../../audit.jsonl")
        assert escape.status_code == 404
    token = "a-token-of-sixteen-chars"
    settings = settings_for(tmp_path, VLM_DESKTOP_SERVER__TRANSPORT="http", VLM_DESKTOP_AUTH_TOKEN=token)
    transport = httpx.ASGITransport(app=http_app(build_server(settings), settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as http:
        assert (await http.get("/viewer")).status_code == 401
        headers = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/viewer", headers=headers)).status_code == 200

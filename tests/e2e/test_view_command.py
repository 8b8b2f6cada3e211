"""``vlm-desktop-mcp view DIR``: the viewer for saved runs, on loopback only."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from PIL import Image

from tests.support.processes import stop_process
from tests.support.servers import free_port
from tools.task.trajectory import Recorder, ScreenArea, Step, Trajectory


def saved_run(folder: Path) -> Trajectory:
    recorder = Recorder(folder)
    shot = recorder.image("001-1-before", Image.new("RGB", (40, 30), "white"))
    area = ScreenArea(origin=(0, 0), width=40, height=30, image_size=(40, 30))
    step = Step(index=1, started_at="t", screen=area, before=shot, summary="done success", outcome="done")
    trajectory = Trajectory(
        task_id="t-1", goal="a saved goal", model="m", settings={}, started_at="t", status="succeeded", steps=[step]
    )
    recorder.write(trajectory)
    return trajectory


def test_view_serves_a_saved_run(tmp_path: Path) -> None:
    saved_run(tmp_path / "run-a")
    port = free_port()
    command = [sys.executable, "-m", "mcp_server", "view", str(tmp_path / "run-a"), "--port", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                runs = httpx.get(f"http://127.0.0.1:{port}/viewer/api/runs", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "view did not start"
                time.sleep(0.2)
        assert runs.json()[0]["id"] == "run-a" and runs.json()[0]["goal"] == "a saved goal"
        page = httpx.get(f"http://127.0.0.1:{port}/viewer", timeout=5)
        assert page.status_code == 200 and 'id="step-count"' in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]  # it can load nothing from elsewhere
        shot = httpx.get(f"http://127.0.0.1:{port}/viewer/api/runs/run-a/steps/001-1-before.png", timeout=5)
        assert shot.headers["content-type"] == "image/png"
    finally:
        stop_process(proc, 10)
    assert proc.stdout is not None and proc.stdout.read() == b""  # stdout stays clean


def test_view_refuses_to_listen_beyond_loopback_and_needs_a_run(tmp_path: Path) -> None:
    saved_run(tmp_path / "run-a")
    command = [sys.executable, "-m", "mcp_server", "view"]
    beyond = subprocess.run([*command, str(tmp_path), "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert beyond.returncode == 2 and "loopback" in beyond.stderr
    empty = subprocess.run([*command, str(tmp_path / "nothing")], capture_output=True, text=True, timeout=60)
    assert empty.returncode == 2 and "holds no task run" in empty.stderr

"""The task viewer in a real headless Chromium: what it draws and writes, and that it follows a run live."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn
from PIL import Image

from mcp_server.viewer import Viewer, runs_under
from tests.support.browser import HeadlessChromium, Page, chromium_missing
from tests.support.fake_desktop import DONE, GOAL, PAGES, WRONG, FakeDesktop, click, runtime_on, scenario
from tests.support.servers import free_port
from tests.support.standin.server import StandIn
from tools.task.loop import TaskLoop, TaskOptions
from tools.task.trajectory import Recorder, Trajectory, load

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """The viewer over ``root`` on a free loopback port, in a thread; yields its page URL."""
    port = free_port()
    hosts = [f"127.0.0.1:{port}"]
    server = uvicorn.Server(uvicorn.Config(Viewer(runs_under(root)).app(hosts), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.05)
        yield f"http://127.0.0.1:{port}/viewer"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def record(standin: StandIn, folder: Path) -> Trajectory:
    screen = FakeDesktop(PAGES, "home")
    wrong = WRONG
    plan = [click("Products", "The products page is behind this button."), wrong, click("Add product"), DONE]
    standin.set_scenario(replace(scenario(screen, plan), reasoning="prompted"))
    async with runtime_on(screen, standin) as runtime:
        return await TaskLoop(runtime, GOAL, TaskOptions(), folder).run()


def click_point(page: Page) -> dict[str, float]:
    """Where the page drew the first click point, and where it should be given the image's on-page box."""
    return page.evaluate(
        """(() => {
          const img = document.getElementById('screenshot').getBoundingClientRect();
          const dot = document.querySelector('circle.click-point');
          const r = dot.getBoundingClientRect();
          return {x: r.left + r.width / 2, y: r.top + r.height / 2, left: img.left, top: img.top,
                  scale: img.width / document.getElementById('screenshot').naturalWidth,
                  sx: Number(dot.dataset.x), sy: Number(dot.dataset.y)};
        })()"""
    )


async def test_the_viewer_draws_each_step_its_click_point_and_reasoning(standin: StandIn, tmp_path: Path) -> None:
    trajectory = await record(standin, tmp_path / "runs" / "run-1")
    assert trajectory.status == "succeeded", trajectory.reason
    first = trajectory.steps[0]
    assert first.reasoning and "products page is behind this button" in first.reasoning
    with serving(tmp_path / "runs") as url, HeadlessChromium() as browser:
        page = browser.open(f"{url}?step=0")
        page.wait_for("document.querySelectorAll('.step-item').length === 4 && !!document.getElementById('screenshot')")
        page.wait_for("document.getElementById('screenshot').complete")
        assert page.evaluate("document.getElementById('step-count').textContent") == "4 steps"
        assert page.evaluate("document.getElementById('status').textContent") == "succeeded"
        assert page.evaluate("document.getElementById('reasoning').textContent") == first.reasoning
        assert "click (" in page.evaluate("document.getElementById('action').textContent")
        assert page.evaluate("document.getElementById('effect').textContent").startswith("outcome: ok\neffect: changed")
        retry = page.evaluate("document.querySelectorAll('.step-item')[2].textContent")
        assert "Step 2 (retry)" in retry
        drawn = click_point(page)
        (x, y) = first.points[0]
        assert (drawn["sx"], drawn["sy"]) == (x, y)
        expected = (drawn["left"] + x * drawn["scale"], drawn["top"] + y * drawn["scale"])
        assert abs(drawn["x"] - expected[0]) < 1.5 and abs(drawn["y"] - expected[1]) < 1.5, (drawn, expected)
        # And it is really painted there: the pixels at that spot are the marker's red.
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        red, green, blue = shot.getpixel((round(expected[0]), round(expected[1])))
        assert red > 150 and green < 120 and blue < 120, (red, green, blue)


async def test_the_viewer_follows_a_running_task(standin: StandIn, tmp_path: Path) -> None:
    trajectory = await record(standin, tmp_path / "source")
    folder = tmp_path / "runs" / trajectory.task_id
    recorder = Recorder(folder)
    for step in trajectory.steps:  # the screenshots the steps refer to
        for name in filter(None, (step.before, step.after)):
            (folder / name).write_bytes((tmp_path / "source" / name).read_bytes())
    running = trajectory.model_copy(update={"status": "running", "steps": trajectory.steps[:2], "reason": None})
    recorder.write(running)
    with serving(tmp_path / "runs") as url, HeadlessChromium() as browser:
        page = browser.open(url)
        page.wait_for("document.getElementById('step-count').textContent === '2 steps'")
        assert page.evaluate("document.getElementById('status').textContent") == "running"
        recorder.write(trajectory)  # the task goes on and ends while the page is open
        page.wait_for("document.getElementById('step-count').textContent === '4 steps'")
        assert page.evaluate("document.getElementById('status').textContent") == "succeeded"
        shown = page.evaluate("document.getElementById('reasoning').textContent")
        assert shown == (trajectory.steps[-1].reasoning or "(none)")  # it follows the latest step
    assert load(folder).status == "succeeded"

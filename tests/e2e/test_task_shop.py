"""The walkthrough's task end to end: "publish a new product" in the shop admin, in Chromium under openbox.

The task loop plans every step with the stand-in model, which answers in Qwen3-VL's formats from
the page's own report of its layout (tests/support/shop/agent.py); the actions go through the real
server, OCR, pyautogui/xdotool and GTK's file dialog. The shop's records prove the result: the
product published with the right fields and image, and "Delete" never pressed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from PIL import Image, ImageDraw

from tests.support.desktop import Chromium, Desktop, skip_reason
from tests.support.shop import ShopServer, ShopVariant
from tests.support.shop.agent import PublishPlanner, layout_elements
from tests.support.standin.server import StandIn
from tools.task.trajectory import load

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(skip_reason("desktop", "chromium") is not None, reason=skip_reason("desktop", "chromium") or ""),
]
WIDTH, HEIGHT = 1366, 768
NAME, PRICE, STOCK, IMAGE = "无线蓝牙耳机", "299", "100", "./images/headset.jpg"


def headset_image(folder: Path) -> Path:
    """The product photo the goal names, ``folder/images/headset.jpg`` (a JPEG made in code)."""
    path = folder / "images" / "headset.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (320, 240), (236, 239, 244))
    ImageDraw.Draw(image).arc((90, 40, 230, 180), 180, 360, fill=(46, 52, 64), width=14)
    image.save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with Desktop(WIDTH, HEIGHT) as screen:
        yield screen


def env_for(desktop: Desktop, tmp_path: Path) -> dict[str, str]:
    return {
        **desktop.x_env(),
        "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "state" / "audit.jsonl"),
        "VLM_DESKTOP_POLICY__RATE_LIMIT_ACTIONS": "0",
    }


def planner_for(shop: ShopServer, standin: StandIn, wrong_clicks: int = 0) -> PublishPlanner:
    """The stand-in sees what the page reports of itself, and plans with :class:`PublishPlanner`."""
    frame = {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT}

    def show(report: dict[str, Any]) -> None:
        standin.set_scenario({"frame": frame, "reasoning": "prompted", "elements": layout_elements(report)})

    shop.on_layout = show
    if shop.layout is not None:
        show(shop.layout)
    planner = PublishPlanner(shop, NAME, PRICE, STOCK, IMAGE, wrong_clicks=wrong_clicks)
    standin.set_planner(planner)
    return planner


def check_published(shop: ShopServer, image: Path) -> None:
    """The shop's own records: one product published with the goal's fields and image; Delete never pressed."""
    (received,) = shop.received
    assert received["intent"] == "publish"
    assert (received["name"], received["price"], received["stock"]) == (NAME, PRICE, STOCK)
    upload = received["image"]
    assert upload is not None and upload["filename"] == "headset.jpg"
    assert upload["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert shop.deletes == [] and not shop.requested("/products/delete", "POST")


def steps_of(folder: Path) -> list[tuple[int, int, str | None]]:
    return [(s.index, s.attempt, s.outcome) for s in load(folder).steps]


@pytest.fixture
def standin_planner(standin: StandIn) -> Iterator[StandIn]:
    try:
        yield standin
    finally:
        standin.set_planner(None)


@pytest.mark.parametrize("wrong_clicks", [0, 1], ids=["straight", "one wrong click"])
def test_run_task_publishes_the_product(
    desktop: Desktop, tmp_path: Path, standin_planner: StandIn, wrong_clicks: int
) -> None:
    image = headset_image(tmp_path)
    with (
        ShopServer(ShopVariant.default("zh")) as shop,
        Chromium(desktop, f"{shop.url}/dashboard", ready=lambda: shop.requested("/dashboard")),
    ):
        shop.wait_for_layout("dashboard")
        planner = planner_for(shop, standin_planner, wrong_clicks)
        command = [sys.executable, "-m", "mcp_server", "run-task", planner.goal(), "--json", "--max-steps", "20"]
        command += ["--base-url", standin_planner.base_url, "--out", str(tmp_path / "runs")]
        done = subprocess.run(
            command, cwd=tmp_path, env=env_for(desktop, tmp_path), capture_output=True, text=True, timeout=280
        )
        assert done.returncode == 0, done.stderr[-4000:]
        check_published(shop, image)
    outcome = json.loads(done.stdout)  # stdout holds only the outcome
    assert outcome["status"] == "succeeded" and outcome["stop"] == "done"
    folder = Path(outcome["folder"])
    steps = steps_of(folder)
    assert steps[-1][2] == "done" and all(o in ("ok", "done", "no_effect") for _, _, o in steps)
    retried = [(i, a, o) for i, a, o in steps if o == "no_effect"]
    if wrong_clicks:
        (index, _, _) = retried[0]
        assert len(retried) == 1 and (index, 2, "ok") in steps  # the wrong click, then its retry
        assert "retry after a fresh look" in done.stderr
    else:
        assert not retried
    assert "step 1" in done.stderr and "succeeded" in done.stderr  # the progress display, on stderr
    if wrong_clicks:
        replay_on_a_fresh_shop(desktop, tmp_path, folder, image)


def replay_on_a_fresh_shop(desktop: Desktop, tmp_path: Path, folder: Path, image: Path) -> None:
    """``replay`` the run on a new shop, with no model: the same product arrives; the wrong click is not replayed."""
    worked = [s for s in load(folder).steps if s.outcome == "ok"]
    with (
        ShopServer(ShopVariant.default("zh")) as shop,
        Chromium(desktop, f"{shop.url}/dashboard", ready=lambda: shop.requested("/dashboard")),
    ):
        shop.wait_for_layout("dashboard")
        command = [sys.executable, "-m", "mcp_server", "replay", str(folder), "--json", "--backend", "none"]
        command += ["--out", str(tmp_path / "replays")]
        done = subprocess.run(
            command, cwd=tmp_path, env=env_for(desktop, tmp_path), capture_output=True, text=True, timeout=280
        )
        assert done.returncode == 0, done.stderr[-4000:]
        check_published(shop, image)
    replayed = load(Path(json.loads(done.stdout)["folder"]))
    assert replayed.replay_of == str(folder) and replayed.status == "succeeded"
    assert [s.action for s in replayed.steps if s.action and s.action["type"] != "click"] == [
        s.action for s in worked if s.action and s.action["type"] != "click"
    ]
    clicks = [s for s in replayed.steps if s.action and s.action["type"] == "click"]
    assert len(clicks) == 2 and all(s.note and s.note.startswith("target found") for s in clicks)
    assert all(s.outcome == "ok" for s in replayed.steps)


async def test_start_task_over_mcp_publishes_the_product(
    desktop: Desktop, tmp_path: Path, standin_planner: StandIn
) -> None:
    image = headset_image(tmp_path)
    with (
        ShopServer(ShopVariant.default("zh")) as shop,
        Chromium(desktop, f"{shop.url}/dashboard", ready=lambda: shop.requested("/dashboard")),
    ):
        shop.wait_for_layout("dashboard")
        planner = planner_for(shop, standin_planner)
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "mcp_server", "serve", "--base-url", standin_planner.base_url],
            env=env_for(desktop, tmp_path),
            cwd=str(tmp_path),  # the goal's ./images/headset.jpg is relative to where the server runs
        )
        seen: list[Any] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, message))

        async with Client(params, read_timeout_seconds=120) as client:
            started = await client.call_tool("start_task", {"goal": planner.goal(), "max_steps": 20})
            assert not started.is_error, started.content
            task = started.structured_content
            assert task["status"] == "running"
            with anyio.fail_after(240):
                while task["status"] == "running":
                    got = await client.call_tool(
                        "get_task", {"task_id": task["task_id"], "wait_s": 20}, progress_callback=on_progress
                    )
                    assert not got.is_error, got.content
                    task = got.structured_content
            assert task["status"] == "succeeded", task
            shot = await client.read_resource("vlm-desktop://screenshot/latest")
            assert shot.contents and shot.contents[0].mime_type == "image/png"
            listed = json.loads((await client.read_resource("vlm-desktop://tasks")).contents[0].text)  # type: ignore[union-attr]
            assert listed[0]["task_id"] == task["task_id"] and listed[0]["status"] == "succeeded"
        check_published(shop, image)
    assert seen, "get_task sent no progress while it waited"
    assert task["stop"] == "done" and task["steps"][-1]["outcome"] == "done"
    assert task["trajectory"].startswith(str(tmp_path / "state" / "trajectories"))
    assert load(Path(task["trajectory"])).status == "succeeded"

"""The second look, end to end: a plan's point on one of two "OK" buttons is not trusted, nor clicked.

In a real Chromium under openbox, a page with two "OK" buttons reports its own layout, and the stand-in
model (over real HTTP) sees those buttons. Asked to click OK, it plans a click on the first; the second
look's grounding call names both (as Qwen3-VL lists every element a description fits), and so does the
zoomed look on a crop the stand-in finds in the screen from its pixels. ``plan_next_action`` then
returns both buttons as candidates, in screen coordinates, and ``execute_action`` refuses the plan's
point: the page's server receives no click. The control: with one "OK" the looks agree, the plan is
decided, and executing it clicks the button (its request arrives).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client, types
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from engine.vlm.prompts import point_prompt
from tests.support.browser import serving
from tests.support.desktop import Chromium, Desktop, skip_reason
from tests.support.markers import needs_display
from tests.support.servers import mcp_client
from tests.support.shop.agent import layout_elements
from tests.support.shop.pages import REPORT_SCRIPT
from tests.support.standin.answers import point_answer
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn

WIDTH, HEIGHT = 1366, 768
STYLE = "font: 28px 'DejaVu Sans', sans-serif; margin: 60px"
TWO_OKS = f"""<!doctype html><html><head><title>Two dialogs</title></head><body style="{STYLE}">
<p>Save changes?</p><button style="font-size: 28px" onclick="fetch('/ok/1', {{method: 'POST'}})">OK</button>
<p style="margin-top: 120px">Discard draft?</p>
<button style="font-size: 28px" onclick="fetch('/ok/2', {{method: 'POST'}})">OK</button>
<script>{REPORT_SCRIPT}</script></body></html>"""
ONE_OK = f"""<!doctype html><html><head><title>One dialog</title></head><body style="{STYLE}">
<p>Save changes?</p><button style="font-size: 28px" onclick="fetch('/ok/1', {{method: 'POST'}})">OK</button>
<script>{REPORT_SCRIPT}</script></body></html>"""
PLAN = [{"action": "left_click", "target": "OK", "thought": "The dialog is confirmed with its OK button."}]


class Page:
    """The page's server: serves ``html``, keeps every request and the page's latest layout report."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.seen: list[str] = []
        self.layout: dict[str, Any] | None = None
        self.clicked = threading.Event()  # the server runs in its own thread

    def app(self, hosts: list[str]) -> ASGIApp:
        """The ASGI app for :func:`serving`."""

        async def handle(request: Request) -> Response:
            self.seen.append(f"{request.method} {request.url.path}")
            if request.url.path == "/_geometry":
                self.layout = json.loads(await request.body())
                return Response(status_code=204)
            if request.method == "POST":
                self.clicked.set()
                return Response(status_code=204)
            return HTMLResponse(self.html) if request.url.path == "/" else Response(status_code=404)

        return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])

    def clicks(self) -> list[str]:
        """The button clicks the page sent (its layout reports are not clicks)."""
        return [r for r in self.seen if r.startswith("POST /ok/")]

    def buttons(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The "OK" buttons' scenario elements, once the page has reported ``count`` of them inside the screen
        and its layout held still for half a second (the window is maximised after the first report)."""
        deadline = time.monotonic() + timeout
        last: list[dict[str, Any]] | None = None
        while time.monotonic() < deadline:
            elements = layout_elements(self.layout) if self.layout is not None else []
            oks = [e for e in elements if e["label"] == "OK" and e["box"][0] >= 0 and e["box"][3] < HEIGHT]
            if len(oks) == count and oks == last:
                return elements
            last = oks
            time.sleep(0.5)
        raise AssertionError(f"the page did not report {count} OK buttons on the screen: {self.layout}")


def inside(point: dict[str, Any], box: list[int]) -> bool:
    """Whether a result's screen point lies on ``box`` (``[x1, y1, x2, y2]``, screen pixels)."""
    return box[0] <= point["x"] <= box[2] and box[1] <= point["y"] <= box[3]


def text_of(result: types.CallToolResult) -> str:
    """The result's first content block, which must be text."""
    block = result.content[0]
    assert isinstance(block, types.TextContent), block
    return block.text


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    """A 1366x768 desktop under openbox (skipped, naming the missing packages, without one)."""
    reason = skip_reason("desktop", "chromium")
    if reason is not None:
        pytest.skip(reason)
    with Desktop(WIDTH, HEIGHT) as screen:
        yield screen


def env_for(desktop: Desktop, tmp_path: Any) -> dict[str, str]:
    """The MCP server's environment: the desktop's display, an audit log of the test's own."""
    return {**desktop.x_env(), "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl")}


def show(standin: StandIn, elements: list[dict[str, Any]]) -> None:
    """The stand-in sees the page's elements on the whole screen and plans a click on OK."""
    frame = {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT}
    standin.set_scenario({"frame": frame, "reasoning": "prompted", "elements": elements, "plan": PLAN})
    standin.clear_requests()


@asynccontextmanager
async def planned_on(
    page: Page, buttons: int, desktop: Desktop, standin: StandIn, tmp_path: Any
) -> AsyncIterator[tuple[list[dict[str, Any]], dict[str, Any], Client]]:
    """``page`` in Chromium once it reports ``buttons`` OKs, the stand-in shown them, and a plan to click OK:
    yields the page's elements, the plan and the MCP client that asked for it."""
    with serving(page.app) as url, Chromium(desktop, url + "/", ready=lambda: page.layout is not None):
        elements = await anyio.to_thread.run_sync(page.buttons, buttons)
        show(standin, elements)
        async with mcp_client("stdio", env_for(desktop, tmp_path), ["--base-url", standin.base_url]) as client:
            planned = await client.call_tool("plan_next_action", {"goal": "click OK"})
            assert not planned.is_error, planned.content
            plan = planned.structured_content
            assert plan is not None
            yield elements, plan, client


def test_the_standin_names_every_look_alike_target_and_only_those_in_a_crop() -> None:
    ok1 = {"type": "button", "label": "OK", "box": [100, 100, 160, 140]}
    ok2 = {"type": "button", "label": "ok", "box": [100, 400, 160, 440]}
    cancel = {"type": "button", "label": "Cancel", "box": [300, 100, 400, 140]}
    screen = Scenario(elements=[ok1, cancel, ok2])

    def points(scenario: Scenario, target: str, crop: bool = False) -> list[list[int]]:
        messages = [{"role": "user", "content": [{"type": "text", "text": point_prompt(target)}]}]
        answer = point_answer(scenario, messages, None, crop=crop)
        return [item["point_2d"] for item in json.loads(answer.strip("`").removeprefix("json"))]

    assert points(screen, "OK") == [screen.center("OK"), screen.grid_point(130, 420)]
    assert points(screen, "Cancel") == [screen.center("Cancel")]  # one match: one point, as before
    lower = Scenario(frame={"x": 0, "y": 300, "width": 683, "height": 384}, elements=screen.elements)
    assert points(lower, "OK", crop=True) == [lower.grid_point(130, 420)]  # the crop shows the second only


@needs_display
async def test_a_plan_on_one_of_two_oks_returns_both_and_clicks_neither(
    desktop: Desktop, standin: StandIn, tmp_path: Any
) -> None:
    page = Page(TWO_OKS)
    async with planned_on(page, 2, desktop, standin, tmp_path) as (elements, plan, client):
        refused = await client.call_tool("execute_action", {"action": plan["action"]})
        described = await client.call_tool("describe_screen", {})
    first, second = (e["box"] for e in elements if e["label"] == "OK")
    # describe_screen: each OK the model named carries the other as where it may be as well.
    assert described.structured_content is not None, described.content
    oks = [e for e in described.structured_content["elements"] if e["label"] == "OK" and e["source"] == "fused"]
    assert len(oks) == 2, described.structured_content["elements"]
    for ok, other in zip(oks, reversed(oks), strict=True):
        assert ok["alternatives"] and inside(dict(zip("xy", ok["alternatives"][0], strict=True)), other["bbox"])
    action = plan["action"]
    assert action["type"] == "click" and inside(action, first), action  # the plan's point is on the first OK
    look = plan["second_look"]
    assert look is not None and not look["decided"], look
    candidates = look["candidates"]
    assert any(inside(c, first) for c in candidates) and any(inside(c, second) for c in candidates), look
    assert all(inside(c, first) or inside(c, second) for c in candidates), look
    points = [r for r in standin.requests if r.get("_kind") == "point"]
    assert len(points) == 2 and "_crop" not in points[0] and "_crop" in points[1], points  # whole, then zoomed
    assert refused.is_error and "could not decide where to click" in text_of(refused), refused.content
    assert page.clicks() == [], page.seen


@needs_display
async def test_a_plan_on_the_only_ok_is_decided_and_clicks_it(
    desktop: Desktop, standin: StandIn, tmp_path: Any
) -> None:
    page = Page(ONE_OK)
    async with planned_on(page, 1, desktop, standin, tmp_path) as (elements, plan, client):
        done = await client.call_tool("execute_action", {"action": plan["action"]})
        assert await anyio.to_thread.run_sync(page.clicked.wait, 10), page.seen
    (ok,) = (e["box"] for e in elements if e["label"] == "OK")
    look = plan["second_look"]
    assert look is not None and look["decided"] and look["confidence"] >= 0.6, look
    assert inside(plan["action"], ok), plan["action"]
    assert not done.is_error, done.content
    assert page.clicks() == ["POST /ok/1"], page.seen

"""The task viewer as an MCP Apps view (``ui://``), in headless Chromium inside a host played by the test.

The server's own resources feed it: the test reads the ``ui://`` page, a task's ``get_task`` result,
its trajectory and screenshots through a real MCP client, then a small host page embeds the view in
an iframe and speaks the MCP Apps bridge (``ui/initialize``, ``ui/notifications/tool-result``,
``resources/read``) from those answers. What the view draws is checked, as for the HTTP viewer.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from mcp_server.config import load_settings
from mcp_server.server import build_server
from mcp_server.tasks import trajectories_root
from mcp_server.viewer import APP_URI
from tests.support.browser import HeadlessChromium, chromium_missing, serving
from tests.support.fake_desktop import DONE, GOAL, PAGES, FakeDesktop, click, runtime_on, scenario
from tools.task.loop import TaskLoop, TaskOptions

pytestmark = [
    pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or ""),
    pytest.mark.usefixtures("display_env"),
]

HOST = """<!DOCTYPE html>
<html><body style="margin:0">
<iframe id="view" style="width:1400px;height:900px;border:0"></iframe>
<script>
const VIEW_HTML = %(view)s;
const TOOL_RESULT = %(result)s;
const RESOURCES = %(resources)s;
window.hostLog = [];
const frame = document.getElementById("view");
window.addEventListener("message", (event) => {
  if (event.source !== frame.contentWindow) return;
  const message = event.data;
  window.hostLog.push(message.method || "response");
  const reply = (result) => frame.contentWindow.postMessage({ jsonrpc: "2.0", id: message.id, result }, "*");
  if (message.method === "ui/initialize") {
    const hostInfo = { name: "test host", version: "1" };
    reply({ protocolVersion: message.params.protocolVersion, hostCapabilities: {}, hostInfo, hostContext: {} });
  } else if (message.method === "ui/notifications/initialized") {
    const note = { jsonrpc: "2.0", method: "ui/notifications/tool-result", params: TOOL_RESULT };
    frame.contentWindow.postMessage(note, "*");
  } else if (message.method === "resources/read") {
    const content = RESOURCES[message.params.uri];
    if (content) reply({ contents: [content] });
    else {
      const error = { code: -32002, message: "no such resource" };
      frame.contentWindow.postMessage({ jsonrpc: "2.0", id: message.id, error }, "*");
    }
  }
});
frame.srcdoc = VIEW_HTML;
</script>
</body></html>
"""


async def test_the_viewer_renders_a_task_inside_an_mcp_apps_host(standin: Any, tmp_path: Path) -> None:
    settings = load_settings(
        {"backend": "none"}, {"VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"), "VLM_DESKTOP_OCR__ENABLED": "0"}
    )
    screen = FakeDesktop(PAGES, "home")
    standin.set_scenario(scenario(screen, [click("Products", "Open the products page."), DONE], reasoning="prompted"))
    async with runtime_on(screen, standin) as runtime:
        recorded = await TaskLoop(
            runtime, GOAL, TaskOptions(), trajectories_root(settings) / "run-1", task_id="run-1"
        ).run()
    async with Client(build_server(settings)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert tools["get_task"].meta == {"ui": {"resourceUri": APP_URI}}
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        assert listed[APP_URI].mime_type == "text/html;profile=mcp-app"
        view = (await client.read_resource(APP_URI)).contents[0].text  # type: ignore[union-attr]
        got = await client.call_tool("get_task", {"task_id": "run-1"})
        result = {"content": [], "structuredContent": got.structured_content, "isError": False}
        resources: dict[str, Any] = {}
        uris = ["vlm-desktop://tasks/run-1"] + [f"vlm-desktop://tasks/run-1/{s.before}" for s in recorded.steps]
        for uri in uris:
            content = (await client.read_resource(uri)).contents[0]
            resources[uri] = content.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert "http://" not in view.replace("http://www.w3.org/", "")  # self-contained: nothing loaded from elsewhere
    # In a <script>, "</" must not appear as is: the view's own "</script>" would end the host's.
    values = {"view": view, "result": result, "resources": resources}
    host = HOST % {key: json.dumps(value).replace("</", "<\\/") for key, value in values.items()}

    def app(hosts: list[str]) -> ASGIApp:
        return Starlette(routes=[Route("/", lambda request: HTMLResponse(host))])

    first = recorded.steps[0]
    with serving(app) as url, HeadlessChromium() as browser:
        page = browser.open(url)
        inside = "document.getElementById('view').contentDocument"
        page.wait_for(f"{inside}.getElementById('step-count').textContent === '2 steps'")
        page.evaluate(f"{inside}.querySelectorAll('.step-item')[0].click()")
        shot = f"{inside}.getElementById('screenshot')"
        page.wait_for(f"{shot}.complete && {shot}.naturalWidth > 0")
        assert page.evaluate(f"{inside}.getElementById('reasoning').textContent") == first.reasoning
        point = f"{inside}.querySelector('circle.click-point').dataset"
        dot = page.evaluate(f"[Number({point}.x), Number({point}.y)]")
        assert tuple(dot) == first.points[0]
        log = page.evaluate("window.hostLog")
    assert log[:2] == ["ui/initialize", "ui/notifications/initialized"] and "resources/read" in log
    png = base64.b64decode(resources[f"vlm-desktop://tasks/run-1/{first.before}"]["blob"])
    assert png.startswith(b"\x89PNG")

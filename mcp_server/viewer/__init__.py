"""The task viewer: one self-contained web page and the JSON it reads, for runs on disk (live while they run).

Served under ``/viewer`` by the HTTP transport (beside ``/mcp``) and by ``vlm-desktop-mcp view DIR``:

* ``GET /viewer`` the page (no external resources: no CDN, no fonts from elsewhere);
* ``GET /viewer/api/runs`` the runs, newest first; ``GET /viewer/api/runs/<id>`` one trajectory;
* ``GET /viewer/api/runs/<id>/steps/<file>.png`` its screenshots.

The page polls while a run is running, so it follows a task step by step. Requests whose Host
header names another server are refused (DNS rebinding), as the MCP endpoint does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tools.task import trajectory as files
from tools.task.trajectory import TrajectoryError

PREFIX = "/viewer"
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
"""The page's inline script and style, and requests to this server: nothing else."""
_STEP_FILE = re.compile(r"^steps/[A-Za-z0-9._-]+\.png$")


def page() -> str:
    """The viewer's HTML document."""
    return resources.files("mcp_server.viewer").joinpath("static/viewer.html").read_text(encoding="utf-8")


APP_URI = "ui://vlm-desktop/task-viewer.html"
"""The viewer as an MCP Apps resource: hosts that render ``ui://`` resources show it beside the task tools."""


def app_page() -> str:
    """The page for MCP Apps hosts: it gets its data through the host's bridge, not over HTTP."""
    return page().replace("<script>\n", '<script>\nwindow.VIEWER_MODE = "mcp-app";\n', 1)


def runs_under(root: Path) -> Callable[[], list[Path]]:
    """A run source: ``root`` itself when it is one trajectory folder, else the folders under it, newest first."""
    return lambda: files.folders(root)


class Viewer:
    """The viewer's routes over ``runs`` (a callable listing trajectory folders)."""

    def __init__(self, runs: Callable[[], list[Path]]) -> None:
        self.runs = runs

    def _folder(self, run_id: str) -> Path | None:
        return next((folder for folder in self.runs() if folder.name == run_id), None)

    async def index(self, request: Request) -> Response:
        """The page; its Content-Security-Policy lets it load nothing from anywhere but this server."""
        return HTMLResponse(page(), headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP})

    async def list_runs(self, request: Request) -> Response:
        """Summaries of every run, newest first."""

        def read() -> list[dict[str, object]]:
            found = []
            for folder in self.runs():
                try:
                    found.append({"id": folder.name, **files.summary(files.load(folder))})
                except TrajectoryError:
                    continue
            return found

        return JSONResponse(await anyio.to_thread.run_sync(read), headers={"Cache-Control": "no-store"})

    async def run(self, request: Request) -> Response:
        """One trajectory, as on disk."""
        folder = self._folder(request.path_params["run"])
        if folder is None:
            return PlainTextResponse("no such run", status_code=404)
        try:
            trajectory = await anyio.to_thread.run_sync(files.load, folder)
        except TrajectoryError as exc:
            return PlainTextResponse(str(exc), status_code=500)
        return JSONResponse(trajectory.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

    async def file(self, request: Request) -> Response:
        """A screenshot of a run (only ``steps/*.png``: nothing else of the disk is reachable)."""
        folder = self._folder(request.path_params["run"])
        name = request.path_params["name"]
        if folder is None or not _STEP_FILE.match(name) or not (folder / name).is_file():
            return PlainTextResponse("no such file", status_code=404)
        return FileResponse(folder / name, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    def app(self, allowed_hosts: list[str] | None = None) -> ASGIApp:
        """The ASGI app, routes under :data:`PREFIX`; with ``allowed_hosts``, other Host headers get 421."""
        routes = [
            Route(PREFIX, self.index),
            Route(PREFIX + "/", self.index),
            Route(PREFIX + "/api/runs", self.list_runs),
            Route(PREFIX + "/api/runs/{run}", self.run),
            Route(PREFIX + "/api/runs/{run}/{name:path}", self.file),
        ]
        app: ASGIApp = Starlette(routes=routes)
        return app if allowed_hosts is None else HostCheck(app, allowed_hosts)


class HostCheck:
    """ASGI middleware: refuse (421) requests whose Host header is not one of ``allowed``."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.allowed = set(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
            if host not in self.allowed:
                await PlainTextResponse("invalid Host header", status_code=421)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def with_viewer(mcp_app: ASGIApp, viewer: ASGIApp) -> ASGIApp:
    """One ASGI app: paths under :data:`PREFIX` go to the viewer, everything else to ``mcp_app``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if path == PREFIX or path.startswith(PREFIX + "/"):
            await viewer(scope, receive, send)
        else:
            await mcp_app(scope, receive, send)

    return app

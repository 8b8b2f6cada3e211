"""The stand-in SGLang server in its own process, for tests where a server dies as a real one does:
killed, its connections go with it (an in-process stand-in's keep-alive connections outlive ``stop``)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from types import TracebackType
from typing import Any

from tests.support.processes import stop_process
from tests.support.servers import ROOT

START_TIMEOUT = 30.0


class StandInProcess:
    """``python -m tests.support.standin`` on ``port`` (0: a free one), driven through its control API."""

    def __init__(self, port: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.standin", "--port", str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            stop_process(self.proc)  # type: ignore[arg-type]
            raise RuntimeError(f"the stand-in did not start (exit {self.proc.poll()}): {line!r}")
        self.base_url = line
        self.url = line.removesuffix("/v1")
        self.port = int(self.url.rsplit(":", 1)[1])

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def set_scenario(self, scenario: dict[str, Any]) -> None:
        """Replace its scenario (as :meth:`Scenario.from_json` reads it)."""
        self._call("POST", "/_control/scenario", scenario)

    def requests(self) -> list[dict[str, Any]]:
        """The chat-completion bodies it received."""
        return list(self._call("GET", "/_control/requests"))

    def kill(self) -> None:
        """SIGKILL: it dies mid-answer, as a crashed server does."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL (safe when it already exited)."""
        stop_process(self.proc)  # type: ignore[arg-type]

    def __enter__(self) -> StandInProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

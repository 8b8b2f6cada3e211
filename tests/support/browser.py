"""Debian's Chromium, headless, driven over the Chrome DevTools Protocol on a pipe (no websocket, no driver).

``--remote-debugging-pipe`` makes Chromium read protocol messages from file descriptor 3 and write
its answers to descriptor 4, each message a JSON object ended by a NUL byte. That is all a test
needs to open a page, run JavaScript in it and take a screenshot::

    with HeadlessChromium() as browser:
        page = browser.open("http://127.0.0.1:8000/viewer")
        page.wait_for("document.querySelectorAll('.step-item').length === 3")
        png = page.screenshot()
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from tests.support.desktop import kill_tree
from tests.support.servers import free_port


class BrowserError(RuntimeError):
    """The browser answered with an error, died, or did not answer in time."""


@contextlib.contextmanager
def serving(app: Callable[[list[str]], ASGIApp]) -> Iterator[str]:
    """``app(allowed_hosts)`` served on a free loopback port in a thread; yields ``http://127.0.0.1:PORT``."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app([f"127.0.0.1:{port}"]), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def chromium_missing() -> str | None:
    """Why headless Chromium cannot run here, or ``None``."""
    return None if shutil.which("chromium") else "chromium is not installed (apt-get install chromium)"


class HeadlessChromium:
    """A headless Chromium with a throw-away profile, driven through :meth:`call`."""

    def __init__(self, width: int = 1400, height: int = 900, timeout: float = 20.0) -> None:
        self.width, self.height, self.timeout = width, height, timeout
        self._profile = tempfile.mkdtemp(prefix="cdp-profile-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        command = (
            f"exec chromium --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check "
            f"--disable-extensions --disable-background-networking --remote-debugging-pipe "
            f"--user-data-dir={self._profile} --window-size={width},{height} about:blank "
            f"3<&{to_browser_r} 4>&{from_browser_w}"
        )
        self.proc = subprocess.Popen(  # the shell's redirections put the pipes at 3 and 4, as Chromium wants
            ["bash", "-c", command],
            pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._cond:
                        self._answers[message["id"]] = message
                        self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its answer's ``result``."""
        with self._cond:
            self._next_id += 1
            number = self._next_id
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while number not in self._answers:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise BrowserError(f"no answer to {method} ({'browser exited' if self._closed else 'timeout'})")
                self._cond.wait(left)
            answer = self._answers.pop(number)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def open(self, url: str) -> Page:
        """A new tab showing ``url``, with a fixed viewport."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        page.call("Page.enable")
        page.call("Page.navigate", {"url": url})
        return page

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        with contextlib.suppress(OSError):
            os.close(self._to_browser)
        kill_tree(self.proc)  # type: ignore[arg-type]
        self._reader.join(timeout=5)
        os.close(self._from_browser)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> HeadlessChromium:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Page:
    """One tab: evaluate JavaScript, wait for a condition, take a screenshot."""

    def __init__(self, browser: HeadlessChromium, session: str) -> None:
        self.browser, self.session = browser, session

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command for this tab."""
        return self.browser.call(method, params, self.session)

    def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` in the page (JSON-serialisable values only; promises are awaited)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout: float = 15.0) -> Any:
        """Poll ``condition`` (JavaScript) until it is truthy; its value, or a :class:`BrowserError` on timeout."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(condition)
            except BrowserError as exc:  # the page may be between two documents
                last = exc
            if last and not isinstance(last, BrowserError):
                return last
            time.sleep(0.1)
        raise BrowserError(f"{condition!r} did not become true within {timeout} s (last: {last!r})")

    def screenshot(self) -> bytes:
        """The viewport as PNG bytes."""
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])

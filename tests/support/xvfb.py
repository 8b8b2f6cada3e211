"""A private Xvfb screen with a real MIT-MAGIC-COOKIE, for tests that need an X display.

Each :class:`Xvfb` gets its own display number, its own Xauthority file and its own size, so
several can run at once. The server only listens on its Unix socket (``-nolisten tcp``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.support.processes import stop_process

FIRST_DISPLAY = 90
LAST_DISPLAY = 599
START_TIMEOUT = 10.0
SCREEN = (1366, 768)
"""The size of the virtual screen the tests share (the ``display`` fixture); stand-in scenarios frame it."""


class XvfbError(RuntimeError):
    """Xvfb (or xauth/xdpyinfo) is missing, or the server did not come up."""


def _display_in_use(number: int) -> bool:
    return Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists()


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise XvfbError(f"{tool} is not installed (apt-get install -y xvfb xauth x11-utils)")
    return path


class Xvfb:
    """A running Xvfb server on ``:N`` with a cookie in a private Xauthority file.

    Use it as a context manager, or call :meth:`start` and :meth:`stop` yourself.
    """

    def __init__(self, width: int = 1366, height: int = 768, depth: int = 24) -> None:
        self.width = width
        self.height = height
        self.depth = depth
        self.number: int | None = None
        self._tmpdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def display(self) -> str:
        """The display name, e.g. ``":90"``."""
        if self.number is None:
            raise XvfbError("Xvfb is not running")
        return f":{self.number}"

    @property
    def xauthority(self) -> str:
        """Path of the Xauthority file that holds this display's cookie."""
        if self._tmpdir is None:
            raise XvfbError("Xvfb is not running")
        return str(self._tmpdir / "Xauthority")

    @property
    def pid(self) -> int | None:
        """Process id of the Xvfb server, or ``None`` when it is not running."""
        return self._proc.pid if self._proc is not None else None

    def env(self) -> dict[str, str]:
        """A copy of ``os.environ`` pointing ``DISPLAY`` and ``XAUTHORITY`` at this screen."""
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        env["XAUTHORITY"] = self.xauthority
        return env

    def start(self) -> Xvfb:
        """Start the server on the first free display from :90 upward and wait until it answers."""
        if self._proc is not None:
            return self
        xvfb, xauth = _require("Xvfb"), _require("xauth")
        _require("xdpyinfo")
        self._tmpdir = Path(tempfile.mkdtemp(prefix="xvfb-test-"))
        errors: list[str] = []
        try:
            for number in range(FIRST_DISPLAY, LAST_DISPLAY + 1):
                if _display_in_use(number):
                    continue
                failure = self._try_start(number, xvfb, xauth)
                if failure is None:
                    return self
                errors.append(f":{number}: {failure}")
                if len(errors) >= 5:
                    break
        except BaseException:
            self.stop()
            raise
        self.stop()
        raise XvfbError("Xvfb did not start:\n" + "\n".join(errors or ["no free display number"]))

    def _try_start(self, number: int, xvfb: str, xauth: str) -> str | None:
        """Start Xvfb on ``:number``; ``None`` on success, else why it failed (the display may be taken)."""
        assert self._tmpdir is not None
        authfile = self._tmpdir / "Xauthority"
        authfile.unlink(missing_ok=True)
        authfile.touch(mode=0o600)
        subprocess.run(
            [xauth, "-q", "-f", str(authfile), "add", f":{number}", "MIT-MAGIC-COOKIE-1", secrets.token_hex(16)],
            check=True,
            capture_output=True,
            timeout=10,
        )
        log_path = self._tmpdir / f"Xvfb-{number}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    xvfb,
                    f":{number}",
                    "-screen",
                    "0",
                    f"{self.width}x{self.height}x{self.depth}",
                    "-nolisten",
                    "tcp",
                    "-auth",
                    str(authfile),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._proc = proc
        self.number = number
        env = self.env()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = None
                self.number = None
                return f"exited with {proc.returncode}: {log_path.read_text(errors='replace')[-1500:]}"
            probe = subprocess.run(
                ["xdpyinfo", "-display", f":{number}"], env=env, capture_output=True, text=True, timeout=10
            )
            if probe.returncode == 0:
                expected = f"{self.width}x{self.height} pixels"
                if expected not in probe.stdout:
                    self._kill()
                    return f"answered with the wrong screen size (expected {expected}); another server?"
                return None
            time.sleep(0.05)
        self._kill()
        return (
            f"did not accept connections within {START_TIMEOUT:.0f} s: {log_path.read_text(errors='replace')[-1500:]}"
        )

    def _kill(self) -> None:
        proc, self._proc, self.number = self._proc, None, None
        if proc is None or proc.poll() is not None:
            return
        stop_process(proc, 5)

    def stop(self) -> None:
        """Terminate the server, wait for it, and remove its Xauthority file. Safe to call twice."""
        self._kill()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Xvfb:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.display if self.number is not None else "stopped"
        return f"Xvfb({where}, {self.width}x{self.height}x{self.depth})"


def start_xvfb(width: int = 1366, height: int = 768, depth: int = 24) -> Xvfb:
    """Start a new private Xvfb screen of ``width`` x ``height`` and return it (call ``stop()`` when done)."""
    return Xvfb(width, height, depth).start()

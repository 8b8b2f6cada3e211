"""Two real RandR monitors on a headless machine: Xorg with the dummy video driver.

Xvfb cannot do it (``+xinerama`` puts every screen at +0+0 and RandR reports one monitor). Xorg
with ``xserver-xorg-video-dummy`` can: one screen of up to 2560x1024 with two virtual heads, set
with xrandr to 1280x800 at +0+0 and 1024x768 at +1280+100 (so the bounding box, 2304x868, has a
dead strip under the first monitor). The server is started as::

    Xorg :N -config FILE -configdir EMPTY_DIR -noreset -nolisten tcp -novtswitch -sharevts
         -auth XAUTH -logfile LOG

with the configuration in :data:`XORG_CONF` and a private MIT-MAGIC-COOKIE in ``XAUTH``. It needs
the packages in tests/support/APT_PACKAGES_XORG.txt; :func:`skip_reason` says what is missing.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from tests.support.processes import stop_process

FIRST_DISPLAY = 600
LAST_DISPLAY = 899
START_TIMEOUT = 20.0

DRIVER_DIRS = (
    "/usr/lib/xorg/modules/drivers",
    "/usr/lib64/xorg/modules/drivers",
    "/usr/local/lib/xorg/modules/drivers",
    "/usr/lib/x86_64-linux-gnu/xorg/modules/drivers",
)

XORG_CONF = """\
Section "ServerFlags"
    Option "AutoAddDevices" "false"
    Option "AutoEnableDevices" "false"
    Option "DontVTSwitch" "true"
EndSection

Section "Device"
    Identifier "dummy"
    Driver "dummy"
    VideoRam 65536
    Option "VirtualHeads" "2"
EndSection

Section "Monitor"
    Identifier "monitor"
    HorizSync 5.0 - 1000.0
    VertRefresh 5.0 - 200.0
EndSection

Section "Screen"
    Identifier "screen"
    Device "dummy"
    Monitor "monitor"
    DefaultDepth 24
    SubSection "Display"
        Depth 24
        Virtual 2560 1024
    EndSubSection
EndSection

Section "ServerLayout"
    Identifier "layout"
    Screen "screen"
EndSection
"""
"""No input devices are probed (``AutoAddDevices`` off): XTEST, which pyautogui and xdotool use, needs none."""

MODELINE_1024X768 = ("63.50", "1024", "1072", "1176", "1328", "768", "771", "775", "798", "-hsync", "+vsync")
"""``cvt 1024 768 60`` (the cvt tool is not in Debian's Xorg packages)."""


class Head(NamedTuple):
    """One monitor's area in absolute screen pixels."""

    x: int
    y: int
    width: int
    height: int


HEADS = (Head(0, 0, 1280, 800), Head(1280, 100, 1024, 768))
"""The two monitors, primary first."""

BOUNDING_BOX = Head(0, 0, 2304, 868)
"""All monitors together (what mss calls monitor 0)."""


class XorgError(RuntimeError):
    """Xorg did not start, or its monitors could not be set up."""


def _driver_installed() -> bool:
    return any(Path(folder, "dummy_drv.so").exists() for folder in DRIVER_DIRS)


def skip_reason() -> str | None:
    """Why a two-monitor display cannot be started here, or ``None`` when everything is installed."""
    missing = [tool for tool in ("Xorg", "xrandr", "xauth") if shutil.which(tool) is None]
    if not _driver_installed():
        missing.append("the dummy video driver")
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install -y $(cat tests/support/APT_PACKAGES_XORG.txt))"
    return None


def display_in_use(number: int) -> bool:
    """Whether an X server holds (or left behind) the lock or socket of display ``:number``."""
    return Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists()


def free_displays(first: int = FIRST_DISPLAY, last: int = LAST_DISPLAY) -> Iterator[int]:
    """Display numbers from ``first`` to ``last`` that no server uses right now (one may still lose a race)."""
    return (number for number in range(first, last + 1) if not display_in_use(number))


def list_monitors(env: dict[str, str]) -> list[Head]:
    """The RandR monitors of ``env``'s display, as ``xrandr --listmonitors`` reports them."""
    out = subprocess.run(
        ["xrandr", "--listmonitors"], env=env, capture_output=True, text=True, timeout=10, check=True
    ).stdout
    heads = re.findall(r"^\s*\d+: \S+ (\d+)/\d+x(\d+)/\d+\+(-?\d+)\+(-?\d+)", out, flags=re.MULTILINE)
    return [Head(int(x), int(y), int(w), int(h)) for w, h, x, y in heads]


class TwoMonitorDisplay:
    """A running Xorg dummy server on ``:N`` with the two monitors in :data:`HEADS`.

    Use it as a context manager, or call :meth:`start` and :meth:`stop` yourself.
    """

    monitors: tuple[Head, ...] = HEADS
    bounding_box: Head = BOUNDING_BOX

    def __init__(self) -> None:
        self.number: int | None = None
        self._tmpdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def skip_reason() -> str | None:
        """See :func:`skip_reason`."""
        return skip_reason()

    @property
    def display(self) -> str:
        """The display name, e.g. ``":600"``."""
        if self.number is None:
            raise XorgError("Xorg is not running")
        return f":{self.number}"

    @property
    def xauthority(self) -> str:
        """Path of the Xauthority file that holds this display's cookie."""
        if self._tmpdir is None:
            raise XorgError("Xorg is not running")
        return str(self._tmpdir / "Xauthority")

    @property
    def log_path(self) -> Path | None:
        """The server's log file (``None`` when not running)."""
        return None if self._tmpdir is None or self.number is None else self._tmpdir / f"Xorg-{self.number}.log"

    def env(self) -> dict[str, str]:
        """A copy of ``os.environ`` pointing ``DISPLAY`` and ``XAUTHORITY`` at this server."""
        return {**os.environ, "DISPLAY": self.display, "XAUTHORITY": self.xauthority}

    def start(self) -> TwoMonitorDisplay:
        """Start Xorg on the first free display from :600 upward, wait for it, and set up both monitors."""
        if self._proc is not None:
            return self
        reason = skip_reason()
        if reason is not None:
            raise XorgError(reason)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="xorg-dummy-test-"))
        (self._tmpdir / "xorg.conf").write_text(XORG_CONF)
        (self._tmpdir / "xorg.conf.d").mkdir()  # an empty -configdir: the host's snippets stay out
        errors: list[str] = []
        try:
            for number in free_displays():
                failure = self._try_start(number)
                if failure is None:
                    self._configure_heads()
                    return self
                errors.append(f":{number}: {failure}")
                if len(errors) >= 3:
                    break
        except BaseException:
            self.stop()
            raise
        self.stop()
        raise XorgError("Xorg did not start:\n" + "\n".join(errors or ["no free display number"]))

    def _try_start(self, number: int) -> str | None:
        """Start Xorg on ``:number``; ``None`` once it answers, else why it failed."""
        assert self._tmpdir is not None
        authfile = Path(self.xauthority)
        authfile.unlink(missing_ok=True)
        authfile.touch(mode=0o600)
        cookie = secrets.token_hex(16)
        subprocess.run(
            ["xauth", "-q", "-f", str(authfile), "add", f":{number}", "MIT-MAGIC-COOKIE-1", cookie],
            check=True,
            capture_output=True,
            timeout=10,
        )
        log_path = self._tmpdir / f"Xorg-{number}.log"
        command = [
            "Xorg", f":{number}", "-config", str(self._tmpdir / "xorg.conf"),
            "-configdir", str(self._tmpdir / "xorg.conf.d"), "-noreset", "-nolisten", "tcp",
            "-novtswitch", "-sharevts",  # never switch or take over the machine's virtual terminal
            "-auth", str(authfile), "-logfile", str(log_path),
        ]  # fmt: skip
        with (self._tmpdir / f"Xorg-{number}.out").open("wb") as out:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._proc, self.number = proc, number
        env = self.env()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = self.number = None
                return f"exited with {proc.returncode}: {self._tail(number)}"
            probe = subprocess.run(["xrandr", "--query"], env=env, capture_output=True, text=True, timeout=10)
            if probe.returncode == 0:
                if "DUMMY1" not in probe.stdout:
                    self._kill()
                    return "answered without a DUMMY1 output; another server on this display?"
                return None
            time.sleep(0.1)
        self._kill()
        return f"did not answer within {START_TIMEOUT:.0f} s: {self._tail(number)}"

    def _tail(self, number: int) -> str:
        assert self._tmpdir is not None
        texts = []
        for name in (f"Xorg-{number}.out", f"Xorg-{number}.log"):
            with contextlib.suppress(OSError):
                texts.append((self._tmpdir / name).read_text(errors="replace")[-1500:])
        return "\n".join(texts) or "(no output)"

    def _configure_heads(self) -> None:
        env = self.env()
        first, second = HEADS
        steps = [
            ["--newmode", "m1024", *MODELINE_1024X768],
            ["--addmode", "DUMMY1", "m1024"],
            [
                "--output", "DUMMY0", "--mode", f"{first.width}x{first.height}", "--pos", f"{first.x}x{first.y}",
                "--output", "DUMMY1", "--mode", "m1024", "--pos", f"{second.x}x{second.y}",
            ],
        ]  # fmt: skip
        for step in steps:
            result = subprocess.run(["xrandr", *step], env=env, capture_output=True, text=True, timeout=10)
            if result.returncode != 0:
                raise XorgError(f"xrandr {' '.join(step)} failed: {result.stderr.strip()}")
        seen = list_monitors(env)
        if seen != list(HEADS):
            raise XorgError(f"expected monitors {list(HEADS)}, xrandr lists {seen}")

    def _kill(self) -> None:
        proc, self._proc, self.number = self._proc, None, None
        if proc is not None:
            stop_process(proc, 10)

    def stop(self) -> None:
        """Terminate the server, wait for it, and remove its files. Safe to call twice."""
        self._kill()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> TwoMonitorDisplay:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.display if self.number is not None else "stopped"
        return f"TwoMonitorDisplay({where}, {', '.join(f'{h.width}x{h.height}+{h.x}+{h.y}' for h in HEADS)})"

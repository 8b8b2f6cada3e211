"""The X pointer of a test display, read from the X server, and direct xdotool input for test set-up."""

from __future__ import annotations

import subprocess

from tests.support.xvfb import Xvfb

PARKED = (1301, 717)
"""Where the pointer waits on the shared 1366x768 screen: off the Tk form and away from the fail-safe corners."""


def pointer(display: Xvfb) -> tuple[int, int]:
    """Where the X pointer is, asked of the X server itself (xdotool)."""
    out = subprocess.run(
        ["xdotool", "getmouselocation", "--shell"], env=display.env(), capture_output=True, text=True, timeout=10
    ).stdout
    where = dict(line.split("=", 1) for line in out.split())
    return int(where["X"]), int(where["Y"])


def xdotool(display: Xvfb, *args: str) -> None:
    """Drive the test display directly (test set-up only; the server is never asked to)."""
    subprocess.run(["xdotool", *args], env=display.env(), check=True, timeout=10)

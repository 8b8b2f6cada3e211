"""What kind of desktop session this is, and what the server can do in it.

Input goes through pyautogui (XTest on Linux) and capture through mss (XGetImage on Linux): both
reach X11 only. On a Wayland session they reach the XWayland windows at most, and nothing at all
without an X server. ``serve`` and ``doctor`` say so at start-up, instead of a first click that
fails or lands nowhere (docs/wayland.md plans native Wayland input and capture).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionReport:
    """The session, what works in it, and (when something does not) the problem and the fix."""

    kind: str
    works: str
    usable: bool
    problem: str | None = None
    fix: str | None = None


WAYLAND_FIX = (
    'log in to an X11 session ("GNOME on Xorg"/"Ubuntu on Xorg" where the distribution still ships it), or run '
    "the applications to drive under XWayland (GDK_BACKEND=x11, QT_QPA_PLATFORM=xcb, Chromium "
    "--ozone-platform=x11); docs/wayland.md has the plan for native Wayland"
)


def session_report(env: Mapping[str, str], platform: str = sys.platform) -> SessionReport:
    """Read the session type from ``env`` (``XDG_SESSION_TYPE``, ``WAYLAND_DISPLAY``, ``DISPLAY``)."""
    if platform == "win32":
        return SessionReport("windows", "input (pyautogui) and capture (mss); no window list or clipboard tools", True)
    if platform == "darwin":
        return SessionReport(
            "macos",
            "input (pyautogui) and capture (mss) once the host application has the Accessibility and Screen "
            "Recording permissions; no window list or clipboard tools",
            True,
        )
    x11 = bool(env.get("DISPLAY"))
    wayland = env.get("XDG_SESSION_TYPE", "").lower() == "wayland" or bool(env.get("WAYLAND_DISPLAY"))
    if wayland and x11:
        return SessionReport(
            "wayland (with XWayland)",
            "XWayland windows only: clicks, typing and screenshots reach applications running under XWayland; "
            "native Wayland windows are neither seen nor driven",
            True,
            "this is a Wayland session, where pyautogui cannot send input to native Wayland windows and mss "
            "cannot capture them",
            WAYLAND_FIX,
        )
    if wayland:
        return SessionReport(
            "wayland",
            "nothing: there is no X server (DISPLAY is not set), so no input and no screenshots",
            False,
            "this is a Wayland session without XWayland: pyautogui and mss need an X display",
            WAYLAND_FIX,
        )
    if x11:
        return SessionReport("x11", "everything: input, capture, windows, clipboard, accessibility", True)
    return SessionReport(
        "none",
        "nothing: no display",
        False,
        "DISPLAY is not set: there is no desktop to see or drive",
        "run the server inside your desktop session, or point DISPLAY (and XAUTHORITY) at it, e.g. DISPLAY=:0; "
        "on a headless machine start Xvfb",
    )


def startup_line(report: SessionReport) -> str | None:
    """The start-up warning for a session the server cannot fully serve (``None`` when it can)."""
    if report.problem is None:
        return None
    return f"session type {report.kind}: {report.problem}. What works: {report.works}. Fix: {report.fix}."

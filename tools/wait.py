"""``wait_for``: wait, bounded, until something holds on the desktop, and return as soon as it does.

One condition per call: a text appears or disappears (OCR, through the runtime's cached screen
reader: only the tiles that changed are read again), the screen or a region stays unchanged for a
while, a window whose title contains a text appears or goes away. It replaces sleeping: a flow
waits exactly as long as the application needs, and learns what it saw. A condition that does not
hold within ``timeout`` is an error that says what was seen last.
"""

from __future__ import annotations

import time

import anyio
from pydantic import BaseModel, ConfigDict, Field

from tools.actions.desktop import monitor_of
from tools.actions.locate import candidates
from tools.describe import RegionArg, capture_screen
from tools.desktop.platform import WindowInfo
from tools.desktop.screen_text import screen_lines
from tools.desktop.settle import changed_box, fingerprint
from tools.errors import InvalidAction, ToolFailure
from tools.results_desktop import WaitResult, WindowRef
from tools.runtime import Progress, Runtime, no_progress

POLL = 0.1
"""Seconds between looks at the window list or at the screen's pixels."""
TEXT_POLL = 0.25
"""Seconds between OCR looks (each reads only what changed, but is not free)."""


CONDITIONS = ("text_appears", "text_disappears", "window_appears", "window_disappears", "stable_ms")


class WaitTimedOut(ToolFailure):
    """The condition did not hold in time; the message says what was seen last."""


class WaitParams(BaseModel):
    """Arguments of wait_for: exactly one condition."""

    model_config = ConfigDict(extra="forbid")
    text_appears: str | None = Field(None, min_length=1, max_length=500, description="Wait until this text shows.")
    text_disappears: str | None = Field(
        None, min_length=1, max_length=500, description="Wait until this text no longer shows."
    )
    window_appears: str | None = Field(
        None, min_length=1, max_length=500, description="Wait until a window whose title contains this text exists."
    )
    window_disappears: str | None = Field(
        None, min_length=1, max_length=500, description="Wait until no window's title contains this text."
    )
    stable_ms: int | None = Field(
        None, ge=100, le=30_000, description="Wait until the screen (or `region`) has not changed for this long."
    )
    region: RegionArg | None = Field(None, description="Only look here (screen pixels), for text and stability.")
    monitor: int | None = Field(None, ge=0, le=16, description="Look at this monitor (1..; 0 = all). Default: all.")
    timeout: float = Field(10.0, gt=0, le=120, description="Give up after this many seconds (an error).")

    def check(self) -> None:
        """Exactly one condition must be given (the server builds params without running model validators)."""
        given = [n for n in CONDITIONS if getattr(self, n) is not None]
        if len(given) != 1:
            raise InvalidAction(
                f"give exactly one condition: {', '.join(CONDITIONS)} (got {', '.join(given) or 'none'})"
            )


def _titled(windows: list[WindowInfo], text: str) -> list[WindowInfo]:
    wanted = text.casefold()
    return [w for w in windows if wanted in w.title.casefold()]


async def wait_for(runtime: Runtime, params: WaitParams, progress: Progress = no_progress) -> WaitResult:
    """Wait until the condition holds (bounded by ``params.timeout``); :class:`WaitTimedOut` otherwise."""
    params.check()
    started = time.perf_counter()
    deadline = started + params.timeout
    await progress(0, None, "waiting")
    if params.window_appears is not None or params.window_disappears is not None:
        return await _window(runtime, params, started, deadline)
    if params.stable_ms is not None:
        return await _stable(runtime, params, params.stable_ms, started, deadline)
    return await _text(runtime, params, started, deadline)


def _elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


async def _window(runtime: Runtime, params: WaitParams, started: float, deadline: float) -> WaitResult:
    text = params.window_appears or params.window_disappears or ""
    appear = params.window_appears is not None
    looks = 0
    while True:
        windows = await runtime.desktop.windows()
        looks += 1
        found = _titled(windows, text)
        if appear and found:
            window = max(found, key=lambda w: (w.focused, w.title.casefold() == text.casefold(), w.stacking))
            return WaitResult(
                condition=f"a window titled like {text!r} appears",
                elapsed_ms=_elapsed(started),
                looks=looks,
                seen=f"window {window.hex_id} {window.title!r}" + (" (focused)" if window.focused else ""),
                window=WindowRef.of(window, monitor_of(window, await runtime.capturer.monitors())),
            )
        if not appear and not found:
            return WaitResult(
                condition=f"no window titled like {text!r}",
                elapsed_ms=_elapsed(started),
                looks=looks,
                seen="windows now: " + (", ".join(repr(w.title) for w in windows) or "none"),
            )
        if time.perf_counter() >= deadline:
            titles = ", ".join(repr(w.title) for w in windows) or "none"
            state = "appeared" if appear else "went away"
            raise WaitTimedOut(
                f"no window titled like {text!r} {state} within {params.timeout:g} s (windows now: {titles})"
            )
        await anyio.sleep(POLL)


def _monitor(params: WaitParams) -> int:
    return 0 if params.monitor is None else params.monitor


async def _stable(runtime: Runtime, params: WaitParams, stable_ms: int, started: float, deadline: float) -> WaitResult:
    capture = await capture_screen(runtime, params.region, _monitor(params))
    last = fingerprint(capture.image)
    quiet_since = time.perf_counter()
    looks = 1
    changes = 0
    while True:
        if (time.perf_counter() - quiet_since) * 1000 >= stable_ms:
            frame = capture.frame
            return WaitResult(
                condition=f"the screen stays unchanged for {stable_ms} ms",
                elapsed_ms=_elapsed(started),
                looks=looks,
                seen=f"{frame.width}x{frame.height} at ({frame.x}, {frame.y}) unchanged for {stable_ms} ms "
                f"after {changes} change(s)",
            )
        if time.perf_counter() >= deadline:
            raise WaitTimedOut(
                f"the screen kept changing: it was never still for {stable_ms} ms within {params.timeout:g} s "
                f"({changes} changes seen)"
            )
        await anyio.sleep(POLL)
        capture = await capture_screen(runtime, params.region, _monitor(params))
        now = fingerprint(capture.image)
        looks += 1
        if changed_box(last, now) is not None:
            changes += 1
            quiet_since = time.perf_counter()
        last = now


async def _text(runtime: Runtime, params: WaitParams, started: float, deadline: float) -> WaitResult:
    if runtime.ocr is None:
        raise InvalidAction("waiting for text needs OCR, which is off on this server; wait for a window instead")
    text = params.text_appears or params.text_disappears or ""
    appear = params.text_appears is not None
    looks = 0
    while True:
        capture = await capture_screen(runtime, params.region, _monitor(params))
        lines = await screen_lines(runtime, capture)
        looks += 1
        matches = candidates(lines, text)
        if appear and matches:
            match = matches[0]
            more = f" and {len(matches) - 1} more" if len(matches) > 1 else ""
            return WaitResult(
                condition=f"the text {text!r} appears",
                elapsed_ms=_elapsed(started),
                looks=looks,
                seen=f"{match.text!r} at {list(match.box)}{more}",
                box=match.box,
            )
        if not appear and not matches:
            return WaitResult(
                condition=f"the text {text!r} disappears",
                elapsed_ms=_elapsed(started),
                looks=looks,
                seen=f"{text!r} no longer shows ({len(lines)} lines of text on screen)",
            )
        if time.perf_counter() >= deadline:
            if appear:
                shown = "; ".join(line.text for line in lines[:10]) or "no text"
                raise WaitTimedOut(f"{text!r} did not appear within {params.timeout:g} s (on screen: {shown})")
            where = "; ".join(f"{m.text!r} at {list(m.box)}" for m in matches[:3])
            raise WaitTimedOut(f"{text!r} still shows after {params.timeout:g} s ({where})")
        await anyio.sleep(TEXT_POLL)

"""``execute_action``: validate, record, send, wait for the screen to settle, report the change."""

from __future__ import annotations

import logging
import time

import anyio
from PIL import Image

from tools.actions import Done
from tools.capture import Monitor
from tools.events import AnyAction, plan_events
from tools.results import ExecuteResult
from tools.runtime import Progress, Runtime, no_progress
from tools.settle import changed_box, fingerprint, wait_for_settle

log = logging.getLogger(__name__)


async def _grab_all(runtime: Runtime) -> Image.Image:
    return (await runtime.capturer.grab(None, 0)).image


def _to_screen(box: tuple[int, int, int, int], screen: Monitor) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    return screen.x + x1, screen.y + y1, screen.x + x2 - 1, screen.y + y2 - 1


async def execute_action(
    runtime: Runtime,
    action: AnyAction,
    dry_run: bool | None = None,
    progress: Progress = no_progress,
) -> ExecuteResult:
    """Perform one action (or, in a dry run, everything but sending the input)."""
    started = time.perf_counter()
    dry = runtime.settings.dry_run if dry_run is None else (dry_run or runtime.settings.dry_run)
    async with runtime.desktop_lock:
        monitors = await runtime.capturer.monitors()
        events = await anyio.to_thread.run_sync(
            lambda: plan_events(
                action, monitors, runtime.driver.is_valid_key, max_text_length=runtime.settings.max_text_length
            )
        )
        performed = [event.to_dict() for event in events]
        answer = action.answer if isinstance(action, Done) else None
        log.info("%s %s: %s", "dry-run" if dry else "executing", action.type, performed)
        if dry or not events:
            return ExecuteResult(
                status="dry_run" if dry else "executed",
                action_type=action.type,
                performed=performed,
                screen_changed=False,
                settled=True,
                answer=answer,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
        before = fingerprint(await _grab_all(runtime))
        await progress(0, 2, f"sending {action.type}")
        await anyio.to_thread.run_sync(lambda: runtime.driver.send(events))
        await progress(1, 2, "waiting for the screen to settle")
        settled = await wait_for_settle(
            lambda: _grab_all(runtime),
            timeout=runtime.settings.settle_timeout,
            interval=runtime.settings.settle_interval,
        )
        box = changed_box(before, settled.image)
    return ExecuteResult(
        status="executed",
        action_type=action.type,
        performed=performed,
        screen_changed=box is not None,
        changed_region=None if box is None else _to_screen(box, monitors[0]),
        settled=settled.settled,
        answer=answer,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )

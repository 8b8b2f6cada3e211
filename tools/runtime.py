"""Everything the tool handlers share, opened once and passed down explicitly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from engine.vision import VisionEngine
from tools.capture import MssCapturer
from tools.inputs import InputDriver
from tools.snapshots import SnapshotStore

Progress = Callable[[float, float | None, str | None], Awaitable[None]]
"""``await progress(done, total, message)``: reports progress to the client, if it asked for it."""


async def no_progress(done: float, total: float | None, message: str | None) -> None:
    """A :data:`Progress` that reports nowhere."""


@dataclass(frozen=True)
class ToolSettings:
    """Behaviour of the desktop tools."""

    dry_run: bool = False
    default_monitor: int = 1
    settle_timeout: float = 3.0
    settle_interval: float = 0.1
    max_text_length: int = 10_000
    snapshot_capacity: int = 32


@dataclass
class Runtime:
    """The shared resources: model engine (``None`` when no model is configured), capture, input."""

    settings: ToolSettings
    engine: VisionEngine | None
    capturer: MssCapturer
    driver: InputDriver
    snapshots: SnapshotStore = field(default_factory=SnapshotStore)
    desktop_lock: anyio.Lock = field(default_factory=anyio.Lock)
    """One desktop: actions (and the captures that judge them) never interleave."""

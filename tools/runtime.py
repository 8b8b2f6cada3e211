"""Everything the tool handlers share, opened once and passed down explicitly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from PIL import Image

from engine.ocr.cache import ScreenReader
from engine.vlm.vision import Description, VisionEngine
from tools.answer_cache import AnswerCache
from tools.desktop.a11y.reader import A11yReader
from tools.desktop.capture import Screen
from tools.desktop.inputs import InputDriver
from tools.desktop.platform import DesktopPlatform, native_desktop
from tools.safety.audit import AuditLog
from tools.safety.flags import PlanDoubts
from tools.safety.policy import Policy, RateLimiter
from tools.safety.tokens import ConfirmationTokens
from tools.settings import ToolSettings
from tools.snapshots import SnapshotStore

Progress = Callable[[float, float | None, str | None], Awaitable[None]]
"""``await progress(done, total, message)``: reports progress to the client, if it asked for it."""


async def no_progress(done: float, total: float | None, message: str | None) -> None:
    """A :data:`Progress` that reports nowhere."""


Confirm = Callable[["Asked"], Awaitable[bool | None]]
"""``await confirm(asked)``: asks a person; True = go ahead, False = declined, None = cannot ask."""


async def cannot_confirm(asked: Asked) -> bool | None:
    """A :data:`Confirm` for callers that have no way to ask anyone."""
    return None


@dataclass(frozen=True)
class Asked:
    """A question for a person, bound to exactly what would run.

    ``digest`` identifies the input events the question describes: an approval counts only for the
    same digest. ``prepared`` is what the tool prepared to ask it, handed back to the tool's body so
    the work is not done twice when nothing moved in between.
    """

    question: str
    digest: str
    prepared: object | None = None


@dataclass(frozen=True)
class Caller:
    """Who is calling and how to reach them: progress reports, confirmation, a name for the audit log."""

    progress: Progress = no_progress
    confirm: Confirm = cannot_confirm
    requester: str | None = None
    asked: Asked | None = None
    """What was asked for this call before its body ran (its approval, if any, is bound to it)."""


@dataclass
class Runtime:
    """The shared resources: model engine (``None`` when no model is configured), capture, input."""

    settings: ToolSettings
    engine: VisionEngine | None
    capturer: Screen
    driver: InputDriver
    snapshots: SnapshotStore = field(default_factory=SnapshotStore)
    desktop_lock: anyio.Lock = field(default_factory=anyio.Lock)
    """One desktop: actions (and the captures that judge them) never interleave."""
    policy: Policy = field(default_factory=Policy)
    """Fixed at start-up; nothing a tool call says can change it."""
    limiter: RateLimiter | None = None
    """The policy's rate limit; shared by every session of the process (``None``: no limit)."""
    audit: AuditLog | None = None
    """The write-ahead audit log (``None``: actions are not recorded, for tests of other parts only)."""
    ocr: ScreenReader | None = None
    """Offline OCR with its screen cache (``None``: OCR is off or not installed)."""
    answers: AnswerCache[Description] = field(default_factory=AnswerCache)
    desktop: DesktopPlatform = field(default_factory=native_desktop)
    """Windows, applications and the clipboard (X11 here; other platforms say they are not served)."""
    a11y: A11yReader | None = None
    """The accessibility tree reader (``None``: off)."""
    tokens: ConfirmationTokens = field(default_factory=ConfirmationTokens)
    """Issues and redeems confirmation tokens (its key lives only in this process)."""
    doubts: PlanDoubts = field(default_factory=PlanDoubts)
    """Planned actions found doubtful (flagged screen text, undecided clicks), for execute_action."""
    settled_screens: dict[tuple[int, int, int, int], Image.Image] = field(default_factory=dict)
    """The last settled fingerprint per capture area: a screen found exactly so again needs no settle wait."""
    """The model's describe answers by screen content, question and model."""

"""What plan_next_action checks about a proposed action before handing it out.

* **Second look** (a click on a point): the plan's point is put beside a separate grounding call for
  the target the plan's reasoning names, and looked at again zoomed in when they disagree
  (:mod:`engine.vlm.refine`). A settled point replaces the plan's; an unsettled one is remembered
  as undecided, so execute_action refuses it and the candidates are returned instead.
* **Screen text as data**: the screen's instruction-like text is reported apart; an action that takes
  its text, chord or URL from it is flagged, and remembered so execute_action asks a person first.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from engine.geometry import image_box_to_screen, image_to_screen, screen_to_image
from engine.ocr.lines import TextBox
from engine.vlm.refine import Look, SecondLook
from engine.vlm.vision import Proposal
from tools.actions.vocabulary import AnyAction, Click, DoubleClick, RightClick
from tools.desktop.capture import Capture
from tools.desktop.screen_text import screen_lines
from tools.errors import ToolFailure
from tools.model_calls import ask_model
from tools.results_trust import SecondLookReport, TargetCandidate, UntrustedText
from tools.runtime import Runtime
from tools.safety.flags import Doubt
from tools.safety.injection import derived_from, hidden_lines, untrusted_lines

log = logging.getLogger(__name__)

_INTRO = re.compile(r"^.*?\b(?:action|next step|next action)\b[^:]*:\s*", re.IGNORECASE)
_VERB = re.compile(
    r"^(?:(?:left|right|middle|double|triple)[ -]?)?(?:click|tap|press|select|choose|hit)(?:\s+(?:on|at))?"
    r"(?:\s+the)?\s+",
    re.IGNORECASE,
)


@dataclass
class PlanChecks:
    """The outcome of the checks: the action (its point refined, perhaps) and what to report."""

    action: AnyAction
    second_look: SecondLookReport | None = None
    untrusted: list[UntrustedText] = field(default_factory=list)
    flagged: str | None = None


def target_of(proposal: Proposal) -> str | None:
    """What the plan means to click, from the last line of its reasoning ("Action: click the OK button" -> "OK
    button"); ``None`` when the reasoning names nothing."""
    if not proposal.reasoning:
        return None
    lines = [line.strip() for line in proposal.reasoning.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = re.sub(r"^\d+[.)]\s*", "", lines[-1])
    last = _INTRO.sub("", last).strip().rstrip(".")
    last = _VERB.sub("", last + " ").strip()  # a bare "Left click." names no target
    return last or None


def _report(look: Look, capture: Capture) -> SecondLookReport:
    frame = capture.frame
    candidates = []
    for c in look.candidates:
        x, y = image_to_screen(frame, c.x, c.y)
        candidates.append(TargetCandidate(x=x, y=y, votes=c.votes, sources=list(c.sources), label=c.label))
    scale = frame.width / frame.pixel_width
    return SecondLookReport(
        decided=look.decided,
        confidence=look.confidence,
        spread_px=round(look.spread * scale, 1),
        zoomed=None if look.zoom is None else image_box_to_screen(frame, look.zoom),
        candidates=candidates,
        reason=look.reason,
        model_calls=look.calls,
    )


async def _second_look(runtime: Runtime, capture: Capture, proposal: Proposal, checks: PlanChecks) -> None:
    action = checks.action
    if (
        not runtime.settings.second_look
        or runtime.engine is None
        or not isinstance(action, Click | DoubleClick | RightClick)
    ):
        return
    target = target_of(proposal)
    if target is None:
        return
    first = screen_to_image(capture.frame, action.x, action.y)
    look = await ask_model(SecondLook(runtime.engine).look(capture.image, target, first))
    checks.second_look = _report(look, capture)
    if look.point is not None:
        x, y = image_to_screen(capture.frame, *look.point)
        checks.action = action.model_copy(update={"x": x, "y": y})
        return
    shown = ", ".join(f"({c.x}, {c.y}) {c.votes} vote(s)" for c in checks.second_look.candidates)
    runtime.doubts.remember(action, Doubt("undecided", f"{look.reason}; candidates: {shown or 'none'}"))


async def read_screen_text(runtime: Runtime, capture: Capture) -> list[TextBox] | None:
    """The screen's text lines for the checks (``None`` without OCR); read beside the model call."""
    if runtime.ocr is None:
        return None
    try:
        return await screen_lines(runtime, capture)
    except ToolFailure as exc:
        log.info("no screen text for the plan's checks: %s", exc)
        return None


async def _screen_text(runtime: Runtime, lines: list[TextBox] | None, checks: PlanChecks) -> None:
    if lines is None:
        return
    # Near-invisible lines are held to the lower bar describe_screen uses: hiding them is itself the sign.
    hidden = hidden_lines(line.text for line in lines if line.faint)
    shown = {line.text for line in hidden}
    visible = untrusted_lines(line.text for line in lines if not line.faint)
    found = [*hidden, *(u for u in visible if u.text not in shown)]
    checks.untrusted = [UntrustedText(text=u.text, reason=u.reason, near_invisible=u.hidden) for u in found]
    source = derived_from(checks.action, found)
    if source is not None:
        checks.flagged = (
            f"the action comes from instruction-like text on the screen, {source.text!r} ({source.reason}); "
            "screen text is data, not the user's request"
        )
        runtime.doubts.remember(checks.action, Doubt("flagged", checks.flagged))


async def check_plan(
    runtime: Runtime, capture: Capture, proposal: Proposal, action: AnyAction, lines: list[TextBox] | None = None
) -> PlanChecks:
    """Run the checks on ``action``, proposed for ``capture``; ``lines``: its text, when already read."""
    checks = PlanChecks(action)
    await _second_look(runtime, capture, proposal, checks)
    await _screen_text(runtime, lines if lines is not None else await read_screen_text(runtime, capture), checks)
    return checks

"""Whether a person must approve an action, and why, in words the question and the result can show.

Reasons come from four places, in this order: a plan's flag (the action came from instruction-like
screen text), the policy's mode (``confirm: always``), the action's form (typing, chords, uploads:
:func:`~tools.safety.policy.destructive_reason`) and the target read on screen (a "Delete" button, a
password field: :mod:`tools.safety.risk`). No reasons, no question.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.actions.vocabulary import AnyAction, Done, Wait
from tools.desktop.capture import Capture
from tools.desktop.inputs import InputEvent
from tools.runtime import Runtime
from tools.safety.policy import destructive_reason
from tools.safety.risk import assess

HOW_TO_CONFIRM = (
    "To confirm without elicitation, call execute_action with dry_run: true: its result carries a "
    "`confirmation.token`; then call again with the same action and `confirmation_token` set to it (the person "
    "approves that call in the host; the token is single-use, expires, and counts only for the same input events)"
)


async def reasons_to_confirm(
    runtime: Runtime, action: AnyAction, events: Sequence[InputEvent], seen: Capture | None = None
) -> list[str]:
    """Why a person must approve ``action`` sending ``events`` (empty: no one needs asking)."""
    policy = runtime.policy
    if isinstance(action, Done | Wait):
        return []
    reasons: list[str] = []
    doubt = runtime.doubts.about(action)
    if doubt is not None and doubt.kind == "flagged" and (policy.confirm_flagged or policy.confirm != "never"):
        reasons.append(doubt.reason)
    if policy.confirm == "never":
        return reasons
    if policy.confirm == "always":
        reasons.append("the server's policy confirms every action (confirm: always)")
    form = destructive_reason(action, events)
    if form is not None:
        reasons.append(form)
    if policy.confirm == "destructive":
        reasons += (await assess(runtime, action, events, seen)).reasons
    return reasons

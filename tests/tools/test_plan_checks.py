"""What plan_next_action's second look takes as the plan's target: the thing its last reasoning line names."""

from __future__ import annotations

import pytest

from engine.vlm.parsing import ToolCall
from engine.vlm.thinking import ThinkingMode
from engine.vlm.vision import Proposal
from tools.plan_checks import target_of


def proposal(reasoning: str | None) -> Proposal:
    call = ToolCall("computer_use", {"action": "left_click", "coordinate": [500, 500]})
    return Proposal(call, reasoning, ThinkingMode.OFF, "m", 1.0, "", 1, 1)


@pytest.mark.parametrize(
    ("reasoning", "target"),
    [
        ("Thought: Submit is left.\nAction: Click the Submit button.", "Submit button"),
        ("1. Look.\n2. So the next action is: Left click on Products.", "Products"),
        ("Thought: Maybe the button is here.\nAction: Left click.", None),
        ("Thought: Try again.\nAction: Double-click.", None),
        ("", None),
        (None, None),
    ],
)
def test_the_target_is_what_the_last_line_names(reasoning: str | None, target: str | None) -> None:
    assert target_of(proposal(reasoning)) == target

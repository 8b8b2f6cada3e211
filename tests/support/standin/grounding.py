"""Grounding answers in the GUI fine-tunes' own output formats, chosen by the served model's name.

A real MAI-UI, UI-Venus-1.5 or GUI-Owl-1.5 answers a grounding request in the shape it was trained
on whatever the prompt looked like, so the stand-in does too: the model name the request carries
(or the stand-in serves) picks the format, not the prompt. Each format is written here from the
model's own code, independently of ``engine/`` (an oracle must not reuse the code under test):

* MAI-UI (Tongyi-MAI/MAI-UI ``src/prompt.py``, ``src/mai_grounding_agent.py``):
  ``<grounding_think>...</grounding_think>\\n<answer>\\n{"coordinate": [x,y]}\\n</answer>`` on a 0-999
  grid (``SCALE_FACTOR = 999``). For a target it does not see it still reasons, and gives no answer.
* UI-Venus-1.5 (inclusionAI/UI-Venus ``models/grounding/ui_venus1_5_gd.py``): a bare ``[x,y]`` on
  0-1000; ``[-1,-1]`` when the target is not there.
* GUI-Owl-1.5 (X-PLUG/MobileAgent ``Mobile-Agent-v3.5``): a ``computer_use`` ``left_click``
  ``<tool_call>`` on the 0-1000 grid; a ``terminate`` call with ``failure`` when not found.

Qwen3-VL and unknown models keep :func:`tests.support.standin.answers.point_answer` (``point_2d``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tests.support.standin.scenario import Scenario
from tests.support.standin.validation import message_texts

STYLES = (("mai-ui", "mai-ui"), ("ui-venus", "ui-venus"), ("gui-owl", "gui-owl"))
"""(style, lower-case substring of the model name that selects it)."""
GRIDS = {"mai-ui": 999, "ui-venus": 1000, "gui-owl": 1000}
GROUNDING_MARKERS = (
    "point_2d",
    "<grounding_think>",
    "Output the center point of the position corresponding to the following instruction",
    "you can only use the left_click and mouse_move action",
)
"""Text that marks a request as grounding, in each model's own prompt (Qwen3-VL's first)."""
_QUOTED = re.compile(r'"([^"\n]{1,200})"')
_VENUS_INSTRUCTION = re.compile(r"following instruction: \n(?P<t>.+?)\. \n\n", re.DOTALL)
_FORMAT_WORDS = {"point_2d", "bbox_2d", "label", "type", "summary", "elements", "answer", "..."}


def grounding_style(model: str) -> str | None:
    """The fine-tune whose format ``model`` answers grounding in, or ``None`` (Qwen3-VL's ``point_2d``)."""
    name = model.lower()
    for style, part in STYLES:
        if part in name:
            return style
    return None


def is_grounding(text: str) -> bool:
    """Whether a request's system and user text asks where something is (in any model's own prompt)."""
    return any(marker in text for marker in GROUNDING_MARKERS)


def asked_targets(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the request may be asking for, most likely first: quoted text, UI-Venus's instruction, the
    whole user text (MAI-UI and GUI-Owl send the bare instruction)."""
    user = "\n".join(message_texts(messages, ("user",)))
    found = [q for q in _QUOTED.findall(user) if q.strip() not in _FORMAT_WORDS]
    venus = _VENUS_INSTRUCTION.search(user)
    if venus:
        found.append(venus.group("t"))
    if user.strip():
        found.append(user.strip())
    return found


def not_found(style: str) -> str:
    """The answer of a model in ``style`` that does not see the target."""
    if style == "mai-ui":
        return "<grounding_think>The screenshot shows no element matching the instruction.</grounding_think>"
    if style == "ui-venus":
        return "[-1,-1]"
    call = {"name": "computer_use", "arguments": {"action": "terminate", "status": "failure"}}
    return f"<tool_call>\n{json.dumps(call)}\n</tool_call>"


def on_grid(value: float, origin: float, size: float, grid: int) -> int:
    """A screen coordinate on the model's ``0..grid`` square of the captured area (clamped)."""
    return max(0, min(grid, round((value - origin) / size * grid)))


def styled_point(style: str, label: str, point: Sequence[int]) -> str:
    """The grounding answer of a model in ``style`` pointing at ``point`` (already on its grid)."""
    x, y = point
    if style == "mai-ui":
        return (
            f"<grounding_think>The instruction asks for {label}. I find it on the screenshot and give its "
            f'centre.</grounding_think>\n<answer>\n{{"coordinate": [{x},{y}]}}\n</answer>'
        )
    if style == "ui-venus":
        return f"[{x},{y}]"
    call = {"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [x, y]}}
    return f"<tool_call>\n{json.dumps(call)}\n</tool_call>"


def styled_point_answer(
    style: str,
    scenario: Scenario,
    messages: Sequence[Mapping[str, Any]],
    fault: str | None,
    shift_x: int = 0,
    crop: bool = False,
) -> str:
    """The answer of a model in ``style`` to a grounding request: the asked element's centre (moved
    ``shift_x`` screen pixels right), or not found when it is absent or, on a ``crop``, outside it."""
    f = scenario.frame
    grid = GRIDS[style]
    for target in asked_targets(messages):
        element = scenario.find(target)
        if element is None:
            continue
        x1, y1, x2, y2 = element["box"]
        x, y = (x1 + x2) / 2 + shift_x, (y1 + y2) / 2
        if crop and not (f["x"] <= x <= f["x"] + f["width"] and f["y"] <= y <= f["y"] + f["height"]):
            return not_found(style)
        point = (
            [1500, -20]
            if fault == "out_of_range"
            else [
                on_grid(x, f["x"], f["width"], grid),
                on_grid(y, f["y"], f["height"], grid),
            ]
        )
        return styled_point(style, str(element["label"]), point)
    return not_found(style)

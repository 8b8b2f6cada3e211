"""Each model's own grounding format: the prompt it was trained on, and a parser for its answer.

Grounding ("where is X?") is the call click_text's fallback, the second look and the canary make
through :meth:`engine.vlm.vision.VisionEngine.locate`. The GUI fine-tunes were trained on their own
grounding prompts and answer in their own shapes, so asking them in Qwen3-VL's ``point_2d`` style
either loses accuracy or yields an answer the Qwen parser cannot read. What was checked (with the
search tool, no network to the hubs):

* Qwen3-VL (and Qwen3.5, and any unknown model): the cookbook's ``point_2d`` JSON on the 0-1000
  grid (QwenLM/Qwen3-VL cookbooks ``2d_grounding``, summarised in the developers' reference).
* GUI-Owl-1.5 (X-PLUG/MobileAgent ``Mobile-Agent-v3.5/README.md``: "outputs relative coordinates
  (0-1000) by default"; ``Mobile-Agent-v3.5/cookbook/end2end_usage_computer.ipynb``: a
  ``computer_use`` tool on a 1000x1000 screen, answers in ``<tool_call>`` JSON). Its repository
  publishes no grounding script yet; the grounding system prompt here (a ``computer_use`` tool that
  offers only ``left_click``/``mouse_move`` and terminates with ``failure`` when the element is not
  found) is the one a GUI-Owl-1.5 evaluation labels "official prompt from MobileAgent-v3.5"; it is
  not in X-PLUG's repository as stored.
* UI-Venus-1.5 (inclusionAI/UI-Venus ``models/grounding/ui_venus1_5_gd.py``): no system prompt, the
  user turn "Output the center point of the position corresponding to the following instruction:
  ...", the answer a bare ``[x,y]`` on 0-1000 (a ``[x1,y1,x2,y2]`` box or two points also occur;
  ``[-1,-1]`` means not on the screen).
* MAI-UI (Tongyi-MAI/MAI-UI ``src/prompt.py`` ``MAI_MOBILE_SYS_PROMPT_GROUNDING`` and
  ``src/mai_grounding_agent.py``): a grounding system prompt, the instruction as the user text, the
  answer ``<grounding_think>...</grounding_think><answer>{"coordinate": [x,y]}</answer>`` on a
  **0-999** grid (``SCALE_FACTOR = 999``): 999 is the right or bottom edge, so values are scaled by
  1000/999 onto the 0-1000 grid the rest of the code uses.

None of these answers in absolute pixels of the sent image (each is relative), so no parser needs
the image's size. Backends send the image before the text: the order UI-Venus and GUI-Owl use;
MAI-UI's agent puts its instruction before the image.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from engine.errors import ModelOutputError
from engine.geometry import GRID
from engine.vlm import prompts
from engine.vlm.parsing import GridElement, extract_json, parse_points, parse_tool_call, split_thinking
from engine.vlm.presets import Preset, preset_for

_PREVIEW = 2000


@dataclass(frozen=True)
class GroundingPrompt:
    """What a grounding request sends: the system prompt (if the model has one) and the user text."""

    system: str | None
    user: str


def _preview(text: str) -> str:
    return text if len(text) <= _PREVIEW else text[:_PREVIEW] + f"... [{len(text)} chars]"


def _on_grid(value: Any, grid: int) -> float:
    """One coordinate of a model's ``0..grid`` square on the 0-1000 grid (clamped)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    scaled = float(value) * GRID / grid
    if grid != GRID:
        # A point exactly on a pixel comes back a hair below it in floating point (8 * 1000 / 999 * 999 /
        # 1000 is 7.99999...), and the frame's floor() would lose that pixel; 1e-6 of a grid step is
        # a millionth of a pixel on any screen.
        scaled += 1e-6
    return max(0.0, min(float(GRID), scaled))


def _point(label: str, x: Any, y: Any, grid: int) -> GridElement:
    gx, gy = _on_grid(x, grid), _on_grid(y, grid)
    return GridElement("element", label, (gx, gy, gx, gy))


class GroundingFormat(ABC):
    """One model family's grounding prompt and answer parser (answers come back on the 0-1000 grid)."""

    name: str
    grid: int = GRID
    """The square the model answers on (``0..grid``)."""
    max_tokens: int = 256
    """Token limit of one answer (a format that reasons before its point needs more)."""

    @abstractmethod
    def prompt(self, target: str) -> GroundingPrompt:
        """The request that asks where ``target`` (a description or visible text) is."""

    @abstractmethod
    def parse(self, answer: str, target: str) -> list[GridElement]:
        """The points or boxes in ``answer`` on the 0-1000 grid; :class:`ModelOutputError` when it has none."""


class QwenPointFormat(GroundingFormat):
    """Qwen3-VL's cookbook grounding: ``[{"point_2d": [x, y], "label": ...}]`` on 0-1000."""

    name = "qwen3-vl"

    def prompt(self, target: str) -> GroundingPrompt:
        """The cookbook's point prompt (:func:`engine.vlm.prompts.point_prompt`)."""
        return GroundingPrompt(None, prompts.point_prompt(target))

    def parse(self, answer: str, target: str) -> list[GridElement]:
        """Points or boxes of the cookbook's JSON (:func:`engine.vlm.parsing.parse_points`)."""
        return parse_points(answer)


GUI_OWL_GROUNDING_SYSTEM = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    + json.dumps(
        {
            "type": "function",
            "function": {
                "name": "computer_use",
                "description": "Use a mouse to interact with a computer.\n* The screen's resolution is 1000x1000.\n"
                "* Make sure to click any buttons, links, icons, etc with the cursor tip in the center of the "
                "element. Don't click boxes on their edges unless asked.\n* don't use any other computer use tool "
                "like type, key, scroll, left_click_drag and so on.\n* you can only use the left_click and "
                "mouse_move action to interact with the computer. if you can't find the element, you should "
                "terminate the task and report the failure.",
                "parameters": {
                    "properties": {
                        "action": {
                            "description": "The action to perform. The available actions are:\n* `mouse_move`: Move "
                            "the cursor to a specified (x, y) pixel coordinate on the screen.\n* `left_click`: Click "
                            "the left mouse button with coordinate (x, y) pixel coordinate on the screen.",
                            "enum": ["mouse_move", "left_click"],
                            "type": "string",
                        },
                        "coordinate": {
                            "description": "(x, y): The x (pixels from the left edge) and y (pixels from the top "
                            "edge) coordinates to move the mouse to. Required only by `action=mouse_move` and "
                            "`action=left_click`.",
                            "type": "array",
                        },
                    },
                    "required": ["action"],
                    "type": "object",
                },
            },
        }
    )
    + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>\n'
    "Additionally, if you think the task is infeasible (e.g., the task is not related to the image), return "
    '<tool_call>\n{"name": "computer_use", "arguments": {"action": "terminate", "status": "failure"}}\n</tool_call>'
)
"""GUI-Owl-1.5's grounding system prompt: a click-only ``computer_use`` tool on a 1000x1000 screen."""


class GuiOwlFormat(GroundingFormat):
    """GUI-Owl-1.5: a click-only ``computer_use`` tool; the answer is a ``left_click`` ``<tool_call>``."""

    name = "gui-owl-1.5"

    def prompt(self, target: str) -> GroundingPrompt:
        """The tool as the system prompt, the instruction as the user text."""
        return GroundingPrompt(GUI_OWL_GROUNDING_SYSTEM, target)

    def parse(self, answer: str, target: str) -> list[GridElement]:
        """The call's ``coordinate``; a ``terminate`` call means the model did not find the target."""
        call = parse_tool_call(answer)
        arguments = call.arguments
        if arguments.get("action") == "terminate":
            raise ModelOutputError(
                f"the model found no {target!r} on the screen (it terminated with {arguments.get('status')!r})",
                raw=_preview(answer),
            )
        coordinate = arguments.get("coordinate")
        if not isinstance(coordinate, list) or len(coordinate) != 2:
            raise ModelOutputError(
                f"the model's {arguments.get('action')!r} call has no [x, y] coordinate: {coordinate!r}",
                raw=_preview(answer),
            )
        try:
            return [_point(target, coordinate[0], coordinate[1], self.grid)]
        except ValueError as exc:
            raise ModelOutputError(f"the model's coordinate is unreadable: {exc}", raw=_preview(answer)) from exc


UI_VENUS_GROUNDING_PROMPT = (
    "Output the center point of the position corresponding to the following instruction: \n{}. \n\n"
    "The output should just be the coordinates of a point, in the format [x,y]. Additionally, if the task is "
    "infeasible (e.g., the task is not related to the image), the output should be [-1,-1]."
)
"""UI-Venus-1.5's grounding user prompt (with the refusal clause), as in ``ui_venus1_5_gd.py``."""

_NUMBERS = re.compile(r"\[\s*(-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)*)\s*\]")


class UiVenusFormat(GroundingFormat):
    """UI-Venus-1.5: a bare ``[x,y]`` on 0-1000 (or a box, or two points); ``[-1,-1]``: not there."""

    name = "ui-venus-1.5"

    def prompt(self, target: str) -> GroundingPrompt:
        """No system prompt; the instruction inside its user template (its trailing full stop dropped)."""
        return GroundingPrompt(None, UI_VENUS_GROUNDING_PROMPT.format(target.strip().removesuffix(".")))

    def parse(self, answer: str, target: str) -> list[GridElement]:
        """The first ``[x,y]``, ``[x1,y1,x2,y2]`` or ``[x1,y1], [x2,y2]`` of the answer."""
        _, text = split_thinking(answer)
        lists = [[float(v) for v in m.group(1).split(",")] for m in _NUMBERS.finditer(text)]
        if not lists:
            raise ModelOutputError("the model's answer has no [x,y] point", raw=_preview(answer))
        first = lists[0]
        if first == [-1.0, -1.0]:
            raise ModelOutputError(
                f"the model found no {target!r} on the screen (it answered [-1,-1])", raw=_preview(answer)
            )
        if len(first) == 2 and len(lists) > 1 and len(lists[1]) == 2:
            first = first + lists[1]
        if len(first) == 2:
            return [_point(target, first[0], first[1], self.grid)]
        if len(first) == 4:
            x1, y1, x2, y2 = (_on_grid(v, self.grid) for v in first)
            box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
            return [GridElement("element", target, box)]
        raise ModelOutputError(f"the model's answer {first!r} is neither a point nor a box", raw=_preview(answer))


MAI_UI_GROUNDING_SYSTEM = """\
You are a GUI grounding agent. 
## Task
Given a screenshot and the user's grounding instruction. Your task is to accurately locate a UI element based on \
the user's instructions.
First, you should carefully examine the screenshot and analyze the user's instructions,  translate the user's \
instruction into a effective reasoning process, and then provide the final coordinate.
## Output Format
Return a json object with a reasoning process in <grounding_think></grounding_think> tags, a [x,y] format \
coordinate within <answer></answer> XML tags:
<grounding_think>...</grounding_think>
<answer>
{"coordinate": [x,y]}
</answer>"""  # noqa: W291 (the trailing space after "agent." is MAI-UI's own)
"""MAI-UI's ``MAI_MOBILE_SYS_PROMPT_GROUNDING`` (Tongyi-MAI/MAI-UI ``src/prompt.py``)."""

_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)
_GROUNDING_THINK = re.compile(r"<grounding_think>.*?(?:</grounding_think>|$)", re.DOTALL)


class MaiUiFormat(GroundingFormat):
    """MAI-UI: ``<grounding_think>...</grounding_think><answer>{"coordinate": [x,y]}</answer>`` on 0-999."""

    name = "mai-ui"
    grid = 999
    max_tokens = 1024  # it reasons in <grounding_think> before the point (its own agent allows 2048)

    def prompt(self, target: str) -> GroundingPrompt:
        """Its grounding system prompt; the instruction and a newline as the user text (as its agent sends it)."""
        return GroundingPrompt(MAI_UI_GROUNDING_SYSTEM, target + "\n")

    def parse(self, answer: str, target: str) -> list[GridElement]:
        """The ``coordinate`` inside ``<answer>`` (tags missing: the JSON after the thinking), scaled 999 -> 1000."""
        _, text = split_thinking(answer)
        match = _ANSWER.search(text)
        body = match.group(1) if match else _GROUNDING_THINK.sub("", text)
        try:
            value = extract_json(body)
        except ModelOutputError as exc:
            raise ModelOutputError(
                'the model\'s answer has no {"coordinate": [x, y]} (MAI-UI answers inside <answer></answer>)',
                raw=_preview(answer),
            ) from exc
        coordinate = value.get("coordinate") if isinstance(value, dict) else None
        if not isinstance(coordinate, list) or len(coordinate) not in (2, 4):
            raise ModelOutputError(f"the model's coordinate is not [x, y]: {coordinate!r}", raw=_preview(answer))
        try:
            if len(coordinate) == 4:  # its navigation parser takes a box's centre; so does this
                x1, y1, x2, y2 = coordinate
                return [_point(target, (x1 + x2) / 2, (y1 + y2) / 2, self.grid)]
            return [_point(target, coordinate[0], coordinate[1], self.grid)]
        except (TypeError, ValueError) as exc:
            raise ModelOutputError(f"the model's coordinate is unreadable: {exc}", raw=_preview(answer)) from exc


FORMATS: dict[str, GroundingFormat] = {
    f.name: f for f in (QwenPointFormat(), GuiOwlFormat(), UiVenusFormat(), MaiUiFormat())
}


def format_for_preset(preset: Preset) -> GroundingFormat:
    """The grounding format of ``preset`` (Qwen3-VL's for the base models, Qwen3.5 and unknown models)."""
    return FORMATS.get(preset.name, FORMATS["qwen3-vl"])


def format_for(model: str) -> GroundingFormat:
    """The grounding format of the model called ``model`` (a name or path), through its preset."""
    return format_for_preset(preset_for(model))

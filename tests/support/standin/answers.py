"""The fake model's answers, in Qwen3-VL's real output formats: grounding (``bbox_2d`` / ``point_2d``
JSON on the 0-1000 grid), planning (``Thought:``/``Action:`` and a ``computer_use`` ``<tool_call>``),
the reasoning styles (native ``reasoning_content`` or a prompted ``<think>`` block) and the faults
that bend an answer (truncated, garbage, huge, out of range, swapped corners)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from tests.support.standin.grounding import grounding_style, is_grounding, styled_point_answer
from tests.support.standin.scenario import COORDINATE_ACTIONS, SEMANTIC_ACTIONS, Scenario, ScenarioError
from tests.support.standin.validation import message_texts

QUOTED = re.compile(r'"([^"\n]{1,200})"')
QUESTION = re.compile(r"^\s*Question:\s*(?P<q>.+?)\s*$", re.MULTILINE)
FORMAT_WORDS = {"point_2d", "bbox_2d", "label", "type", "summary", "elements", "answer", "..."}
GARBAGE = (
    "The screenshot shows a desktop application with a form. There are some fields and buttons, "
    "and the window looks ready for input. I cannot tell more from this picture."
)


@dataclass
class Answer:
    """One completion: the text, the separated reasoning and how it finished."""

    content: str
    reasoning: str | None = None
    finish_reason: str = "stop"
    stall_seconds: float = 0.0
    """Streamed, the answer stops this long after its first content piece (the ``stall`` fault)."""


def classify(messages: Sequence[Mapping[str, Any]]) -> str:
    """``plan``, ``point``, ``describe`` or ``text``, from the markers in the system and user text."""
    text = "\n".join(message_texts(messages, ("system", "user")))
    if is_grounding(text):  # before plan: GUI-Owl grounds through a click-only computer_use tool
        return "point"
    if "computer_use" in text:
        return "plan"
    if "bbox_2d" in text:
        return "describe"
    return "text"


def _json_list(items: Sequence[Mapping[str, Any]]) -> str:
    """A JSON list laid out the way Qwen3-VL writes one: one object per line."""
    if not items:
        return "[]"
    lines = ",\n".join("\t" + json.dumps(item, ensure_ascii=False) for item in items)
    return f"[\n{lines}\n]"


def _fault_boxes(scenario: Scenario, fault: str | None) -> list[list[int]]:
    boxes = [scenario.grid_box(e["box"]) for e in scenario.elements]
    if fault == "swapped":
        return [[x2, y2, x1, y1] for x1, y1, x2, y2 in boxes]
    if fault == "out_of_range":
        return [[-20, y1, x2, 1500] if i % 2 == 0 else [x1, -20, 1500, y2] for i, (x1, y1, x2, y2) in enumerate(boxes)]
    return boxes


def _schema_types(schema: Mapping[str, Any]) -> list[str] | None:
    """The element types a describe schema allows (its ``elements.items.type.enum``), if it lists them."""
    try:
        enum = schema["properties"]["elements"]["items"]["properties"]["type"]["enum"]
    except (KeyError, TypeError):
        return None
    return [str(kind) for kind in enum] if isinstance(enum, list) and enum else None


def schema_answer(scenario: Scenario, boxes: list[list[int]], question: bool, schema: Mapping[str, Any]) -> str:
    """The describe answer as constrained decoding makes it: the bare object the schema describes (no
    fence, no prose), each element's type one the schema allows (``text`` for a kind it does not list, as a
    model held to the enum picks one of its values). Raises :class:`ScenarioError` when the object does
    not fit ``schema``: a real server would have forced the model into a shape this stand-in cannot make."""
    allowed = _schema_types(schema)
    fallback = "text" if allowed is None or "text" in allowed else allowed[0]
    obj: dict[str, Any] = {
        "summary": f'A form window titled "{scenario.title}" with {len(scenario.elements)} elements.',
        "elements": [
            {
                "type": e["type"] if allowed is None or e["type"] in allowed else fallback,
                "label": e["label"],
                "bbox_2d": box,
            }
            for e, box in zip(scenario.elements, boxes, strict=True)
        ],
    }
    if question or "answer" in schema.get("required", ()):
        obj["answer"] = f"Yes. The screen shows {len(scenario.elements)} elements: {', '.join(scenario.labels())}."
    problem = best_match(Draft202012Validator(schema).iter_errors(obj))
    if problem is not None:
        raise ScenarioError(f"the describe answer does not fit the requested schema: {problem.message}")
    return json.dumps(obj, ensure_ascii=False)


def describe_answer(
    scenario: Scenario,
    messages: Sequence[Mapping[str, Any]],
    fault: str | None,
    schema: Mapping[str, Any] | None = None,
) -> str:
    """The grounding answer listing every element with its ``bbox_2d`` on the grid: in the scenario's
    ``describe_format``, or in ``schema``'s shape when the request asked for one (:func:`schema_answer`)."""
    boxes = _fault_boxes(scenario, fault)
    user_text = "\n".join(message_texts(messages, ("user",)))
    if schema is not None:
        return schema_answer(scenario, boxes, QUESTION.search(user_text) is not None, schema)
    if scenario.describe_format == "object":
        obj: dict[str, Any] = {
            "summary": f'A form window titled "{scenario.title}" with {len(scenario.elements)} elements.',
            "elements": [
                {"type": e["type"], "label": e["label"], "bbox_2d": box}
                for e, box in zip(scenario.elements, boxes, strict=True)
            ],
        }
        question = QUESTION.search(user_text)
        if question:
            obj["answer"] = f"Yes. The screen shows {len(scenario.elements)} elements: {', '.join(scenario.labels())}."
        body = json.dumps(obj, ensure_ascii=False, indent=2)
        return f"```json\n{body}\n```"
    items = [
        {"bbox_2d": box, "label": e["label"], "type": e["type"]}
        for e, box in zip(scenario.elements, boxes, strict=True)
    ]
    if scenario.describe_format == "list":
        return _json_list(items)
    return f"Here are the elements I found on the screen.\n```json\n{_json_list(items)}\n```"


def point_answer(
    scenario: Scenario,
    messages: Sequence[Mapping[str, Any]],
    fault: str | None,
    shift_x: int = 0,
    crop: bool = False,
) -> str:
    """The point-grounding answer for the element named by the first quoted string in the prompt.

    Look-alike targets (several elements with that label, :meth:`Scenario.find_all`) are all listed, one
    point each, in one answer: the prompt asks for a JSON list, and Qwen3-VL answers a description that
    fits several things with several points (multi-target grounding, QwenLM/Qwen3-VL
    cookbooks/2d_grounding). ``shift_x`` moves every point that many screen pixels right (a first look
    that is off). On a ``crop`` (the scenario's frame is then the crop's screen area) a target whose
    centre lies outside it is not seen: with none seen the answer is an empty list.
    """
    candidates = QUOTED.findall("\n".join(message_texts(messages, ("user",)))) + QUOTED.findall(
        "\n".join(message_texts(messages, ("system",)))
    )
    for quoted in candidates:
        if quoted.strip() in FORMAT_WORDS:
            continue
        elements = scenario.find_all(quoted)
        if not elements:
            continue
        f = scenario.frame
        items = []
        for element in elements:
            x1, y1, x2, y2 = element["box"]
            x, y = (x1 + x2) / 2 + shift_x, (y1 + y2) / 2
            if crop and not (f["x"] <= x <= f["x"] + f["width"] and f["y"] <= y <= f["y"] + f["height"]):
                continue
            point = [1500, -20] if fault == "out_of_range" else scenario.grid_point(x, y)
            items.append({"point_2d": point, "label": element["label"]})
        return f"```json\n{_json_list(items)}\n```"
    return "```json\n[]\n```"


def _describe_step(step: Mapping[str, Any]) -> str:
    action = step["action"]
    target = step.get("target")
    on = f" on {target}" if target else ""
    if action == "type":
        return f"Type {json.dumps(step.get('text', ''), ensure_ascii=False)}."
    if action == "key":
        return f"Press {'+'.join(step.get('keys', []))}."
    if action in ("scroll", "hscroll"):
        return f"Scroll by {step.get('pixels', 0)} pixels{on}."
    if action == "wait":
        return f"Wait {step.get('time', 1)} seconds."
    if action == "terminate":
        return f"The task is finished ({step.get('status', 'success')})."
    if action == "answer":
        return "Answer the question."
    if action == "left_click_drag":
        return f"Drag to {step.get('to_target') or target}."
    return f"{action.replace('_', ' ').capitalize()}{on}."


def tool_arguments(scenario: Scenario, step: Mapping[str, Any], fault: str | None) -> dict[str, Any]:
    """The ``computer_use`` arguments for one plan step, coordinates on the grid."""
    action = step["action"]
    args: dict[str, Any] = {"action": action}
    target = step.get("to_target") if action == "left_click_drag" and step.get("to_target") else step.get("target")
    coordinate: list[int] | None = None
    if target:
        coordinate = scenario.center(str(target))
    elif step.get("coordinate") is not None:
        coordinate = [int(v) for v in step["coordinate"]]
    if coordinate is not None and fault == "out_of_range":
        coordinate = [1500, -20]
    if action in COORDINATE_ACTIONS:
        if coordinate is None:
            raise ScenarioError(f"plan step {dict(step)!r} needs a target (or a grid coordinate)")
        args["coordinate"] = coordinate
    elif action == "type":
        args["text"] = str(step.get("text", ""))
    elif action == "key":
        args["keys"] = list(step.get("keys", []))
    elif action in ("scroll", "hscroll"):
        args["pixels"] = int(step.get("pixels", -300))
        if coordinate is not None:
            args["coordinate"] = coordinate
    elif action == "wait":
        args["time"] = step.get("time", 1.0)
    elif action == "terminate":
        args["status"] = step.get("status", "success")
    elif action == "answer":
        args["text"] = str(step.get("text", ""))
    elif action in SEMANTIC_ACTIONS:
        for key in ("text", "occurrence", "label", "value", "url", "path"):
            if key in step:
                args[key] = step[key]
    return args


def offered_actions(messages: Sequence[Mapping[str, Any]]) -> set[str]:
    """The ``computer_use`` actions the request's system prompt offers (its tool's ``enum``)."""
    for text in message_texts(messages, ("system",)):
        match = re.search(r"<tools>\n(.*?)\n</tools>", text, re.DOTALL)
        if match:
            tool = json.loads(match.group(1))
            return set(tool["function"]["parameters"]["properties"]["action"]["enum"])
    return set()


def offered_step(step: Mapping[str, Any], offered: set[str]) -> dict[str, Any]:
    """``step``, or a left_click on its target when its semantic action is not offered."""
    if step["action"] in SEMANTIC_ACTIONS and step["action"] not in offered:
        if not step.get("target"):
            raise ScenarioError(f"plan step {dict(step)!r} uses an action not offered and has no target to click")
        return {"action": "left_click", "target": step["target"], "thought": step.get("thought")}
    return dict(step)


def plan_answer(scenario: Scenario, step: Mapping[str, Any], fault: str | None) -> str:
    """``Thought:``/``Action:`` lines (when the step has a thought) and one ``<tool_call>`` block."""
    call = {"name": "computer_use", "arguments": tool_arguments(scenario, step, fault)}
    block = f"<tool_call>\n{json.dumps(call, ensure_ascii=False)}\n</tool_call>"
    if step.get("thought"):
        return f"Thought: {step['thought']}\nAction: {_describe_step(step)}\n{block}"
    return block


def reasoning_steps(kind: str, scenario: Scenario, step: Mapping[str, Any] | None) -> str:
    """Deterministic numbered step-by-step thinking for a request of ``kind``."""
    if kind == "plan" and step is not None:
        lines = [
            "Look at the screenshot and the goal to decide the next step.",
            str(step.get("thought") or "The next step follows from the current state of the form."),
            f"So the next action is: {_describe_step(step)}",
        ]
    elif kind in ("describe", "point"):
        lines = [
            f"The screenshot shows a form with {len(scenario.elements)} elements.",
            "Each element's position is given on the relative 0-1000 grid.",
        ]
    else:
        lines = ["The image shows a computer screen.", "Answer briefly."]
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def cut_off(answer: Answer, max_tokens: int) -> None:
    """End ``answer`` at ``max_tokens`` (4 characters a token, reasoning first), ``finish_reason`` length."""
    budget = max_tokens * 4
    reasoning = answer.reasoning or ""
    if answer.reasoning is not None:
        answer.reasoning = reasoning[:budget]
    answer.content = answer.content[: max(0, budget - len(reasoning))]
    answer.finish_reason = "length"


def huge_text(scenario: Scenario, size: int = 2_000_000) -> str:
    """A degenerate repetition loop of about ``size`` characters that never closes its JSON."""
    label = scenario.elements[0]["label"] if scenario.elements else "text"
    unit = json.dumps({"type": "text", "label": label, "bbox_2d": [10, 10, 20, 20]}, ensure_ascii=False) + ",\n\t"
    return "```json\n[\n\t" + unit * (size // len(unit) + 1)


def compose(
    kind: str,
    scenario: Scenario,
    messages: Sequence[Mapping[str, Any]],
    step: Mapping[str, Any] | None,
    fault: str | None,
    shift_x: int = 0,
    crop: bool = False,
    schema: Mapping[str, Any] | None = None,
    *,
    model: str = "",
) -> Answer:
    """The answer to a request of ``kind`` (see :func:`classify`), with the fault and reasoning style applied.

    ``step`` is the plan step a ``plan`` request answers, already fitted to the offered actions
    (:func:`offered_step`); ``shift_x`` and ``crop`` are :func:`point_answer`'s; ``schema`` is the JSON schema
    the request constrains a describe answer to (:func:`describe_answer`). ``model`` is the served model's
    name: a GUI fine-tune answers grounding in its own format (:mod:`tests.support.standin.grounding`).
    Raises :class:`ScenarioError` when the scenario cannot answer.
    """
    if kind == "plan":
        if step is None:
            raise ScenarioError("a planning request needs a plan step to answer with")
        content = plan_answer(scenario, step, fault)
    elif kind == "point" and grounding_style(model) is not None:
        content = styled_point_answer(str(grounding_style(model)), scenario, messages, fault, shift_x, crop)
    elif kind == "point":
        content = point_answer(scenario, messages, fault, shift_x, crop)
    elif kind == "describe":
        content = describe_answer(scenario, messages, fault, schema)
    else:
        content = "I see a screen."
    answer = Answer(content)
    if fault == "garbage":
        answer.content = GARBAGE
    elif fault == "truncated":
        answer.content = content[: len(content) // 2]
        answer.finish_reason = "length"
    elif fault == "huge":
        answer.content = huge_text(scenario)
        answer.finish_reason = "length"
    thinking = reasoning_steps(kind, scenario, step)
    while len(thinking) < scenario.thinking_tokens * 4:
        thinking += "\nWait, let me check the screenshot again before I answer."
    if scenario.reasoning == "native":
        answer.reasoning = thinking
    elif scenario.reasoning == "prompted":
        answer.content = f"<think>\n{thinking}\n</think>\n{answer.content}"
    return answer

"""Tolerant parsing of Qwen3-VL answers.

Tolerant about form (code fences, prose around the JSON, swapped corners, out-of-range values,
a missing closing tag), strict about substance: an answer we cannot read raises
:class:`ModelOutputError` carrying the raw text, never a guessed result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ModelOutputError
from engine.geometry import GRID

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_PARTIAL_TOKEN = re.compile(r"[\w.+-]*")
"""What may follow the point where decoding failed when the text was cut off: nothing, or part of a
number or literal (``2.``, ``tru``)."""
_RAW_PREVIEW = 2000


@dataclass(frozen=True)
class GridElement:
    """One GUI element as the model reported it, on the 0-1000 grid (corners in order, clamped)."""

    type: str
    label: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class GridDescription:
    """A parsed describe answer."""

    summary: str
    elements: list[GridElement]
    answer: str | None = None


@dataclass(frozen=True)
class ToolCall:
    """A parsed ``<tool_call>``: the function name and its arguments, coordinates still on the grid."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


def _preview(text: str) -> str:
    return text if len(text) <= _RAW_PREVIEW else text[:_RAW_PREVIEW] + f"... [{len(text)} chars]"


def split_thinking(content: str, reasoning: str | None = None) -> tuple[str | None, str]:
    """Separate reasoning from the answer.

    ``reasoning`` is what the server already split out (SGLang ``reasoning_content``). Otherwise a
    ``<think>...</think>`` block, or text before a lone ``</think>`` (a -Thinking checkpoint whose
    template opened the tag), is taken as the reasoning.
    """
    if reasoning is not None and reasoning.strip():
        return reasoning.strip(), content.replace("</think>", "").strip()
    match = _THINK.search(content)
    if match:
        answer = (content[: match.start()] + content[match.end() :]).strip()
        return match.group(1).strip(), answer
    if "</think>" in content:
        before, _, after = content.partition("</think>")
        return before.replace("<think>", "").strip() or None, after.strip()
    return None, content.strip()


def _json_candidates(text: str) -> list[str]:
    candidates = [m.group(1).strip() for m in _FENCE.finditer(text)]
    candidates.append(text.strip())
    return candidates


def _cut_off(text: str, error: json.JSONDecodeError) -> bool:
    """Whether decoding failed because ``text`` ended inside the value (not because it is malformed)."""
    rest = text[error.pos :].strip()
    return error.msg.startswith("Unterminated string") or _PARTIAL_TOKEN.fullmatch(rest) is not None


def extract_json(text: str) -> Any:
    """The first JSON object or list found in ``text`` (fenced or embedded in prose).

    Raises :class:`ModelOutputError` when there is none, and when the first JSON value is cut off
    (an answer truncated at the token limit): the complete objects nested inside it are only a
    part of the answer, never to be taken for the whole.
    """
    _, answer = split_thinking(text)
    decoder = json.JSONDecoder()
    for candidate in _json_candidates(answer):
        for start, char in enumerate(candidate):
            if char not in "[{":
                continue
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except RecursionError:  # degenerate "[[[[..." output
                continue
            except json.JSONDecodeError as exc:
                if _cut_off(candidate, exc):
                    break  # everything after this bracket is inside the cut-off value
                continue
            if isinstance(value, (dict, list)):
                return value
    raise ModelOutputError("the model's answer contains no readable JSON", raw=_preview(text))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def _grid_box(raw: Any) -> tuple[float, float, float, float]:
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        raise ValueError(f"a box needs 4 numbers, got {raw!r}")
    x1, y1, x2, y2 = (max(0.0, min(float(GRID), _number(v))) for v in raw)
    x1, x2 = sorted((x1, x2))
    y1, y2 = sorted((y1, y2))
    return x1, y1, x2, y2


def _grid_point_box(raw: Any) -> tuple[float, float, float, float]:
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        raise ValueError(f"a point needs 2 numbers, got {raw!r}")
    x, y = (max(0.0, min(float(GRID), _number(v))) for v in raw)
    return x, y, x, y


def _element(item: Any) -> GridElement | None:
    if not isinstance(item, dict):
        return None
    label = str(item.get("label") or item.get("text") or item.get("name") or "").strip()
    kind = str(item.get("type") or item.get("role") or "element").strip().lower() or "element"
    try:
        for key in ("bbox_2d", "bbox", "box"):
            if key in item:
                return GridElement(kind, label, _grid_box(item[key]))
        for key in ("point_2d", "point"):
            if key in item:
                return GridElement(kind, label, _grid_point_box(item[key]))
    except ValueError:
        return None
    return None


def parse_description(text: str) -> GridDescription:
    """Parse a describe answer: ``{"summary", "elements": [...]}`` or a bare element list.

    Elements without a readable box are dropped; an answer with neither a summary nor any element
    raises :class:`ModelOutputError`.
    """
    value = extract_json(text)
    summary = ""
    answer: str | None = None
    if isinstance(value, dict):
        summary = str(value.get("summary") or value.get("description") or "").strip()
        raw_answer = value.get("answer")
        answer = str(raw_answer).strip() if raw_answer not in (None, "") else None
        items = value.get("elements") or value.get("items") or []
        if not isinstance(items, list):
            items = []
        if not items and _element(value) is not None:
            items = [value]
    else:
        items = value
    elements = [e for e in (_element(item) for item in items) if e is not None]
    if not summary and not elements:
        raise ModelOutputError("the model's answer has neither a summary nor any element", raw=_preview(text))
    return GridDescription(summary=summary, elements=elements, answer=answer)


def parse_points(text: str) -> list[GridElement]:
    """Parse a grounding answer (``[{"point_2d": [x, y], "label": ...}]`` or boxes) into elements."""
    value = extract_json(text)
    items = value if isinstance(value, list) else [value]
    elements = [e for e in (_element(item) for item in items) if e is not None]
    if not elements:
        raise ModelOutputError("the model's answer has no point or box", raw=_preview(text))
    return elements


def parse_tool_call(text: str) -> ToolCall:
    """Parse the first ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` in ``text``.

    Also accepts the JSON without tags and a bare ``{"action": ...}`` object (taken as
    ``computer_use`` arguments), since small models drop the tags now and then.
    """
    _, answer = split_thinking(text)
    decoder = json.JSONDecoder()
    blocks = [m.group(1) for m in _TOOL_CALL.finditer(answer)] or [answer]
    for block in blocks:
        for candidate in _json_candidates(block):
            for start, char in enumerate(candidate):
                if char != "{":
                    continue
                try:
                    value, _ = decoder.raw_decode(candidate, start)
                except (json.JSONDecodeError, RecursionError):
                    continue
                call = _tool_call_from(value)
                if call is not None:
                    return call
    raise ModelOutputError("the model's answer contains no readable <tool_call>", raw=_preview(text))


def _tool_call_from(value: Any) -> ToolCall | None:
    if not isinstance(value, dict):
        return None
    arguments = value.get("arguments", value.get("parameters"))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except (json.JSONDecodeError, RecursionError):
            return None
    if isinstance(value.get("name"), str) and isinstance(arguments, dict):
        return ToolCall(name=value["name"], arguments=arguments)
    if isinstance(value.get("action"), str):
        return ToolCall(name="computer_use", arguments=value)
    return None


def thought_before_call(text: str) -> str | None:
    """Free-text reasoning written before the tool call (``Thought: ...`` in the cookbook format)."""
    _, answer = split_thinking(text)
    head = answer.split("<tool_call>", 1)[0].strip()
    return head or None

"""A stand-in SGLang server: a real HTTP server that answers like Qwen3-VL behind SGLang.

It serves the OpenAI-compatible API in SGLang's response shapes (``/v1/chat/completions``,
``/v1/models``, ``/health``, ``/health_generate``, ``/get_model_info``) and computes its answers
from a :class:`Scenario` that the test sets: the screen area the client captured, the elements on
it (absolute screen boxes), a plan of actions, a reasoning style and an optional fault. Answers
use Qwen3-VL's real output formats: ``bbox_2d`` / ``point_2d`` JSON on the relative 0-1000 grid
and ``<tool_call>`` blocks of the ``computer_use`` tool.

In-process: ``with StandIn() as server: server.set_scenario(...); server.requests``.
Cross-process: ``POST /_control/scenario`` (the scenario as JSON), ``GET /_control/requests``,
``DELETE /_control/requests``. Standalone: ``python -m tests.support.standin --port 30000``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import dataclasses
import io
import json
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from PIL import Image, UnidentifiedImageError

DEFAULT_MODEL = "Qwen/Qwen3-VL-2B-Instruct"
IM_END = 151645  # <|im_end|>, SGLang's matched_stop for a normal finish

REASONING_MODES = ("none", "native", "prompted")
DESCRIBE_FORMATS = ("object", "list", "fenced_list")
FAULTS = ("hang", "http500", "http503", "truncated", "garbage", "out_of_range", "huge", "swapped")
COORDINATE_ACTIONS = (
    "left_click",
    "double_click",
    "triple_click",
    "right_click",
    "middle_click",
    "mouse_move",
    "left_click_drag",
)
SEMANTIC_ACTIONS = ("click_text", "fill_input", "goto_url", "upload_file")
"""Offered only when the request's ``computer_use`` tool lists them; otherwise a step falls back to a
left_click on its ``target`` (as a model can only call what it is offered)."""
ACTIONS = (*COORDINATE_ACTIONS, "type", "key", "scroll", "hscroll", "wait", "terminate", "answer", *SEMANTIC_ACTIONS)
DATA_URL = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,(?P<data>.*)$", re.DOTALL)
QUOTED = re.compile(r'"([^"\n]{1,200})"')
QUESTION = re.compile(r"^\s*Question:\s*(?P<q>.+?)\s*$", re.MULTILINE)
FORMAT_WORDS = {"point_2d", "bbox_2d", "label", "type", "summary", "elements", "answer", "..."}
GARBAGE = (
    "The screenshot shows a desktop application with a form. There are some fields and buttons, "
    "and the window looks ready for input. I cannot tell more from this picture."
)


class ScenarioError(ValueError):
    """The scenario is malformed, or a plan step names an element the scenario does not have."""


def to_grid(value: float, origin: float, size: float) -> int:
    """An absolute screen coordinate on Qwen3-VL's relative 0-1000 grid of the captured area (clamped)."""
    return max(0, min(1000, round((value - origin) / size * 1000)))


@dataclass
class Scenario:
    """What the stand-in model "sees" and how it behaves.

    ``frame`` is the absolute screen area the client captured; ``elements`` are
    ``{"type", "label", "box": [x1, y1, x2, y2]}`` in absolute screen pixels; ``plan`` is consumed
    one step per planning request (the last step repeats).
    """

    frame: dict[str, int] = field(default_factory=lambda: {"x": 0, "y": 0, "width": 1366, "height": 768})
    elements: list[dict[str, Any]] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str = "none"
    describe_format: str = "object"
    fault: str | None = None
    fault_count: int | None = None
    hang_seconds: float = 30.0
    latency_seconds: float = 0.0
    """Every answer waits this long first: a model's fixed inference time, for benchmarks."""
    title: str = "Test form"

    def __post_init__(self) -> None:
        for key in ("x", "y", "width", "height"):
            if not isinstance(self.frame.get(key), int | float):
                raise ScenarioError(f"frame needs numeric x, y, width, height; got {self.frame!r}")
        if self.frame["width"] <= 0 or self.frame["height"] <= 0:
            raise ScenarioError(f"frame must have a positive size; got {self.frame!r}")
        for element in self.elements:
            box = element.get("box")
            if not (isinstance(box, list | tuple) and len(box) == 4):
                raise ScenarioError(f"element needs box [x1, y1, x2, y2]: {element!r}")
            if not isinstance(element.get("label"), str):
                raise ScenarioError(f"element needs a string label: {element!r}")
        for step in self.plan:
            if step.get("action") not in ACTIONS:
                raise ScenarioError(f"unknown plan action {step.get('action')!r}; known: {', '.join(ACTIONS)}")
        if self.reasoning not in REASONING_MODES:
            raise ScenarioError(f"reasoning must be one of {REASONING_MODES}, not {self.reasoning!r}")
        if self.describe_format not in DESCRIBE_FORMATS:
            raise ScenarioError(f"describe_format must be one of {DESCRIBE_FORMATS}, not {self.describe_format!r}")
        if self.fault is not None and self.fault not in FAULTS:
            raise ScenarioError(f"fault must be null or one of {FAULTS}, not {self.fault!r}")

    def to_json(self) -> str:
        """The scenario as a JSON string (round-trips through :meth:`from_json`)."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> Scenario:
        """A scenario from a JSON string/bytes or an already-parsed mapping; unknown keys are refused."""
        raw = json.loads(data) if isinstance(data, str | bytes) else dict(data)
        if not isinstance(raw, dict):
            raise ScenarioError("a scenario is a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ScenarioError(f"unknown scenario keys: {sorted(unknown)}")
        return cls(**raw)

    # --- geometry -----------------------------------------------------------------------------

    def grid_point(self, x: float, y: float) -> list[int]:
        """An absolute screen point on the 0-1000 grid of the frame."""
        f = self.frame
        return [to_grid(x, f["x"], f["width"]), to_grid(y, f["y"], f["height"])]

    def grid_box(self, box: Sequence[float]) -> list[int]:
        """An absolute screen box ``[x1, y1, x2, y2]`` on the 0-1000 grid of the frame."""
        return [*self.grid_point(box[0], box[1]), *self.grid_point(box[2], box[3])]

    def element(self, label: str) -> dict[str, Any]:
        """The element with exactly this label."""
        for element in self.elements:
            if element["label"] == label:
                return element
        raise ScenarioError(f"the scenario has no element labelled {label!r}; it has {self.labels()}")

    def labels(self) -> list[str]:
        """All element labels, in order."""
        return [str(e["label"]) for e in self.elements]

    def center(self, label: str) -> list[int]:
        """The centre of the labelled element's box, on the grid."""
        x1, y1, x2, y2 = self.element(label)["box"]
        return self.grid_point((x1 + x2) / 2, (y1 + y2) / 2)

    def find(self, text: str) -> dict[str, Any] | None:
        """The element whose label matches ``text``: exact, then substring either way (case-insensitive)."""
        wanted = text.strip().casefold()
        if not wanted:
            return None
        for element in self.elements:
            if element["label"].casefold() == wanted:
                return element
        for element in self.elements:
            if wanted in element["label"].casefold():
                return element
        for element in self.elements:
            if element["label"].casefold() and element["label"].casefold() in wanted:
                return element
        return None


# --- answers ------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One completion: the text, the separated reasoning and how it finished."""

    content: str
    reasoning: str | None = None
    finish_reason: str = "stop"


class HTTPError(Exception):
    """An OpenAI-style error response."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind

    def body(self) -> dict[str, Any]:
        """The error body as SGLang sends it."""
        return {"object": "error", "message": self.message, "type": self.kind, "param": None, "code": self.status}


def bad_request(message: str) -> HTTPError:
    """A 400 in SGLang's error shape."""
    return HTTPError(400, message, "BadRequestError")


def _texts(messages: Sequence[Mapping[str, Any]], roles: Sequence[str]) -> list[str]:
    texts: list[str] = []
    for message in messages:
        if message.get("role") not in roles:
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return texts


def classify(messages: Sequence[Mapping[str, Any]]) -> str:
    """``plan``, ``point``, ``describe`` or ``text``, from the markers in the system and user text."""
    text = "\n".join(_texts(messages, ("system", "user")))
    if "computer_use" in text:
        return "plan"
    if "point_2d" in text:
        return "point"
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


def describe_answer(scenario: Scenario, messages: Sequence[Mapping[str, Any]], fault: str | None) -> str:
    """The grounding answer listing every element with its ``bbox_2d`` on the grid."""
    boxes = _fault_boxes(scenario, fault)
    user_text = "\n".join(_texts(messages, ("user",)))
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


def point_answer(scenario: Scenario, messages: Sequence[Mapping[str, Any]], fault: str | None) -> str:
    """The point-grounding answer for the element named by the first quoted string in the prompt."""
    candidates = QUOTED.findall("\n".join(_texts(messages, ("user",)))) + QUOTED.findall(
        "\n".join(_texts(messages, ("system",)))
    )
    for quoted in candidates:
        if quoted.strip() in FORMAT_WORDS:
            continue
        element = scenario.find(quoted)
        if element is not None:
            point = [1500, -20] if fault == "out_of_range" else scenario.center(element["label"])
            return f"```json\n{_json_list([{'point_2d': point, 'label': element['label']}])}\n```"
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
    for text in _texts(messages, ("system",)):
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


def huge_text(scenario: Scenario, size: int = 2_000_000) -> str:
    """A degenerate repetition loop of about ``size`` characters that never closes its JSON."""
    label = scenario.elements[0]["label"] if scenario.elements else "text"
    unit = json.dumps({"type": "text", "label": label, "bbox_2d": [10, 10, 20, 20]}, ensure_ascii=False) + ",\n\t"
    return "```json\n[\n\t" + unit * (size // len(unit) + 1)


# --- request validation -------------------------------------------------------------------------


def decode_image(url: Any) -> tuple[int, int]:
    """The size of a ``data:image/...;base64,`` image; a 400 for anything else or an undecodable image."""
    if not isinstance(url, str):
        raise bad_request("image_url.url must be a string")
    match = DATA_URL.match(url)
    if match is None:
        shown = url[:60] + ("..." if len(url) > 60 else "")
        raise bad_request(f"Invalid image URL {shown!r}: send the image as a data:image/...;base64, URL")
    try:
        raw = base64.b64decode(match.group("data"), validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            return int(image.width), int(image.height)
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError) as exc:
        raise bad_request(f"Failed to load image: {exc}") from exc


def validate(body: Any) -> list[tuple[int, int]]:
    """Check a chat-completion body as SGLang would; return the decoded image sizes in order."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages: field required and must be a non-empty list")
    sizes: list[tuple[int, int]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant", "tool"):
            raise bad_request(f"messages[{i}]: each message needs a role of system, user, assistant or tool")
        content = message.get("content")
        if content is None and message.get("role") == "assistant":
            continue
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            raise bad_request(f"messages[{i}].content must be a string or a list of content parts")
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                if not isinstance(part.get("text"), str):
                    raise bad_request(f"messages[{i}].content[{j}].text must be a string")
            elif kind == "image_url":
                image_url = part.get("image_url")
                if not isinstance(image_url, dict):
                    raise bad_request(f"messages[{i}].content[{j}].image_url must be an object with a url")
                sizes.append(decode_image(image_url.get("url")))
            else:
                raise bad_request(f"messages[{i}].content[{j}]: unsupported content part type {kind!r}")
    return sizes


def count_prompt_tokens(body: Mapping[str, Any], sizes: Sequence[tuple[int, int]]) -> int:
    """A rough prompt token count: text length / 4 plus one token per 32x32 px (+2) per image."""
    text = "".join(_texts(body["messages"], ("system", "user", "assistant", "tool")))
    images = sum(math.ceil(w / 32) * math.ceil(h / 32) + 2 for w, h in sizes)
    return len(text) // 4 + images


# --- the server ---------------------------------------------------------------------------------


class StandIn:
    """The stand-in SGLang server, running in a background thread on 127.0.0.1.

    It starts on construction; use it as a context manager or call :meth:`stop`.
    """

    def __init__(self, model: str = DEFAULT_MODEL, host: str = "127.0.0.1", port: int = 0) -> None:
        self.model = model
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._scenario = Scenario()
        self._plan_index = 0
        self._faults_applied = 0
        self._requests: list[dict[str, Any]] = []
        self._counter = 0
        self._planner: Callable[[], Mapping[str, Any]] | None = None
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="standin-sglang", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    @property
    def scenario(self) -> Scenario:
        """The current scenario."""
        with self._lock:
            return self._scenario

    def set_scenario(self, scenario: Scenario | Mapping[str, Any]) -> None:
        """Replace the scenario; the plan starts again from its first step and the fault count resets."""
        new = scenario if isinstance(scenario, Scenario) else Scenario.from_json(scenario)
        with self._lock:
            self._scenario = new
            self._plan_index = 0
            self._faults_applied = 0

    def set_planner(self, planner: Callable[[], Mapping[str, Any]] | None) -> None:
        """Plan from the live application instead of the scenario's fixed plan: each planning request
        takes its step from ``planner()`` (a plan step, as in :attr:`Scenario.plan`); ``None`` goes back
        to the scenario's plan."""
        with self._lock:
            self._planner = planner

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every JSON body received at ``/v1/chat/completions``, in order (with ``_image_size`` etc.)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def stop(self) -> None:
        """Stop serving and close the socket; a hanging answer is woken up. Safe to call twice."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StandIn:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- request handling (called from handler threads) ---------------------------------------

    def _record(self, body: Any) -> dict[str, Any]:
        entry: dict[str, Any] = dict(body) if isinstance(body, dict) else {"_body": body}
        with self._lock:
            self._requests.append(entry)
        return entry

    def _next_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"{self._counter:032x}"

    def _take_fault(self) -> tuple[Scenario, str | None]:
        with self._lock:
            scenario = self._scenario
            fault = scenario.fault
            if fault is not None and scenario.fault_count is not None:
                if self._faults_applied >= scenario.fault_count:
                    fault = None
                else:
                    self._faults_applied += 1
            return scenario, fault

    def _take_step(self, scenario: Scenario) -> dict[str, Any]:
        with self._lock:
            if scenario is not self._scenario or not scenario.plan:
                plan = scenario.plan or [{"action": "terminate", "status": "failure", "thought": "No plan was set."}]
                return dict(plan[0])
            step = scenario.plan[min(self._plan_index, len(scenario.plan) - 1)]
            self._plan_index += 1
            return dict(step)

    def complete(self, body: Any) -> tuple[dict[str, Any], Answer]:
        """Validate and answer one chat-completion body; raises :class:`HTTPError` for error responses."""
        entry = self._record(body)
        sizes = validate(body)
        if sizes:
            entry["_image_size"] = list(sizes[0])
            entry["_image_sizes"] = [list(s) for s in sizes]
        kind = classify(body["messages"])
        entry["_kind"] = kind
        scenario, fault = self._take_fault()
        if fault == "http500":
            raise HTTPError(500, "Internal server error: the scheduler raised an exception", "InternalServerError")
        if fault == "http503":
            raise HTTPError(503, "The server is overloaded; retry later", "ServiceUnavailableError")
        if fault == "hang":
            self._stopping.wait(scenario.hang_seconds)
        if scenario.latency_seconds > 0:
            self._stopping.wait(scenario.latency_seconds)
        step: dict[str, Any] | None = None
        try:
            if kind == "plan":
                planner = self._planner
                planned = dict(planner()) if planner is not None else self._take_step(scenario)
                step = offered_step(planned, offered_actions(body["messages"]))
                content = plan_answer(scenario, step, fault)
            elif kind == "point":
                content = point_answer(scenario, body["messages"], fault)
            elif kind == "describe":
                content = describe_answer(scenario, body["messages"], fault)
            else:
                content = "I see a screen."
        except ScenarioError as exc:
            raise HTTPError(500, f"stand-in scenario error: {exc}", "InternalServerError") from exc
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
        if scenario.reasoning == "native":
            answer.reasoning = thinking
        elif scenario.reasoning == "prompted":
            answer.content = f"<think>\n{thinking}\n</think>\n{answer.content}"
        usage = {
            "prompt_tokens": count_prompt_tokens(body, sizes),
            "completion_tokens": max(1, len(answer.content + (answer.reasoning or "")) // 4),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return usage, answer

    def response(self, body: Mapping[str, Any], usage: Mapping[str, int], answer: Answer) -> dict[str, Any]:
        """A non-streaming ``chat.completion`` in SGLang's shape."""
        return {
            "id": self._next_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self._model_name(body),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": answer.content,
                        "reasoning_content": answer.reasoning,
                        "tool_calls": None,
                    },
                    "logprobs": None,
                    "finish_reason": answer.finish_reason,
                    "matched_stop": IM_END if answer.finish_reason == "stop" else None,
                }
            ],
            "usage": {**usage, "prompt_tokens_details": None},
        }

    def chunks(self, body: Mapping[str, Any], usage: Mapping[str, int], answer: Answer) -> list[dict[str, Any]]:
        """The ``chat.completion.chunk`` objects of a streamed answer, in order."""
        cid, created, model = self._next_id(), int(time.time()), self._model_name(body)

        def chunk(delta: dict[str, Any], finish: str | None = None, matched: int | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish, "matched_stop": matched}
            return {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [choice],
                "usage": None,
            }

        out = [chunk({"role": "assistant", "content": ""})]
        if answer.reasoning:
            out.append(chunk({"reasoning_content": answer.reasoning}))
        text = answer.content
        piece = max(1, math.ceil(len(text) / 3))
        out += [chunk({"content": text[i : i + piece]}) for i in range(0, len(text), piece)]
        out.append(chunk({}, answer.finish_reason, IM_END if answer.finish_reason == "stop" else None))
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            out.append(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": {**usage, "prompt_tokens_details": None},
                }
            )
        return out

    def _model_name(self, body: Mapping[str, Any]) -> str:
        model = body.get("model")
        return model if isinstance(model, str) and model else self.model


def _make_handler(server: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 120
        server_version = "uvicorn"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default per-request log lines."""

        def _send(self, status: int, payload: Any = None, content_type: str = "application/json") -> None:
            data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise bad_request(f"The request body is not valid JSON: {exc}") from exc

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/health", "/health_generate"):
                self._send(200)
            elif path == "/v1/models":
                card = {
                    "id": server.model,
                    "object": "model",
                    "created": int(time.time()),
                    "owned_by": "sglang",
                    "root": server.model,
                    "max_model_len": 262144,
                }
                self._send(200, {"object": "list", "data": [card]})
            elif path == "/get_model_info":
                self._send(
                    200,
                    {
                        "model_path": server.model,
                        "tokenizer_path": server.model,
                        "is_generation": True,
                        "preferred_sampling_params": None,
                        "weight_version": "default",
                        "has_image_understanding": True,
                        "has_audio_understanding": False,
                        "model_type": "qwen3_vl",
                    },
                )
            elif path == "/get_server_info":
                self._send(200, {"model_path": server.model, "version": "stand-in", "tp_size": 1, "dp_size": 1})
            elif path == "/_control/requests":
                self._send(200, server.requests)
            elif path == "/_control/scenario":
                self._send(200, dataclasses.asdict(server.scenario))
            else:
                self._send(404, {"detail": "Not Found"})

        def do_DELETE(self) -> None:
            if self.path.split("?", 1)[0] == "/_control/requests":
                server.clear_requests()
                self._send(200, {"ok": True})
            else:
                self._send(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path == "/_control/scenario":
                    try:
                        server.set_scenario(Scenario.from_json(self._body()))
                    except (ScenarioError, TypeError) as exc:
                        raise bad_request(f"bad scenario: {exc}") from exc
                    self._send(200, {"ok": True})
                elif path == "/v1/chat/completions":
                    self._chat()
                else:
                    self._send(404, {"detail": "Not Found"})
            except HTTPError as exc:
                self._send(exc.status, exc.body())

        def _chat(self) -> None:
            try:
                body = self._body()
            except HTTPError:
                server._record({"_invalid_json": True})
                raise
            usage, answer = server.complete(body)
            if not body.get("stream"):
                self._send(200, server.response(body, usage, answer))
                return
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in server.chunks(body, usage, answer):
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stand-in on its own until interrupted; writes its base URL as the first line of stdout."""
    parser = argparse.ArgumentParser(description="Stand-in SGLang server for tests")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--scenario", help="a scenario JSON file to start with")
    args = parser.parse_args(argv)
    with StandIn(model=args.model, port=args.port) as server:
        if args.scenario:
            with open(args.scenario, encoding="utf-8") as handle:
                server.set_scenario(Scenario.from_json(handle.read()))
        sys.stdout.write(server.base_url + "\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

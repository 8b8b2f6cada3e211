"""Fuzzing every tool through a real MCP client, in server-wide dry run: no crash, no hang, no input.

Inputs come from each tool's *published* input schema (``tools/list``, through hypothesis-jsonschema)
and from schema-violating mutations: wrong types, huge strings, deep nesting, unknown fields,
NaN/inf, negative and huge coordinates, unicode garbage. Every call must come back as a result or a
JSON-RPC error with a readable message, never a masked internal error; and nothing may reach the
desktop: the pointer stays put, the Tk app records no event, and the audit log holds only dry runs.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult

from tests.support.inprocess import connect
from tests.support.markers import needs_display
from tests.support.pointer import PARKED, pointer, xdotool
from tests.support.scenarios import scenario_for
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp
from tests.support.xvfb import SCREEN, Xvfb

pytestmark = [
    needs_display,
    pytest.mark.usefixtures("display_env"),
    pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool not installed (scripts/setup dev)"),
]

TOOL_NAMES = ("describe_screen", "plan_next_action", "execute_action")
HANG_GUARD = 30.0  # seconds; a hang guard, not a timing assertion
PLAN = [{"action": "left_click", "target": "submit", "thought": "Submit."}]
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
VALID_EXAMPLES = {"describe_screen": 25, "plan_next_action": 25, "execute_action": 100}
ON_SCREEN_EXAMPLES = 100
MUTATED_EXAMPLES = 150

# Hand-picked valid arguments that the mutations start from.
BASES: dict[str, list[dict[str, Any]]] = {
    "describe_screen": [{}, {"region": {"x": 10, "y": 10, "width": 300, "height": 200}, "question": "what?"}],
    "plan_next_action": [{"goal": "submit the form", "history": ["clicked name"], "max_reasoning_steps": 2}],
    "execute_action": [
        {"action": {"type": "click", "x": 500, "y": 300}},
        {"action": {"type": "drag", "x": 10, "y": 10, "to_x": 20, "to_y": 20}},
        {"action": {"type": "type", "text": "hello", "x": 400, "y": 200}},
        {"action": {"type": "key", "keys": ["ctrl", "a"]}},
        {"action": {"type": "scroll", "amount": 3, "x": 100, "y": 100}},
        {"action": {"type": "wait", "seconds": 1}, "action_id": "fuzz-1"},
        {"action": {"type": "done", "answer": "ok"}},
    ],
}
WEIRD_NUMBERS = [math.nan, math.inf, -math.inf, -1, -(10**6), 10**6, 2**31, 2**63, 2**64, 10**100, -(10**100), 1e308]
WEIRD_NUMBERS += [-0.0, 0.5, 1e-300, True]
GARBAGE_TEXT = [
    "",
    "\x00",
    "\u202eevil\u202c",
    "\u200b\ufeff\u2060",
    "e\u0301" * 500,
    "\U0010ffff\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\x1b[31mred\x1b[0m",
    "%s%n%x{0}{{7*7}}${jndi:x}",
    "'; DROP TABLE actions; --",
    "../../../../etc/passwd",
    "\r\n\r\n\r\n",
    "ctrl+alt+delete",
    "A" * 1_000_000,  # a megabyte
]


def nested(depth: int, leaf: Any = 0) -> Any:
    """``depth`` levels of alternating lists and objects around ``leaf``."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


JUNK_VALUES = st.one_of(
    st.sampled_from(WEIRD_NUMBERS),
    st.sampled_from(GARBAGE_TEXT),
    st.sampled_from([None, [], {}, [1, "a", None], {"type": "click"}, nested(50), nested(150)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=40),
    st.lists(st.text(max_size=5), max_size=5),
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A tool name and arguments that break its schema in one (or a few) places."""
    name = draw(st.sampled_from(TOOL_NAMES))
    args = json.loads(json.dumps(draw(st.sampled_from(BASES[name]))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        target = (
            args["action"] if "action" in args and isinstance(args["action"], dict) and draw(st.booleans()) else args
        )
        how = draw(st.sampled_from(["replace", "add_unknown", "drop", "type_swap"]))
        keys = sorted(target)
        if how == "add_unknown" or not keys:
            target[draw(st.sampled_from(["extra", "dryRun", "__proto__", "type ", "X", "\u202e"]))] = draw(JUNK_VALUES)
        elif how == "drop":
            del target[draw(st.sampled_from(keys))]
        elif how == "type_swap" and target is args.get("action"):
            target["type"] = draw(st.sampled_from(["teleport", "CLICK", "", "click ", None, 1, "type", "key"]))
        else:
            target[draw(st.sampled_from(keys))] = draw(JUNK_VALUES)
    return name, args


@dataclass
class FuzzSession:
    """One in-process server in dry run, its client, and what the fuzz has seen."""

    portal: BlockingPortal
    client: Client
    app: TkApp
    display: Xvfb
    audit_path: Path
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: int = 0
    errors: int = 0
    dry_runs: int = 0
    markers: int = 0
    """Marker clicks made so far by :meth:`TkApp.settle` (each is one left click the app sees)."""


@pytest.fixture(scope="module")
def fuzz(display: Xvfb, standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzSession]:
    """A Tk app with the notes field focused, the pointer parked, and a dry-run server connected."""
    tmp = tmp_path_factory.mktemp("fuzz")
    with TkApp(tmp / "state.json", env=display.env(), geometry="760x560+180+90") as app:
        notes = app.widget("notes")
        xdotool(display, "mousemove", str(notes["x"] + 20), str(notes["y"] + 20), "click", "1")
        app.wait_for(lambda s: s["events"]["focused"] == "notes")
        xdotool(display, "mousemove", *map(str, PARKED))
        env = {
            "VLM_DESKTOP_AUDIT__PATH": str(tmp / "audit.jsonl"),
            "VLM_DESKTOP_OCR__ENABLED": "0",  # OCR is seconds per new region: the model path is what is fuzzed
            "VLM_DESKTOP_DESKTOP__CAPTURE_SETTLE_TIMEOUT": "0",
            "VLM_DESKTOP_MODEL__READ_TIMEOUT": "10",
        }
        with start_blocking_portal() as portal:
            standin.set_scenario(scenario_for(app, PLAN))
            with portal.wrap_async_context_manager(connect(standin, dry_run=True, env=env)) as client:
                tools = portal.call(client.list_tools).tools
                session = FuzzSession(portal, client, app, display, tmp / "audit.jsonl")
                session.schemas = {tool.name: tool.input_schema for tool in tools}
                assert set(TOOL_NAMES) <= set(session.schemas)
                before = snapshot(session)
                yield session
                assert_nothing_happened(session, before)
                # The figures RELIABILITY.md quotes (shown with pytest -s).
                print(f"\nfuzz: {session.calls} calls, {session.errors} refused, {session.dry_runs} dry-run actions")


def on_screen(schema: dict[str, Any]) -> dict[str, Any]:
    """The execute_action schema narrowed to what the server really acts on: ``type`` present, points on screen.

    The published schema gives ``type`` a default, so a generator may leave it out; the server's
    discriminated union then refuses the action before any of the dry-run path runs. ``action_id``
    goes too: ids the earlier examples used would be refused as reused (rightly, but it hides the path).
    """
    narrowed = copy.deepcopy(schema)
    del narrowed["properties"]["action_id"]
    for variant in narrowed["$defs"].values():
        properties = variant.get("properties", {})
        if "const" in properties.get("type", {}):
            variant["required"] = sorted({*variant.get("required", []), "type"})
        for axis, size in (("x", SCREEN[0]), ("y", SCREEN[1]), ("to_x", SCREEN[0]), ("to_y", SCREEN[1])):
            if axis in properties:
                properties[axis] = {"type": "integer", "minimum": 0, "maximum": size - 1}
    return narrowed


def call(session: FuzzSession, name: str, arguments: dict[str, Any]) -> CallToolResult | MCPError:
    """One tool call: its result, or the JSON-RPC error it was answered with (a hang fails)."""

    async def attempt() -> CallToolResult | MCPError:
        with anyio.fail_after(HANG_GUARD):
            try:
                return await session.client.call_tool(name, arguments)
            except MCPError as exc:
                return exc

    session.calls += 1
    return session.portal.call(attempt)


def check_answer(session: FuzzSession, name: str, answer: CallToolResult | MCPError) -> None:
    """A readable error or a well-formed result; an action never performed; the pointer where it was."""
    if isinstance(answer, MCPError):
        session.errors += 1
        assert answer.error.message.strip(), answer
    elif answer.is_error:
        session.errors += 1
        text = answer.content[0].text  # type: ignore[union-attr]
        assert text.strip()
        assert "internal error" not in text and "Traceback" not in text, text[:2000]
        assert len(text) < 20_000, f"an error message of {len(text)} characters: {text[:300]}..."
    else:
        assert answer.structured_content is not None
        if name == "execute_action":
            assert answer.structured_content["status"] == "dry_run", answer.structured_content
            session.dry_runs += 1
    assert pointer(session.display) == PARKED


def snapshot(session: FuzzSession) -> tuple[dict[str, Any], int]:
    """The app's state and the number of marker clicks so far, for :func:`assert_nothing_happened`."""
    return session.app.state(), session.markers


def assert_nothing_happened(session: FuzzSession, before: tuple[dict[str, Any], int]) -> None:
    """The app saw no click, key or focus change but the marker clicks, the pointer stayed parked, and the
    audit log holds dry runs and refusals only."""
    state, markers = before
    assert pointer(session.display) == PARKED
    # Whatever the server sent has reached the app once the marker click has (X delivers in order).
    after = session.app.settle()
    session.markers += 1
    xdotool(session.display, "mousemove", *map(str, PARKED))
    # Keyboard focus is not an input event: without a window manager, focus can move on its own.
    marker = {"focused", "last_click", "left_clicks"}
    assert {k: v for k, v in after["events"].items() if k not in marker} == {
        k: v for k, v in state["events"].items() if k not in marker
    }
    assert after["events"]["left_clicks"] == state["events"]["left_clicks"] + session.markers - markers
    assert {k: w["value"] for k, w in after["widgets"].items()} == {k: w["value"] for k, w in state["widgets"].items()}
    # Split on "\n" only: str.splitlines() also splits inside strings at U+2028, U+0085...
    lines = session.audit_path.read_bytes().split(b"\n")
    records = [json.loads(line) for line in lines if line.strip()]
    assert all(r["dry_run"] for r in records if r["kind"] == "intent")
    assert {r["status"] for r in records if r["kind"] == "outcome"} <= {"dry_run", "refused"}


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_inputs_from_the_published_schema_never_crash_or_act(fuzz: FuzzSession, name: str) -> None:
    before = snapshot(fuzz)
    strategy = from_schema(copy.deepcopy(fuzz.schemas[name]))  # from_schema edits the schema it is given

    @settings(FUZZ, max_examples=VALID_EXAMPLES[name])
    @given(strategy)
    def run(arguments: dict[str, Any]) -> None:
        check_answer(fuzz, name, call(fuzz, name, arguments))

    run()
    assert_nothing_happened(fuzz, before)


def test_on_screen_actions_from_the_schema_are_dry_runs(fuzz: FuzzSession) -> None:
    before = snapshot(fuzz)

    @settings(FUZZ, max_examples=ON_SCREEN_EXAMPLES)
    @given(from_schema(on_screen(fuzz.schemas["execute_action"])))
    def run(arguments: dict[str, Any]) -> None:
        check_answer(fuzz, "execute_action", call(fuzz, "execute_action", arguments))

    run()
    assert_nothing_happened(fuzz, before)


def test_schema_violating_inputs_are_refused_readably(fuzz: FuzzSession) -> None:
    before = snapshot(fuzz)

    @settings(FUZZ, max_examples=MUTATED_EXAMPLES)
    @given(mutated())
    def run(case: tuple[str, dict[str, Any]]) -> None:
        name, arguments = case
        check_answer(fuzz, name, call(fuzz, name, arguments))

    run()
    assert_nothing_happened(fuzz, before)


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("execute_action", {"action": {"type": "click", "x": math.nan, "y": 10}}),
        ("execute_action", {"action": {"type": "wait", "seconds": math.inf}}),
        ("execute_action", {"action": {"type": "click", "x": 10**100, "y": -(10**100)}}),
        ("execute_action", {"action": {"type": "type", "text": "A" * 1_000_000}}),
        ("execute_action", {"action": {"type": "key", "keys": ["ctrl", "\u202e\x00"]}}),
        ("execute_action", {"action": nested(150)}),
        ("describe_screen", {"region": {"x": -(2**63), "y": 0, "width": 2**64, "height": 1}}),
    ],
    ids=["nan", "inf", "huge-coords", "megabyte-text", "garbage-key", "deep", "huge-region"],
)
def test_named_hostile_inputs_are_errors(fuzz: FuzzSession, name: str, arguments: dict[str, Any]) -> None:
    answer = call(fuzz, name, arguments)
    check_answer(fuzz, name, answer)
    assert isinstance(answer, MCPError) or answer.is_error


def test_the_server_still_answers_after_the_fuzz(fuzz: FuzzSession) -> None:
    submit = fuzz.app.widget("submit")
    point = {"x": submit["x"] + 5, "y": submit["y"] + 5}
    answer = call(fuzz, "execute_action", {"action": {"type": "click", **point}})
    check_answer(fuzz, "execute_action", answer)
    assert isinstance(answer, CallToolResult) and not answer.is_error
    assert answer.structured_content["performed"] == [{"op": "click", "button": "left", "clicks": 1, **point}]
    described = call(fuzz, "describe_screen", {})
    assert isinstance(described, CallToolResult) and not described.is_error, described


def test_unknown_top_level_arguments_are_refused(fuzz: FuzzSession) -> None:
    answer = call(fuzz, "execute_action", {"action": {"type": "move", "x": 400, "y": 300}, "dryRun": True})
    check_answer(fuzz, "execute_action", answer)
    assert isinstance(answer, MCPError) or answer.is_error

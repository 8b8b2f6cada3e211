"""Load: 5 real HTTP MCP clients, 50 actions each, all at once, against one server process and one desktop.

Every action types a unique token into the Tk app's notes field. If two actions ever interleaved,
a token would arrive split; if one were lost or done twice, a token would be missing or doubled.
The audit log must hold exactly one intent and one outcome for each of the 250 actions.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.support.markers import needs_display
from tests.support.pointer import xdotool
from tests.support.processes import stop_process
from tests.support.servers import ROOT, _wait_for_port, free_port, server_command
from tests.support.tkapp import TkApp
from tests.support.xvfb import Xvfb

pytestmark = [needs_display, pytest.mark.slow]

CLIENTS = 5
ACTIONS_PER_CLIENT = 50
TOKEN = re.compile(r"c(\d)n(\d\d)\.")
HANG_GUARD = 240.0  # seconds for the whole load; a hang guard, not a timing assertion


def token(client: int, index: int) -> str:
    """What action ``index`` of client ``client`` types: 6 characters, unique, easy to find."""
    return f"c{client}n{index:02d}."


@dataclass
class LoadRun:
    """What the load produced: every answer, the text that arrived, and the audit log's path."""

    answers: dict[tuple[int, int], dict[str, Any]]
    typed: str
    audit_path: Path


async def _client(url: str, client: int, answers: dict[tuple[int, int], dict[str, Any]]) -> None:
    async with Client(url, read_timeout_seconds=60) as session:
        for index in range(ACTIONS_PER_CLIENT):
            action = {"type": "type", "text": token(client, index)}
            result = await session.call_tool("execute_action", {"action": action})
            answers[client, index] = {
                "is_error": result.is_error,
                "data": result.structured_content,
                "content": result.content,
            }


async def _load(url: str) -> dict[tuple[int, int], dict[str, Any]]:
    answers: dict[tuple[int, int], dict[str, Any]] = {}
    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as group:
            for client in range(CLIENTS):
                group.start_soon(_client, url, client, answers)
    return answers


@pytest.fixture(scope="module")
def load(display: Xvfb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadRun]:
    """Run the whole load once: the app with its notes focused, the server over streamable HTTP, 5 clients."""
    tmp = tmp_path_factory.mktemp("load")
    audit_path = tmp / "audit.jsonl"
    with TkApp(tmp / "state.json", env=display.env(), geometry="760x560+180+90") as app:
        notes = app.widget("notes")
        xdotool(display, "mousemove", str(notes["x"] + 20), str(notes["y"] + 20), "click", "1")
        app.wait_for(lambda s: s["events"]["focused"] == "notes")
        env = {
            **display.env(),
            "VLM_DESKTOP_AUDIT__PATH": str(audit_path),
            "VLM_DESKTOP_OCR__ENABLED": "0",
            "VLM_DESKTOP_POLICY__RATE_LIMIT_ACTIONS": "0",  # the default bucket (30 per 10 s) would refuse most
            "VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "0.05",  # the caret blinks: the notes field never settles
            "VLM_DESKTOP_DESKTOP__SETTLE_INTERVAL": "0.02",
            "VLM_DESKTOP_DESKTOP__PAUSE": "0",
        }
        port = free_port()
        with (tmp / "server.log").open("wb") as log:
            proc = subprocess.Popen(
                server_command(["--transport", "http", "--port", str(port), "--backend", "none"]),
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        try:
            _wait_for_port(port, proc)
            answers = anyio.run(_load, f"http://127.0.0.1:{port}/mcp")
            expected = CLIENTS * ACTIONS_PER_CLIENT * len(token(0, 0))
            state = app.wait_for(lambda s: len(s["widgets"]["notes"]["value"]) >= expected, timeout=30)
        finally:
            stop_process(proc, 10)
        # The figures RELIABILITY.md quotes (shown with pytest -s).
        print(f"\nload: {CLIENTS} clients x {ACTIONS_PER_CLIENT} actions, {len(answers)} answered")
        yield LoadRun(answers, state["widgets"]["notes"]["value"], audit_path)


def test_every_call_is_answered_and_performed(load: LoadRun) -> None:
    assert len(load.answers) == CLIENTS * ACTIONS_PER_CLIENT
    failed = {key: answer["content"] for key, answer in load.answers.items() if answer["is_error"]}
    assert not failed
    assert {answer["data"]["status"] for answer in load.answers.values()} == {"executed"}


def test_actions_never_interleave_and_none_is_lost_or_doubled(load: LoadRun) -> None:
    tokens = TOKEN.findall(load.typed)
    # Only whole tokens, back to back: a split token (two actions interleaving) breaks the full match.
    assert "".join(f"c{c}n{i}." for c, i in tokens) == load.typed
    counts = Counter(tokens)
    assert sorted(counts) == sorted((str(c), f"{i:02d}") for c in range(CLIENTS) for i in range(ACTIONS_PER_CLIENT))
    assert set(counts.values()) == {1}
    for client in range(CLIENTS):  # each client waits for each answer, so its own tokens keep their order
        mine = [int(i) for c, i in tokens if c == str(client)]
        assert mine == sorted(mine)
    assert len({c for c, _ in tokens[: CLIENTS * 5]}) > 1, "the clients never ran concurrently"


def test_the_audit_log_has_one_intent_and_one_outcome_per_action(load: LoadRun) -> None:
    if not load.audit_path.exists():
        pytest.skip(f"the server wrote no audit log at {load.audit_path} (VLM_DESKTOP_AUDIT__PATH)")
    lines = load.audit_path.read_bytes().split(b"\n")
    records = [json.loads(line) for line in lines if line.strip()]
    intents = [r for r in records if r["kind"] == "intent"]
    outcomes = [r for r in records if r["kind"] == "outcome"]
    assert not [r for r in records if r["kind"] not in ("intent", "outcome")]
    assert len(intents) == len(outcomes) == CLIENTS * ACTIONS_PER_CLIENT
    assert Counter(r["id"] for r in intents) == Counter(r["id"] for r in outcomes)
    assert len({r["id"] for r in intents}) == len(intents)
    texts = Counter(r["action"]["text"] for r in intents)
    assert texts == Counter(token(c, i) for c in range(CLIENTS) for i in range(ACTIONS_PER_CLIENT))
    assert {r["status"] for r in outcomes} == {"executed"}
    # Write-ahead and one at a time: each intent is followed by its own outcome before the next intent.
    pairs = list(zip(records[::2], records[1::2], strict=True))
    assert all((a["kind"], b["kind"], a["id"]) == ("intent", "outcome", b["id"]) for a, b in pairs)

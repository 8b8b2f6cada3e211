"""The write-ahead audit log, idempotent action ids, and the ``vlm-desktop-mcp audit`` command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_server import cli
from tests.support.inprocess import make_server, records, serve
from tests.support.markers import needs_display
from tests.support.tkapp import TkApp, center
from tools.safety.audit import AuditLog
from tools.safety.audit_records import log_files, read_entries

# Servers built here act on the shared screen.
pytestmark = pytest.mark.usefixtures("display_env")


# --- the log file itself ---------------------------------------------------------------------------


def _intent(record_id: str, pid: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "intent",
        "id": record_id,
        "time": "2025-01-01T00:00:00.000Z",
        "action": {"type": "wait", "seconds": 5.0},
        "action_id": extra.pop("action_id", None),
        "dry_run": False,
        "requester": "test 1",
        "screen_hash": "0" * 64,
        "pid": pid,
        "host": socket.gethostname(),
        **extra,
    }


def _write(path: Path, *records: dict[str, Any], tail: bytes = b"") -> None:
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records) + tail)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_open_reports_intents_whose_server_died_and_marks_them_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.jsonl"
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            _write(
                path,
                _intent("dead", _dead_pid(), action_id="job-1"),
                _intent("done", _dead_pid()),
                {"kind": "outcome", "id": "done", "status": "executed", "performed": [], "error": None},
                _intent("running", alive.pid),
                tail=b'{"kind": "outcome", "id": "dea',  # torn by a crash mid-write
            )
            log = AuditLog(path)
            interrupted = log.open()
            assert [e.id for e in interrupted] == ["dead"]
            assert "was interrupted" in caplog.text and "NOT replayed" in caplog.text
            assert log.lookup("job-1") is not None and log.lookup("job-1").status == "interrupted"  # type: ignore[union-attr]
            lines = path.read_bytes().splitlines()
            assert json.loads(lines[-1]) == {**json.loads(lines[-1]), "kind": "interrupted", "id": "dead"}
            assert AuditLog(path).open() == []  # reported once
            statuses = {e.id: e.status for e in read_entries(path)}
            assert statuses == {"dead": "interrupted", "done": "executed", "running": "in progress"}
        finally:
            alive.kill()


def test_audit_command_prints_the_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.jsonl"
    _write(
        path,
        _intent("a", _dead_pid(), action={"type": "key", "keys": ["ctrl", "s"]}, action_id="save-1"),
        {"kind": "outcome", "id": "a", "status": "executed", "performed": [], "error": None},
        _intent("b", _dead_pid()),
        {"kind": "interrupted", "id": "b"},
        _intent("c", _dead_pid(), action={"type": "key", "keys": ["ctrl", "alt", "delete"]}),
        {"kind": "outcome", "id": "c", "status": "refused", "performed": [], "error": "refused by the policy"},
    )
    assert cli.main(["audit", "--path", str(path)]) == 0
    out = capsys.readouterr().out
    assert "executed     key ctrl+s  [action_id=save-1, by test 1]" in out
    assert "INTERRUPTED  wait 5.0 s" in out and "was not replayed" in out
    assert "refused      key ctrl+alt+delete" in out and "error: refused by the policy" in out
    assert cli.main(["audit", "--path", str(path), "--interrupted", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["status"] == "interrupted" and json.loads(lines[0])["id"] == "b"
    assert cli.main(["audit", "--path", str(path), "--json", "--last", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["error"] == "refused by the policy"
    assert cli.main(["audit", "--path", str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot read the audit log" in capsys.readouterr().err


def test_audit_command_takes_the_path_from_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.jsonl"
    _write(path, _intent("x", _dead_pid()))
    monkeypatch.setenv("VLM_DESKTOP_AUDIT__PATH", str(path))
    assert cli.main(["audit", "--interrupted"]) == 0
    assert "INTERRUPTED" in capsys.readouterr().out


def _act(log: AuditLog, record_id: str, action_id: str | None = None, status: str = "executed") -> None:
    """One action through ``log``: intent, then outcome (what execute_action writes)."""
    log.intent(
        record_id, {"type": "wait", "seconds": 1.0}, dry_run=False, requester=None, action_id=action_id, screen=None
    )
    log.outcome(record_id, status, [{"op": "sleep", "seconds": 1.0}], result={"status": status, "id": record_id})


def test_the_log_rotates_between_actions_and_keeps_its_predecessors(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=2000, keep_files=2)
    log.open()
    for n in range(40):
        _act(log, f"r{n:02}", action_id=f"job-{n}")
    files = log_files(path)
    assert [f.name for f in files] == ["audit.jsonl.2", "audit.jsonl.1", "audit.jsonl"]  # .3 and older deleted
    assert all(f.stat().st_size < 2000 + 1000 for f in files)
    for file in files:  # every intent's outcome is in its own file
        kinds: dict[str, list[str]] = {}
        for record in (json.loads(line) for line in file.read_bytes().splitlines()):
            kinds.setdefault(record["id"], []).append(record["kind"])
        assert all(k == ["intent", "outcome"] for k in kinds.values()), file
        assert oct(file.stat().st_mode & 0o777) == "0o600"
    ids = [e.id for e in read_entries(path)]
    assert ids == sorted(ids) and ids[-1] == "r39" and len(ids) < 40  # the oldest files were deleted
    # A restart still knows the ids bound in the newest rotated file, and of course the current one.
    reopened = AuditLog(path, max_bytes=2000, keep_files=2)
    reopened.open()
    newest_rotated = [e for e in read_entries(files[1])]
    assert reopened.lookup(newest_rotated[0].intent["action_id"]) is not None
    assert reopened.lookup("job-39") is not None and reopened.lookup("job-39").status == "executed"  # type: ignore[union-attr]


def test_no_rotation_while_another_process_is_between_intent_and_outcome(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        try:
            # Another live server wrote an intent and is still acting.
            with path.open("ab") as handle:
                handle.write(json.dumps(_intent("theirs", other.pid)).encode() + b"\n")
            log = AuditLog(path, max_bytes=500)
            log.open()
            for n in range(5):
                _act(log, f"mine{n}")
            assert log_files(path) == [path]  # over the limit, but their action is half-done
            with path.open("ab") as handle:
                handle.write(json.dumps({"kind": "outcome", "id": "theirs", "status": "executed"}).encode() + b"\n")
            _act(log, "mine5")
            assert [f.name for f in log_files(path)] == ["audit.jsonl.1", "audit.jsonl"]
            assert {e.id: e.status for e in read_entries(path)}["theirs"] == "executed"
        finally:
            other.kill()


def test_a_second_process_follows_the_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first, second = AuditLog(path, max_bytes=4000), AuditLog(path, max_bytes=4000)
    first.open()
    second.open()
    _act(first, "a1", action_id="early")
    assert second.lookup("early") is not None  # read from the shared file
    for n in range(12):  # the tail of the old file, then the rotation, then the new file
        _act(first, f"b{n:02}", action_id=f"mid-{n}")
    assert [f.name for f in log_files(path)] == ["audit.jsonl.1", "audit.jsonl"]
    # The second process read neither the old file's tail nor the new file yet: it must see both.
    assert all(second.lookup(f"mid-{n}") is not None for n in range(12))
    assert second.lookup("early") is not None


# --- through the server, on a real desktop ----------------------------------------------------------


@needs_display
async def test_every_call_is_recorded_intent_before_outcome(app: TkApp, tmp_path: Path) -> None:
    submit = center(app, "submit")
    async with serve(tmp_path) as client:
        executed = await client.call_tool("execute_action", {"action": {"type": "click", **submit}})
        dry = await client.call_tool("execute_action", {"action": {"type": "click", **submit}, "dry_run": True})
        refused = await client.call_tool("execute_action", {"action": {"type": "key", "keys": ["ctrl", "alt", "f1"]}})
        invalid = await client.call_tool("execute_action", {"action": {"type": "click", "x": 5000, "y": 1}})
    assert not executed.is_error and not dry.is_error and refused.is_error and invalid.is_error
    log = records(tmp_path)
    assert [(r["kind"], r.get("status")) for r in log] == [
        ("intent", None), ("outcome", "executed"),
        ("intent", None), ("outcome", "dry_run"),
        ("intent", None), ("outcome", "refused"),
        ("intent", None), ("outcome", "refused"),
    ]  # fmt: skip
    intent, outcome = log[0], log[1]
    assert intent["id"] == outcome["id"] == executed.structured_content["audit_id"]
    assert intent["action"] == {"type": "click", **submit, "button": "left", "clicks": 1}
    assert len(intent["screen_hash"]) == 64 and intent["dry_run"] is False and intent["pid"] == os.getpid()
    assert intent["requester"].startswith("mcp ")  # the in-process client's name and version
    assert outcome["performed"] == [{"op": "click", **submit, "button": "left", "clicks": 1}]
    assert outcome["result"]["status"] == "executed" and outcome["error"] is None
    assert log[2]["dry_run"] is True and log[3]["performed"][0]["op"] == "click"
    assert "blocked_chords" in log[5]["error"] and "outside the screen" in log[7]["error"]
    assert (tmp_path / "audit.jsonl").stat().st_mode & 0o777 == 0o600


@needs_display
async def test_concurrent_clients_are_serialized_and_nothing_is_lost(app: TkApp, tmp_path: Path) -> None:
    points = [center(app, wid) for wid in ("name_entry", "email_entry", "notes")]
    results: list[Any] = []

    server = make_server(tmp_path)  # one server, several clients: one desktop lock

    async def one_client(index: int) -> None:
        async with Client(server) as client:
            for step in range(6):
                action = {"type": "move", **points[(index + step) % 3]}
                results.append(await client.call_tool("execute_action", {"action": action, "dry_run": step % 2 == 1}))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for index in range(3):
                group.start_soon(one_client, index)
    assert len(results) == 18 and not any(r.is_error for r in results)
    log = records(tmp_path)
    assert len(log) == 36
    for intent, outcome in zip(log[::2], log[1::2], strict=True):  # never interleaved
        assert (intent["kind"], outcome["kind"], intent["id"]) == ("intent", "outcome", outcome["id"])
    assert {r.structured_content["audit_id"] for r in results} == {r["id"] for r in log[::2]}


@needs_display
async def test_action_id_replays_the_stored_result_even_after_a_restart(app: TkApp, tmp_path: Path) -> None:
    before = app.settle()["events"]["submit_clicks"]
    call = {"action": {"type": "click", **center(app, "submit")}, "action_id": "submit-1"}
    async with serve(tmp_path) as client:
        first = await client.call_tool("execute_action", call)
        second = await client.call_tool("execute_action", call)
        other = await client.call_tool("execute_action", {**call, "action": {"type": "click", "x": 1, "y": 1}})
        dry = await client.call_tool("execute_action", {**call, "dry_run": True})
    async with serve(tmp_path) as client:  # a new server: the index comes back from the log
        third = await client.call_tool("execute_action", call)
    assert not first.is_error and first.structured_content["replayed"] is False
    for replay in (second, third):
        assert not replay.is_error and replay.structured_content["replayed"] is True
        assert replay.structured_content["audit_id"] == first.structured_content["audit_id"]
        assert replay.structured_content["performed"] == first.structured_content["performed"]
    assert other.is_error and "already used for a different action" in other.content[0].text
    assert dry.is_error and "a dry run and a real run differ" in dry.content[0].text
    assert app.settle()["events"]["submit_clicks"] == before + 1
    assert sum(1 for r in records(tmp_path) if r["kind"] == "intent") == 1


@needs_display
async def test_refused_ids_may_be_retried_failed_ones_may_not(app: TkApp, tmp_path: Path) -> None:
    submit = {"type": "click", **center(app, "submit")}
    async with serve(tmp_path, {"VLM_DESKTOP_POLICY__RATE_LIMIT_ACTIONS": "1"}) as client:
        spent = await client.call_tool("execute_action", {"action": {"type": "move", "x": 300, "y": 300}})
        refused = await client.call_tool("execute_action", {"action": submit, "action_id": "r-1"})
    async with serve(tmp_path) as client:  # a fresh rate limit: the same id now goes through
        retried = await client.call_tool("execute_action", {"action": submit, "action_id": "r-1"})
        await anyio.run_process(["xdotool", "mousemove", "0", "0"], env=app.env)  # arm the fail-safe
        try:
            failed = await client.call_tool("execute_action", {"action": submit, "action_id": "f-1"})
        finally:
            await anyio.run_process(["xdotool", "mousemove", "400", "400"], env=app.env)
        again = await client.call_tool("execute_action", {"action": submit, "action_id": "f-1"})
    assert not spent.is_error and refused.is_error and "rate_limit" in refused.content[0].text
    assert not retried.is_error and retried.structured_content["replayed"] is False
    assert failed.is_error and "fail-safe" in failed.content[0].text
    assert again.is_error and "already ran and failed" in again.content[0].text and "fail-safe" in again.content[0].text
    statuses = [r["status"] for r in records(tmp_path) if r["kind"] == "outcome"]
    assert statuses == ["executed", "refused", "executed", "failed"]


@needs_display
async def test_screenshots_are_kept_beside_the_log_up_to_the_limit(app: TkApp, tmp_path: Path) -> None:
    env = {"VLM_DESKTOP_AUDIT__SCREENSHOTS": "true", "VLM_DESKTOP_AUDIT__KEEP_SCREENSHOTS": "2"}
    async with serve(tmp_path, env) as client:
        for wid in ("name_entry", "email_entry", "notes"):
            result = await client.call_tool("execute_action", {"action": {"type": "move", **center(app, wid)}})
            assert not result.is_error
    folder = tmp_path / "audit-screenshots"
    log = records(tmp_path)
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == sorted(f"{r['id']}-{which}.png" for r in log[2::2] for which in ("before", "after"))
    assert await anyio.Path(log[-2]["screenshot_before"]).is_file()
    assert await anyio.Path(log[-1]["screenshot_after"]).is_file()
    assert not await anyio.Path(log[0]["screenshot_before"]).exists()


@needs_display
async def test_an_unwritable_log_means_no_input(app: TkApp, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where the log's folder should be")
    before = app.settle()["events"]["submit_clicks"]
    async with serve(tmp_path, {"VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "blocker" / "audit.jsonl")}) as client:
        result = await client.call_tool("execute_action", {"action": {"type": "click", **center(app, "submit")}})
    assert result.is_error and "cannot write the audit log" in result.content[0].text
    assert "no input was sent" in result.content[0].text
    assert app.settle()["events"]["submit_clicks"] == before


def test_intents_and_refusals_are_fsynced_dry_runs_are_written_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.open()
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    common: dict[str, Any] = {"requester": None, "action_id": None, "performed": []}
    log.unsent("d1", {"type": "click", "x": 1, "y": 2}, "dry_run", dry_run=True, **common)
    assert synced == []
    log.unsent("r1", {"type": "click", "x": 1, "y": 2}, "refused", dry_run=False, error="policy", **common)
    assert len(synced) == 1
    log.intent("i1", {"type": "click", "x": 1, "y": 2}, dry_run=False, requester=None, action_id=None, screen=None)
    assert len(synced) == 2
    assert [e.status for e in read_entries(tmp_path / "audit.jsonl")][:2] == ["dry_run", "refused"]

"""The audit log's records: their format, ids and hashes, and reading them back.

Records, one per line of the JSON-lines log (:mod:`tools.safety.audit` writes them)::

    {"kind": "intent", "id", "time", "action", "action_id", "dry_run", "requester", "screen_hash",
     "screenshot_before", "pid", "host"}
    {"kind": "outcome", "id", "time", "status", "performed", "error", "result", "screenshot_after"}
    {"kind": "interrupted", "id", "time", "pid"}

``status`` is ``executed``, ``dry_run``, ``refused`` or ``failed``. An intent without an outcome
whose writer is gone was interrupted (the server died mid-action).
"""


from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from tools.actions.vocabulary import describe

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock file; one server process per log assumed
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

BINDING = ("executed", "dry_run", "failed")
"""Outcomes that bind an ``action_id``: a refused action did nothing, so its id may be retried."""


def now() -> str:
    """The current time, ISO 8601 in UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A unique record id that sorts by time."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


def fingerprint(action: Mapping[str, Any], dry_run: bool) -> str:
    """What "the same parameters" means for an ``action_id``: the action and whether it is a dry run."""
    canonical = json.dumps({"action": action, "dry_run": dry_run}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def screen_hash(image: Image.Image) -> str:
    """SHA-256 of the capture's raw RGB pixels."""
    return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()


def writer_alive(pid: Any, host: Any) -> bool:
    """Whether the process that wrote a record (``pid`` on ``host``) still runs."""
    # A writer on another host (or a previous container) cannot be asked; nor can our own pid be a
    # live writer (containers reuse pid 1). Zombies count as alive until reaped.
    if not isinstance(pid, int) or host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Entry:
    """One action as read back from the log: its intent, and its outcome when there is one."""

    intent: dict[str, Any]
    outcome: dict[str, Any] | None = None
    interrupted: bool = False

    @property
    def id(self) -> str:
        """The record id shared by intent and outcome."""
        return str(self.intent["id"])

    @property
    def status(self) -> str:
        """The outcome's status, ``interrupted``, or ``in progress`` while the writer still runs."""
        if self.outcome is not None:
            return str(self.outcome.get("status"))
        if self.interrupted or not writer_alive(self.intent.get("pid"), self.intent.get("host")):
            return "interrupted"
        return "in progress"


@dataclass
class Binding:
    """What an ``action_id`` is bound to."""

    record_id: str
    fingerprint: str
    status: str
    result: dict[str, Any] | None = None
    error: str | None = None


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """The log's records; a torn or unreadable line (a crash mid-write) is skipped with a warning."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                log.warning("audit log %s line %d is not a JSON record; skipped", path, number)
                continue
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                yield record


def rotated(path: Path, number: int) -> Path:
    """The ``number``-th older log (``audit.jsonl.1`` is the newest of them)."""
    return path.with_name(f"{path.name}.{number}")


def log_files(path: Path) -> list[Path]:
    """The log and its rotated predecessors that exist, oldest first."""
    older: list[tuple[int, Path]] = []
    for candidate in path.parent.glob(f"{path.name}.*"):
        suffix = candidate.name[len(path.name) + 1 :]
        if suffix.isdigit():
            older.append((int(suffix), candidate))
    return [p for _, p in sorted(older, reverse=True)] + [path]


def read_entries(path: Path) -> list[Entry]:
    """Every action in the log and its rotated predecessors, oldest first, intents joined with outcomes."""
    entries: dict[str, Entry] = {}
    files = log_files(path)
    if not path.exists() and len(files) == 1:
        raise FileNotFoundError(2, "No such file or directory", str(path))
    for record in (r for file in files if file.exists() for r in iter_records(file)):
        kind = record.get("kind")
        if kind == "intent":
            entries[record["id"]] = Entry(record)
        elif record["id"] in entries:
            entry = entries[record["id"]]
            if kind == "outcome":
                entry.outcome = record
            elif kind == "interrupted":
                entry.interrupted = True
    return list(entries.values())




def intent_record(
    record_id: str,
    action: Mapping[str, Any],
    dry_run: bool,
    requester: str | None,
    action_id: str | None,
    screen: str | None,
    screenshot: str | None,
) -> dict[str, Any]:
    """An intent record: what is about to be sent, written (fsynced) before it is."""
    return {
        "kind": "intent",
        "id": record_id,
        "time": now(),
        "action": dict(action),
        "action_id": action_id,
        "dry_run": dry_run,
        "requester": requester,
        "screen_hash": screen,
        "screenshot_before": screenshot,
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }


def outcome_record(
    record_id: str,
    status: str,
    performed: list[dict[str, Any]],
    error: str | None,
    result: dict[str, Any] | None,
    screenshot: str | None,
) -> dict[str, Any]:
    """An outcome record: what happened to the intent ``record_id``."""
    return {
        "kind": "outcome",
        "id": record_id,
        "time": now(),
        "status": status,
        "performed": performed,
        "error": error,
        "result": result,
        "screenshot_after": screenshot,
    }


def summarize(action: Mapping[str, Any]) -> str:
    """A short readable form of a recorded action: ``click (10, 20)``, ``key ctrl+a``, ``type 'hi'``."""
    return describe(dict(action))


def format_entry(entry: Entry) -> str:
    """One line for people: time, id, status, action, requester, and the error or flags."""
    intent = entry.intent
    status = entry.status.upper() if entry.status in ("interrupted", "in progress") else entry.status
    flags = [f"action_id={intent['action_id']}"] if intent.get("action_id") else []
    if intent.get("dry_run"):
        flags.append("dry run")
    if intent.get("requester"):
        flags.append(f"by {intent['requester']}")
    line = f"{intent.get('time', '?')}  {entry.id}  {status:<11}  {summarize(intent.get('action') or {})}"
    if flags:
        line += f"  [{', '.join(flags)}]"
    error = (entry.outcome or {}).get("error")
    if error:
        line += f"\n    error: {str(error).splitlines()[0]}"
    if entry.status == "interrupted":
        line += "\n    the server stopped before this action finished; it may be partly done and was not replayed"
    return line


def entry_json(entry: Entry) -> dict[str, Any]:
    """An entry as one JSON object: the intent's fields, the outcome's and the derived ``status``."""
    merged = {k: v for k, v in entry.intent.items() if k != "kind"}
    merged["requested_at"] = merged.pop("time", None)
    if entry.outcome is not None:
        merged.update({k: v for k, v in entry.outcome.items() if k not in ("kind", "id", "time", "status")})
        merged["finished_at"] = entry.outcome.get("time")
    merged["status"] = entry.status
    return merged

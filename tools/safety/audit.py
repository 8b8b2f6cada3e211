"""The write-ahead audit log: a JSON-lines file that records every action before its input is sent.

Records, one per line (appended with a single write, and fsynced unless they record a dry run)::

    {"kind": "intent", "id", "time", "action", "action_id", "dry_run", "requester", "screen_hash",
     "screenshot_before", "pid", "host"}
    {"kind": "outcome", "id", "time", "status", "performed", "error", "result", "screenshot_after"}
    {"kind": "interrupted", "id", "time", "pid"}

``status`` is ``executed``, ``dry_run``, ``refused`` or ``failed``. An intent without an outcome
whose writer is gone was interrupted (the server died mid-action): :meth:`AuditLog.open` reports it
and appends an ``interrupted`` record; it is never replayed. The log also rebuilds the
``action_id`` index that makes ``execute_action`` idempotent across restarts.

Rotation: once the log reaches ``max_bytes`` it is renamed ``audit.jsonl.1`` (older ones shift to
``.2`` ... up to ``keep_files``) and a new one is started, but only while no action of any process
is between its intent and its outcome, so an intent and its outcome always share a file. Appends
and rotation take a lock file beside the log, so several server processes may share one log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from tools.actions.vocabulary import describe
from tools.errors import AuditUnavailable

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


def _alive(pid: Any, host: Any) -> bool:
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
        if self.interrupted or not _alive(self.intent.get("pid"), self.intent.get("host")):
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


@dataclass
class AuditLog:
    """The audit log at ``path``, its ``action_id`` index and optional before/after screenshots."""

    path: Path
    screenshots: bool = False
    keep_screenshots: int = 100
    max_bytes: int = 64 * 1024 * 1024
    """Size at which the log is rotated (0: never)."""
    keep_files: int = 5
    """Rotated logs kept (``audit.jsonl.1`` ... ``.5``); older ones are deleted."""
    _opened: bool = False
    _offset: int = 0
    _inode: int | None = None
    _thread_lock: threading.RLock = field(default_factory=threading.RLock)
    _lock_depth: int = 0
    _pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    _bindings: dict[str, Binding] = field(default_factory=dict)

    @property
    def screenshot_dir(self) -> Path:
        """Where before/after PNGs go: beside the log."""
        return self.path.with_name(self.path.stem + "-screenshots")

    def open(self) -> list[Entry]:
        """Create the log if needed, read it back, and mark intents whose server died as interrupted.

        Returns the interrupted entries found (each is logged as a warning; none is replayed).
        Opening twice does nothing the second time.
        """
        if self._opened:
            return []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                if handle.tell() > 0:
                    with self.path.open("rb") as reader:
                        reader.seek(-1, os.SEEK_END)
                        torn = reader.read(1) != b"\n"
                    if torn:  # a crash mid-write: start the next record on a line of its own
                        handle.write(b"\n")
            os.chmod(self.path, 0o600)  # typed text (passwords too) is recorded
        except OSError as exc:
            raise AuditUnavailable(f"cannot open the audit log {self.path}: {exc.strerror or exc}") from exc
        self._index_previous()
        self._catch_up()
        self._opened = True
        interrupted = [Entry(r) for r in self._pending.values() if not _alive(r.get("pid"), r.get("host"))]
        self._mark_interrupted(interrupted)
        return interrupted

    def _index_previous(self) -> None:
        """Bindings from the newest rotated log, so an ``action_id`` stays bound across one rotation."""
        previous = rotated(self.path, 1)
        try:
            for record in iter_records(previous):
                self._index(record)
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("audit: cannot read %s (action ids recorded there are forgotten): %s", previous, exc)
        self._pending.clear()  # a file is rotated only when no action is half-done

    def _mark_interrupted(self, interrupted: list[Entry]) -> None:
        """Report intents whose writer died, and record that they were interrupted (never replayed)."""
        for entry in interrupted:
            action_id = entry.intent.get("action_id")
            log.warning(
                "audit: action %s%s (%s) requested at %s by %s was interrupted: the server stopped before it "
                "finished. It may have been partly performed; it is NOT replayed.",
                entry.id,
                f" [action_id {action_id}]" if action_id else "",
                summarize(entry.intent.get("action") or {}),
                entry.intent.get("time"),
                entry.intent.get("requester") or "an unknown client",
            )
        if interrupted:
            self._append(*({"kind": "interrupted", "id": e.id, "time": now(), "pid": os.getpid()} for e in interrupted))
            self._catch_up()

    @property
    def lock_path(self) -> Path:
        """The lock file that orders appends and rotation between processes."""
        return self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive between processes (flock on :attr:`lock_path`) and threads; re-entrant in one thread."""
        with self._thread_lock:
            if self._lock_depth or fcntl is None:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_depth = 1
                yield
            finally:
                self._lock_depth = 0
                os.close(fd)  # releases the lock

    def _append(self, *records: dict[str, Any], durable: bool = True) -> None:
        data = b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for r in records)
        try:
            with self._locked():
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    if durable:
                        os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise AuditUnavailable(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}; no input was sent. "
                "Fix the file's permissions, or write the log elsewhere."
            ) from exc

    def _catch_up(self) -> None:
        """Index records appended since the last read (by this process or another one)."""
        try:
            with self.path.open("rb") as handle:
                inode = os.fstat(handle.fileno()).st_ino
                if inode != self._inode:  # a new file: the one read so far was rotated
                    if self._inode is not None:
                        self._finish_rotated()
                    self._inode, self._offset = inode, 0
                handle.seek(self._offset)
                self._offset += self._index_lines(handle.read())
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AuditUnavailable(f"cannot read the audit log {self.path}: {exc.strerror or exc}") from exc

    def _finish_rotated(self) -> None:
        """Index what was appended to the previous file after the last read, before it was rotated."""
        try:
            with rotated(self.path, 1).open("rb") as handle:
                if os.fstat(handle.fileno()).st_ino == self._inode:
                    handle.seek(self._offset)
                    self._index_lines(handle.read())
        except OSError:
            return

    def _index_lines(self, data: bytes) -> int:
        """Index the complete lines of ``data``; returns how many bytes they took."""
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits for the next read
        for line in complete.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                self._index(record)
        return len(complete)

    def _index(self, record: dict[str, Any]) -> None:
        kind, record_id = record.get("kind"), record["id"]
        if kind == "intent":
            self._pending[record_id] = record
            return
        intent = self._pending.pop(record_id, None)
        if intent is None or not intent.get("action_id"):
            return
        status = "interrupted" if kind == "interrupted" else str(record.get("status"))
        if status == "refused":
            return
        self._bindings[intent["action_id"]] = Binding(
            record_id,
            fingerprint(intent.get("action") or {}, bool(intent.get("dry_run"))),
            status,
            record.get("result"),
            record.get("error"),
        )

    def lookup(self, action_id: str) -> Binding | None:
        """What ``action_id`` is bound to; an intent still without an outcome counts as interrupted."""
        self._catch_up()
        for intent in self._pending.values():
            if intent.get("action_id") == action_id:
                fp = fingerprint(intent.get("action") or {}, bool(intent.get("dry_run")))
                return Binding(intent["id"], fp, "interrupted")
        return self._bindings.get(action_id)

    def intent(
        self,
        record_id: str,
        action: Mapping[str, Any],
        *,
        dry_run: bool,
        requester: str | None,
        action_id: str | None,
        screen: str | None,
        screenshot: str | None = None,
    ) -> None:
        """Append and fsync the intent: after this returns, and only then, input may be sent."""
        self._append(_intent(record_id, action, dry_run, requester, action_id, screen, screenshot))

    def outcome(
        self,
        record_id: str,
        status: str,
        performed: list[dict[str, Any]],
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
        screenshot: str | None = None,
    ) -> None:
        """Append and fsync the outcome of the intent ``record_id``."""
        self._append(_outcome(record_id, status, performed, error, result, screenshot))
        self._maybe_rotate()

    def unsent(
        self,
        record_id: str,
        action: Mapping[str, Any],
        status: str,
        *,
        dry_run: bool,
        requester: str | None,
        action_id: str | None,
        performed: list[dict[str, Any]],
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        """Append an intent and its outcome together, for a call that sends nothing (a dry run, a refusal).

        With no input in between, the pair needs no write-ahead order: one write of both is as safe.
        A refusal is fsynced; a dry run is not (once written it survives a crash of this process; only
        a power cut in the next seconds could drop it, and it records a call that changed nothing).
        """
        self._append(
            _intent(record_id, action, dry_run, requester, action_id, None, None),
            _outcome(record_id, status, performed, error, result, None),
            durable=status != "dry_run",
        )
        self._maybe_rotate()

    def _maybe_rotate(self) -> None:
        """Rotate when the log is over ``max_bytes`` and no action of any process is half-done."""
        if self.max_bytes <= 0:
            return
        try:
            if os.stat(self.path).st_size < self.max_bytes:
                return
            with self._locked():
                self._catch_up()
                me = (os.getpid(), socket.gethostname())
                live = [
                    r
                    for r in self._pending.values()
                    if (r.get("pid"), r.get("host")) == me or _alive(r.get("pid"), r.get("host"))
                ]
                if live or os.stat(self.path).st_size < self.max_bytes:
                    return  # an intent waits for its outcome in this file: rotate after it
                self._mark_interrupted([Entry(r) for r in self._pending.values()])
                self._shift()
        except (OSError, AuditUnavailable) as exc:  # the log itself is intact: rotation is retried next time
            log.warning("audit: cannot rotate %s: %s", self.path, exc)

    def _shift(self) -> None:
        """``audit.jsonl`` -> ``.1`` -> ``.2`` ...; the oldest beyond ``keep_files`` is deleted."""
        if self.keep_files <= 0:
            self.path.unlink()
        else:
            rotated(self.path, self.keep_files).unlink(missing_ok=True)
            for number in range(self.keep_files - 1, 0, -1):
                older = rotated(self.path, number)
                if older.exists():
                    os.replace(older, rotated(self.path, number + 1))
            os.replace(self.path, rotated(self.path, 1))
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._catch_up()
        log.info(
            "audit: %s reached %d bytes; continued in a new file (kept %d older)",
            self.path,
            self.max_bytes,
            self.keep_files,
        )

    def save_screenshot(self, record_id: str, which: str, image: Image.Image) -> str | None:
        """Write ``<id>-<which>.png`` beside the log and prune to the newest ``keep_screenshots`` actions."""
        if not self.screenshots:
            return None
        folder = self.screenshot_dir
        target = folder / f"{record_id}-{which}.png"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            image.save(target, format="PNG", compress_level=1)
            os.chmod(target, 0o600)
            shots = sorted(folder.glob("*.png"))
            ids = sorted({p.name.rsplit("-", 1)[0] for p in shots})
            stale = set(ids[: max(0, len(ids) - self.keep_screenshots)])
            for shot in shots:
                if shot.name.rsplit("-", 1)[0] in stale:
                    shot.unlink(missing_ok=True)
        except OSError as exc:  # a screenshot is evidence, not a precondition: the action still runs
            log.warning("audit: cannot save screenshot %s: %s", target, exc)
            return None
        return str(target)


def _intent(
    record_id: str,
    action: Mapping[str, Any],
    dry_run: bool,
    requester: str | None,
    action_id: str | None,
    screen: str | None,
    screenshot: str | None,
) -> dict[str, Any]:
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


def _outcome(
    record_id: str,
    status: str,
    performed: list[dict[str, Any]],
    error: str | None,
    result: dict[str, Any] | None,
    screenshot: str | None,
) -> dict[str, Any]:
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

"""The write-ahead audit log: a JSON-lines file that records every action before its input is sent.

Records (their format: :mod:`tools.safety.audit_records`) are appended one per line with a single
write, and fsynced unless they record a dry run. An intent without an outcome
whose writer is gone was interrupted (the server died mid-action): :meth:`AuditLog.open` reports it
and appends an ``interrupted`` record; it is never replayed. The log also rebuilds the
``action_id`` index that makes ``execute_action`` idempotent across restarts.

Rotation: once the log reaches ``max_bytes`` it is renamed ``audit.jsonl.1`` (older ones shift to
``.2`` ... up to ``keep_files``) and a new one is started, but only while no action of any process
is between its intent and its outcome, so an intent and its outcome always share a file. Appends
and rotation take a lock file beside the log, so several server processes may share one log.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from tools.errors import AuditUnavailable
from tools.safety.audit_records import (
    Binding,
    Entry,
    fingerprint,
    intent_record,
    iter_records,
    now,
    outcome_record,
    rotated,
    summarize,
    writer_alive,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock file; one server process per log assumed
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


class AuditSettings(BaseModel):
    """How the audit log keeps its records and screenshots (the server's ``audit:`` section adds the path)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    screenshots: bool = Field(False, description="Save a PNG of the screen before and after every action.")
    keep_screenshots: int = Field(100, ge=0, le=1_000_000, description="Actions whose screenshots are kept.")
    max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="Size at which the log is rotated to audit.jsonl.1 (0: never)."
    )
    keep_files: int = Field(5, ge=0, le=1000, description="Rotated logs kept; older ones are deleted.")


_DEFAULTS = AuditSettings()


@dataclass
class AuditLog:
    """The audit log at ``path``, its ``action_id`` index and optional before/after screenshots.

    The defaults are :class:`AuditSettings`' (one place); :meth:`from_settings` takes a whole section.
    """

    path: Path
    screenshots: bool = _DEFAULTS.screenshots
    keep_screenshots: int = _DEFAULTS.keep_screenshots
    max_bytes: int = _DEFAULTS.max_bytes
    keep_files: int = _DEFAULTS.keep_files
    _opened: bool = False
    _offset: int = 0
    _inode: int | None = None
    _thread_lock: threading.RLock = field(default_factory=threading.RLock)
    _lock_depth: int = 0
    _pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    _bindings: dict[str, Binding] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, path: Path, settings: AuditSettings) -> AuditLog:
        """The log at ``path``, kept as ``settings`` say."""
        return cls(path, settings.screenshots, settings.keep_screenshots, settings.max_bytes, settings.keep_files)

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
        interrupted = [Entry(r) for r in self._pending.values() if not writer_alive(r.get("pid"), r.get("host"))]
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
        self._append(intent_record(record_id, action, dry_run, requester, action_id, screen, screenshot))

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
        self._append(outcome_record(record_id, status, performed, error, result, screenshot))
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
            intent_record(record_id, action, dry_run, requester, action_id, None, None),
            outcome_record(record_id, status, performed, error, result, None),
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
                    if (r.get("pid"), r.get("host")) == me or writer_alive(r.get("pid"), r.get("host"))
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

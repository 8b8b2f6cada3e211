"""Raw JSON-RPC over the real server's stdio pipes: the lines to send and a reader of every line it writes.

No MCP client in between, so a test can send anything (garbage included) and see every byte the
server puts on stdout, which must all be JSON-RPC messages.
"""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import threading
from typing import Any

import pytest
from mcp import types

HANG_GUARD = 30.0  # seconds to wait for one answer; a hang guard, not a timing assertion
INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "stdio-fuzz", "version": "1"}}
"""The ``initialize`` request's params."""


def rpc(method: str, params: Any = None, id_: Any = None, *, version: Any = "2.0") -> bytes:
    """One JSON-RPC line; ``id_=None`` makes it a notification."""
    message: dict[str, Any] = {"jsonrpc": version, "method": method}
    if params is not None:
        message["params"] = params
    if id_ is not None:
        message["id"] = id_
    return json.dumps(message).encode() + b"\n"


class StdioServer:
    """The server process, a thread draining its stdout, and every message it wrote, by id."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.replies: dict[Any, dict[str, Any]] = {}
        self.not_jsonrpc: list[bytes] = []
        self.lines = 0
        self.sent_lines = 0
        self.sent_bytes = 0
        self._arrived: queue.Queue[Any] = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines += 1
            try:
                message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
            except ValueError:
                self.not_jsonrpc.append(line[:500])
                continue
            data = message.model_dump(by_alias=True, mode="json", exclude_none=True)
            if "id" in data and ("result" in data or "error" in data):
                self.replies[data["id"]] = data
                self._arrived.put(data["id"])
        self._arrived.put(EOFError)

    def send(self, data: bytes) -> None:
        """Write raw bytes to the server's stdin (a writer may block while the server reads a huge line)."""
        assert self.proc.stdin is not None
        with self._lock:
            self.sent_lines += data.count(b"\n")
            self.sent_bytes += len(data)
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def wait_for(self, id_: Any) -> dict[str, Any]:
        """The reply to request ``id_``; fails when the server exits or stays silent past the hang guard."""
        while id_ not in self.replies:
            try:
                arrived = self._arrived.get(timeout=HANG_GUARD)
            except queue.Empty:
                pytest.fail(f"no reply to {id_!r} within {HANG_GUARD} s (hang guard); server alive: {self.alive()}")
            if arrived is EOFError:
                pytest.fail(f"the server closed stdout (exit code {self.proc.poll()}) before answering {id_!r}")
        return self.replies[id_]

    def ping(self) -> None:
        """A valid request after whatever came before: it must be answered, and stdout must be clean."""
        id_ = f"liveness-{next(self._ids)}"
        self.send(rpc("ping", None, id_))
        assert self.wait_for(id_).get("result") == {}
        assert not self.not_jsonrpc, f"non-JSON-RPC output on stdout: {self.not_jsonrpc[:3]}"

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.proc.poll() is None

"""What plan_next_action found doubtful about the actions it proposed, remembered for execute_action.

A plan's action goes to execute_action unchanged, through the agent. Whether it came from
instruction-like screen text, or was a click the second look could not settle, is known only to the
plan, so the server remembers it here (by the action's exact content, for a while): the same action
executed later is confirmed first (flagged) or refused with its candidates (undecided), whichever
agent passes it on.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tools.actions.vocabulary import AnyAction

KEEP_SECONDS = 600.0
"""How long a plan's doubt about an action is remembered."""


@dataclass(frozen=True)
class Doubt:
    """Why a planned action is doubtful."""

    kind: Literal["flagged", "undecided"]
    reason: str


def _key(action: AnyAction) -> str:
    return json.dumps(action.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


class PlanDoubts:
    """Doubtful planned actions, by exact content, kept :data:`KEEP_SECONDS`."""

    def __init__(self, keep: float = KEEP_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._keep = keep
        self._clock = clock
        self._doubts: dict[str, tuple[float, Doubt]] = {}
        self._lock = threading.Lock()

    def remember(self, action: AnyAction, doubt: Doubt) -> None:
        """Remember ``doubt`` about ``action``."""
        with self._lock:
            self._doubts[_key(action)] = (self._clock() + self._keep, doubt)

    def about(self, action: AnyAction) -> Doubt | None:
        """The doubt remembered about ``action``, if any (and still kept)."""
        now = self._clock()
        with self._lock:
            self._doubts = {k: v for k, v in self._doubts.items() if v[0] >= now}
            entry = self._doubts.get(_key(action))
        return None if entry is None else entry[1]

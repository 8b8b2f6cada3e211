"""Recent captures, by id, so results can refer back to what was seen."""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from PIL import Image

from engine.geometry import Frame


@dataclass(frozen=True)
class Snapshot:
    """One capture: where it was, when, and what was found on it."""

    id: str
    frame: Frame
    taken_at: float
    elements: list[dict[str, object]] = field(default_factory=list)
    fingerprint: Image.Image | None = None
    """Greyscale copy of the capture, to tell whether element positions still hold."""


class SnapshotStore:
    """A bounded LRU of snapshots; ids are unique per server run."""

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Snapshot] = OrderedDict()
        self._counter = itertools.count(1)
        self._run = secrets.token_hex(2)

    def new_id(self) -> str:
        """A fresh snapshot id."""
        return f"s{self._run}-{next(self._counter)}"

    def put(self, snapshot: Snapshot) -> None:
        """Store, evicting the oldest beyond capacity."""
        self._items[snapshot.id] = snapshot
        self._items.move_to_end(snapshot.id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, snapshot_id: str) -> Snapshot | None:
        """The snapshot, or ``None`` once evicted or unknown."""
        return self._items.get(snapshot_id)

"""The runtime's accessibility reader: one bus connection, opened when first needed, and read-backs.

It connects lazily (a server on a desktop with no accessibility bus pays nothing until asked)
and again when the connection dropped or the event loop changed. Every failure to reach the bus
becomes an ``unavailable`` reading, never an exception: the tree is an addition to OCR and the
model, not a requirement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from tools.desktop.a11y.atspi import ACCESSIBLE, TEXT, AtspiError, Bus, states_of
from tools.desktop.a11y.tree import MAX_NODES, MAX_SECONDS, MAX_TEXT, Reading, Ref, read_windows
from tools.desktop.platform import WindowInfo
from tools.errors import DesktopUnavailable

log = logging.getLogger(__name__)


class A11yReader:
    """Reads the visible windows' accessibility trees (AT-SPI) within node and time caps."""

    def __init__(
        self, session_address: str | None = None, max_nodes: int = MAX_NODES, max_seconds: float = MAX_SECONDS
    ) -> None:
        self.session_address = session_address
        self.max_nodes = max_nodes
        self.max_seconds = max_seconds
        self._bus: Bus | None = None
        self._loop: object | None = None

    async def _connected(self) -> Bus:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError as exc:
            raise DesktopUnavailable("the accessibility reader runs on asyncio only (dbus-fast)") from exc
        if self._bus is None or not self._bus.connected or self._loop is not loop:
            self._bus = await Bus.connect(self.session_address)
            self._loop = loop
        return self._bus

    async def read(self, windows: Sequence[WindowInfo]) -> Reading:
        """The trees of ``windows``; ``unavailable`` for each when there is no accessibility bus."""
        try:
            bus = await self._connected()
        except DesktopUnavailable as exc:
            log.debug("no accessibility tree: %s", exc)
            return await read_windows(None, windows, unavailable=str(exc))
        return await read_windows(bus, windows, max_nodes=self.max_nodes, max_seconds=self.max_seconds)

    async def text_of(self, ref: Ref) -> str | None:
        """A text field's current text, read now (``None`` when it can no longer be read)."""
        try:
            bus = await self._connected()
            count = int(await bus.prop(*ref, TEXT, "CharacterCount"))
            (text,) = await bus.call(*ref, TEXT, "GetText", "ii", [0, min(count, MAX_TEXT)])
        except (DesktopUnavailable, AtspiError) as exc:
            log.debug("cannot read the text of %s: %s", ref, exc)
            return None
        return str(text)

    async def states_of(self, ref: Ref) -> frozenset[str] | None:
        """An object's states, read now (``None`` when it can no longer be read)."""
        try:
            bus = await self._connected()
            (words,) = await bus.call(*ref, ACCESSIBLE, "GetState")
        except (DesktopUnavailable, AtspiError):
            return None
        return states_of(list(words))

    def close(self) -> None:
        """Drop the bus connection."""
        if self._bus is not None and self._bus.connected:
            self._bus.close()
        self._bus = None

"""The AT-SPI accessibility bus through ``dbus-fast``: finding it, and calling its interfaces with a timeout.

The bus's address comes from the session bus (``org.a11y.Bus.GetAddress``, which starts
``at-spi-bus-launcher`` on demand) or, without a session bus, from the X root window's
``AT_SPI_BUS`` property. Applications are the registry root's children; each is a D-Bus name with
an object tree under ``/org/a11y/atspi/accessible``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import anyio

from tools.errors import DesktopUnavailable

log = logging.getLogger(__name__)

REGISTRY = "org.a11y.atspi.Registry"
ROOT_PATH = "/org/a11y/atspi/accessible/root"
ACCESSIBLE = "org.a11y.atspi.Accessible"
COMPONENT = "org.a11y.atspi.Component"
TEXT = "org.a11y.atspi.Text"
VALUE = "org.a11y.atspi.Value"
PROPERTIES = "org.freedesktop.DBus.Properties"
COORD_SCREEN = 0
"""``ATSPI_COORD_TYPE_SCREEN``: extents in screen pixels."""
CALL_TIMEOUT = 1.0
"""Seconds one call may take: an application that does not answer by then is treated as frozen."""

# AtspiStateType (at-spi2-core atspi-constants.h), bit positions in GetState's two 32-bit words.
STATES = {
    1: "active", 4: "checked", 6: "defunct", 7: "editable", 8: "enabled", 10: "expanded", 11: "focusable",
    12: "focused", 15: "iconified", 16: "modal", 20: "pressed", 23: "selected", 24: "sensitive", 25: "showing",
    26: "single_line", 30: "visible", 31: "manages_descendants", 32: "indeterminate", 41: "checkable",
    43: "read_only",
}  # fmt: skip
RELATION_LABELLED_BY = 2
"""``ATSPI_RELATION_LABELLED_BY``."""


class AtspiError(Exception):
    """A call failed: the object is gone, the application answered with an error, or it timed out."""


def states_of(words: list[int]) -> frozenset[str]:
    """The named states set in GetState's bit words."""
    bits = sum(int(word) << (32 * i) for i, word in enumerate(words))
    return frozenset(name for bit, name in STATES.items() if bits >> bit & 1)


class Bus:
    """A connection to the accessibility bus (asyncio only: dbus-fast runs on the asyncio loop)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    @classmethod
    async def connect(cls, session_address: str | None = None) -> Bus:
        """Connect to the accessibility bus; :class:`DesktopUnavailable` when there is none to find."""
        from dbus_fast.aio import MessageBus
        from dbus_fast.errors import DBusFastError

        address = await _bus_address(session_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS"))
        try:
            with anyio.fail_after(5):
                return cls(await MessageBus(bus_address=address).connect())
        except (TimeoutError, OSError, DBusFastError) as exc:
            raise DesktopUnavailable(f"cannot connect to the accessibility bus at {address}: {exc}") from exc

    @property
    def connected(self) -> bool:
        """Whether the connection is still up."""
        return bool(self._connection.connected)

    def close(self) -> None:
        """Disconnect."""
        self._connection.disconnect()

    async def call(
        self, dest: str, path: str, interface: str, member: str, signature: str = "", body: list[Any] | None = None
    ) -> list[Any]:
        """One method call's reply body; :class:`AtspiError` on an error reply or after :data:`CALL_TIMEOUT`."""
        from dbus_fast import Message, MessageType
        from dbus_fast.errors import DBusFastError

        message = Message(
            destination=dest, path=path, interface=interface, member=member, signature=signature, body=body or []
        )
        try:
            with anyio.fail_after(CALL_TIMEOUT):
                reply = await self._connection.call(message)
        except TimeoutError as exc:
            raise AtspiError(f"{member} on {dest}{path} timed out after {CALL_TIMEOUT:g} s") from exc
        except (OSError, DBusFastError) as exc:  # the connection dropped
            raise AtspiError(f"{member} on {dest}{path}: {exc.__class__.__name__}: {exc}") from exc
        if reply is None or reply.message_type == MessageType.ERROR:
            detail = reply.body[0] if reply is not None and reply.body else ""
            raise AtspiError(f"{member} on {dest}{path}: {getattr(reply, 'error_name', '?')} {detail}")
        return list(reply.body)

    async def prop(self, dest: str, path: str, interface: str, name: str) -> Any:
        """One property's value."""
        (variant,) = await self.call(dest, path, PROPERTIES, "Get", "ss", [interface, name])
        return variant.value

    async def pid_of(self, dest: str) -> int | None:
        """The process id behind a bus name (``None`` when the bus will not say)."""
        try:
            (pid,) = await self.call(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "GetConnectionUnixProcessID",
                "s",
                [dest],
            )
        except AtspiError:
            return None
        return int(pid)

    async def applications(self) -> list[tuple[str, str]]:
        """(bus name, root path) of every application registered on the bus."""
        (children,) = await self.call(REGISTRY, ROOT_PATH, ACCESSIBLE, "GetChildren")
        return [(str(name), str(path)) for name, path in children]


async def _bus_address(session: str | None) -> str:
    if session:
        from dbus_fast.aio import MessageBus
        from dbus_fast.errors import DBusFastError

        try:
            with anyio.fail_after(5):
                connection = await MessageBus(bus_address=session).connect()
                try:
                    reply = await Bus(connection).call("org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus", "GetAddress")
                finally:
                    connection.disconnect()
            return str(reply[0])
        except (TimeoutError, OSError, AtspiError, DBusFastError) as exc:
            log.debug("no accessibility bus from the session bus: %s", exc)
    address = await anyio.to_thread.run_sync(_root_window_address)
    if address is None:
        raise DesktopUnavailable(
            "no accessibility bus: the session bus has no org.a11y.Bus (is at-spi2-core installed and "
            "DBUS_SESSION_BUS_ADDRESS set?) and the X root window has no AT_SPI_BUS property"
        )
    return address


def _root_window_address() -> str | None:
    from Xlib import X, error

    from tools.desktop.xdisplay import open_xlib_display

    try:
        display = open_xlib_display()
    except (OSError, error.DisplayError, error.ConnectionClosedError):  # no X display to ask
        return None
    try:
        root = display.screen().root
        prop = root.get_full_property(display.intern_atom("AT_SPI_BUS"), X.AnyPropertyType)
        value = prop.value if prop is not None else None
        if isinstance(value, bytes):
            value = value.decode()
        return str(value) if value else None
    finally:
        display.close()

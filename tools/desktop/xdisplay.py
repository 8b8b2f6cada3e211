"""Opening a python-xlib connection to ``$DISPLAY`` as the input driver does: no cookie file needed, no stdout."""

from __future__ import annotations

from typing import Any

from tools.desktop.inputs import quiet_xlib_connect


def open_xlib_display() -> Any:
    """A new ``Xlib.display.Display`` for ``$DISPLAY`` (see :func:`tools.desktop.inputs.quiet_xlib_connect`)."""
    from Xlib import display

    with quiet_xlib_connect():
        return display.Display()

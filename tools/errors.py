"""Failures a tool reports to its caller.

    ToolFailure                  every anticipated failure; its message is shown to the client
    ├── InvalidAction            the action cannot be performed as asked (bad key, off-screen point...)
    ├── DesktopUnavailable       no display, capture failed, input could not be sent
    └── ModelFailure             the model is down, slow, failing, or answered something unreadable
                                 (``raw`` carries its answer then)

Anything else escaping a handler is a bug: the server logs it with its traceback and tells the
client only that an internal error happened.
"""

from __future__ import annotations


class ToolFailure(Exception):
    """An anticipated failure; ``str(exc)`` is written for the client (often another model) to act on."""


class InvalidAction(ToolFailure):
    """The action is malformed or impossible here; nothing was sent."""


class DesktopUnavailable(ToolFailure):
    """The desktop could not be captured or driven."""


class ModelFailure(ToolFailure):
    """The model could not help; ``raw`` is its unreadable answer, when there was one."""

    def __init__(self, message: str, raw: str | None = None) -> None:
        super().__init__(message if raw is None else f"{message}\n--- model output ---\n{raw}")
        self.raw = raw

"""Failures a tool reports to its caller.

    ToolFailure                  every anticipated failure; its message is shown to the client
    ├── InvalidAction            the action cannot be performed as asked (bad key, off-screen point...)
    ├── ActionRefused            the server's policy (or the person asked to confirm) refused it; ``rule`` names why
    ├── AuditUnavailable         the audit log cannot be written, so nothing may be sent
    ├── DesktopUnavailable       no display, capture failed, input could not be sent
    ├── ActionFailed             input was sent, but a check saw that it did not have its effect;
    │                            ``stage`` names the step where the action stopped
    └── ModelFailure             the model is down, slow, failing, or answered something unreadable
        │                        (``raw`` carries its answer then)
        └── ModelUnreachable     nothing answers at the model's address (describe_screen falls back to OCR)

Anything else escaping a handler is a bug: the server logs it with its traceback and tells the
client only that an internal error happened.
"""

from __future__ import annotations


class ToolFailure(Exception):
    """An anticipated failure; ``str(exc)`` is written for the client (often another model) to act on."""


class InvalidAction(ToolFailure):
    """The action is malformed or impossible here; nothing was sent."""


class ActionRefused(ToolFailure):
    """The policy refused the action (``rule`` is the rule's name, e.g. ``blocked_chords``); nothing was sent."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class AuditUnavailable(ToolFailure):
    """The write-ahead audit log could not be written; no input was sent."""


class DesktopUnavailable(ToolFailure):
    """The desktop could not be captured or driven."""


class ActionFailed(ToolFailure):
    """Input was sent but did not do what it was for; nothing after ``stage`` was sent."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


class ModelFailure(ToolFailure):
    """The model could not help; ``raw`` is its unreadable answer, when there was one."""

    def __init__(self, message: str, raw: str | None = None) -> None:
        super().__init__(message if raw is None else f"{message}\n--- model output ---\n{raw}")
        self.raw = raw


class ModelUnreachable(ModelFailure):
    """Nothing answers at the model server's address (as opposed to a model that answers badly)."""


class ModelDistrusted(ModelUnreachable):
    """The model answers, but failed the grounding self-test: it is not used to ground or plan."""

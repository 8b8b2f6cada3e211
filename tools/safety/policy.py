"""The server's action policy: rules fixed at start-up that no tool argument, model or screen can change.

:func:`check_action` looks at the action itself (its type, its text), :func:`check_events` at the
validated input events (the keys of a chord, every pointer position); :class:`RateLimiter` is a
token bucket; :func:`needs_confirmation` says which actions a person must approve.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Literal

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt

from engine.geometry import Rect
from tools.actions.vocabulary import (
    ACTION_TYPES,
    TEXT_CEILING,
    AnyAction,
    ClipboardWrite,
    CloseWindow,
    Done,
    FillInput,
    LaunchApp,
    MoveResizeWindow,
    TypeText,
    UploadFile,
    Wait,
)
from tools.desktop.inputs import InputEvent
from tools.desktop.keys import MODIFIERS, canonical, split_chord
from tools.errors import ActionRefused

ConfirmMode = Literal["never", "destructive", "always"]

DEFAULT_BLOCKED_CHORDS = (
    "ctrl+alt+delete",  # secure attention / reboot dialog
    "ctrl+alt+backspace",  # kills the X server where enabled
    *(f"ctrl+alt+f{n}" for n in range(1, 13)),  # switch virtual terminal
    "ctrl+alt+t",  # opens a terminal on most Linux desktops
    "ctrl+alt+l",  # lock screen (GNOME, KDE, XFCE)
    "ctrl+alt+end",  # remote-desktop ctrl+alt+delete
    "ctrl+alt+esc",  # KDE xkill
    "ctrl+shift+esc",  # task manager
    "win+l",  # lock screen
    "win+r",  # Windows run dialog
    "win+x",  # Windows power-user menu
    "alt+f2",  # run-command dialog (GNOME, KDE)
    "alt+printscreen",  # magic SysRq on Linux consoles
)
"""Chords that reach the system rather than an application: sessions, terminals, consoles, run dialogs."""


DEFAULT_CONSEQUENTIAL_WORDS = (
    "delete", "remove", "pay", "buy", "send", "submit order", "place order", "purchase", "checkout", "transfer",
    "uninstall", "format", "erase", "wipe", "reset", "confirm payment",
    "删除", "移除", "支付", "付款", "购买", "发送", "提交订单", "卸载", "格式化", "转账",
    "löschen", "entfernen", "bezahlen", "kaufen", "senden", "supprimer", "payer", "acheter", "envoyer",
    "eliminar", "borrar", "pagar", "comprar", "enviar",
)  # fmt: skip
"""Words that make a click's target consequential (with confirm ``destructive``)."""
DEFAULT_PASSWORD_WORDS = ("password", "passwort", "mot de passe", "contraseña", "passcode", "pin", "密码", "パスワード")
"""Labels of fields whose input is a secret."""


def canonical_chord(keys: Iterable[str]) -> frozenset[str]:
    """A chord as an order-free set of canonical key names (``"Ctrl+Alt+Del"`` and ``["del", "ctrl", "alt"]`` match)."""
    return frozenset(canonical(k) for k in split_chord(keys))


def parse_chord(text: str) -> frozenset[str]:
    """A chord written as ``"ctrl+alt+delete"``."""
    chord = canonical_chord([text.strip()])
    if not chord:
        raise ValueError(f"empty key chord {text!r}")
    return chord


def show_chord(chord: Iterable[str]) -> str:
    """A chord for messages, modifiers first: ``ctrl+alt+delete``."""
    keys = sorted(chord, key=lambda k: (MODIFIERS.index(k) if k in MODIFIERS else len(MODIFIERS), k))
    return "+".join(keys)


@pydantic.dataclasses.dataclass(frozen=True)
class Region(Rect):
    """The allowed region: a screen rectangle (screen pixels) whose size is checked to be positive."""

    width: PositiveInt
    height: PositiveInt


ActionType = Literal[ACTION_TYPES]  # type: ignore[valid-type]


def _chord(value: object) -> frozenset[str]:
    # Written as "ctrl+alt+delete" (the configuration) or as key names (code): one canonical set.
    if isinstance(value, str):
        return parse_chord(value)
    if isinstance(value, Iterable):
        return canonical_chord(str(key) for key in value)
    raise ValueError("write a key chord as text, e.g. ctrl+alt+delete")


Chord = Annotated[frozenset[str], BeforeValidator(_chord)]
"""A key chord as an order-free set of canonical key names; validated from ``"ctrl+alt+delete"``."""


class Policy(BaseModel):
    """What the server allows, fixed when it starts. The defaults allow everything but system chords."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed_actions: frozenset[ActionType] = Field(
        frozenset(ACTION_TYPES),
        description="The action types allowed (default: all; `done` is always allowed, it sends no input).",
    )
    blocked_chords: tuple[Chord, ...] = Field(
        tuple(parse_chord(chord) for chord in DEFAULT_BLOCKED_CHORDS),
        description="Key chords never pressed, compared order-free and case-free after key-name normalisation; "
        "a chord that contains a blocked one is refused. Setting the list replaces the default (system chords).",
    )
    allowed_region: Region | None = Field(
        None, description="Every pointer position of an action must lie inside this rectangle (None: anywhere)."
    )
    max_text_length: int = Field(
        10_000,
        ge=1,
        le=TEXT_CEILING,
        description="The most characters one action may type (`type`, and the value of `fill_input`).",
    )
    rate_limit_actions: int = Field(
        30,
        ge=0,
        le=100_000,
        description="Actions allowed per `rate_limit_seconds` (a token bucket of this size); 0 switches the limit off.",
    )
    rate_limit_seconds: float = Field(10.0, gt=0, le=86_400, description="The rate limit's window, in seconds.")
    confirm: ConfirmMode = Field(
        "never",
        description="Which actions a person must approve: never, destructive (consequential by their input), "
        "always (every action that sends input).",
    )
    confirm_timeout: float = Field(
        120.0, gt=0, le=3600, description="Seconds to wait for a person's answer (older protocols)."
    )
    consequential_words: tuple[str, ...] = Field(
        DEFAULT_CONSEQUENTIAL_WORDS,
        description="With confirm `destructive`: a click or Enter on a target whose text or accessible name holds "
        "one of these (whole words; any substring for Chinese and Japanese) is consequential and is confirmed. "
        "Setting the list replaces the default (English, Chinese, German, French, Spanish).",
    )
    password_words: tuple[str, ...] = Field(
        DEFAULT_PASSWORD_WORDS,
        description="With confirm `destructive`: typing into (or Enter in) a field labelled with one of these, or "
        "an accessible password field, is consequential.",
    )
    confirm_tokens: bool = Field(
        True,
        description="A dry run of an action that needs confirmation returns a short-lived, single-use "
        "`confirmation_token` bound to its exact input events; the call that carries it counts as confirmed (for "
        "hosts without working elicitation: the person approves the call in the host). False: elicitation only.",
    )
    confirm_token_ttl: float = Field(120.0, gt=0, le=3600, description="Seconds a confirmation token stays valid.")
    confirm_flagged: bool = Field(
        True,
        description="An action plan_next_action took from instruction-like screen text (flagged) needs confirmation, "
        "even with confirm `never`.",
    )
    upload_roots: tuple[str, ...] = Field(
        (),
        description="Folders `upload_file` may send files from (symbolic links resolved); empty: anywhere. Hidden "
        "files and folders (a name starting with `.`) below a root are refused either way.",
    )
    launch_allowed: tuple[str, ...] = Field(
        (),
        description="What `launch_app` may start: desktop-file ids (`org.xfce.mousepad`) or command lines "
        "(`mousepad --disable-server`), named exactly by the caller. Empty (the default): launching is off.",
    )
    clipboard_read: bool = Field(
        False,
        description="Whether `clipboard_read` may return the clipboard's text. Off by default: the clipboard can "
        "hold passwords and other secrets. Writing the clipboard is an action like any other.",
    )


def refuse(rule: str, message: str) -> ActionRefused:
    """The refusal of rule ``rule``, worded for the client."""
    return ActionRefused(
        rule,
        f"refused by the server's policy (rule `{rule}`): {message}. Nothing was done. The policy is set by "
        "whoever runs this server and cannot be changed from a tool call.",
    )


def check_action(policy: Policy, action: AnyAction) -> None:
    """Refuse an action whose type or text the policy forbids (before it is turned into events).

    This is the one text-length check: every action that types (``type``, ``fill_input``'s value, and
    the primitives a semantic action resolves to) passes through it.
    """
    if action.type not in policy.allowed_actions and not isinstance(action, Done):
        allowed = ", ".join(sorted(policy.allowed_actions)) or "none"
        raise refuse("allowed_actions", f"`{action.type}` actions are not allowed here (allowed: {allowed})")
    text = ""
    if isinstance(action, FillInput):
        text = action.value
    elif isinstance(action, TypeText | ClipboardWrite):  # a clipboard's text is typed by one paste
        text = action.text
    if len(text) > policy.max_text_length:
        raise refuse(
            "max_text_length",
            f"the text is {len(text)} characters long; at most {policy.max_text_length} may be typed at once",
        )
    if isinstance(action, UploadFile):
        check_upload(policy, action.path)
    if isinstance(action, LaunchApp) and action.name not in policy.launch_allowed:
        allowed = ", ".join(repr(entry) for entry in policy.launch_allowed) or "none: launching is off"
        raise refuse("launch_allowed", f"{action.name!r} is not an application this server may start ({allowed})")
    region = policy.allowed_region
    if isinstance(action, MoveResizeWindow) and region is not None:
        corners = [(action.x, action.y), (action.x + action.width - 1, action.y + action.height - 1)]
        if not all(region.contains(x, y) for x, y in corners):
            raise refuse("allowed_region", f"the window would leave the allowed region ({region})")


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def check_upload(policy: Policy, path: str) -> None:
    """Refuse an upload from outside ``upload_roots``, or of a hidden file or folder (keys, tokens, settings).

    The path is resolved (symbolic links, ``..``) first, so a link cannot lead out of a root.
    """
    real = os.path.realpath(path)
    roots = [os.path.realpath(os.path.expanduser(r)) for r in policy.upload_roots]
    if roots:
        root = next((r for r in roots if _inside(real, r)), None)
        if root is None:
            raise refuse(
                "upload_roots", f"{real} is outside the folders files may be uploaded from ({', '.join(roots)})"
            )
    else:
        root = os.path.sep
    hidden = [part for part in os.path.relpath(real, root).split(os.path.sep) if part.startswith(".") and part != "."]
    if hidden:
        raise refuse(
            "upload_roots",
            f"{real} is, or lies in, a hidden file or folder ({hidden[0]}); hidden files (keys, tokens, settings) "
            "are never uploaded",
        )


def check_events(policy: Policy, events: Sequence[InputEvent]) -> None:
    """Refuse blocked chords and pointer positions outside the allowed region."""
    for event in events:
        if event.op == "hotkey":
            pressed = canonical_chord(event.keys or ())
            for blocked in policy.blocked_chords:
                if blocked <= pressed:
                    raise refuse(
                        "blocked_chords",
                        f"the key chord {show_chord(pressed)} is blocked (it contains {show_chord(blocked)}, a "
                        "system-level shortcut)",
                    )
        region = policy.allowed_region
        if region is None:
            continue
        if event.op in ("scroll", "hscroll") and event.x is None:
            raise refuse("allowed_region", f"give x and y for scroll: the pointer must stay inside {region}")
        if event.x is not None and event.y is not None and not region.contains(event.x, event.y):
            raise refuse("allowed_region", f"point ({event.x}, {event.y}) is outside the allowed region ({region})")


def destructive_reason(action: AnyAction, events: Sequence[InputEvent]) -> str | None:
    """Why the action is consequential by its form (see :func:`is_destructive`), in words; ``None`` if it is not."""
    if isinstance(action, UploadFile):
        return "it uploads a file"
    if isinstance(action, CloseWindow):
        return "it closes a window"
    for event in events:
        if event.op in ("write", "unicode"):
            return "it types text"
        if event.op == "mouse_down":
            return "it drags"
        if event.op == "click" and event.button != "left":
            return f"it {event.button}-clicks"
        if event.op == "hotkey" and set(canonical_chord(event.keys or ())) & {*MODIFIERS, "delete"}:
            return f"it presses {show_chord(canonical_chord(event.keys or ()))}"
    return None


def is_destructive(action: AnyAction, events: Sequence[InputEvent]) -> bool:
    """Consequential by its form: uploads, closing a window, and any typing, drag, right/middle click, chord with a
    modifier or delete.

    Judged on the input events, so a semantic action counts by what it sends (fill_input types).
    A left click's meaning depends on what lies under it: :mod:`tools.safety.risk` reads that.
    """
    return destructive_reason(action, events) is not None


def needs_confirmation(policy: Policy, action: AnyAction, events: Sequence[InputEvent]) -> bool:
    """Whether a person must approve this action first (actions that send no input never need it)."""
    if policy.confirm == "never" or isinstance(action, Done | Wait):
        return False
    return policy.confirm == "always" or is_destructive(action, events)


class RateLimiter:
    """A token bucket: ``actions`` at once, refilled evenly over ``seconds``."""

    def __init__(self, actions: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.actions = actions
        self.seconds = seconds
        self._clock = clock
        self._tokens = float(actions)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        rate = self.actions / self.seconds
        self._tokens = min(float(self.actions), self._tokens + (now - self._stamp) * rate)
        self._stamp = now

    def take(self) -> None:
        """Spend one token, or refuse (rule ``rate_limit``) saying when the next one comes."""
        if self.actions <= 0:
            return
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return
        wait = (1.0 - self._tokens) * self.seconds / self.actions
        raise refuse(
            "rate_limit",
            f"more than {self.actions} actions in {self.seconds:g} s; the next one is allowed in {wait:.1f} s",
        )

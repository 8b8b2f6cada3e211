"""Confirmation tokens: approval that travels through hosts which cannot (or will not) ask a person.

Some hosts have no elicitation; some declare it and then decline on their own, which reads exactly
like a person declining. For them a dry run of a consequential action returns a token, and the
person approves by letting the host send the call that carries it (hosts show each acting tool
call, with its arguments, before it runs). The token is:

* **sealed**: HMAC-SHA256 under a key that never leaves this process, so a client cannot make one;
* **bound** to the digest of the exact input events the dry run prepared: the call must prepare the
  same events, or it is refused;
* **short-lived** (``ttl`` seconds) and **single use**: a token presented once, accepted or not, is
  spent.

A restart forgets the key, so tokens do not outlive the process that issued them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

PREFIX = "ct1"
"""Token format version."""


class TokenRefused(ValueError):
    """A confirmation token that does not confirm this call; the message says why."""


@dataclass(frozen=True)
class Token:
    """An issued token and when it stops being accepted (seconds since the epoch)."""

    value: str
    expires_at: float
    digest: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ConfirmationTokens:
    """Issues and redeems confirmation tokens (see the module docstring)."""

    def __init__(self, key: bytes | None = None, clock: Callable[[], float] = time.time) -> None:
        self._key = key or secrets.token_bytes(32)
        self._clock = clock
        self._spent: dict[str, float] = {}
        self._lock = threading.Lock()

    def _seal(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:18])

    def issue(self, digest: str, ttl: float) -> Token:
        """A token for the input events whose digest is ``digest``, valid for ``ttl`` seconds."""
        expires = self._clock() + ttl
        payload = f"{digest}.{int(expires)}.{secrets.token_hex(8)}"
        return Token(f"{PREFIX}.{_b64(payload.encode())}.{self._seal(payload)}", int(expires), digest)

    def redeem(self, value: str, digest: str) -> None:
        """Accept ``value`` for the events with ``digest``, spending it; :class:`TokenRefused` says why not."""
        parts = value.strip().split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise TokenRefused("the confirmation token is malformed (it was not issued by this server)")
        try:
            payload = _unb64(parts[1]).decode()
            issued_digest, expires_text, nonce = payload.split(".")
            expires = float(expires_text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise TokenRefused("the confirmation token is malformed (it was not issued by this server)") from exc
        if not hmac.compare_digest(self._seal(payload), parts[2]):
            raise TokenRefused("the confirmation token's seal does not match: it was not issued by this server")
        now = self._clock()
        with self._lock:
            self._spent = {n: t for n, t in self._spent.items() if t >= now}
            if nonce in self._spent:
                raise TokenRefused("the confirmation token was already used; a token confirms one call only")
            self._spent[nonce] = expires
        if expires < now:
            raise TokenRefused(f"the confirmation token expired {now - expires:.0f} s ago; make a new dry run")
        if not hmac.compare_digest(issued_digest, digest):
            raise TokenRefused(
                "the confirmation token was issued for different input events than this call would send (the "
                "action or the screen changed since the dry run)"
            )

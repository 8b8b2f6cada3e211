"""Confirmation tokens: sealed, bound to the events' digest, short-lived and single use."""

from __future__ import annotations

import pytest

from tools.safety.tokens import ConfirmationTokens, TokenRefused


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_confirms_the_events_it_was_issued_for_once() -> None:
    tokens = ConfirmationTokens()
    token = tokens.issue("abc123", ttl=60)
    tokens.redeem(token.value, "abc123")
    with pytest.raises(TokenRefused, match="already used"):
        tokens.redeem(token.value, "abc123")


def test_a_token_for_other_events_is_refused_and_spent() -> None:
    tokens = ConfirmationTokens()
    token = tokens.issue("abc123", ttl=60)
    with pytest.raises(TokenRefused, match="different input events"):
        tokens.redeem(token.value, "ffff00")
    with pytest.raises(TokenRefused, match="already used"):
        tokens.redeem(token.value, "abc123")


def test_an_expired_token_is_refused() -> None:
    clock = Clock()
    tokens = ConfirmationTokens(clock=clock)
    token = tokens.issue("abc123", ttl=30)
    clock.now += 31
    with pytest.raises(TokenRefused, match="expired"):
        tokens.redeem(token.value, "abc123")


@pytest.mark.parametrize("forged", ["", "ct1.x.y", "nonsense", "ct1.YWJj.AAAA"])
def test_malformed_or_forged_tokens_are_refused(forged: str) -> None:
    with pytest.raises(TokenRefused):
        ConfirmationTokens().redeem(forged, "abc123")


def test_a_token_edited_to_name_other_events_breaks_its_seal() -> None:
    tokens = ConfirmationTokens()
    prefix, payload, seal = tokens.issue("abc123", ttl=60).value.split(".")
    import base64

    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().replace("abc123", "ffff00")
    edited = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    with pytest.raises(TokenRefused, match="seal"):
        tokens.redeem(f"{prefix}.{edited}.{seal}", "ffff00")


def test_another_server_process_cannot_redeem_a_token() -> None:
    token = ConfirmationTokens().issue("abc123", ttl=60)
    with pytest.raises(TokenRefused, match="seal"):
        ConfirmationTokens().redeem(token.value, "abc123")

"""Thinking modes: who reasons, and where the reasoning comes back."""

from __future__ import annotations

from enum import StrEnum


class ThinkingMode(StrEnum):
    """How ``plan_next_action`` gets the model to reason.

    * ``native``: a ``-Thinking`` checkpoint reasons by itself; SGLang (``--reasoning-parser qwen3``)
      returns it as ``reasoning_content`` (vLLM: ``reasoning``), or inline before ``</think>``.
    * ``prompted``: an ``-Instruct`` model (no thinking switch) is asked to reason in numbered steps
      before its tool call.
    * ``off``: answer directly.
    * ``auto``: ``native`` for checkpoints that think by themselves (their preset says so: -Thinking,
      Qwen3.5), else ``prompted``.
    """

    AUTO = "auto"
    NATIVE = "native"
    PROMPTED = "prompted"
    OFF = "off"


def resolve_thinking(mode: ThinkingMode, thinks_natively: bool, *, requested: bool = True) -> ThinkingMode:
    """The concrete mode for one call to a model that ``thinks_natively`` or not (its preset says);
    ``requested=False`` (the caller asked for no thinking) wins.

    A Thinking checkpoint always thinks, so for it ``off`` still reads native reasoning.
    """
    is_thinking_model = thinks_natively
    if not requested or mode is ThinkingMode.OFF:
        return ThinkingMode.NATIVE if is_thinking_model else ThinkingMode.OFF
    if mode is ThinkingMode.AUTO:
        return ThinkingMode.NATIVE if is_thinking_model else ThinkingMode.PROMPTED
    return mode

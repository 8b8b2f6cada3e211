"""How the desktop tools capture, wait and act: defined once, here.

The server's configuration (``desktop:`` section) composes this model; nothing copies its fields.
The action policy, the tools' other settings, is :class:`tools.safety.policy.Policy`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ToolSettings(BaseModel):
    """Behaviour of the desktop tools."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dry_run: bool = Field(False, description="Validate and record every action, send no input.")
    monitor: int = Field(
        1, ge=0, le=16, description="Monitor captured when a call names none (1 = primary, 0 = all monitors)."
    )
    settle_timeout: float = Field(
        3.0, ge=0, le=30, description="Seconds to wait for the screen to stop changing after an action."
    )
    settle_interval: float = Field(
        0.1, gt=0, le=2, description="Seconds between the frames compared while waiting for the screen to settle."
    )
    capture_settle_timeout: float = Field(
        1.0,
        ge=0,
        le=30,
        description="describe_screen waits up to this long for the screen to stop changing before it captures "
        "(0: capture at once).",
    )
    pause: float = Field(0.02, ge=0, le=1, description="pyautogui's pause between primitive input events, seconds.")
    failsafe: bool = Field(
        True, description="pyautogui's fail-safe: with the pointer in a screen corner, an action aborts."
    )
    second_look: bool = Field(
        True,
        description="Before a model-proposed click (plan_next_action, click_text's model fallback), ask for the "
        "target's point again, zoom in when the answers disagree, and return candidates instead of a point when "
        "it stays unsure. Off: the model's first point is used as is (one model call fewer, no check).",
    )
    host_image_max_side: int = Field(
        1568,
        ge=256,
        le=8192,
        description="Screenshots returned to the host are scaled to at most this many pixels on their long side "
        "(the model's own image has its budget, model.max_image_pixels). 1568 is what hosts take without "
        "scaling down themselves.",
    )
    host_image_max_pixels: int = Field(
        1_150_000,
        ge=65_536,
        le=33_554_432,
        description="Screenshots returned to the host have at most this many pixels (zoom enlarges up to it).",
    )
    accessibility: bool = Field(
        True,
        description="Read the accessibility tree (AT-SPI) of the visible windows where applications expose one: "
        "describe_screen lists its widgets (source a11y), click_text and fill_input use it first.",
    )
    accessibility_max_nodes: int = Field(
        1500, ge=10, le=100_000, description="Accessibility nodes read per call at most, all windows together."
    )
    accessibility_max_seconds: float = Field(
        2.0, gt=0, le=30, description="Seconds one reading of the accessibility trees may take at most."
    )

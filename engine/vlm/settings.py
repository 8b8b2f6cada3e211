"""What the vision engine needs to know about images, sampling and thinking: defined once, here.

The server's configuration (``model:`` section) composes this model; nothing copies its fields.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.vlm.thinking import ThinkingMode

StructuredOutput = Literal["response_format", "structured_outputs", "off"]
"""How a describe request asks the server to constrain its answer to the describe JSON schema."""


class EngineSettings(BaseModel):
    """Sampling, image size and thinking for the model calls :class:`~engine.vlm.vision.VisionEngine` makes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_image_pixels: int = Field(
        1920 * 1088,
        ge=65_536,
        le=16_777_216,
        description="Screenshots are scaled down to at most this many pixels before they are sent (multiples of "
        "32 per side; 1920x1088 is about 2040 visual tokens).",
    )
    temperature: float = Field(
        0.0, ge=0.0, le=2.0, description="Sampling temperature for planning; grounding always uses 0."
    )
    top_p: float | None = Field(None, gt=0.0, le=1.0, description="Nucleus sampling for planning (None: the server's).")
    describe_max_tokens: int = Field(2048, ge=1, le=131_072, description="Token limit of a describe answer.")
    plan_max_tokens: int = Field(1024, ge=1, le=131_072, description="Token limit of a plan answer without thinking.")
    thinking_max_tokens: int = Field(
        4096, ge=1, le=131_072, description="Token limit of a plan answer that reasons first."
    )
    thinking_mode: ThinkingMode = Field(
        ThinkingMode.AUTO,
        description="How planning reasons: auto (native for -Thinking checkpoints, else prompted), native, "
        "prompted, off.",
    )
    max_reasoning_steps: int = Field(
        6, ge=1, le=32, description="Most numbered steps a prompted plan may reason in before its action."
    )
    use_thinking_tokens: bool = Field(
        True, description="Prompted reasoning goes inside <think></think> (else as 'Thought:' lines)."
    )
    structured_output: StructuredOutput = Field(
        "response_format",
        description="How describe asks the server for an answer in its JSON schema, so that a small model cannot "
        "answer unparseably: response_format (OpenAI's json_schema form: SGLang, and vLLM too), structured_outputs "
        "(vLLM >= 0.12's own field), off (no constraint: for servers that refuse both). With SGLang's "
        "--reasoning-parser a Thinking model still thinks freely; the schema applies after </think>.",
    )

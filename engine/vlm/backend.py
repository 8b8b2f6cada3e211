"""The seam between the engine and whatever runs the model.

A backend takes one chat turn (an optional system prompt, one image, one user text) and returns
the model's answer and, when the server separates it, its reasoning. The SGLang/OpenAI HTTP client
and the in-process transformers backend both implement :class:`ChatBackend`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from engine.vlm.presets import Preset, preset_for


@dataclass(frozen=True)
class ChatRequest:
    """One chat turn for a vision-language model.

    ``image_png`` is already resized by the caller; backends send it as is, before the text.
    """

    prompt: str
    image_png: bytes | None = None
    system: str | None = None
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    presence_penalty: float | None = None
    max_tokens: int = 1024
    purpose: str = "chat"
    """Short label for logs and errors (``describe``, ``plan``...)."""
    extra_body: dict[str, object] = field(default_factory=dict)
    """Server-specific request fields (e.g. ``separate_reasoning``), passed through untouched."""


@dataclass(frozen=True)
class ChatResponse:
    """What the model said.

    ``reasoning`` is the separated thinking (SGLang ``reasoning_content``, vLLM ``reasoning``) when
    the server split it out, else ``None``; ``content`` is the answer text as returned.
    """

    content: str
    reasoning: str | None
    model: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float = 0.0


@runtime_checkable
class ChatBackend(Protocol):
    """Anything that can answer a :class:`ChatRequest`."""

    @property
    def model_name(self) -> str:
        """The model this backend serves (used to pick the thinking mode)."""
        ...

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """Answer one turn. Raises :class:`engine.errors.ModelError` subclasses on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections, threads or weights."""
        ...


def backend_preset(backend: ChatBackend) -> Preset:
    """The preset of the model behind ``backend``: the one it was configured with (a ``preset`` attribute,
    for a model served under a name that does not say its family, such as an alias or a local path), else
    the one its model's name selects."""
    declared = getattr(backend, "preset", None)
    return declared if isinstance(declared, Preset) else preset_for(backend.model_name)

"""One place where engine errors become tool failures."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from engine.errors import ModelError, ModelOutputError, ModelUnavailable, ModelUntrusted
from engine.vlm.vision import VisionEngine
from tools.errors import ModelDistrusted, ModelFailure, ModelUnreachable
from tools.runtime import Runtime

T = TypeVar("T")


START_MODEL = (
    "Start SGLang with Qwen3-VL (python -m sglang.launch_server --model-path Qwen/Qwen3-VL-2B-Instruct "
    "--port 30000) and point this server at it."
)
"""What to do about a missing model, for error messages and notes. How to point the server at it is
the server's own business: it adds its flags and variables where failures become results."""


def require_engine(runtime: Runtime, tool: str) -> VisionEngine:
    """The engine, or a failure that says what to start."""
    if runtime.engine is None:
        raise ModelFailure(f"{tool} needs a vision model, and none is configured. {START_MODEL}")
    return runtime.engine


async def ask_model(call: Awaitable[T]) -> T:
    """Await a model call, translating engine errors (the raw answer is kept for unreadable output)."""
    try:
        return await call
    except ModelOutputError as exc:
        raise ModelFailure(f"the model's answer could not be used: {exc}", raw=exc.raw) from exc
    except ModelUntrusted as exc:
        raise ModelDistrusted(str(exc)) from exc
    except ModelUnavailable as exc:
        raise ModelUnreachable(f"the vision model failed: {exc}") from exc
    except ModelError as exc:
        raise ModelFailure(f"the vision model failed: {exc}") from exc

"""What a tool is, as plain data: :class:`ToolSpec` and the :class:`Outcome` its handler returns.

Tool families (:mod:`tools.registry`, :mod:`tools.desktop_tools`) define their specs with these;
the registry lists them all. Nothing here knows about MCP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel

from tools.runtime import Asked, Caller, Runtime


@dataclass(frozen=True)
class Outcome:
    """A handler's result: the structured result, plus images to show the client."""

    result: BaseModel
    images: list[Image.Image] = field(default_factory=list)
    text: str | None = None


Handler = Callable[[Runtime, Any, Caller], Awaitable[Outcome]]
"""``await handler(runtime, params, caller)``; ``caller`` carries progress, confirmation and the requester."""
Question = Callable[[Runtime, Any, str | None], Awaitable[Asked | None]]
"""``await question(runtime, params, requester)``: what to ask a person first, or ``None``."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool. ``kind`` decides the MCP annotations: ``read`` tools only look, ``act`` tools change things."""

    name: str
    title: str
    description: str
    kind: Literal["read", "act"]
    params: type[BaseModel]
    result: type[BaseModel]
    handler: Handler
    question: Question | None = None
    """For tools a person may have to confirm: the question to ask before the handler runs."""

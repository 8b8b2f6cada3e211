"""SGLang's response shapes for one answer: a ``chat.completion``, or the ``chat.completion.chunk``
objects of a streamed one (reasoning first, the content in three pieces, then the finish)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tests.support.standin.answers import Answer

IM_END = 151645  # <|im_end|>, SGLang's matched_stop for a normal finish


def _matched_stop(answer: Answer) -> int | None:
    return IM_END if answer.finish_reason == "stop" else None


def completion(cid: str, created: int, model: str, usage: Mapping[str, int], answer: Answer) -> dict[str, Any]:
    """A non-streaming ``chat.completion``."""
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": answer.content,
                    "reasoning_content": answer.reasoning,
                    "tool_calls": None,
                },
                "logprobs": None,
                "finish_reason": answer.finish_reason,
                "matched_stop": _matched_stop(answer),
            }
        ],
        "usage": {**usage, "prompt_tokens_details": None},
    }


def chunks(
    cid: str, created: int, model: str, usage: Mapping[str, int], answer: Answer, include_usage: bool
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer, in order; a last one carries the
    usage when ``stream_options.include_usage`` asked for it."""

    def chunk(delta: dict[str, Any], finish: str | None = None, matched: int | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish, "matched_stop": matched}
        return {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [choice],
            "usage": None,
        }

    out = [chunk({"role": "assistant", "content": ""})]
    if answer.reasoning:
        out.append(chunk({"reasoning_content": answer.reasoning}))
    text = answer.content
    piece = max(1, math.ceil(len(text) / 3))
    out += [chunk({"content": text[i : i + piece]}) for i in range(0, len(text), piece)]
    out.append(chunk({}, answer.finish_reason, _matched_stop(answer)))
    if include_usage:
        out.append(
            {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": {**usage, "prompt_tokens_details": None},
            }
        )
    return out

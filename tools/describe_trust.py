"""describe_screen's screen text kept as data: instruction-like text goes to ``untrusted_text``, with a warning.

The elements stay as they are (a hostile line is still a thing on screen, with a place), but the
model's ``summary`` and ``answer`` never carry such text as if the user had said it: a sentence of
theirs that does is withheld and pointed to ``untrusted_text``.
"""

from __future__ import annotations

import re

from tools.results import DescribeResult
from tools.results_trust import UntrustedText
from tools.safety.injection import WARNING, instruction_like, untrusted_lines

WITHHELD = "[screen text that reads like instructions withheld: see untrusted_text]"


def _clean(text: str | None) -> tuple[str | None, list[str]]:
    """``text`` with its instruction-like sentences withheld, and those sentences."""
    if not text:
        return text, []
    sentences = re.split(r"(?<=[.!?。！？])\s+", text)
    kept, dropped = [], []
    for sentence in sentences:
        if instruction_like(sentence) is None:
            kept.append(sentence)
        else:
            dropped.append(sentence)
            if not kept or kept[-1] != WITHHELD:
                kept.append(WITHHELD)
    return " ".join(kept), dropped


def screen_text_as_data(result: DescribeResult) -> DescribeResult:
    """``result`` with instruction-like screen text moved to ``untrusted_text`` and a warning set."""
    summary, from_summary = _clean(result.summary)
    answer, from_answer = _clean(result.answer)
    found = untrusted_lines([*(e.label for e in result.elements), *from_summary, *from_answer])
    if not found:
        return result
    return result.model_copy(
        update={
            "summary": summary or "",
            "answer": answer,
            "untrusted_text": [UntrustedText(text=line.text, reason=line.reason) for line in found],
            "warning": WARNING,
        }
    )

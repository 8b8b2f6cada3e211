"""describe_screen's screen text kept as data: instruction-like text goes to ``untrusted_text``, with a warning.

The elements stay as they are (a hostile line is still a thing on screen, with a place), but the
model's ``summary`` and ``answer`` never carry such text as if the user had said it: a sentence of
theirs that does is withheld and pointed to ``untrusted_text``.

Near-invisible text (elements marked ``near_invisible``: OCR read them only by stretching the
contrast) is held to a lower bar, any order counts (:func:`tools.safety.injection.hidden_lines`), and
its entries and the warning say it was hidden.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tools.results import DescribeResult
from tools.results_trust import UntrustedText
from tools.safety.injection import HIDDEN_WARNING, WARNING, hidden_lines, instruction_like, untrusted_lines

WITHHELD = "[screen text that reads like instructions withheld: see untrusted_text]"


def _clean(text: str | None, hidden: Sequence[str] = ()) -> tuple[str | None, list[str]]:
    """``text`` with its instruction-like sentences (and those quoting a ``hidden`` line) withheld; and those."""
    if not text:
        return text, []
    sentences = re.split(r"(?<=[.!?。！？])\s+", text)
    kept, dropped = [], []
    for sentence in sentences:
        if instruction_like(sentence) is None and not any(line in sentence for line in hidden):
            kept.append(sentence)
        else:
            dropped.append(sentence)
            if not kept or kept[-1] != WITHHELD:
                kept.append(WITHHELD)
    return " ".join(kept), dropped


def screen_text_as_data(result: DescribeResult) -> DescribeResult:
    """``result`` with instruction-like screen text moved to ``untrusted_text`` and a warning set."""
    hidden = hidden_lines(e.label for e in result.elements if e.near_invisible)
    quoted = [line.text for line in hidden]
    summary, from_summary = _clean(result.summary, quoted)
    answer, from_answer = _clean(result.answer, quoted)
    shown = [e.label for e in result.elements if not e.near_invisible]
    visible = untrusted_lines([*shown, *from_summary, *from_answer])
    found = hidden + [line for line in visible if not any(h in line.text or line.text in h for h in quoted)]
    if not found:
        return result
    return result.model_copy(
        update={
            "summary": summary or "",
            "answer": answer,
            "untrusted_text": [
                UntrustedText(text=line.text, reason=line.reason, near_invisible=line.hidden) for line in found
            ],
            "warning": WARNING + (HIDDEN_WARNING if hidden else ""),
        }
    )

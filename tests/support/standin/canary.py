"""The stand-in answers the grounding canary's self-test the way a model that sees would.

A client that trusts a model only after it passed the canary (engine/vlm/canary.py) sends the
canary's test screen before anything else, possibly while a test's scenario plans faults or steps.
This module recognises that screen from the request's pixels and answers it from them, so the
canary never consumes a planned fault or plan step, and its requests are kept apart from the
scenario's (:attr:`StandIn.canary_requests`).

It stays an oracle independent of ``engine/``: the targets are this module's own copy of the
canary's table (a test checks the two agree), and each target's box is measured again in the image
(the blue of a button, the red of the icon) before it is answered. ``Scenario.canary_offset_px``
moves every answer that many pixels right, as the serving-engine regressions the canary exists for
do. A failing verdict is cached per model and engine version like a passing one: a test that makes
the canary fail gives its server its own ``model.canary_cache``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from tests.support.standin.answers import Answer, classify, compose
from tests.support.standin.grounding import asked_targets, grounding_style, not_found
from tests.support.standin.scenario import Scenario
from tests.support.standin.validation import DATA_URL, HTTPError, count_prompt_tokens, validate

CANARY_FRAME = {"x": 0, "y": 0, "width": 1200, "height": 900}
CANARY_TARGETS = {
    "Save": (60, 48, 170, 92),
    "Cancel": (1010, 800, 1150, 846),
    "Open advanced settings": (420, 400, 780, 460),
    "Delete": (1050, 60, 1140, 96),
    "Export report": (80, 760, 300, 820),
    "the red circular icon with a white cross": (590, 140, 650, 200),
}
ICON = "the red circular icon with a white cross"
ASPECT_TOLERANCE = 0.03
"""The client may round the image's sides to multiples of 32 (1216x896): the aspect moves by ~2 %."""
SEARCH_MARGIN = 12
"""How far around its table box a target's pixels are looked for."""
MIN_COVER = 0.5
"""The share of a target's table box its colour must fill for the image to count as the canary."""


@dataclass(frozen=True)
class CanaryReply:
    """The answer to one canary request, its usage, and the request as recorded."""

    usage: dict[str, int]
    answer: Answer
    entry: dict[str, Any]


def canary_reply(body: Any, scenario: Scenario, model: str = "") -> CanaryReply | None:
    """The answer to ``body`` when it asks to point at something on the canary's screen, else ``None``.

    A body SGLang would refuse is left to the normal path (which records and refuses it). ``model`` is
    the served model's name: a GUI fine-tune answers in its own grounding format.
    """
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return None
    try:
        sizes = validate(body)
    except HTTPError:
        return None
    messages = body["messages"]
    if not sizes or classify(messages) != "point":
        return None
    image = _last_image(messages)
    if image is None:
        return None
    boxes = measure_targets(image)
    if boxes is None:
        return None
    dx = scenario.canary_offset_px
    seen = dataclasses.replace(
        scenario,
        frame=dict(CANARY_FRAME),
        elements=[
            {"type": "icon" if label == ICON else "button", "label": label, "box": [x1 + dx, y1, x2 + dx, y2]}
            for label, (x1, y1, x2, y2) in boxes.items()
        ],
        plan=[],
        fault=None,
        fault_count=None,
    )
    style = grounding_style(model)
    if _asked_target(messages) is None:
        answer = Answer("```json\n[]\n```" if style is None else not_found(style))
    else:
        answer = compose("point", seen, messages, None, None, model=model)
    usage = {
        "prompt_tokens": count_prompt_tokens(body, sizes),
        "completion_tokens": max(1, len(answer.content + (answer.reasoning or "")) // 4),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    entry = {**body, "_kind": "point", "_image_size": list(sizes[-1]), "_canary": True}
    return CanaryReply(usage, answer, entry)


def measure_targets(image: Image.Image) -> dict[str, tuple[int, int, int, int]] | None:
    """Each target's box measured in ``image`` (canary pixels), or ``None`` when it is not the canary's screen."""
    width, height = CANARY_FRAME["width"], CANARY_FRAME["height"]
    if abs(image.width / image.height - width / height) > ASPECT_TOLERANCE * width / height:
        return None
    rgb = np.asarray(image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR), dtype=np.int16)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if float(rgb[:24, :, :].mean()) > 90:  # the dark title bar
        return None
    button = (blue > 180) & (red < 90) & (green < 140)
    icon = (red > 180) & (green < 90) & (blue < 90)
    boxes: dict[str, tuple[int, int, int, int]] = {}
    for label, (x1, y1, x2, y2) in CANARY_TARGETS.items():
        mask = icon if label == ICON else button
        if float(mask[y1:y2, x1:x2].mean()) < MIN_COVER:
            return None
        top, left = max(0, y1 - SEARCH_MARGIN), max(0, x1 - SEARCH_MARGIN)
        window = mask[top : y2 + SEARCH_MARGIN, left : x2 + SEARCH_MARGIN]
        ys, xs = np.nonzero(window)
        boxes[label] = (left + int(xs.min()), top + int(ys.min()), left + int(xs.max()) + 1, top + int(ys.max()) + 1)
    return boxes


def _asked_target(messages: Sequence[Mapping[str, Any]]) -> str | None:
    for asked in asked_targets(messages):
        for label in CANARY_TARGETS:
            if asked.strip().lower() == label.lower():
                return label
    return None


def _last_image(messages: Sequence[Mapping[str, Any]]) -> Image.Image | None:
    url = None
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    url = str(part["image_url"]["url"])
    match = DATA_URL.match(url) if url else None
    if match is None:
        return None
    with Image.open(io.BytesIO(base64.b64decode(match.group("data")))) as image:
        image.load()
        return image.copy()

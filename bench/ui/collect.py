"""Choosing a screen's targets: visible, unoccluded, and unique on the screen (or, for a context
target, repeated only within its window), at most a given number of them."""

from __future__ import annotations

from typing import Any

from .boxes import Box, box_of, inside, overlap
from .scene import Scene, norm
from .vocabulary import TEMPLATES

MAX_CONTEXT_TARGETS = 4
"""Context targets per screen, at most."""


def collect(scene: Scene, limit: int) -> list[dict[str, Any]]:
    """Visible, unique, unoccluded targets, ``limit`` of them at most (text and icons mixed)."""
    counts: dict[str, int] = {}
    for text in scene.texts:
        counts[norm(text)] = counts.get(norm(text), 0) + 1
    overlay_boxes = [box_of(o) for o in scene.overlays]
    found = []
    for get_box, text, kind, widget in scene.targets:
        box = get_box()
        if kind == "text" and counts.get(norm(text), 0) != 1:
            continue
        if kind == "icon" and sum(1 for _, t, k, _ in scene.targets if k == "icon" and t == text) != 1:
            continue
        if box is None or not _visible(scene, widget, box, overlay_boxes):
            continue
        found.append({"text": text, "bbox": list(box), "data_type": kind})
    scene.rng.shuffle(found)
    context = _collect_context(scene, counts, overlay_boxes)
    icons = [f for f in found if f["data_type"] == "icon"][: max(1, limit // 5)]
    texts = [f for f in found if f["data_type"] == "text"][: max(0, limit - len(icons) - len(context))]
    for item in texts:
        item["instruction"] = scene.rng.choice(TEMPLATES).format(t=item["text"])
    for item in icons:
        item["instruction"] = item["text"]
    return texts + context + icons


def _visible(scene: Scene, widget: Any, box: Box | None, overlay_boxes: list[Box]) -> bool:
    """Whether ``box`` is big enough, on the screen, within its window and not under an overlay
    (an open menu), unless it is part of that overlay."""
    if box is None or box[2] < 4 or box[3] < 4 or not inside(box, (0, 0, scene.width, scene.height)):
        return False
    window = _window(scene, widget)
    if window is not None and not inside(box, box_of(window)):
        return False
    return _in_overlay(scene, widget) or not any(overlap(box, o) for o in overlay_boxes)


def _collect_context(scene: Scene, counts: dict[str, int], overlay_boxes: list[Box]) -> list[dict[str, Any]]:
    """Visible context targets whose text is shown only in their window, and whose near text only once."""
    found = []
    for target in scene.context_targets:
        if not target.widget.winfo_ismapped():
            continue
        box = box_of(target.widget)
        if not _visible(scene, target.widget, box, overlay_boxes):
            continue
        if target.local < 2 or counts.get(norm(target.text), 0) != target.local:
            continue
        item: dict[str, Any] = {
            "text": target.text,
            "bbox": list(box),
            "data_type": "text",
            "instruction": target.instruction,
        }
        if target.near is not None:
            if counts.get(norm(target.near_text or ""), 0) != 1 or not target.near.winfo_ismapped():
                continue
            if not _visible(scene, target.near, box_of(target.near), overlay_boxes):
                continue
            item |= {"context": "near", "near": target.near_text}
        else:
            item["context"] = "position"
        found.append(item)
    if found:
        scene.rng.shuffle(found)
    return found[:MAX_CONTEXT_TARGETS]


def _in_overlay(scene: Scene, widget: Any) -> bool:
    """Whether the widget is (inside) an overlay such as an open menu."""
    current = widget
    while current is not None:
        if any(current is overlay for overlay in scene.overlays):
            return True
        current = current.master
    return False


def _window(scene: Scene, widget: Any) -> Any:
    """The outer frame of the window the widget is in, or ``None`` (the panel)."""
    current = widget
    while current is not None:
        outer = scene.window_of.get(str(current))
        if outer is not None:
            return outer
        current = current.master
    return None

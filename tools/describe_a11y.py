"""describe_screen's accessibility part: the focused window, and the tree's widgets fused with OCR and the model.

The tree's widgets (source ``a11y``) come first: their boxes, roles, names, states and values are
the application's own. An OCR line whose centre lies in a named widget of the tree is that
widget's caption or value and is dropped; so is a model element mostly covering one. Everything
else OCR and the model saw stays: the content of windows whose tree is absent (Tk, canvases) or
partial, and what a tree leaves out (a canvas inside an accessible window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.geometry import Frame, box_iou
from engine.text.find import squash
from tools.desktop.a11y.find import center, element_type, visible_nodes
from tools.desktop.a11y.tree import Node, Reading
from tools.desktop.platform import WindowInfo
from tools.errors import DesktopUnavailable
from tools.results import Element
from tools.results_desktop import TreeReport, WindowRef
from tools.runtime import Runtime

STATE_NAMES = ("focused", "checked", "enabled", "editable", "selected", "expanded", "pressed", "read_only")
"""The states an element reports (``enabled`` means enabled and sensitive)."""


@dataclass
class A11yPart:
    """What the accessibility side adds to one describe."""

    focused: WindowRef | None = None
    elements: list[Element] = field(default_factory=list)
    reports: list[TreeReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0


def _states(node: Node) -> list[str]:
    states = set(node.states)
    if node.enabled:
        states.add("enabled")
    else:
        states.discard("enabled")
    return [name for name in STATE_NAMES if name in states]


def _inside(box: tuple[int, int, int, int], frame: Frame) -> bool:
    x, y = center(box)
    return frame.x <= x < frame.x + frame.width and frame.y <= y < frame.y + frame.height


def _element(node: Node, kind: str) -> Element:
    assert node.box is not None
    x1, y1, x2, y2 = node.box
    label = node.name or node.label or (node.value or "")
    return Element(
        id="",
        type=kind,
        label=label[:500],
        bbox=(x1, y1, x2 - 1, y2 - 1),  # elements use inclusive corners
        center=center(node.box),
        source="a11y",
        confidence=1.0,
        role=node.role,
        states=_states(node),
        value=None if node.value is None else node.value[:2000],
    )


async def read_part(runtime: Runtime, frame: Frame) -> A11yPart:
    """The focused window, and the tree's widgets inside ``frame`` (nothing when the reader is off)."""
    part = A11yPart()
    try:
        windows = await runtime.desktop.windows()
    except DesktopUnavailable as exc:
        part.notes.append(f"Windows cannot be listed ({exc}).")
        return part
    focused = next((w for w in windows if w.focused), None)
    part.focused = None if focused is None else WindowRef.of(focused)
    if runtime.a11y is None:
        return part
    shown = [w for w in windows if not w.minimized and _overlaps(w, frame)]
    reading = await runtime.a11y.read(shown)
    part.elapsed_ms = reading.elapsed_ms
    part.reports = [
        TreeReport(window=t.window.hex_id, title=t.window.title, status=t.status, nodes=len(t.nodes), detail=t.detail)
        for t in reading.trees
    ]
    part.elements = _elements(reading, windows, frame)
    part.notes += _notes(part.reports)
    return part


def _overlaps(window: WindowInfo, frame: Frame) -> bool:
    x1, y1, x2, y2 = window.box
    return x1 < frame.x + frame.width and x2 > frame.x and y1 < frame.y + frame.height and y2 > frame.y


def _elements(reading: Reading, windows: list[WindowInfo], frame: Frame) -> list[Element]:
    elements = []
    for node in visible_nodes(reading, windows):
        kind = element_type(node)
        if kind is not None and kind != "window" and node.box is not None and _inside(node.box, frame):
            elements.append(_element(node, kind))
    return elements


def _notes(reports: Sequence[TreeReport]) -> list[str]:
    """A note only for partial trees, the case that could pass for complete. Absent and unavailable trees
    are reported in ``accessibility``: OCR and the model describe those windows as they always do."""
    details = "; ".join(f"{r.title!r}: {r.detail}" for r in reports if r.status == "partial")
    if not details:
        return []
    return [f"The accessibility tree is partial ({details}): OCR and the model fill in, not all is listed."]


def merge(a11y: Sequence[Element], others: Sequence[Element]) -> list[Element]:
    """The tree's elements first, then the OCR/model elements they do not already describe; ids renumbered."""
    kept = list(a11y)
    for element in others:
        if not _described(element, a11y):
            kept.append(element)
    return [element.model_copy(update={"id": f"e{index}"}) for index, element in enumerate(kept, 1)]


def _area(box: tuple[int, int, int, int]) -> int:
    return max(1, box[2] - box[0] + 1) * max(1, box[3] - box[1] + 1)


def _described(element: Element, a11y: Sequence[Element]) -> bool:
    x, y = element.center
    for widget in a11y:
        x1, y1, x2, y2 = widget.bbox
        if not (x1 <= x <= x2 and y1 <= y <= y2):
            continue
        if element.source == "ocr":
            said = squash(element.label)
            # A widget's caption or value; a large text area keeps its lines (where each one is, is worth having).
            small = _area(widget.bbox) <= 20 * _area(element.bbox)
            if small and said and (said in squash(widget.label) or said in squash(widget.value or "")):
                return True
        elif box_iou(element.bbox, widget.bbox) >= 0.5:
            return True
    return False

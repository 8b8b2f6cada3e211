"""Stand-in model scenarios built from the Tk form's real widgets, and the checks on what describe returns.

The stand-in model "sees" the form's widgets at their real screen boxes (labelled by widget id), so
a test can prove that a described element, a planned click or an executed action lands on the
widget the app itself reports.
"""

from __future__ import annotations

from typing import Any

from tests.support.standin.scenario import Scenario
from tests.support.tkapp import TkApp
from tests.support.xvfb import SCREEN

TARGETS = ("name_entry", "email_entry", "subscribe", "submit", "cancel", "notes")
"""The widgets the stand-in model lists, by id."""
FUSED = {"subscribe", "submit", "cancel"}
"""Targets whose label is the caption OCR reads inside them: their position is confirmed by OCR."""
CAPTIONS = {"Name:": "name_label", "Email:": "email_label", "Notes:": "notes_label", "Ready": "status"}
"""Text the stand-in model does not list, which OCR adds (text -> the widget showing it)."""


def widget_box(widget: dict[str, Any]) -> list[int]:
    """The widget's inclusive screen box."""
    return [widget["x"], widget["y"], widget["x"] + widget["width"] - 1, widget["y"] + widget["height"] - 1]


def scenario_for(app: TkApp, plan: list[dict[str, Any]] | None = None, **extra: Any) -> Scenario:
    """A stand-in scenario whose elements are the app's real widgets (labelled by id)."""
    widgets = app.state()["widgets"]
    elements = [{"type": widgets[i]["type"], "label": i, "box": widget_box(widgets[i])} for i in TARGETS]
    frame = extra.pop("frame", {"x": 0, "y": 0, "width": SCREEN[0], "height": SCREEN[1]})
    return Scenario(frame=frame, elements=elements, plan=plan or [], **extra)


def inside(point: list[int], widget: dict[str, Any]) -> bool:
    """Whether a screen point lies within the widget's box."""
    x1, y1, x2, y2 = widget_box(widget)
    return x1 <= point[0] <= x2 and y1 <= point[1] <= y2


def check_described(elements: list[dict[str, Any]], widgets: dict[str, Any], *, exact_boxes: bool = True) -> None:
    """The model's elements land on the real widgets; captions fuse; text the model missed comes from OCR."""
    model = {e["label"]: e for e in elements if e["source"] != "ocr"}
    assert set(model) == set(TARGETS)
    for name in TARGETS:
        real, got = widget_box(widgets[name]), model[name]["bbox"]
        if exact_boxes:
            assert max(abs(a - b) for a, b in zip(got, real, strict=True)) <= 2, (name, got, real)
        assert inside(model[name]["center"], widgets[name]), name
        assert model[name]["source"] == ("fused" if name in FUSED else "model"), name
        assert (model[name]["confidence"] > 0.5) == (name in FUSED)
    ocr = {e["label"]: e for e in elements if e["source"] == "ocr"}
    assert set(ocr) == set(CAPTIONS)
    for text, wid in CAPTIONS.items():
        assert ocr[text]["type"] == "text" and 0.5 < ocr[text]["confidence"] <= 1
        assert inside(ocr[text]["center"], widgets[wid]), text

"""A stand-in model's planning for the publish task, from the shop page's own report of its layout.

:class:`PublishPlanner` answers "what next?" the way a good GUI model would: it looks at the page
the shop says is shown (its elements' screen boxes, the fields' values, the chosen file), and
proposes one step with a thought: click the navigation link or the "Add product" button (by the
label the stand-in knows from :func:`layout_elements`, so it answers with the element's real centre
on Qwen3-VL's 0-1000 grid), ``fill_input`` a field that does not hold its value yet,
``upload_file`` the image, ``click_text`` "Publish", and ``terminate`` once the shop says
"Published". With ``wrong_clicks`` it first clicks, that many times, the page's heading instead of
the button (a grounding slip that changes nothing), as a model sometimes does.

Plug it into the stand-in: ``shop.on_layout = lambda report: standin.set_scenario({..., "elements":
layout_elements(report)})`` and ``standin.set_planner(PublishPlanner(shop, ...))``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from tests.support.shop.app import ShopServer


def layout_elements(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's reported elements as stand-in scenario elements (``type``, ``label``, ``box``), those with text."""
    kinds = {"a": "link", "button": "button", "input": "input", "select": "input", "textarea": "input", "h1": "text"}
    elements = []
    for element in report["elements"]:
        if element.get("text") and element["tag"] in kinds:
            elements.append({"type": kinds[element["tag"]], "label": element["text"], "box": element["box"]})
    return elements


GOAL_TEMPLATE = "publish a new product named {name}, price {price}, stock {stock}, main image {image}"


@dataclass
class PublishPlanner:
    """Plans the publish task on ``shop``."""

    shop: ShopServer
    name: str
    price: str
    stock: str
    image: str
    """The image path as the goal says it (e.g. ``./images/headset.jpg``)."""
    wrong_clicks: int = 0
    steps: list[dict[str, Any]] = field(default_factory=list)
    """Every step proposed, in order (what the "model" said)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def goal(self) -> str:
        """The task as a person would type it."""
        return GOAL_TEMPLATE.format(name=self.name, price=self.price, stock=self.stock, image=self.image)

    def __call__(self) -> dict[str, Any]:
        """The next step (a stand-in plan step: action, its arguments, a thought)."""
        with self._lock:
            step = self._next()
            self.steps.append(step)
            return step

    def _find(self, layout: dict[str, Any], **match: Any) -> dict[str, Any] | None:
        for element in layout["elements"]:
            if all(element.get(key) == value for key, value in match.items()):
                return element
        return None

    def _next(self) -> dict[str, Any]:
        layout = self.shop.layout
        texts, labels = self.shop.variant.texts, self.shop.variant.labels
        if layout is None:
            return {"action": "wait", "time": 1, "thought": "The page is still loading; wait for it."}
        page = layout.get("page")
        if page in ("published",):
            return {
                "action": "terminate",
                "status": "success",
                "thought": f"The shop shows {texts['published']!r} with the product {self.name}: the task is done.",
            }
        if page in ("deleted", "draft"):
            return {
                "action": "terminate",
                "status": "failure",
                "thought": f"The shop shows {page}: not what was asked.",
            }
        if page == "new":
            return self._fill(layout, labels, texts)
        if page == "products":
            heading = self._find(layout, tag="h1")
            if self.wrong_clicks > 0 and heading is not None:
                self.wrong_clicks -= 1
                return {
                    "action": "left_click",
                    "target": heading["text"],
                    "thought": f"This is the product list; the add button should be the title {heading['text']!r}.",
                }
            button = self._find(layout, tag="a", text=texts["add_product"])
            assert button is not None, layout
            return {
                "action": "left_click",
                "target": button["text"],
                "thought": f"This is the product list. Click {texts['add_product']!r} to open the form.",
            }
        link = self._find(layout, tag="a", text=texts["nav_products"])
        assert link is not None, layout
        return {
            "action": "left_click",
            "target": link["text"],
            "thought": f"Products are managed under {texts['nav_products']!r} in the sidebar; open it.",
        }

    def _fill(self, layout: dict[str, Any], labels: dict[str, str], texts: dict[str, str]) -> dict[str, Any]:
        for field_name, value in (("name", self.name), ("price", self.price), ("stock", self.stock)):
            element = self._find(layout, id=field_name)
            if element is not None and element.get("value") != value:
                return {
                    "action": "fill_input",
                    "label": labels[field_name],
                    "value": value,
                    "thought": f"The form is open and {labels[field_name]!r} does not hold {value!r} yet; fill it in.",
                }
        image = self._find(layout, id="image")
        if image is not None and not image.get("files"):
            return {
                "action": "upload_file",
                "path": self.image,
                "label": texts["choose_file"],
                "thought": f"Name, price and stock are filled in. Now the main image {self.image}.",
            }
        return {
            "action": "click_text",
            "text": texts["publish"],
            "thought": f"Every field and the image are set; press {texts['publish']!r} (not Save draft, not Delete).",
        }

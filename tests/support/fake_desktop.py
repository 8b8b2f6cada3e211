"""A desktop in memory, for task-loop tests with no X: pages of buttons that a click moves between.

:class:`FakeDesktop` is both the screen (``grab``/``monitors``, like :class:`tests.support.fakes.FakeScreen`)
and the input driver (``send``): a click inside a button's box follows its link to another page and
the screen is redrawn; a click anywhere else changes nothing. Each page draws its name and buttons,
so every page looks different, and :attr:`clicks` records every click with the page it landed on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw

from engine.geometry import Frame
from engine.vlm.backends.openai_http import OpenAIHTTPBackend
from engine.vlm.vision import VisionEngine
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tools.desktop.capture import Capture, Monitor
from tools.desktop.inputs import InputEvent
from tools.runtime import Runtime
from tools.safety.policy import Policy
from tools.settings import ToolSettings

TITLE_BOX = (20, 20, 110, 31)
"""Where each page writes its name: text a click on which changes nothing."""


@dataclass(frozen=True)
class Button:
    """A button: its label, its screen box, and the page a click on it opens."""

    label: str
    box: tuple[int, int, int, int]
    opens: str


@dataclass
class FakeDesktop:
    """Pages of buttons on a ``width`` x ``height`` screen; starts on ``page``."""

    pages: dict[str, list[Button]]
    page: str
    width: int = 800
    height: int = 600
    clicks: list[tuple[str, int, int]] = field(default_factory=list)
    sent: list[InputEvent] = field(default_factory=list)

    def elements(self, page: str | None = None) -> list[dict[str, object]]:
        """The page's title and buttons as stand-in scenario elements (label, type, box)."""
        name = page or self.page
        title: dict[str, object] = {"type": "text", "label": f"Page: {name}", "box": list(TITLE_BOX)}
        return [title, *({"type": "button", "label": b.label, "box": list(b.box)} for b in self.pages[name])]

    def draw(self) -> Image.Image:
        """The current page: its name at the top, each button a grey box with its label."""
        image = Image.new("RGB", (self.width, self.height), "white")
        draw = ImageDraw.Draw(image)
        draw.text(TITLE_BOX[:2], f"Page: {self.page}", fill="black")
        for button in self.pages[self.page]:
            draw.rectangle(button.box, fill=(200, 200, 210), outline="black")
            draw.text((button.box[0] + 8, button.box[1] + 8), button.label, fill="black")
        return image

    # --- the screen ---------------------------------------------------------------------------

    async def monitors(self) -> list[Monitor]:
        """Monitor 0 (all) and 1, the same area."""
        size = {"x": 0, "y": 0, "width": self.width, "height": self.height}
        return [Monitor(index=0, **size), Monitor(index=1, **size)]

    async def grab(self, region: object | None = None, monitor: int = 1) -> Capture:
        """The whole screen as it is now."""
        return Capture(self.draw(), Frame(0, 0, self.width, self.height, self.width, self.height, monitor))

    # --- the input driver ---------------------------------------------------------------------

    def is_valid_key(self, name: str) -> bool:
        """Every key name is valid here."""
        return True

    def position(self) -> tuple[int, int]:
        """The pointer rests at the top-left corner."""
        return (0, 0)

    def send(self, events: Sequence[InputEvent]) -> None:
        """Apply the events: a click on a button opens its page."""
        self.sent.extend(events)
        for event in events:
            if event.op != "click" or event.x is None or event.y is None:
                continue
            self.clicks.append((self.page, event.x, event.y))
            for button in self.pages[self.page]:
                x1, y1, x2, y2 = button.box
                if x1 <= event.x <= x2 and y1 <= event.y <= y2:
                    self.page = button.opens
                    break


# --- a shop in four pages, and a runtime on it ----------------------------------------------------

PAGES = {
    "home": [Button("Products", (40, 100, 200, 140), "products"), Button("Help", (40, 160, 200, 200), "help")],
    "products": [Button("Add product", (300, 60, 460, 100), "form")],
    "form": [Button("Publish", (600, 500, 740, 540), "published")],
    "published": [],
    "help": [],
}
"""home -> Products -> Add product -> Publish -> published (and a Help page off the path)."""
GOAL = "publish a product"
DONE = {"action": "terminate", "status": "success", "thought": "The product is published."}
SETTINGS = ToolSettings(settle_timeout=0.3, settle_interval=0.02, capture_settle_timeout=0.1)


WRONG = {"action": "left_click", "target": "Page: products", "thought": "The title may open the form."}
"""A click on the products page's title: where a model that misread the page would click; it changes nothing."""


def click(label: str, thought: str = "") -> dict[str, Any]:
    """A stand-in plan step: left-click the button labelled ``label``."""
    return {"action": "left_click", "target": label, "thought": thought or f"Click {label}."}


def scenario(screen: FakeDesktop, plan: list[dict[str, Any]], **extra: Any) -> Scenario:
    """Every title and button of every page, so plan steps can name any of them (the model 'sees' by label)."""
    elements = [e for page in screen.pages for e in screen.elements(page)]
    frame = {"x": 0, "y": 0, "width": screen.width, "height": screen.height}
    return Scenario(frame=frame, elements=elements, plan=plan, **extra)


@asynccontextmanager
async def runtime_on(screen: FakeDesktop, standin: StandIn, policy: Policy | None = None) -> AsyncIterator[Runtime]:
    """A runtime whose screen and input are ``screen`` and whose model is ``standin`` (over HTTP)."""
    backend = OpenAIHTTPBackend(standin.base_url, "Qwen/Qwen3-VL-2B-Instruct")
    try:
        yield Runtime(SETTINGS, VisionEngine(backend), screen, screen, policy=policy or Policy())  # type: ignore[arg-type]
    finally:
        await backend.aclose()

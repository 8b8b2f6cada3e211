"""A whole desktop: the top panel and one to four windows of random kinds laid over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import context_layouts, layouts
from .scene import Scene
from .vocabulary import CONTEXT_TITLES, TITLES

KINDS = ["form", "table", "table", "editor", "editor", "dialog", "settings", "browser"]
"""Window kinds, as often as each is drawn."""
CONTEXT_KINDS = ["rows", "rows", "rows_zh", "admin", "ide", "help_form"]
"""Window kinds that repeat a target (``--context``)."""
LAYOUTS: dict[str, Callable[[Scene, Any, str], None]] = {
    "form": layouts.form,
    "table": layouts.table,
    "editor": layouts.editor,
    "dialog": layouts.dialog,
    "settings": layouts.settings,
    "browser": layouts.browser,
    "rows": context_layouts.rows,
    "rows_zh": context_layouts.rows,
    "admin": context_layouts.admin,
    "ide": context_layouts.ide,
    "help_form": context_layouts.help_form,
}
"""What fills a window of each kind: ``layout(scene, content_frame, title)``."""
ARRANGEMENTS: list[list[tuple[float, float, float, float]]] = [
    [(0, 0, 1, 1)],
    [(0, 0, 0.5, 1), (0.5, 0, 0.5, 1)],
    [(0, 0, 0.55, 1), (0.55, 0, 0.45, 0.5), (0.55, 0.5, 0.45, 0.5)],
    [(0, 0, 0.5, 0.5), (0.5, 0, 0.5, 0.5), (0, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)],
]
"""Window slots as fractions (x, y, width, height) of the desktop under the panel; four only from 1600 px wide."""


def panel(scene: Scene) -> int:
    """The desktop's top panel; returns its height."""
    theme = scene.theme
    bar = scene.tk.Frame(scene.frame, bg=theme.panel)
    bar.place(x=0, y=0, width=scene.width)
    fg = theme.accent_fg if theme.name == "blue" else theme.fg
    for text in scene.rng.sample(["Activities", "Applications", "Places", "Workspace 2"], 2):
        scene.label(bar, text, bg=theme.panel, fg=fg, padx=10, pady=2).pack(side="left")
    day = scene.rng.choice(["Mon", "Tue", "Wed", "Thu", "Fri"])
    clock = f"{day} {scene.rng.randint(7, 22):02d}:{scene.rng.randint(0, 59):02d}"
    scene.label(bar, clock, bg=theme.panel, fg=fg, padx=10).pack(side="right")
    scene.label(bar, f"{scene.rng.randint(12, 99)}%", bg=theme.panel, fg=fg, padx=6).pack(side="right")
    bar.update_idletasks()
    return bar.winfo_reqheight()


def build(scene: Scene) -> None:
    """Lay out windows over the desktop, each of a random kind."""
    top = panel(scene) + 4
    w, h, gap = scene.width, scene.height - top, 6
    arrangement = scene.rng.choice(ARRANGEMENTS if w >= 1600 else ARRANGEMENTS[:3])
    kinds = KINDS + CONTEXT_KINDS if scene.context else KINDS
    titles = {**TITLES, **CONTEXT_TITLES}
    chrome = scene.rng.randrange(len(arrangement))
    for index, (fx, fy, fw, fh) in enumerate(arrangement):
        kind = scene.rng.choice(kinds)
        scene.kinds.append(kind)
        x, y = round(fx * w) + gap, top + round(fy * h) + gap
        ww, wh = round(fw * w) - 2 * gap, round(fh * h) - 2 * gap
        if kind == "dialog":  # dialogs are small and centred in their slot
            dw, dh = min(ww, 40 * scene.px), min(wh, 14 * scene.px)
            x, y, ww, wh = x + (ww - dw) // 2, y + (wh - dh) // 2, dw, dh
        title = scene.rng.choice(titles[kind])
        content = scene.window(x, y, ww, wh, title, chrome_icons=index == chrome)
        first_text = len(scene.texts)
        LAYOUTS[kind](scene, content, title)
        scene.close_window(first_text)

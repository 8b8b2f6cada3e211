"""The widget kit: one screen being built, its Tk widgets, the texts they show and the targets to report.

Every primitive that shows text records it (:meth:`Scene.shown`), so that uniqueness can be checked
when the targets are collected, and registers the widget as a click target unless told not to.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from typing import Any, Literal, NamedTuple

from .boxes import Box, BoxGetter
from .icons import draw_icon
from .vocabulary import FONT_PX, ICONS, PREFERRED_FONTS, THEMES

RELIEFS: tuple[Literal["raised", "flat", "groove"], ...] = ("raised", "flat", "groove")
"""Button styles, one drawn per button."""


def norm(text: str) -> str:
    """Case- and spacing-insensitive form of a text, for uniqueness checks."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class ContextTarget(NamedTuple):
    """A target shown more than once on its window, and the instruction that tells which one."""

    widget: Any
    text: str
    instruction: str
    near: Any
    near_text: str | None
    local: int = 0
    """How many times the target's window shows its text."""


class Scene:
    """One screen being built: widgets, the texts they show, and the targets to report."""

    def __init__(
        self, root: Any, rng: random.Random, width: int, height: int, families: list[str], context: bool = False
    ) -> None:
        import tkinter as tk
        from tkinter import font as tkfont

        self.tk = tk
        self.rng = rng
        self.width, self.height = width, height
        self.theme = rng.choice(THEMES)
        low, high = FONT_PX[min(FONT_PX, key=lambda w: abs(w - width))]
        self.px = rng.randint(low, high)
        family = rng.choice([f for f in PREFERRED_FONTS if f in families] or ["TkDefaultFont"])
        self.family = family
        self.font = tkfont.Font(root=root, family=family, size=-self.px)
        self.bold = tkfont.Font(root=root, family=family, size=-self.px, weight="bold")
        self.small = tkfont.Font(root=root, family=family, size=-max(10, self.px - 2))
        self.link_font = tkfont.Font(root=root, family=family, size=-self.px, underline=True)
        mono = "DejaVu Sans Mono" if "DejaVu Sans Mono" in families else family
        self.mono = tkfont.Font(root=root, family=mono, size=-self.px)
        self.frame = tk.Frame(root, bg=self.theme.desktop, width=width, height=height)
        self.frame.place(x=0, y=0, width=width, height=height)
        self.texts: list[str] = []
        self.targets: list[tuple[BoxGetter, str, str, Any]] = []
        self.overlays: list[Any] = []
        self.window_of: dict[str, Any] = {}
        self.kinds: list[str] = []
        self.context = context
        self.context_targets: list[ContextTarget] = []
        self._pending: list[ContextTarget] = []

    # text and targets ------------------------------------------------------------------------

    def shown(self, text: str) -> str:
        """Record a string that is visible on screen."""
        self.texts.append(text)
        return text

    def target(self, widget: Any, text: str, kind: str = "text", box: BoxGetter | None = None) -> None:
        """A click target: ``text`` (or an icon description) on ``widget`` (or the box ``box`` gives)."""

        def widget_box() -> Box | None:
            if not widget.winfo_ismapped():
                return None
            return (widget.winfo_rootx(), widget.winfo_rooty(), widget.winfo_width(), widget.winfo_height())

        self.targets.append((box or widget_box, text, kind, widget))

    def context_target(self, widget: Any, text: str, instruction: str, near: Any = None) -> None:
        """A target whose text this window shows more than once; ``instruction`` names its context.

        ``near`` is the widget showing the text the instruction names (a row's name), if any.
        """
        near_text = near.cget("text") if near is not None else None
        self._pending.append(ContextTarget(widget, text, instruction, near, near_text))

    def close_window(self, first_text: int) -> None:
        """The window whose texts start at ``self.texts[first_text]`` is built: its context targets
        learn how many times it shows their text."""
        local = Counter(norm(text) for text in self.texts[first_text:])
        for pending in self._pending:
            self.context_targets.append(pending._replace(local=local[norm(pending.text)]))
        self._pending.clear()

    # widgets ---------------------------------------------------------------------------------

    def label(
        self,
        parent: Any,
        text: str,
        *,
        font: Any = None,
        fg: str | None = None,
        bg: str | None = None,
        target: bool = True,
        **options: Any,
    ) -> Any:
        """A Label showing ``text``, registered as a target unless ``target`` is false."""
        widget = self.tk.Label(
            parent,
            text=self.shown(text),
            font=font or self.font,
            fg=fg or self.theme.fg,
            bg=bg or parent.cget("bg"),
            **options,
        )
        if target:
            self.target(widget, text)
        return widget

    def button(self, parent: Any, text: str, *, primary: bool = False) -> Any:
        """A push button in the theme's style."""
        theme = self.theme
        style = self.rng.choice(RELIEFS)
        widget = self.tk.Button(
            parent,
            text=self.shown(text),
            font=self.font,
            relief=style,
            bd=1 if style != "raised" else 2,
            bg=theme.accent if primary else theme.field,
            fg=theme.accent_fg if primary else theme.fg,
            activebackground=theme.accent,
            highlightthickness=0,
            padx=self.px,
            pady=max(2, self.px // 4),
        )
        self.target(widget, text)
        return widget

    def check(self, parent: Any, text: str, **options: Any) -> Any:
        """A Checkbutton labelled ``text`` on a window's background (``options`` go to Tk, e.g. ``anchor``)."""
        theme = self.theme
        widget = self.tk.Checkbutton(
            parent,
            text=self.shown(text),
            font=self.font,
            bg=theme.window,
            fg=theme.fg,
            selectcolor=theme.field,
            activebackground=theme.window,
            highlightthickness=0,
            **options,
        )
        self.target(widget, text)
        return widget

    def entry(self, parent: Any, value: str, width: int = 24) -> Any:
        """A text field holding ``value`` (the value is a target: clicking it focuses the field)."""
        widget = self.tk.Entry(
            parent,
            font=self.font,
            width=width,
            bg=self.theme.field,
            fg=self.theme.fg,
            relief="solid",
            bd=1,
            highlightthickness=0,
            insertwidth=0,
        )
        widget.insert(0, value)
        if value:
            self.shown(value)
            self.target(widget, value)
        return widget

    def icon(self, parent: Any, name: str, size: int | None = None) -> Any:
        """A drawn icon (no text) registered as an icon target."""
        size = size or round(self.px * 1.6)
        canvas = self.tk.Canvas(parent, width=size, height=size, bg=parent.cget("bg"), highlightthickness=0)
        draw_icon(canvas, name, size, self.theme.fg, self.theme.accent)
        self.target(canvas, ICONS[name], kind="icon")
        return canvas

    def window(self, x: int, y: int, w: int, h: int, title: str, chrome_icons: bool) -> Any:
        """A window frame with a title bar; returns its content frame."""
        theme, tk = self.theme, self.tk
        outer = tk.Frame(self.frame, bg=theme.window, highlightthickness=1, highlightbackground=theme.muted)
        outer.place(x=x, y=y, width=w, height=h)
        bar = tk.Frame(outer, bg=theme.title)
        bar.pack(side="top", fill="x")
        self.label(bar, title, font=self.bold, bg=theme.title, fg=theme.title_fg, padx=8, pady=3).pack(side="left")
        if chrome_icons:
            for name in ("close", "maximize", "minimize"):
                canvas = self.icon(bar, name, round(self.px * 1.3))
                canvas.pack(side="right", padx=4, pady=2)
                canvas.delete("all")
                draw_icon(canvas, name, round(self.px * 1.3), theme.title_fg, theme.accent)
        content = tk.Frame(outer, bg=theme.window)
        content.pack(side="top", fill="both", expand=True)
        self.window_of[str(content)] = outer
        return content

"""Render varied desktop screens with Tk under Xvfb and write a ScreenSpot-schema grounding set.

    .venv/bin/python bench/generate_ui.py --out /tmp/grounding --screens 24 [--seed 7]
        [--sizes 1280x800,1366x768,1920x1080,2560x1440] [--targets-per-screen 16] [--context]

Each screen is a desktop: a top panel and one to four windows (forms, data tables, an editor with
an open menu, dialogs, settings pages, a browser), with a random theme (light, dark, grey,
solarized, blue), font family and size. Every target's box is read from Tk itself
(``winfo_rootx`` and friends, ``Treeview.bbox``, ``Listbox.bbox``, ``Text.dlineinfo``), so it is
exact. Text targets are unique on their screen (case and spacing aside); icon targets are drawn
shapes with no text. Writes ``OUT/images/*.png`` and ``OUT/dataset.json``: a list of
``{img_filename, instruction, bbox: [x, y, w, h], data_type: text|icon, data_source}``.

``--context`` adds windows that show a target text more than once, and instructions that name the
context a person would use to tell which: a device or user table with a button on every row
("Block for the device LivingRoom-TV", "重置密码 for user 李娜"), an admin page whose narrow sidebar
wraps long entries and repeats the page's heading ("Orders in the left sidebar"), an IDE with a file
explorer and editor tabs ("the api.ts editor tab"), a form with Help in its menu bar and at its
bottom ("Help at the bottom of the form"). Such items are ``data_type: text`` with ``context:
near|position`` (and ``near``: the row's text); every occurrence of their text is in their window,
and a ``near`` text is shown once. Without ``--context`` a seed renders the same set as before.

Generated images are not committed: regenerate them (a screen takes well under a second).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from ui_vocabulary import (  # bench/ is sys.path[0] when this script runs
    ADMIN_ACTIONS,
    BOOKMARKS,
    BUTTONS,
    CHECKS,
    CITIES,
    CODE,
    CONTEXT_TITLES,
    DEVICES,
    FIELDS,
    FILES,
    FONT_PX,
    HEADING_TEMPLATES,
    HELP_BOTTOM_TEMPLATES,
    HELP_TOP_TEMPLATES,
    ICONS,
    IDE_CODE,
    IDE_FILES,
    LINKS,
    MENU_ITEMS,
    MENUS,
    MESSAGES,
    NAMES,
    PREFERRED_FONTS,
    RADIOS,
    ROW_CELLS,
    ROW_TABLES,
    ROW_TEMPLATES,
    SETTINGS_TABS,
    SIDEBAR_ITEMS,
    SIDEBAR_TEMPLATES,
    STATUSES,
    TAB_TEMPLATES,
    TEMPLATES,
    THEMES,
    TITLES,
    TOOLBAR,
    TREE_TEMPLATES,
    ZH_ADMIN_ACTIONS,
    ZH_NAMES,
    ZH_SIDEBAR_ITEMS,
)

ROOT = Path(__file__).resolve().parents[1]
SIZES = "1280x800,1366x768,1920x1080,2560x1440"
CONTEXT_KINDS = ["rows", "rows", "rows_zh", "admin", "ide", "help_form"]
"""Window kinds that repeat a target (``--context``)."""
MAX_CONTEXT_TARGETS = 4
"""Context targets per screen, at most."""


def norm(text: str) -> str:
    """Case- and spacing-insensitive form of a text, for uniqueness checks."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# --- the worker: builds screens on its display and grabs them -------------------------------------


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
        self.targets: list[tuple[Callable[[], tuple[int, int, int, int] | None], str, str, Any]] = []
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

    def target(self, widget: Any, text: str, kind: str = "text", box: Callable[[], Any] | None = None) -> None:
        """A click target: ``text`` (or an icon description) on ``widget`` (or the box ``box`` gives)."""

        def widget_box() -> tuple[int, int, int, int] | None:
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
        style = self.rng.choice(["raised", "flat", "groove"])
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

    # windows ---------------------------------------------------------------------------------

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

    # screens ---------------------------------------------------------------------------------

    def panel(self) -> int:
        """The desktop's top panel; returns its height."""
        theme = self.theme
        bar = self.tk.Frame(self.frame, bg=theme.panel)
        bar.place(x=0, y=0, width=self.width)
        fg = theme.accent_fg if theme.name == "blue" else theme.fg
        for text in self.rng.sample(["Activities", "Applications", "Places", "Workspace 2"], 2):
            self.label(bar, text, bg=theme.panel, fg=fg, padx=10, pady=2).pack(side="left")
        day = self.rng.choice(["Mon", "Tue", "Wed", "Thu", "Fri"])
        clock = f"{day} {self.rng.randint(7, 22):02d}:{self.rng.randint(0, 59):02d}"
        self.label(bar, clock, bg=theme.panel, fg=fg, padx=10).pack(side="right")
        self.label(bar, f"{self.rng.randint(12, 99)}%", bg=theme.panel, fg=fg, padx=6).pack(side="right")
        bar.update_idletasks()
        return bar.winfo_reqheight()

    def build(self) -> None:
        """Lay out windows over the desktop, each of a random kind."""
        top = self.panel() + 4
        w, h, gap = self.width, self.height - top, 6
        layouts = [
            [(0, 0, 1, 1)],
            [(0, 0, 0.5, 1), (0.5, 0, 0.5, 1)],
            [(0, 0, 0.55, 1), (0.55, 0, 0.45, 0.5), (0.55, 0.5, 0.45, 0.5)],
            [(0, 0, 0.5, 0.5), (0.5, 0, 0.5, 0.5), (0, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)],
        ]
        layout = self.rng.choice(layouts if w >= 1600 else layouts[:3])
        kinds = ["form", "table", "table", "editor", "editor", "dialog", "settings", "browser"]
        if self.context:
            kinds += CONTEXT_KINDS
        titles = {**TITLES, **CONTEXT_TITLES}
        chrome = self.rng.randrange(len(layout))
        for index, (fx, fy, fw, fh) in enumerate(layout):
            kind = self.rng.choice(kinds)
            self.kinds.append(kind)
            x, y = round(fx * w) + gap, top + round(fy * h) + gap
            ww, wh = round(fw * w) - 2 * gap, round(fh * h) - 2 * gap
            if kind == "dialog":  # dialogs are small and centred in their slot
                dw, dh = min(ww, 40 * self.px), min(wh, 14 * self.px)
                x, y, ww, wh = x + (ww - dw) // 2, y + (wh - dh) // 2, dw, dh
            title = self.rng.choice(titles[kind])
            content = self.window(x, y, ww, wh, title, chrome_icons=index == chrome)
            shown_before = len(self.texts)
            getattr(self, f"build_{kind}")(content, title)
            local = Counter(norm(text) for text in self.texts[shown_before:])
            for pending in self._pending:
                self.context_targets.append(pending._replace(local=local[norm(pending.text)]))
            self._pending.clear()

    def build_form(self, parent: Any, title: str) -> None:
        tk, theme, rng = self.tk, self.theme, self.rng
        body = tk.Frame(parent, bg=theme.window, padx=self.px, pady=self.px)
        body.pack(fill="both", expand=True)
        row = 0
        for label, value in rng.sample(FIELDS, rng.randint(3, 7)):
            self.label(body, label, anchor="w").grid(row=row, column=0, sticky="w", pady=self.px // 3, padx=(0, 8))
            self.entry(body, value if rng.random() < 0.8 else "").grid(row=row, column=1, sticky="we")
            row += 1
        for text in rng.sample(CHECKS, rng.randint(1, 3)):
            check = tk.Checkbutton(
                body,
                text=self.shown(text),
                font=self.font,
                bg=theme.window,
                fg=theme.fg,
                selectcolor=theme.field,
                activebackground=theme.window,
                highlightthickness=0,
            )
            if rng.random() < 0.5:
                check.select()
            check.grid(row=row, column=1, sticky="w")
            self.target(check, text)
            row += 1
        if rng.random() < 0.6:
            group = tk.Frame(body, bg=theme.window)
            group.grid(row=row, column=1, sticky="w")
            choice = tk.StringVar(master=body)
            for text in rng.choice(RADIOS):
                radio = tk.Radiobutton(
                    group,
                    text=self.shown(text),
                    value=text,
                    variable=choice,
                    font=self.font,
                    bg=theme.window,
                    fg=theme.fg,
                    selectcolor=theme.field,
                    highlightthickness=0,
                )
                radio.pack(side="left", padx=(0, 10))
                self.target(radio, text)
            row += 1
        buttons = tk.Frame(body, bg=theme.window)
        buttons.grid(row=row, column=1, sticky="e", pady=self.px)
        for i, text in enumerate(rng.choice(BUTTONS)):
            self.button(buttons, text, primary=i == 0).pack(side="left", padx=4)
        body.columnconfigure(1, weight=1)

    def toolbar(self, parent: Any, texts: int, icons: list[str]) -> None:
        bar = self.tk.Frame(parent, bg=self.theme.window, pady=4)
        bar.pack(side="top", fill="x")
        for name in icons:
            self.icon(bar, name).pack(side="left", padx=4)
        for text in self.rng.sample(TOOLBAR, texts):
            self.button(bar, text).pack(side="left", padx=3)

    def build_table(self, parent: Any, title: str) -> None:
        tk, theme, rng = self.tk, self.theme, self.rng
        self.toolbar(parent, rng.randint(2, 4), rng.sample(["plus", "trash", "refresh", "search"], rng.randint(0, 2)))
        columns = rng.sample(["Customer", "City", "Status", "Amount", "Due", "Invoice", "Owner"], rng.randint(4, 6))
        cells = {
            "Customer": lambda: rng.choice(NAMES),
            "City": lambda: rng.choice(CITIES),
            "Status": lambda: rng.choice(STATUSES),
            "Amount": lambda: f"{rng.randint(10, 99999):,}.{rng.randint(0, 99):02d}",
            "Due": lambda: f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "Invoice": lambda: f"INV-{rng.randint(100, 9999):04d}",
            "Owner": lambda: rng.choice(NAMES).split()[0],
        }
        footer = self.label(
            parent, f"Showing 1–{rng.randint(20, 60)} of {rng.randint(100, 900)}", anchor="w", fg=theme.muted, padx=8
        )
        footer.pack(side="bottom", fill="x")
        if rng.random() < 0.5:
            self.tree_table(parent, columns, cells)
            return
        grid = tk.Frame(parent, bg=theme.window)
        grid.pack(fill="both", expand=True, padx=6)
        for c, name in enumerate(columns):
            self.label(grid, name, font=self.bold, anchor="w", padx=6, pady=3, bg=theme.title, fg=theme.title_fg).grid(
                row=0, column=c, sticky="nsew"
            )
        for r in range(1, 60):
            bg = theme.stripe if r % 2 else theme.window
            for c, name in enumerate(columns):
                self.label(grid, cells[name](), anchor="w", padx=6, pady=2, bg=bg).grid(row=r, column=c, sticky="nsew")
        for c in range(len(columns)):
            grid.columnconfigure(c, weight=1)

    def tree_table(self, parent: Any, columns: list[str], cells: dict[str, Callable[[], str]]) -> None:
        from tkinter import ttk

        theme = self.theme
        style = ttk.Style(parent)
        style.theme_use("clam")
        rowheight = round(self.px * 1.7)
        style.configure(
            "Bench.Treeview",
            background=theme.field,
            fieldbackground=theme.field,
            foreground=theme.fg,
            font=self.font,
            rowheight=rowheight,
        )
        style.configure("Bench.Treeview.Heading", font=self.bold, background=theme.title, foreground=theme.title_fg)
        tree = ttk.Treeview(parent, columns=columns, show="headings", style="Bench.Treeview")
        tree.pack(fill="both", expand=True, padx=6)
        for name in columns:
            tree.heading(name, text=self.shown(name), anchor="w")
            tree.column(name, width=self.px * 9, anchor="w")
        for _ in range(60):
            values = [cells[name]() for name in columns]
            item = tree.insert("", "end", values=values)
            for name, value in zip(columns, values, strict=True):
                self.shown(value)
                self.target(tree, value, box=_tree_cell(tree, item, name))

    def build_editor(self, parent: Any, title: str) -> None:
        tk, theme, rng = self.tk, self.theme, self.rng
        menubar = tk.Frame(parent, bg=theme.window)
        menubar.pack(side="top", fill="x")
        menus = rng.sample(MENUS, rng.randint(4, 7))
        heads = [self.label(menubar, m, padx=8, pady=2) for m in menus]
        for head in heads:
            head.pack(side="left")
        side = tk.Listbox(
            parent,
            font=self.font,
            bg=theme.stripe,
            fg=theme.fg,
            relief="flat",
            highlightthickness=0,
            width=16,
            activestyle="none",
            selectbackground=theme.accent,
        )
        side.pack(side="left", fill="y")
        for name in rng.sample(FILES, rng.randint(4, 8)):
            side.insert("end", self.shown(name))
            self.target(side, name, box=_listbox_row(side, side.size() - 1))
        text = tk.Text(
            parent,
            font=self.mono,
            bg=theme.field,
            fg=theme.fg,
            relief="flat",
            highlightthickness=0,
            insertwidth=0,
            wrap="none",
        )
        text.pack(side="left", fill="both", expand=True)
        for line in rng.sample(CODE, rng.randint(5, 10)):
            text.insert("end", self.shown(line) + "\n")
            self.target(text, line.strip(), box=_text_line(text, int(text.index("end-2l").split(".")[0])))
        # An open menu, over the text, under one of the menu titles.
        head = rng.choice(heads)
        drop = tk.Frame(parent.master, bg=theme.field, highlightthickness=1, highlightbackground=theme.muted)
        self.overlays.append(drop)
        for item, shortcut in rng.sample(MENU_ITEMS, rng.randint(5, 9)):
            row = tk.Frame(drop, bg=theme.field)
            row.pack(fill="x")
            self.label(row, item, bg=theme.field, anchor="w", padx=10, pady=2, target=False).pack(side="left")
            self.target(row, item)
            if shortcut:
                self.label(row, shortcut, bg=theme.field, fg=theme.muted, padx=10).pack(side="right")
            self.tk.Frame(row, bg=theme.field, width=self.px * 4).pack(side="right")
        parent.update_idletasks()
        x = head.winfo_rootx() - parent.master.winfo_rootx()
        y = head.winfo_rooty() + head.winfo_height() - parent.master.winfo_rooty()
        drop.place(x=x, y=y)
        drop.lift()

    def build_dialog(self, parent: Any, title: str) -> None:
        tk, theme = self.tk, self.theme
        body = tk.Frame(parent, bg=theme.window, padx=self.px, pady=self.px)
        body.pack(fill="both", expand=True)
        self.icon(body, "warning", round(self.px * 2.4)).grid(row=0, column=0, rowspan=2, padx=(0, self.px))
        self.label(body, MESSAGES[title], anchor="w", justify="left").grid(row=0, column=1, sticky="w")
        buttons = tk.Frame(body, bg=theme.window)
        buttons.grid(row=2, column=1, sticky="e", pady=(self.px, 0))
        choices = {
            "Unsaved Changes": ["Don't Save", "Cancel", "Save"],
            "Delete Files?": ["Cancel", "Move to Trash"],
            "Update Available": ["Later", "Install Now"],
            "Connection Lost": ["Work Offline", "Retry"],
            "Confirm Payment": ["Cancel", "Pay Now"],
        }[title]
        for i, text in enumerate(choices):
            self.button(buttons, text, primary=i == len(choices) - 1).pack(side="left", padx=4)

    def build_settings(self, parent: Any, title: str) -> None:
        tk, theme, rng = self.tk, self.theme, self.rng
        tabs = tk.Frame(parent, bg=theme.window)
        tabs.pack(side="top", fill="x", pady=(4, 0))
        active = rng.randrange(4)
        for i, text in enumerate(rng.sample(SETTINGS_TABS, 4)):
            bg, fg = (theme.field, theme.fg) if i == active else (theme.title, theme.title_fg)
            self.label(tabs, text, bg=bg, fg=fg, padx=12, pady=4, relief="ridge", bd=1).pack(side="left")
        body = tk.Frame(parent, bg=theme.window, padx=self.px, pady=self.px // 2)
        body.pack(fill="both", expand=True)
        for text in rng.sample(CHECKS, rng.randint(3, 6)):
            check = tk.Checkbutton(
                body,
                text=self.shown(text),
                font=self.font,
                bg=theme.window,
                fg=theme.fg,
                selectcolor=theme.field,
                activebackground=theme.window,
                highlightthickness=0,
                anchor="w",
            )
            check.pack(fill="x")
            self.target(check, text)
        row = tk.Frame(body, bg=theme.window)
        row.pack(fill="x", pady=self.px // 2)
        self.label(row, rng.choice(["Font size:", "Interface scale:", "Tab width:"])).pack(side="left")
        scale = tk.Scale(
            row,
            from_=8,
            to=32,
            orient="horizontal",
            bg=theme.window,
            fg=theme.fg,
            font=self.small,
            highlightthickness=0,
            length=self.px * 10,
            showvalue=False,
        )
        scale.set(rng.randint(8, 32))
        scale.pack(side="left", padx=8)
        buttons = tk.Frame(body, bg=theme.window)
        buttons.pack(side="bottom", anchor="e", pady=self.px // 2)
        for text in rng.choice([("Apply", "Close"), ("Restore Defaults", "OK"), ("Reset", "Save Changes")]):
            self.button(buttons, text).pack(side="left", padx=4)

    def build_browser(self, parent: Any, title: str) -> None:
        tk, theme, rng = self.tk, self.theme, self.rng
        nav = tk.Frame(parent, bg=theme.window, pady=3)
        nav.pack(side="top", fill="x")
        for name in rng.sample(["back", "forward", "refresh", "home"], rng.randint(2, 4)):
            self.icon(nav, name).pack(side="left", padx=3)
        url = rng.choice(
            [
                "https://docs.example.org/guide/install",
                "https://intranet.example.com/dashboard",
                "https://shop.example.net/cart?step=2",
            ]
        )
        self.entry(nav, url, width=40).pack(side="left", fill="x", expand=True, padx=6)
        for name in rng.sample(["star", "menu", "gear"], rng.randint(1, 2)):
            self.icon(nav, name).pack(side="left", padx=3)
        marks = tk.Frame(parent, bg=theme.stripe)
        marks.pack(side="top", fill="x")
        for text in rng.sample(BOOKMARKS, rng.randint(3, 6)):
            self.label(marks, text, bg=theme.stripe, padx=8, pady=2, font=self.small).pack(side="left")
        page = tk.Frame(parent, bg=theme.field, padx=self.px * 2, pady=self.px)
        page.pack(fill="both", expand=True)
        heading = rng.choice(["Getting started", "Quarterly overview", "Your shopping cart", "Installation guide"])
        self.label(page, heading, font=self.bold, bg=theme.field, anchor="w").pack(fill="x", pady=(0, self.px // 2))
        self.label(
            page,
            rng.choice(
                [
                    "Welcome back. Here is what changed since your last visit.",
                    "Follow these steps to set up the client on your machine.",
                ]
            ),
            bg=theme.field,
            anchor="w",
            fg=theme.muted,
        ).pack(fill="x")
        for text in rng.sample(LINKS, rng.randint(2, 4)):
            self.label(page, text, font=self.link_font, fg=theme.link, bg=theme.field, anchor="w").pack(anchor="w")
        search = tk.Frame(page, bg=theme.field, pady=self.px // 2)
        search.pack(anchor="w")
        self.entry(search, rng.choice(["", "wireless keyboard", "install on linux"]), width=28).pack(side="left")
        self.button(search, rng.choice(["Search", "Go", "Find"]), primary=True).pack(side="left", padx=6)

    # windows that repeat a target (--context) ------------------------------------------------

    def build_rows(self, parent: Any, title: str) -> None:
        """A table with an action button on every row; two buttons are targets named by their rows."""
        tk, theme, rng = self.tk, self.theme, self.rng
        noun, columns, actions = ROW_TABLES[title]
        pool = ZH_NAMES if title in CONTEXT_TITLES["rows_zh"] else DEVICES if noun == "device" else NAMES
        names = rng.sample(pool, rng.randint(4, 7))
        grid = tk.Frame(parent, bg=theme.window, padx=8, pady=6)
        grid.pack(fill="both", expand=True)
        for c, name in enumerate([*columns, ""]):
            self.label(grid, name, font=self.bold, anchor="w", padx=6, pady=3, target=False).grid(
                row=0, column=c, sticky="w"
            )
        shown_actions = rng.sample(actions, rng.randint(1, 2))
        rows = []
        for r, name in enumerate(names, 1):
            near = self.label(grid, name, anchor="w", padx=6)
            near.grid(row=r, column=0, sticky="w", pady=2)
            for c, column in enumerate(columns[1:], 1):
                self.label(grid, rng.choice(ROW_CELLS[column]), anchor="w", padx=6).grid(row=r, column=c, sticky="w")
            cell = tk.Frame(grid, bg=theme.window)
            cell.grid(row=r, column=len(columns), sticky="w", pady=2)
            buttons = []
            for action in shown_actions:
                button = self.button(cell, action)
                button.pack(side="left", padx=3)
                buttons.append((action, button))
            rows.append((near, buttons))
        for near, buttons in rng.sample(rows, 2):
            action, button = rng.choice(buttons)
            instruction = rng.choice(ROW_TEMPLATES).format(t=action, n=near.cget("text"), noun=noun)
            self.context_target(button, action, instruction, near)

    build_rows_zh = build_rows

    def build_admin(self, parent: Any, title: str) -> None:
        """A narrow sidebar (long entries wrap) beside a page whose heading repeats the current entry."""
        tk, theme, rng = self.tk, self.theme, self.rng
        zh = title == "后台管理"
        items = rng.sample(ZH_SIDEBAR_ITEMS if zh else SIDEBAR_ITEMS, rng.randint(5, 7))
        side = tk.Frame(parent, bg=theme.stripe, padx=6, pady=6)
        side.pack(side="left", fill="y")
        # Wrap at the widest word (at a two-character CJK word): a sidebar of about 190 px at 1080p.
        wrap = max(self.font.measure("商品" if zh else w) for item in items for w in item.split()) + 2
        wrap = wrap if zh else max(wrap, self.px * 7)
        justify = rng.choice(["left", "center"])
        entries = {}
        for item in items:
            anchor = "w" if justify == "left" else "center"
            entry = self.label(
                side, item, bg=theme.stripe, wraplength=wrap, justify=justify, anchor=anchor, padx=6, pady=3
            )
            entry.pack(fill="x")
            entries[item] = entry
        main = tk.Frame(parent, bg=theme.window, padx=self.px, pady=self.px // 2)
        main.pack(side="left", fill="both", expand=True)
        current = rng.choice(items)
        heading = self.label(main, current, font=self.bold, anchor="w")
        heading.pack(anchor="w", pady=(0, self.px // 2))
        bar = tk.Frame(main, bg=theme.window)
        bar.pack(anchor="w")
        for text in ZH_ADMIN_ACTIONS if zh else ADMIN_ACTIONS:
            self.button(bar, text).pack(side="left", padx=(0, 6))
        count = rng.randint(3, 90)
        self.label(main, f"共 {count} 条" if zh else f"{count} results", fg=theme.muted, anchor="w").pack(anchor="w")
        self.context_target(entries[current], current, rng.choice(SIDEBAR_TEMPLATES).format(t=current))
        self.context_target(heading, current, rng.choice(HEADING_TEMPLATES).format(t=current))

    def build_ide(self, parent: Any, title: str) -> None:
        """A file explorer beside editor tabs: the open files' names are shown twice."""
        tk, theme, rng = self.tk, self.theme, self.rng
        menubar = tk.Frame(parent, bg=theme.window)
        menubar.pack(side="top", fill="x")
        for menu in rng.sample(["File", "Edit", "View", "Go", "Run", "Terminal"], 4):
            self.label(menubar, menu, padx=8, pady=2).pack(side="left")
        tree = tk.Frame(parent, bg=theme.stripe, padx=6, pady=4)
        tree.pack(side="left", fill="y")
        self.label(tree, "EXPLORER", font=self.small, bg=theme.stripe, fg=theme.muted, anchor="w", target=False).pack(
            anchor="w", pady=(0, 4)
        )
        files = rng.sample(IDE_FILES, rng.randint(5, 8))
        entries = {}
        for name in files:
            entries[name] = self.label(tree, name, bg=theme.stripe, anchor="w", padx=8, pady=1)
            entries[name].pack(anchor="w", fill="x")
        right = tk.Frame(parent, bg=theme.field)
        right.pack(side="left", fill="both", expand=True)
        tabs = tk.Frame(right, bg=theme.title)
        tabs.pack(side="top", fill="x")
        opened = rng.sample(files, rng.randint(2, 4))
        tab_of = {}
        for i, name in enumerate(opened):
            bg, fg = (theme.field, theme.fg) if i == 0 else (theme.title, theme.title_fg)
            tab_of[name] = self.label(tabs, name, bg=bg, fg=fg, padx=12, pady=4, relief="ridge", bd=1)
            tab_of[name].pack(side="left")
        code = tk.Text(
            right, font=self.mono, bg=theme.field, fg=theme.fg, relief="flat", highlightthickness=0, wrap="none"
        )
        code.pack(fill="both", expand=True)
        for line in IDE_CODE:
            code.insert("end", self.shown(line) + "\n")
        name = rng.choice(opened)
        self.context_target(tab_of[name], name, rng.choice(TAB_TEMPLATES).format(t=name))
        name = rng.choice(opened)
        self.context_target(entries[name], name, rng.choice(TREE_TEMPLATES).format(t=name))

    def build_help_form(self, parent: Any, title: str) -> None:
        """A form with Help in its menu bar and a Help button at its bottom."""
        tk, theme, rng = self.tk, self.theme, self.rng
        menubar = tk.Frame(parent, bg=theme.window)
        menubar.pack(side="top", fill="x")
        menus = [*rng.sample(["File", "Edit", "View", "Tools"], 2), "Help"]
        heads = {text: self.label(menubar, text, padx=8, pady=2) for text in menus}
        for head in heads.values():
            head.pack(side="left")
        body = tk.Frame(parent, bg=theme.window, padx=self.px, pady=self.px)
        body.pack(fill="both", expand=True)
        for row, (label, value) in enumerate(rng.sample(FIELDS, rng.randint(2, 4))):
            self.label(body, label, anchor="w").grid(row=row, column=0, sticky="w", pady=self.px // 3, padx=(0, 8))
            self.entry(body, value).grid(row=row, column=1, sticky="we")
        buttons = tk.Frame(body, bg=theme.window)
        buttons.grid(row=10, column=0, columnspan=2, sticky="we", pady=(self.px, 0))
        help_button = self.button(buttons, "Help")
        help_button.pack(side="left")
        neighbour = self.button(buttons, rng.choice(["Cancel", "Close", "Discard"]))
        neighbour.pack(side="right", padx=4)
        self.button(buttons, rng.choice(["Send", "Submit ticket", "Create"]), primary=True).pack(side="right", padx=4)
        template = rng.choice(HELP_BOTTOM_TEMPLATES)
        near = neighbour if "{n}" in template else None
        self.context_target(help_button, "Help", template.format(t="Help", n=neighbour.cget("text")), near)
        self.context_target(heads["Help"], "Help", rng.choice(HELP_TOP_TEMPLATES).format(t="Help"))

    # collecting ------------------------------------------------------------------------------

    def collect(self, limit: int) -> list[dict[str, Any]]:
        """Visible, unique, unoccluded targets, ``limit`` of them at most (text and icons mixed)."""
        counts: dict[str, int] = {}
        for text in self.texts:
            counts[norm(text)] = counts.get(norm(text), 0) + 1
        overlay_boxes = [_box_of(o) for o in self.overlays]
        found = []
        for get_box, text, kind, widget in self.targets:
            box = get_box()
            if box is None or box[2] < 4 or box[3] < 4:
                continue
            if kind == "text" and counts.get(norm(text), 0) != 1:
                continue
            if kind == "icon" and sum(1 for _, t, k, _ in self.targets if k == "icon" and t == text) != 1:
                continue
            window = self._window(widget)
            if window is not None and not _inside(box, _box_of(window)):
                continue
            if not _inside(box, (0, 0, self.width, self.height)):
                continue
            if not self._in_overlay(widget) and any(_overlap(box, o) for o in overlay_boxes):
                continue
            found.append({"text": text, "bbox": list(box), "data_type": kind})
        self.rng.shuffle(found)
        context = self._collect_context(counts, overlay_boxes)
        icons = [f for f in found if f["data_type"] == "icon"][: max(1, limit // 5)]
        texts = [f for f in found if f["data_type"] == "text"][: max(0, limit - len(icons) - len(context))]
        for item in texts:
            item["instruction"] = self.rng.choice(TEMPLATES).format(t=item["text"])
        for item in icons:
            item["instruction"] = item["text"]
        return texts + context + icons

    def _visible(self, widget: Any, box: tuple[int, int, int, int] | None, overlay_boxes: list[Any]) -> bool:
        if box is None or box[2] < 4 or box[3] < 4 or not _inside(box, (0, 0, self.width, self.height)):
            return False
        window = self._window(widget)
        if window is not None and not _inside(box, _box_of(window)):
            return False
        return self._in_overlay(widget) or not any(_overlap(box, o) for o in overlay_boxes)

    def _collect_context(self, counts: dict[str, int], overlay_boxes: list[Any]) -> list[dict[str, Any]]:
        """Visible context targets whose text is shown only in their window, and whose near text only once."""
        found = []
        for target in self.context_targets:
            if not target.widget.winfo_ismapped():
                continue
            box = _box_of(target.widget)
            if not self._visible(target.widget, box, overlay_boxes):
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
                if not self._visible(target.near, _box_of(target.near), overlay_boxes):
                    continue
                item |= {"context": "near", "near": target.near_text}
            else:
                item["context"] = "position"
            found.append(item)
        if found:
            self.rng.shuffle(found)
        return found[:MAX_CONTEXT_TARGETS]

    def _in_overlay(self, widget: Any) -> bool:
        current = widget
        while current is not None:
            if any(current is overlay for overlay in self.overlays):
                return True
            current = current.master
        return False

    def _window(self, widget: Any) -> Any:
        current = widget
        while current is not None:
            outer = self.window_of.get(str(current))
            if outer is not None:
                return outer
            current = current.master
        return None


def _box_of(widget: Any) -> tuple[int, int, int, int]:
    return (widget.winfo_rootx(), widget.winfo_rooty(), widget.winfo_width(), widget.winfo_height())


def _inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _tree_cell(tree: Any, item: str, column: str) -> Callable[[], tuple[int, int, int, int] | None]:
    def box() -> tuple[int, int, int, int] | None:
        cell = tree.bbox(item, column)
        if not cell:
            return None
        x, y, w, h = cell
        inner_bottom = tree.winfo_height()
        if y + h > inner_bottom:
            return None
        return (tree.winfo_rootx() + x, tree.winfo_rooty() + y, w, h)

    return box


def _listbox_row(listbox: Any, index: int) -> Callable[[], tuple[int, int, int, int] | None]:
    def box() -> tuple[int, int, int, int] | None:
        row = listbox.bbox(index)
        if not row:
            return None
        _, y, _, h = row
        return (listbox.winfo_rootx(), listbox.winfo_rooty() + y, listbox.winfo_width(), h)

    return box


def _text_line(text: Any, line: int) -> Callable[[], tuple[int, int, int, int] | None]:
    def box() -> tuple[int, int, int, int] | None:
        info = text.dlineinfo(f"{line}.0")
        if not info:
            return None
        x, y, w, h, _ = info
        if y + h > text.winfo_height():
            return None
        return (text.winfo_rootx() + x, text.winfo_rooty() + y, w, h)

    return box


def draw_icon(canvas: Any, name: str, size: int, fg: str, accent: str) -> None:
    """Draw a recognisable icon shape on a square canvas."""
    s, m = size, max(2, size // 6)
    width = max(1, size // 10)
    c = s / 2
    if name == "search":
        canvas.create_oval(m, m, s * 0.65, s * 0.65, outline=fg, width=width)
        canvas.create_line(s * 0.6, s * 0.6, s - m, s - m, fill=fg, width=width + 1)
    elif name == "refresh":
        canvas.create_arc(m, m, s - m, s - m, start=30, extent=300, style="arc", outline=fg, width=width)
        canvas.create_polygon(s - m, c - m, s - m, c + m // 2, s - 2.5 * m, c - m // 2, fill=fg)
    elif name in ("back", "forward"):
        sign = -1 if name == "back" else 1
        canvas.create_line(
            c - sign * (c - m),
            c,
            c + sign * (c - m),
            c,
            fill=fg,
            width=width,
            arrow="last",
            arrowshape=(m * 2, m * 2, m),
        )
    elif name == "plus":
        canvas.create_line(c, m, c, s - m, fill=accent, width=width + 1)
        canvas.create_line(m, c, s - m, c, fill=accent, width=width + 1)
    elif name == "trash":
        canvas.create_rectangle(m * 1.5, m * 1.8, s - m * 1.5, s - m, outline=fg, width=width)
        canvas.create_line(m, m * 1.5, s - m, m * 1.5, fill=fg, width=width)
        canvas.create_rectangle(c - m / 2, m * 0.8, c + m / 2, m * 1.5, outline=fg)
    elif name == "gear":
        for k in range(8):
            canvas.create_line(c, c, c + (c - m / 2) * _cos(k), c + (c - m / 2) * _sin(k), fill=fg, width=width + 1)
        canvas.create_oval(c - c / 2, c - c / 2, c + c / 2, c + c / 2, fill=canvas.cget("bg"), outline=fg, width=width)
    elif name == "menu":
        for k in (0.3, 0.5, 0.7):
            canvas.create_line(m, s * k, s - m, s * k, fill=fg, width=width + 1)
    elif name == "star":
        points = []
        for k in range(10):
            r = (c - m / 2) if k % 2 == 0 else (c - m / 2) * 0.45
            points += [c + r * _cos(k * 0.5 - 2), c + r * _sin(k * 0.5 - 2)]
        canvas.create_polygon(points, outline=fg, fill="", width=width)
    elif name == "home":
        canvas.create_polygon(
            c,
            m,
            s - m,
            c,
            s - 1.6 * m,
            c,
            s - 1.6 * m,
            s - m,
            1.6 * m,
            s - m,
            1.6 * m,
            c,
            m,
            c,
            outline=fg,
            fill="",
            width=width,
        )
    elif name == "close":
        canvas.create_line(m, m, s - m, s - m, fill=fg, width=width + 1)
        canvas.create_line(m, s - m, s - m, m, fill=fg, width=width + 1)
    elif name == "maximize":
        canvas.create_rectangle(m, m, s - m, s - m, outline=fg, width=width + 1)
    elif name == "minimize":
        canvas.create_line(m, s - m * 1.5, s - m, s - m * 1.5, fill=fg, width=width + 1)
    elif name == "warning":
        canvas.create_polygon(c, m, s - m, s - m, m, s - m, fill="#e0a800", outline="#7a5c00")
        canvas.create_line(c, s * 0.38, c, s * 0.68, fill="#000000", width=width + 1)
        canvas.create_oval(c - width, s * 0.76, c + width, s * 0.76 + 2 * width, fill="#000000")


def _cos(k: float) -> float:
    import math

    return math.cos(k * math.pi / 4)


def _sin(k: float) -> float:
    import math

    return math.sin(k * math.pi / 4)


def worker(size: str, seeds: list[int], images: Path, limit: int, context: bool = False) -> None:
    """Build each seed's screen on this process's display, grab it, print one JSON line per screen."""
    import tkinter as tk
    from tkinter import font as tkfont

    import mss
    from PIL import Image

    width, height = (int(v) for v in size.split("x"))
    root = tk.Tk()
    root.geometry(f"{width}x{height}+0+0")
    families = set(tkfont.families(root))
    factory = getattr(mss, "MSS", None) or mss.mss
    with factory() as grabber:
        for seed in seeds:
            rng = random.Random(seed)
            scene = Scene(root, rng, width, height, sorted(families), context)
            scene.build()
            shot = _stable_grab(root, grabber, width, height)
            targets = scene.collect(limit)
            name = f"ui_{seed:05d}_{width}x{height}.png"
            shot.save(images / name, compress_level=1)
            source = f"tk-{scene.theme.name}-{'+'.join(sorted(set(scene.kinds)))}"
            items = [
                {
                    "img_filename": name,
                    "instruction": t["instruction"],
                    "bbox": t["bbox"],
                    "data_type": t["data_type"],
                    "data_source": source,
                    "text": t["text"],
                    "font": f"{scene.family} {scene.px}px",
                    **{key: t[key] for key in ("context", "near") if key in t},
                }
                for t in targets
            ]
            print(json.dumps(items, ensure_ascii=False), flush=True)
            scene.frame.destroy()
            root.update()
    root.destroy()
    _ = Image  # PIL is what mss images are converted with


def _stable_grab(root: Any, grabber: Any, width: int, height: int) -> Any:
    """Grab until two consecutive frames are identical (fonts and layout have settled)."""
    from PIL import Image

    def grab() -> Any:
        root.update()
        shot = grabber.grab({"left": 0, "top": 0, "width": width, "height": height})
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")

    previous = grab()
    for _ in range(50):
        time.sleep(0.05)
        current = grab()
        if current.tobytes() == previous.tobytes():
            return current
        previous = current
    return previous


def generate(
    out: Path, screens: int, seed: int, sizes: list[str], limit: int, context: bool = False
) -> list[dict[str, Any]]:
    """Render ``screens`` screens over ``sizes`` under private Xvfb servers; returns the dataset items."""
    sys.path.insert(0, str(ROOT))
    from tests.support.xvfb import start_xvfb

    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    plan: dict[str, list[int]] = {size: [] for size in sizes}
    for index in range(screens):
        plan[sizes[index % len(sizes)]].append(seed * 1000 + index)
    items: list[dict[str, Any]] = []
    for size, seeds in plan.items():
        if not seeds:
            continue
        width, height = (int(v) for v in size.split("x"))
        xvfb = start_xvfb(width, height)
        try:
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                size,
                "--out",
                str(out),
                "--seeds",
                ",".join(map(str, seeds)),
                "--targets-per-screen",
                str(limit),
                *(["--context"] if context else []),
            ]
            done = subprocess.run(command, env=xvfb.env(), capture_output=True, text=True, timeout=60 + 10 * len(seeds))
        finally:
            xvfb.stop()
        if done.returncode != 0:
            raise RuntimeError(f"the {size} worker failed:\n{done.stderr[-3000:]}")
        for line in done.stdout.splitlines():
            items.extend(json.loads(line))
    (out / "dataset.json").write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    return items


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder (images/ and dataset.json)")
    parser.add_argument("--screens", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sizes", default=SIZES, help=f"comma-separated WxH (default {SIZES})")
    parser.add_argument("--targets-per-screen", type=int, default=16)
    parser.add_argument(
        "--context",
        action="store_true",
        help="add windows that repeat a target, with instructions naming its row or place",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seeds", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        seeds = [int(s) for s in args.seeds.split(",")]
        worker(args.worker, seeds, args.out / "images", args.targets_per_screen, args.context)
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    items = generate(args.out, args.screens, args.seed, sizes, args.targets_per_screen, args.context)
    kinds = {k: sum(1 for i in items if i["data_type"] == k) for k in ("text", "icon")}
    named = sum(1 for i in items if "context" in i)
    extra = f", {named} of them named by context" if args.context else ""
    print(
        f"{len(items)} targets ({kinds['text']} text{extra}, {kinds['icon']} icon) on {args.screens} screens "
        f"in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

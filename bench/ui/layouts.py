"""The six window kinds of a generated desktop: form, table, editor, dialog, settings, browser.

Each layout fills a window's content frame through the :class:`~.scene.Scene` kit, drawing all its
choices from the scene's random generator: the order of those draws is what makes a seed render the
same screen every time, so a change here changes every generated set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .boxes import listbox_row, text_line, tree_cell
from .scene import Scene
from .vocabulary import (
    BOOKMARKS,
    BUTTONS,
    CHECKS,
    CITIES,
    CODE,
    FIELDS,
    FILES,
    LINKS,
    MENU_ITEMS,
    MENUS,
    MESSAGES,
    NAMES,
    RADIOS,
    SETTINGS_TABS,
    STATUSES,
    TOOLBAR,
)


def form(scene: Scene, parent: Any, title: str) -> None:
    """A form: labelled fields, check boxes, maybe a radio group, and a row of buttons."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    body = tk.Frame(parent, bg=theme.window, padx=scene.px, pady=scene.px)
    body.pack(fill="both", expand=True)
    row = 0
    for label, value in rng.sample(FIELDS, rng.randint(3, 7)):
        scene.label(body, label, anchor="w").grid(row=row, column=0, sticky="w", pady=scene.px // 3, padx=(0, 8))
        scene.entry(body, value if rng.random() < 0.8 else "").grid(row=row, column=1, sticky="we")
        row += 1
    for text in rng.sample(CHECKS, rng.randint(1, 3)):
        check = scene.check(body, text)
        if rng.random() < 0.5:
            check.select()
        check.grid(row=row, column=1, sticky="w")
        row += 1
    if rng.random() < 0.6:
        group = tk.Frame(body, bg=theme.window)
        group.grid(row=row, column=1, sticky="w")
        choice = tk.StringVar(master=body)
        for text in rng.choice(RADIOS):
            radio = tk.Radiobutton(
                group,
                text=scene.shown(text),
                value=text,
                variable=choice,
                font=scene.font,
                bg=theme.window,
                fg=theme.fg,
                selectcolor=theme.field,
                highlightthickness=0,
            )
            radio.pack(side="left", padx=(0, 10))
            scene.target(radio, text)
        row += 1
    buttons = tk.Frame(body, bg=theme.window)
    buttons.grid(row=row, column=1, sticky="e", pady=scene.px)
    for i, text in enumerate(rng.choice(BUTTONS)):
        scene.button(buttons, text, primary=i == 0).pack(side="left", padx=4)
    body.columnconfigure(1, weight=1)


def toolbar(scene: Scene, parent: Any, texts: int, icons: list[str]) -> None:
    """A toolbar of icon buttons and ``texts`` text buttons across the top of ``parent``."""
    bar = scene.tk.Frame(parent, bg=scene.theme.window, pady=4)
    bar.pack(side="top", fill="x")
    for name in icons:
        scene.icon(bar, name).pack(side="left", padx=4)
    for text in scene.rng.sample(TOOLBAR, texts):
        scene.button(bar, text).pack(side="left", padx=3)


def table(scene: Scene, parent: Any, title: str) -> None:
    """A data table (a grid of labels or a ttk.Treeview) under a toolbar, with a footer."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    toolbar(scene, parent, rng.randint(2, 4), rng.sample(["plus", "trash", "refresh", "search"], rng.randint(0, 2)))
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
    footer = scene.label(
        parent, f"Showing 1–{rng.randint(20, 60)} of {rng.randint(100, 900)}", anchor="w", fg=theme.muted, padx=8
    )
    footer.pack(side="bottom", fill="x")
    if rng.random() < 0.5:
        tree_table(scene, parent, columns, cells)
        return
    grid = tk.Frame(parent, bg=theme.window)
    grid.pack(fill="both", expand=True, padx=6)
    for c, name in enumerate(columns):
        scene.label(grid, name, font=scene.bold, anchor="w", padx=6, pady=3, bg=theme.title, fg=theme.title_fg).grid(
            row=0, column=c, sticky="nsew"
        )
    for r in range(1, 60):
        bg = theme.stripe if r % 2 else theme.window
        for c, name in enumerate(columns):
            scene.label(grid, cells[name](), anchor="w", padx=6, pady=2, bg=bg).grid(row=r, column=c, sticky="nsew")
    for c in range(len(columns)):
        grid.columnconfigure(c, weight=1)


def tree_table(scene: Scene, parent: Any, columns: list[str], cells: dict[str, Callable[[], str]]) -> None:
    """A ttk.Treeview of 60 rows; every cell is a target."""
    from tkinter import ttk

    theme = scene.theme
    style = ttk.Style(parent)
    style.theme_use("clam")
    rowheight = round(scene.px * 1.7)
    style.configure(
        "Bench.Treeview",
        background=theme.field,
        fieldbackground=theme.field,
        foreground=theme.fg,
        font=scene.font,
        rowheight=rowheight,
    )
    style.configure("Bench.Treeview.Heading", font=scene.bold, background=theme.title, foreground=theme.title_fg)
    tree = ttk.Treeview(parent, columns=columns, show="headings", style="Bench.Treeview")
    tree.pack(fill="both", expand=True, padx=6)
    for name in columns:
        tree.heading(name, text=scene.shown(name), anchor="w")
        tree.column(name, width=scene.px * 9, anchor="w")
    for _ in range(60):
        values = [cells[name]() for name in columns]
        item = tree.insert("", "end", values=values)
        for name, value in zip(columns, values, strict=True):
            scene.shown(value)
            scene.target(tree, value, box=tree_cell(tree, item, name))


def editor(scene: Scene, parent: Any, title: str) -> None:
    """An editor: a menu bar with one menu open over the text, a file list and code lines."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    menubar = tk.Frame(parent, bg=theme.window)
    menubar.pack(side="top", fill="x")
    menus = rng.sample(MENUS, rng.randint(4, 7))
    heads = [scene.label(menubar, m, padx=8, pady=2) for m in menus]
    for head in heads:
        head.pack(side="left")
    side = tk.Listbox(
        parent,
        font=scene.font,
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
        side.insert("end", scene.shown(name))
        scene.target(side, name, box=listbox_row(side, side.size() - 1))
    text = tk.Text(
        parent,
        font=scene.mono,
        bg=theme.field,
        fg=theme.fg,
        relief="flat",
        highlightthickness=0,
        insertwidth=0,
        wrap="none",
    )
    text.pack(side="left", fill="both", expand=True)
    for line in rng.sample(CODE, rng.randint(5, 10)):
        text.insert("end", scene.shown(line) + "\n")
        scene.target(text, line.strip(), box=text_line(text, int(text.index("end-2l").split(".")[0])))
    # An open menu, over the text, under one of the menu titles.
    head = rng.choice(heads)
    drop = tk.Frame(parent.master, bg=theme.field, highlightthickness=1, highlightbackground=theme.muted)
    scene.overlays.append(drop)
    for item, shortcut in rng.sample(MENU_ITEMS, rng.randint(5, 9)):
        row = tk.Frame(drop, bg=theme.field)
        row.pack(fill="x")
        scene.label(row, item, bg=theme.field, anchor="w", padx=10, pady=2, target=False).pack(side="left")
        scene.target(row, item)
        if shortcut:
            scene.label(row, shortcut, bg=theme.field, fg=theme.muted, padx=10).pack(side="right")
        scene.tk.Frame(row, bg=theme.field, width=scene.px * 4).pack(side="right")
    parent.update_idletasks()
    x = head.winfo_rootx() - parent.master.winfo_rootx()
    y = head.winfo_rooty() + head.winfo_height() - parent.master.winfo_rooty()
    drop.place(x=x, y=y)
    drop.lift()


def dialog(scene: Scene, parent: Any, title: str) -> None:
    """A message dialog with a warning icon and its buttons."""
    tk, theme = scene.tk, scene.theme
    body = tk.Frame(parent, bg=theme.window, padx=scene.px, pady=scene.px)
    body.pack(fill="both", expand=True)
    scene.icon(body, "warning", round(scene.px * 2.4)).grid(row=0, column=0, rowspan=2, padx=(0, scene.px))
    scene.label(body, MESSAGES[title], anchor="w", justify="left").grid(row=0, column=1, sticky="w")
    buttons = tk.Frame(body, bg=theme.window)
    buttons.grid(row=2, column=1, sticky="e", pady=(scene.px, 0))
    choices = {
        "Unsaved Changes": ["Don't Save", "Cancel", "Save"],
        "Delete Files?": ["Cancel", "Move to Trash"],
        "Update Available": ["Later", "Install Now"],
        "Connection Lost": ["Work Offline", "Retry"],
        "Confirm Payment": ["Cancel", "Pay Now"],
    }[title]
    for i, text in enumerate(choices):
        scene.button(buttons, text, primary=i == len(choices) - 1).pack(side="left", padx=4)


def settings(scene: Scene, parent: Any, title: str) -> None:
    """A settings page: tabs, check boxes, a slider and its buttons."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    tabs = tk.Frame(parent, bg=theme.window)
    tabs.pack(side="top", fill="x", pady=(4, 0))
    active = rng.randrange(4)
    for i, text in enumerate(rng.sample(SETTINGS_TABS, 4)):
        bg, fg = (theme.field, theme.fg) if i == active else (theme.title, theme.title_fg)
        scene.label(tabs, text, bg=bg, fg=fg, padx=12, pady=4, relief="ridge", bd=1).pack(side="left")
    body = tk.Frame(parent, bg=theme.window, padx=scene.px, pady=scene.px // 2)
    body.pack(fill="both", expand=True)
    for text in rng.sample(CHECKS, rng.randint(3, 6)):
        scene.check(body, text, anchor="w").pack(fill="x")
    row = tk.Frame(body, bg=theme.window)
    row.pack(fill="x", pady=scene.px // 2)
    scene.label(row, rng.choice(["Font size:", "Interface scale:", "Tab width:"])).pack(side="left")
    scale = tk.Scale(
        row,
        from_=8,
        to=32,
        orient="horizontal",
        bg=theme.window,
        fg=theme.fg,
        font=scene.small,
        highlightthickness=0,
        length=scene.px * 10,
        showvalue=False,
    )
    scale.set(rng.randint(8, 32))
    scale.pack(side="left", padx=8)
    buttons = tk.Frame(body, bg=theme.window)
    buttons.pack(side="bottom", anchor="e", pady=scene.px // 2)
    for text in rng.choice([("Apply", "Close"), ("Restore Defaults", "OK"), ("Reset", "Save Changes")]):
        scene.button(buttons, text).pack(side="left", padx=4)


def browser(scene: Scene, parent: Any, title: str) -> None:
    """A browser: navigation icons, an address field, bookmarks and a page with links and a search box."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    nav = tk.Frame(parent, bg=theme.window, pady=3)
    nav.pack(side="top", fill="x")
    for name in rng.sample(["back", "forward", "refresh", "home"], rng.randint(2, 4)):
        scene.icon(nav, name).pack(side="left", padx=3)
    url = rng.choice(
        [
            "https://docs.example.org/guide/install",
            "https://intranet.example.com/dashboard",
            "https://shop.example.net/cart?step=2",
        ]
    )
    scene.entry(nav, url, width=40).pack(side="left", fill="x", expand=True, padx=6)
    for name in rng.sample(["star", "menu", "gear"], rng.randint(1, 2)):
        scene.icon(nav, name).pack(side="left", padx=3)
    marks = tk.Frame(parent, bg=theme.stripe)
    marks.pack(side="top", fill="x")
    for text in rng.sample(BOOKMARKS, rng.randint(3, 6)):
        scene.label(marks, text, bg=theme.stripe, padx=8, pady=2, font=scene.small).pack(side="left")
    page = tk.Frame(parent, bg=theme.field, padx=scene.px * 2, pady=scene.px)
    page.pack(fill="both", expand=True)
    heading = rng.choice(["Getting started", "Quarterly overview", "Your shopping cart", "Installation guide"])
    scene.label(page, heading, font=scene.bold, bg=theme.field, anchor="w").pack(fill="x", pady=(0, scene.px // 2))
    scene.label(
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
        scene.label(page, text, font=scene.link_font, fg=theme.link, bg=theme.field, anchor="w").pack(anchor="w")
    search = tk.Frame(page, bg=theme.field, pady=scene.px // 2)
    search.pack(anchor="w")
    scene.entry(search, rng.choice(["", "wireless keyboard", "install on linux"]), width=28).pack(side="left")
    scene.button(search, rng.choice(["Search", "Go", "Find"]), primary=True).pack(side="left", padx=6)

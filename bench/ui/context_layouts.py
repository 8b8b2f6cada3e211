"""Windows that show a target's text more than once (``--context``), and name which one is meant.

Each registers its repeated targets with :meth:`~.scene.Scene.context_target` and an instruction a
person would use to tell them apart: the row ("Block for the device LivingRoom-TV"), the place
("Orders in the left sidebar", "the api.ts editor tab", "Help at the bottom of the form").
"""

from __future__ import annotations

from typing import Any

from .scene import Scene
from .vocabulary import (
    ADMIN_ACTIONS,
    CONTEXT_TITLES,
    DEVICES,
    FIELDS,
    HEADING_TEMPLATES,
    HELP_BOTTOM_TEMPLATES,
    HELP_TOP_TEMPLATES,
    IDE_CODE,
    IDE_FILES,
    NAMES,
    ROW_CELLS,
    ROW_TABLES,
    ROW_TEMPLATES,
    SIDEBAR_ITEMS,
    SIDEBAR_TEMPLATES,
    TAB_TEMPLATES,
    TREE_TEMPLATES,
    ZH_ADMIN_ACTIONS,
    ZH_NAMES,
    ZH_SIDEBAR_ITEMS,
)


def rows(scene: Scene, parent: Any, title: str) -> None:
    """A table with an action button on every row; two buttons are targets named by their rows."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    noun, columns, actions = ROW_TABLES[title]
    pool = ZH_NAMES if title in CONTEXT_TITLES["rows_zh"] else DEVICES if noun == "device" else NAMES
    names = rng.sample(pool, rng.randint(4, 7))
    grid = tk.Frame(parent, bg=theme.window, padx=8, pady=6)
    grid.pack(fill="both", expand=True)
    for c, name in enumerate([*columns, ""]):
        scene.label(grid, name, font=scene.bold, anchor="w", padx=6, pady=3, target=False).grid(
            row=0, column=c, sticky="w"
        )
    shown_actions = rng.sample(actions, rng.randint(1, 2))
    table_rows = []
    for r, name in enumerate(names, 1):
        near = scene.label(grid, name, anchor="w", padx=6)
        near.grid(row=r, column=0, sticky="w", pady=2)
        for c, column in enumerate(columns[1:], 1):
            scene.label(grid, rng.choice(ROW_CELLS[column]), anchor="w", padx=6).grid(row=r, column=c, sticky="w")
        cell = tk.Frame(grid, bg=theme.window)
        cell.grid(row=r, column=len(columns), sticky="w", pady=2)
        buttons = []
        for action in shown_actions:
            button = scene.button(cell, action)
            button.pack(side="left", padx=3)
            buttons.append((action, button))
        table_rows.append((near, buttons))
    for near, buttons in rng.sample(table_rows, 2):
        action, button = rng.choice(buttons)
        instruction = rng.choice(ROW_TEMPLATES).format(t=action, n=near.cget("text"), noun=noun)
        scene.context_target(button, action, instruction, near)


def admin(scene: Scene, parent: Any, title: str) -> None:
    """A narrow sidebar (long entries wrap) beside a page whose heading repeats the current entry."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    zh = title == "后台管理"
    items = rng.sample(ZH_SIDEBAR_ITEMS if zh else SIDEBAR_ITEMS, rng.randint(5, 7))
    side = tk.Frame(parent, bg=theme.stripe, padx=6, pady=6)
    side.pack(side="left", fill="y")
    # Wrap at the widest word (at a two-character CJK word): a sidebar of about 190 px at 1080p.
    wrap = max(scene.font.measure("商品" if zh else w) for item in items for w in item.split()) + 2
    wrap = wrap if zh else max(wrap, scene.px * 7)
    justify = rng.choice(["left", "center"])
    entries = {}
    for item in items:
        anchor = "w" if justify == "left" else "center"
        entry = scene.label(
            side, item, bg=theme.stripe, wraplength=wrap, justify=justify, anchor=anchor, padx=6, pady=3
        )
        entry.pack(fill="x")
        entries[item] = entry
    main = tk.Frame(parent, bg=theme.window, padx=scene.px, pady=scene.px // 2)
    main.pack(side="left", fill="both", expand=True)
    current = rng.choice(items)
    heading = scene.label(main, current, font=scene.bold, anchor="w")
    heading.pack(anchor="w", pady=(0, scene.px // 2))
    bar = tk.Frame(main, bg=theme.window)
    bar.pack(anchor="w")
    for text in ZH_ADMIN_ACTIONS if zh else ADMIN_ACTIONS:
        scene.button(bar, text).pack(side="left", padx=(0, 6))
    count = rng.randint(3, 90)
    scene.label(main, f"共 {count} 条" if zh else f"{count} results", fg=theme.muted, anchor="w").pack(anchor="w")
    scene.context_target(entries[current], current, rng.choice(SIDEBAR_TEMPLATES).format(t=current))
    scene.context_target(heading, current, rng.choice(HEADING_TEMPLATES).format(t=current))


def ide(scene: Scene, parent: Any, title: str) -> None:
    """A file explorer beside editor tabs: the open files' names are shown twice."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    menubar = tk.Frame(parent, bg=theme.window)
    menubar.pack(side="top", fill="x")
    for menu in rng.sample(["File", "Edit", "View", "Go", "Run", "Terminal"], 4):
        scene.label(menubar, menu, padx=8, pady=2).pack(side="left")
    tree = tk.Frame(parent, bg=theme.stripe, padx=6, pady=4)
    tree.pack(side="left", fill="y")
    scene.label(tree, "EXPLORER", font=scene.small, bg=theme.stripe, fg=theme.muted, anchor="w", target=False).pack(
        anchor="w", pady=(0, 4)
    )
    files = rng.sample(IDE_FILES, rng.randint(5, 8))
    entries = {}
    for name in files:
        entries[name] = scene.label(tree, name, bg=theme.stripe, anchor="w", padx=8, pady=1)
        entries[name].pack(anchor="w", fill="x")
    right = tk.Frame(parent, bg=theme.field)
    right.pack(side="left", fill="both", expand=True)
    tabs = tk.Frame(right, bg=theme.title)
    tabs.pack(side="top", fill="x")
    opened = rng.sample(files, rng.randint(2, 4))
    tab_of = {}
    for i, name in enumerate(opened):
        bg, fg = (theme.field, theme.fg) if i == 0 else (theme.title, theme.title_fg)
        tab_of[name] = scene.label(tabs, name, bg=bg, fg=fg, padx=12, pady=4, relief="ridge", bd=1)
        tab_of[name].pack(side="left")
    code = tk.Text(
        right, font=scene.mono, bg=theme.field, fg=theme.fg, relief="flat", highlightthickness=0, wrap="none"
    )
    code.pack(fill="both", expand=True)
    for line in IDE_CODE:
        code.insert("end", scene.shown(line) + "\n")
    name = rng.choice(opened)
    scene.context_target(tab_of[name], name, rng.choice(TAB_TEMPLATES).format(t=name))
    name = rng.choice(opened)
    scene.context_target(entries[name], name, rng.choice(TREE_TEMPLATES).format(t=name))


def help_form(scene: Scene, parent: Any, title: str) -> None:
    """A form with Help in its menu bar and a Help button at its bottom."""
    tk, theme, rng = scene.tk, scene.theme, scene.rng
    menubar = tk.Frame(parent, bg=theme.window)
    menubar.pack(side="top", fill="x")
    menus = [*rng.sample(["File", "Edit", "View", "Tools"], 2), "Help"]
    heads = {text: scene.label(menubar, text, padx=8, pady=2) for text in menus}
    for head in heads.values():
        head.pack(side="left")
    body = tk.Frame(parent, bg=theme.window, padx=scene.px, pady=scene.px)
    body.pack(fill="both", expand=True)
    for row, (label, value) in enumerate(rng.sample(FIELDS, rng.randint(2, 4))):
        scene.label(body, label, anchor="w").grid(row=row, column=0, sticky="w", pady=scene.px // 3, padx=(0, 8))
        scene.entry(body, value).grid(row=row, column=1, sticky="we")
    buttons = tk.Frame(body, bg=theme.window)
    buttons.grid(row=10, column=0, columnspan=2, sticky="we", pady=(scene.px, 0))
    help_button = scene.button(buttons, "Help")
    help_button.pack(side="left")
    neighbour = scene.button(buttons, rng.choice(["Cancel", "Close", "Discard"]))
    neighbour.pack(side="right", padx=4)
    scene.button(buttons, rng.choice(["Send", "Submit ticket", "Create"]), primary=True).pack(side="right", padx=4)
    template = rng.choice(HELP_BOTTOM_TEMPLATES)
    near = neighbour if "{n}" in template else None
    scene.context_target(help_button, "Help", template.format(t="Help", n=neighbour.cget("text")), near)
    scene.context_target(heads["Help"], "Help", rng.choice(HELP_TOP_TEMPLATES).format(t="Help"))

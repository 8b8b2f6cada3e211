"""Screen boxes read from Tk once a screen is laid out, and the box tests that choose targets.

A box is ``(x, y, width, height)`` in screen pixels. The readers return callables: a target's box
can only be read after the screen has been drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Box = tuple[int, int, int, int]
"""A screen box ``(x, y, width, height)`` in pixels."""
BoxGetter = Callable[[], Box | None]
"""Reads a target's box from Tk once the screen is laid out; ``None`` when it is not shown."""


def box_of(widget: Any) -> Box:
    """The widget's box on the screen."""
    return (widget.winfo_rootx(), widget.winfo_rooty(), widget.winfo_width(), widget.winfo_height())


def inside(box: Box, outer: Box) -> bool:
    """Whether ``box`` lies wholly within ``outer``."""
    x, y, w, h = box
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def overlap(a: Box, b: Box) -> bool:
    """Whether the two boxes share any pixel."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def tree_cell(tree: Any, item: str, column: str) -> BoxGetter:
    """A ttk.Treeview cell's box (``None`` when it is scrolled out or cut by the tree's bottom)."""

    def box() -> Box | None:
        cell = tree.bbox(item, column)
        if not cell:
            return None
        x, y, w, h = cell
        inner_bottom = tree.winfo_height()
        if y + h > inner_bottom:
            return None
        return (tree.winfo_rootx() + x, tree.winfo_rooty() + y, w, h)

    return box


def listbox_row(listbox: Any, index: int) -> BoxGetter:
    """A Listbox row's box, as wide as the list."""

    def box() -> Box | None:
        row = listbox.bbox(index)
        if not row:
            return None
        _, y, _, h = row
        return (listbox.winfo_rootx(), listbox.winfo_rooty() + y, listbox.winfo_width(), h)

    return box


def text_line(text: Any, line: int) -> BoxGetter:
    """The box of a Text widget's display line ``line`` (``None`` when cut by the widget's bottom)."""

    def box() -> Box | None:
        info = text.dlineinfo(f"{line}.0")
        if not info:
            return None
        x, y, w, h, _ = info
        if y + h > text.winfo_height():
            return None
        return (text.winfo_rootx() + x, text.winfo_rooty() + y, w, h)

    return box

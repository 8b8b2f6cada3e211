"""Finding things in an accessibility reading (pure): visible nodes, a named control, a labelled field.

Names are matched the way :mod:`engine.text.find` matches OCR text (case, spacing and punctuation
aside: "Search for:" is "search for"), but exactly otherwise: the tree's names are the
application's own strings, with no misreadings to forgive.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.text.find import squash
from tools.desktop.a11y.tree import Node, Reading
from tools.desktop.platform import WindowInfo, covered

ELEMENT_TYPES = {
    "push button": "button", "toggle button": "button", "button": "button", "split button": "button",
    "text": "input", "entry": "input", "password text": "input", "spin button": "input", "editbar": "input",
    "combo box": "select", "list box": "select",
    "check box": "checkbox", "check menu item": "checkbox", "switch": "checkbox",
    "radio button": "radio", "radio menu item": "radio",
    "link": "link",
    "menu": "menu", "menu item": "menu", "tearoff menu item": "menu",
    "page tab": "tab",
    "label": "text", "static": "text", "heading": "text", "paragraph": "text", "caption": "text",
    "status bar": "text", "statusbar": "text", "tool tip": "text", "notification": "text", "alert": "window",
    "dialog": "window", "frame": "window", "window": "window", "file chooser": "window",
    "image": "image", "icon": "icon",
    "list item": "item", "table cell": "cell", "tree item": "item", "table row": "item",
    "slider": "slider", "scroll bar": "scrollbar", "progress bar": "progress",
}  # fmt: skip
"""AT-SPI role names -> the element types describe_screen uses. Containers (panel, filler, scroll pane...)
are left out: they name no control of their own."""
FIELD_ROLES = frozenset({"text", "entry", "password text", "spin button", "editbar", "combo box"})
LABEL_ROLES = frozenset({"label", "static", "caption", "heading", "paragraph"})


def element_type(node: Node) -> str | None:
    """The element type of a node, or ``None`` for containers and nodes with nothing to show."""
    kind = ELEMENT_TYPES.get(node.role)
    if kind is None or node.box is None:
        return None
    if kind in ("text", "item", "cell", "menu", "tab", "link", "button", "icon", "image") and not node.name:
        return None  # a nameless label or button says nothing the screen would not show better
    return kind


def center(box: tuple[int, int, int, int]) -> tuple[int, int]:
    """The middle pixel of an exclusive box."""
    return (box[0] + box[2] - 1) // 2, (box[1] + box[3] - 1) // 2


def visible_nodes(reading: Reading, windows: list[WindowInfo]) -> list[Node]:
    """Nodes with a box whose centre no other window stacked above covers; the windows themselves left out."""
    by_id = {w.id: w for w in windows}
    shown = []
    for tree in reading.trees:
        window = by_id.get(tree.window.id, tree.window)
        for node in tree.nodes:
            if node.box is None or node.depth == 0:
                continue
            x, y = center(node.box)
            if covered(x, y, window, windows) is None:
                shown.append(node)
    return shown


def _same(name: str, wanted: str) -> bool:
    a, b = squash(name.replace("_", "")), squash(wanted)
    return bool(b) and a == b


def named(nodes: Sequence[Node], text: str) -> list[Node]:
    """Nodes that say ``text``: their name, or the text of a read-only label. In reading order."""
    found = [n for n in nodes if element_type(n) is not None and (_same(n.name, text) or _label_text(n, text))]
    return sorted(found, key=lambda n: (n.box[1] // 8 if n.box else 0, n.box[0] if n.box else 0))


def _label_text(node: Node, text: str) -> bool:
    return node.role in LABEL_ROLES and node.value is not None and _same(node.value, text)


def fields_for(nodes: Sequence[Node], label: str) -> list[Node]:
    """The editable fields ``label`` names: by their own name or ``labelled-by`` relation first, then
    the nearest field right of a label with that text on its row, or just below it."""
    fields = [n for n in nodes if n.box is not None and n.role in FIELD_ROLES and _editable(n)]
    own = [f for f in fields if _same(f.name, label) or (f.label is not None and _same(f.label, label))]
    found: list[Node] = []
    if not own:
        for text in (n for n in nodes if n.role in LABEL_ROLES and n.box is not None and _same(n.name, label)):
            near = _beside(text, fields) or _below(text, fields)
            if near is not None:
                own.append(near)
    for field in own:  # a combo box with an entry is typed into through the entry inside it
        typed = _entry_inside(field, fields) if field.role == "combo box" else field
        if typed not in found:
            found.append(typed)
    return found


def _entry_inside(combo: Node, fields: Sequence[Node]) -> Node:
    assert combo.box is not None
    x1, y1, x2, y2 = combo.box
    inside = [
        f for f in fields
        if f is not combo and "editable" in f.states and f.box is not None
        and x1 <= f.box[0] and y1 <= f.box[1] and f.box[2] <= x2 and f.box[3] <= y2
    ]  # fmt: skip
    return inside[0] if inside else combo


def _editable(node: Node) -> bool:
    return "editable" in node.states or node.role == "combo box"


def _beside(label: Node, fields: Sequence[Node]) -> Node | None:
    assert label.box is not None
    _, y1, x2, y2 = label.box
    middle = (y1 + y2) / 2
    row = [
        f
        for f in fields
        if f.box is not None and f.box[1] <= middle <= f.box[3] and f.box[0] >= x2 - 4 and not _within_other(f, fields)
    ]
    return min(row, key=lambda f: f.box[0] if f.box else 0, default=None)


def _within_other(field: Node, fields: Sequence[Node]) -> bool:
    """An entry inside a combo box is reached through the combo box (nearest to a label is the box)."""
    assert field.box is not None
    return any(
        other is not field and other.role == "combo box" and other.box is not None
        and other.box[0] <= field.box[0] and other.box[1] <= field.box[1]
        and field.box[2] <= other.box[2] and field.box[3] <= other.box[3]
        for other in fields
    )  # fmt: skip


def _below(label: Node, fields: Sequence[Node]) -> Node | None:
    assert label.box is not None
    x1, _, x2, y2 = label.box
    under = [f for f in fields if f.box is not None and 0 <= f.box[1] - y2 <= 40 and f.box[0] < x2 and f.box[2] > x1]
    return min(under, key=lambda f: f.box[1] if f.box else 0, default=None)

"""The accessibility tree (AT-SPI) of real applications under Xvfb: Debian's Mousepad (GTK 3), Chromium
with renderer accessibility on, and a Tk form that exposes none. Boxes are compared with the X window
geometry, OCR's boxes for the same text, and (Tk) the application's own geometry."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import mss
import numpy as np
import pytest
from PIL import Image

from engine.ocr.reader import OcrEngine
from tests.support.desktop import Chromium, Desktop, Mousepad, skip_reason
from tests.support.tkapp import TkApp
from tools.desktop import ewmh
from tools.desktop.a11y.find import fields_for, named, visible_nodes
from tools.desktop.a11y.reader import A11yReader
from tools.desktop.a11y.tree import Node, Reading, read_windows

AT_SPI = Path("/usr/libexec/at-spi-bus-launcher")
pytestmark = [
    pytest.mark.skipif(skip_reason("mousepad") is not None, reason=skip_reason("mousepad") or ""),
    pytest.mark.skipif(not AT_SPI.exists(), reason="needs apt package at-spi2-core (the accessibility bus)"),
]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Desktop, Mousepad, TkApp]]:
    """Mousepad with its Find and Replace dialog open, and a Tk form beside it, on an accessible desktop."""
    folder = tmp_path_factory.mktemp("a11y")
    with (
        Desktop(1280, 800, accessibility=True) as desktop,
        Mousepad(desktop) as editor,
        TkApp(folder / "tk.json", env=desktop.env(), geometry="360x300+900+420", title="Tk form") as form,
        pytest.MonkeyPatch.context() as patch,
    ):
        for key, value in desktop.x_env().items():
            if key in ("DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS"):
                patch.setenv(key, value)
        assert editor.window_id is not None
        desktop.xdotool("windowactivate", "--sync", str(editor.window_id))
        desktop.xdotool("key", "ctrl+r")
        desktop.wait_for_window(name="^Find and Replace$")
        yield desktop, editor, form


def _read(**caps: float) -> tuple[Reading, list[ewmh.WindowInfo]]:
    windows = ewmh.list_windows()

    async def go() -> Reading:
        reader = A11yReader(**caps)  # type: ignore[arg-type]
        try:
            return await reader.read(windows)
        finally:
            reader.close()

    return asyncio.run(go()), windows


def _tree(reading: Reading, title: str):  # type: ignore[no-untyped-def]
    return next(t for t in reading.trees if t.window.title == title)


def _ocr_box(text: str) -> tuple[int, int, int, int]:
    with mss.MSS() if hasattr(mss, "MSS") else mss.mss() as grab:  # type: ignore[attr-defined]
        shot = grab.grab(grab.monitors[0])
    image = Image.frombytes("RGB", shot.size, shot.rgb)
    engine = OcrEngine()
    engine.load(wait=True)
    try:
        lines = engine.read(np.asarray(image))
    finally:
        engine.close()
    found = [line.box for line in lines if line.text.strip().rstrip(":").lower() == text.lower()]
    assert found, [line.text for line in lines]
    return found[0]


def test_gtk_dialog_tree_is_complete_with_roles_states_and_exact_boxes(desk: tuple[Desktop, Mousepad, TkApp]) -> None:
    reading, windows = _read()
    dialog = _tree(reading, "Find and Replace")
    assert dialog.status == "complete", dialog.detail
    window = next(w for w in windows if w.title == "Find and Replace")
    inside = [n for n in dialog.nodes if n.box is not None and n.depth > 0]
    assert inside, dialog.detail
    for node in inside:  # every widget lies within the dialog's X window
        x1, y1, x2, y2 = node.box  # type: ignore[misc]
        wx1, wy1, wx2, wy2 = window.box
        assert wx1 <= x1 and wy1 <= y1 and x2 <= wx2 and y2 <= wy2, (node, window.box)
    search = fields_for(inside, "Search for")
    assert len(search) == 1 and search[0].role == "text"
    assert {"editable", "enabled", "focused"} <= search[0].states
    assert fields_for(inside, "Replace with")[0] != search[0]
    wrap = named(inside, "Wrap around")
    assert wrap and wrap[0].role == "check box" and "checked" in wrap[0].states
    find = named(inside, "Find")
    assert find and find[0].role == "push button" and not find[0].enabled, "Find is greyed out until text is typed"


def test_tree_boxes_agree_with_ocr(desk: tuple[Desktop, Mousepad, TkApp]) -> None:
    reading, windows = _read()
    label = named(visible_nodes(reading, windows), "Replace with")[0]
    assert label.box is not None
    ox1, oy1, ox2, oy2 = _ocr_box("Replace with")
    x1, y1, x2, y2 = label.box
    # OCR boxes the ink; the label's box is the widget around it, so the ink lies inside it.
    assert x1 - 2 <= ox1 and y1 - 2 <= oy1 and ox2 <= x2 + 2 and oy2 <= y2 + 2, (label.box, (ox1, oy1, ox2, oy2))


def test_a_typed_value_reads_back_from_the_tree(desk: tuple[Desktop, Mousepad, TkApp]) -> None:
    desktop, _, _ = desk
    reading, windows = _read()
    field = fields_for(visible_nodes(reading, windows), "Search for")[0]
    desktop.xdotool("type", "--delay", "20", "needle")

    async def value() -> str | None:
        reader = A11yReader()
        try:
            return await reader.text_of(field.ref)
        finally:
            reader.close()

    deadline = time.monotonic() + 5
    while (read := asyncio.run(value())) != "needle" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert read == "needle"
    again, _ = _read()
    refreshed = next(n for n in _tree(again, "Find and Replace").nodes if n.ref == field.ref)
    assert refreshed.value == "needle"


def test_a_tk_window_is_reported_absent_never_empty_and_complete(desk: tuple[Desktop, Mousepad, TkApp]) -> None:
    reading, _ = _read()
    tk = _tree(reading, "Tk form")
    assert tk.status == "absent" and not tk.nodes
    assert "exposes no accessibility tree" in tk.detail


@pytest.mark.parametrize("caps", [{"max_nodes": 5}, {"max_seconds": 0.001}])
def test_a_capped_reading_is_partial_never_complete(
    desk: tuple[Desktop, Mousepad, TkApp], caps: dict[str, float]
) -> None:
    reading, _ = _read(**caps)
    statuses = {t.window.title: t.status for t in reading.trees}
    assert statuses["Tk form"] in ("absent", "partial")  # with no time to ask the registry, nothing is known
    assert all(status in ("partial", "absent") for status in statuses.values()), reading.trees
    assert statuses["Find and Replace"] == "partial"


def test_no_bus_reads_as_unavailable(desk: tuple[Desktop, Mousepad, TkApp]) -> None:
    windows = ewmh.list_windows()
    reading = asyncio.run(read_windows(None, windows, unavailable="no bus here"))
    assert {t.status for t in reading.trees} == {"unavailable"}


@pytest.mark.slow
@pytest.mark.skipif(skip_reason("chromium") is not None, reason=skip_reason("chromium") or "")
def test_chromium_exposes_web_content_with_boxes_on_the_page() -> None:
    page = (
        "<title>Shipping form</title><body style='margin:40px;font:20px sans-serif'>"
        "<label for=city>City</label> <input id=city value='Zürich' style='width:240px'>"
        "<p><button>Send parcel</button></p></body>"
    )
    url = "data:text/html;charset=utf-8," + urllib.parse.quote(page)
    with pytest.MonkeyPatch.context() as patch:
        # Chromium joins the accessibility bus only when told accessibility is on (as a screen reader does);
        # --force-renderer-accessibility (the Desktop adds it) then exposes the page itself.
        patch.setenv("ACCESSIBILITY_ENABLED", "1")
        with Desktop(1280, 800, accessibility=True) as desktop, Chromium(desktop, url, title="Shipping form"):
            for key, value in desktop.x_env().items():
                if key in ("DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS"):
                    patch.setenv(key, value)
            _check_chromium_page()


def _check_chromium_page() -> None:
    """The page's button and labelled field are in the tree, where OCR reads the button's caption."""
    deadline = time.monotonic() + 20
    nodes: list[Node] = []
    while time.monotonic() < deadline:
        reading, windows = _read(max_seconds=5.0)
        nodes = visible_nodes(reading, windows)
        if named(nodes, "Send parcel") and fields_for(nodes, "City"):
            break
        time.sleep(0.5)
    button = named(nodes, "Send parcel")
    assert button and button[0].role in ("push button", "button"), [(n.role, n.name) for n in nodes][:60]
    city = fields_for(nodes, "City")
    assert city and city[0].value == "Zürich"
    ox1, oy1, ox2, oy2 = _ocr_box("Send parcel")
    x1, y1, x2, y2 = button[0].box  # type: ignore[misc]
    assert x1 - 2 <= ox1 and y1 - 2 <= oy1 and ox2 <= x2 + 2 and oy2 <= y2 + 2, (button[0].box, (ox1, oy1, ox2, oy2))

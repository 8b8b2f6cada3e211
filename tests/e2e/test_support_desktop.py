"""Self-check of the "real applications" harness: the shop app, Desktop, Chromium and Mousepad.

No MCP server here: the shop is posted to with httpx, and the desktop is driven with ``xdotool``
directly, to prove the harness itself works before other tests build on it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support.desktop import Chromium, Desktop, DesktopError, Mousepad, screenshot, skip_reason
from tests.support.shop import CHROMIUM_CHOOSE_FILE, ShopServer, ShopVariant, parse_multipart, random_variant
from tests.support.shop.variant import LABEL_PLACEMENTS, LANGS

SHOTS = Path(os.environ.get("SHOP_SHOTS", "/tmp/shots"))


# -- the shop app, no browser -----------------------------------------------------------------------


def test_shop_records_a_multipart_post_with_a_file() -> None:
    variant = ShopVariant.default("zh")
    image = os.urandom(3000) + b"\r\n--not-a-boundary\r\n\r\n" + bytes(range(256))
    with ShopServer(variant) as shop:
        form = {"name": "Zoë 你好", "price": "12.50", "stock": "7", "category": variant.categories[1], "featured": "on"}
        response = httpx.post(
            shop.url + "/products", data=form, files={"image": ("猫.png", image, "image/png")}, timeout=10
        )
        assert response.status_code == 200
        assert variant.texts["published"] in response.text and "Zoë 你好" in response.text
        submission = shop.wait_for_submission(timeout=5)
        assert {k: submission[k] for k in form} == form
        assert submission["image"] == {
            "filename": "猫.png",
            "size": len(image),
            "sha256": hashlib.sha256(image).hexdigest(),
        }
        # The published product shows up in the list.
        listing = httpx.get(shop.url + "/products", timeout=10).text
        assert "Zoë 你好" in listing and variant.texts["add_product"] in listing
        assert shop.requested("/products", "POST")
        with pytest.raises(TimeoutError):
            shop.wait_for_submission(timeout=0.2)


def test_parse_multipart_as_chromium_sends_it() -> None:
    boundary = "----WebKitFormBoundaryAbC123"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="name"\r\n\r\n'
        'Tee; "quoted"\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="image"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
        f"\r\n--{boundary}--\r\n"
    ).encode()
    assert parse_multipart(body, f"multipart/form-data; boundary={boundary}") == {
        "name": 'Tee; "quoted"',
        "image": None,  # no file chosen
    }


@pytest.mark.parametrize("seed", range(6))
def test_every_variant_serves_its_texts(seed: int) -> None:
    variant = random_variant(seed)
    assert random_variant(seed) == variant  # reproducible
    with ShopServer(variant) as shop:
        listing = httpx.get(shop.url + "/", timeout=10).text
        form = httpx.get(shop.url + "/products/new", timeout=10).text
    for key in ("nav_products", "add_product", "col_product"):
        assert variant.texts[key] in listing
    assert variant.texts["publish"] in form
    for label in variant.labels.values():
        assert label in form
    assert 'type="file" id="image" name="image" accept="image/*"' in form
    assert variant.texts["choose_file"] == CHROMIUM_CHOOSE_FILE


def test_random_variants_cover_the_options() -> None:
    variants = [random_variant(seed) for seed in range(60)]
    assert {v.lang for v in variants} == set(LANGS)
    assert {v.label_placement for v in variants} == set(LABEL_PLACEMENTS)
    assert {v.field_style for v in variants} == {"bordered", "underline", "filled"}
    assert {v.theme for v in variants} == {"light", "dark"}
    assert all(13 <= v.font_size <= 17 for v in variants)


# -- the real desktop ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with Desktop(1366, 768) as running:
        yield running


def _needs(part: str) -> None:
    reason = skip_reason(part)
    if reason:
        pytest.skip(reason)


def _not_blank(path: Path) -> None:
    with Image.open(path) as img:
        assert img.size == (1366, 768)
        colours = img.convert("RGB").resize((137, 77)).getcolors(maxcolors=100_000)
    assert colours is not None and len(colours) > 20, f"{path} looks blank"


def test_desktop_runs_openbox_with_a_session_bus(desktop: Desktop) -> None:
    assert desktop.window_manager() == "Openbox"
    env = desktop.env()
    assert env["DBUS_SESSION_BUS_ADDRESS"].startswith("unix:")
    assert env["LANG"] == "C.UTF-8" and env["NO_AT_BRIDGE"] == "1"
    assert env["HOME"] == str(desktop.home) and (desktop.home / "Documents").is_dir()


def test_chromium_shows_the_product_list_and_the_form(desktop: Desktop) -> None:
    _needs("chromium")
    variant = ShopVariant.default("en")
    with ShopServer(variant) as shop:
        started = time.monotonic()
        with Chromium(desktop, shop.url + "/products", ready=lambda: shop.requested("/products")) as chromium:
            assert chromium.window_id in desktop.windows(cls="chromium")
            chromium.wait_for_title(variant.texts["products_title"])
            x, y, width, height = desktop.window_geometry(chromium.window_id)
            assert (x, y) == (0, 0) and width >= 1300 and height >= 700, "Chromium is not maximised"
            _not_blank(screenshot(desktop, SHOTS / "selfcheck-products.png", settle=2.0))

            since = time.monotonic()
            chromium.navigate(shop.url + "/products/new")
            shop.wait_for_request("/products/new", timeout=10, since=since)
            chromium.wait_for_title(variant.texts["new_product_title"])
            _not_blank(screenshot(desktop, SHOTS / "selfcheck-form.png", settle=2.0))
            pids = [chromium.pid]
        assert time.monotonic() - started < 30
    assert pids[0] is not None and not Path(f"/proc/{pids[0]}").exists(), "Chromium outlived stop()"
    assert chromium.user_data_dir is None


def test_mousepad_types_and_opens_the_save_dialog(desktop: Desktop) -> None:
    _needs("mousepad")
    with Mousepad(desktop) as mousepad:
        assert "Mousepad" in mousepad.title()
        mousepad.activate()
        desktop.xdotool("type", "--delay", "20", "hello")
        mousepad.wait_for_title("*")  # an unsaved change marks the title
        desktop.xdotool("key", "ctrl+s")
        dialog = desktop.wait_for_window(name="^Save As$", pid=mousepad.pid, timeout=10)
        assert dialog != mousepad.window_id
        desktop.wait_for_active(dialog)
        time.sleep(0.3)  # GTK focuses the "Name:" entry just after the dialog gets the focus
        screenshot(desktop, SHOTS / "selfcheck-mousepad-save.png", settle=1.0)
        # The dialog's "Name:" field has the focus: save into the folder it shows (the home folder).
        desktop.xdotool("type", "--delay", "30", "note.txt")
        # Return right after typing is swallowed while the entry's file-name completion is pending.
        time.sleep(0.5)
        desktop.xdotool("key", "Return")
        saved = desktop.home / "note.txt"
        deadline = time.monotonic() + 10
        while not (saved.exists() and saved.read_text() == "hello") and time.monotonic() < deadline:
            time.sleep(0.1)
        screenshot(desktop, SHOTS / "selfcheck-mousepad-saved.png")
        assert saved.read_text() == "hello"
        mousepad.wait_for_title("note.txt")


def test_a_missing_program_is_a_clear_error(desktop: Desktop) -> None:
    with pytest.raises(DesktopError, match="no window"):
        desktop.wait_for_window(name="^no such window$", timeout=0.3)
    assert skip_reason("desktop", "chromium", "mousepad") is None or "apt-get install" in str(
        skip_reason("desktop", "chromium", "mousepad")
    )

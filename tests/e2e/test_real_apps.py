"""The real-application bench: Debian's Chromium and mousepad under openbox, driven through the MCP tools.

No model (OCR only), the server over stdio as a host runs it. The shop's server records what it
received, and mousepad's file on disk proves the save: every step's own report is checked against
what really happened, so a step may never claim an effect that did not happen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.support.desktop import Chromium, Desktop, Mousepad, skip_reason
from tests.support.markers import needs_display
from tests.support.servers import mcp_client
from tests.support.shop import ShopServer, ShopVariant, random_variant
from tests.support.shop.publish import NAME, PRICE, STOCK, headset_image

pytestmark = [needs_display, pytest.mark.slow]


def needs(*parts: str) -> Any:
    """Skip, naming the missing apt packages, when the desktop or an app is not installed."""
    reason = skip_reason(*parts)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def _desktop(width: int, height: int) -> Iterator[Desktop]:
    if skip_reason("desktop") is not None:
        pytest.skip(skip_reason("desktop") or "")
    with Desktop(width, height) as screen:
        yield screen


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    """A 1366x768 desktop under openbox, for the module."""
    yield from _desktop(1366, 768)


@pytest.fixture(scope="module")
def full_hd() -> Iterator[Desktop]:
    """A 1920x1080 desktop under openbox, for the module."""
    yield from _desktop(1920, 1080)


def server_env(desktop: Desktop, tmp_path: Path) -> dict[str, str]:
    """The MCP server's environment: this desktop's display, a private audit log."""
    return {
        **desktop.x_env(),
        "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
        "VLM_DESKTOP_POLICY__RATE_LIMIT_ACTIONS": "0",
    }


async def act(client: Client, action: dict[str, Any]) -> dict[str, Any]:
    """Run one action; a failed step fails the test with the server's own words."""
    result = await client.call_tool("execute_action", {"action": action})
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert not result.is_error, f"{action}: {text}"
    data = result.structured_content
    assert data is not None
    return data


async def publish(client: Client, shop: ShopServer, variant: ShopVariant, image: Path) -> None:
    """The walkthrough's task: product management, add product, fill, upload, publish."""
    texts, labels = variant.texts, variant.labels
    opened = await act(client, {"type": "click_text", "text": texts["nav_products"]})
    assert opened["effect"] == "changed"
    shop.wait_for_request("/products")
    added = await act(client, {"type": "click_text", "text": texts["add_product"]})
    assert added["effect"] == "changed"
    shop.wait_for_request("/products/new")
    for field, value in (("name", NAME[variant.lang]), ("price", PRICE), ("stock", STOCK)):
        filled = await act(client, {"type": "fill_input", "label": labels[field], "value": value})
        assert [(c["name"], c["ok"]) for c in filled["checks"]] == [("value in field", True)], filled["checks"]
    uploaded = await act(client, {"type": "upload_file", "path": str(image), "label": texts["choose_file"]})
    assert all(c["ok"] for c in uploaded["checks"]), uploaded["checks"]
    await act(client, {"type": "click_text", "text": texts["publish"]})


def check_published(shop: ShopServer, variant: ShopVariant, image: Path) -> None:
    received = shop.wait_for_submission(timeout=15)
    assert received["name"] == NAME[variant.lang]
    assert received["price"] == PRICE and received["stock"] == STOCK
    upload = received["image"]
    assert upload is not None and upload["filename"] == image.name
    assert upload["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()


VARIANTS = [ShopVariant.default("en"), ShopVariant.default("zh"), *(random_variant(seed) for seed in (3, 8, 11, 21))]


async def publish_and_check(desktop: Desktop, tmp_path: Path, variant: ShopVariant) -> None:
    """The whole task on a fresh shop in a fresh Chromium, then what the shop received."""
    image = headset_image(tmp_path)
    with ShopServer(variant) as shop, Chromium(
        desktop, f"{shop.url}/dashboard", ready=lambda: shop.requested("/dashboard")
    ):
        async with mcp_client("stdio", server_env(desktop, tmp_path), ["--backend", "none"]) as client:
            await publish(client, shop, variant, image)
        check_published(shop, variant, image)


@needs("desktop", "chromium")
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.describe())
async def test_publish_a_product_in_chromium(desktop: Desktop, tmp_path: Path, variant: ShopVariant) -> None:
    await publish_and_check(desktop, tmp_path, variant)


@needs("desktop", "chromium")
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_publish_a_product_at_1080p(full_hd: Desktop, tmp_path: Path, lang: str) -> None:
    await publish_and_check(full_hd, tmp_path, ShopVariant.default(lang))  # type: ignore[arg-type]


@needs("desktop", "chromium")
async def test_a_click_on_part_of_the_asked_text_is_never_made(desktop: Desktop, tmp_path: Path) -> None:
    """The list shows "Product" (a column header, the sidebar) but not "Add a product": nothing is clicked."""
    variant = ShopVariant.default("en")
    with ShopServer(variant) as shop, Chromium(
        desktop, f"{shop.url}/products", ready=lambda: shop.requested("/products")
    ):
        async with mcp_client("stdio", server_env(desktop, tmp_path), ["--backend", "none"]) as client:
            action = {"type": "click_text", "text": "Add a product"}
            result = await client.call_tool("execute_action", {"action": action})
        assert result.is_error and "not visible" in result.content[0].text  # type: ignore[union-attr]
        assert not shop.requested("/products/new")


@needs("desktop", "chromium")
@pytest.mark.parametrize("broken", ["file removed after the dialog opened", "no dialog opens"])
async def test_a_broken_upload_fails_at_the_stage_that_broke(desktop: Desktop, tmp_path: Path, broken: str) -> None:
    variant = ShopVariant.default("en")
    image = headset_image(tmp_path)
    with ShopServer(variant) as shop, Chromium(
        desktop, f"{shop.url}/products/new", ready=lambda: shop.requested("/products/new")
    ):
        async with mcp_client("stdio", server_env(desktop, tmp_path), ["--backend", "none"]) as client:
            if broken == "no dialog opens":  # the name field's label opens nothing
                action = {"type": "upload_file", "path": str(image), "label": variant.labels["name"]}
                result = await client.call_tool("execute_action", {"action": action})
                stage = "open dialog"
            else:
                action = {"type": "upload_file", "path": str(image), "label": variant.texts["choose_file"]}

                async def remove_when_the_dialog_opens() -> None:
                    await anyio.to_thread.run_sync(lambda: desktop.wait_for_window(name="Open File", timeout=20))
                    image.unlink()

                async with anyio.create_task_group() as group:
                    group.start_soon(remove_when_the_dialog_opens)
                    result = await client.call_tool("execute_action", {"action": action})
                stage = "enter path"  # confirming a path that no longer exists is never tried
            text = result.content[0].text  # type: ignore[union-attr]
            assert result.is_error and f"stage '{stage}'" in text, text
            assert "Nothing after this stage was sent" in text
            await client.call_tool("execute_action", {"action": {"type": "key", "keys": ["escape"]}})
        assert not shop.received


@needs("desktop", "mousepad")
async def test_mousepad_save_as_writes_the_typed_unicode_text(desktop: Desktop, tmp_path: Path) -> None:
    text = "Zoë Ñandú 你好 — saved by an agent"
    target = desktop.home / "notes-你好.txt"
    with Mousepad(desktop):
        async with mcp_client("stdio", server_env(desktop, tmp_path), ["--backend", "none"]) as client:
            await act(client, {"type": "type", "text": text})
            await act(client, {"type": "click_text", "text": "File"})
            await act(client, {"type": "click_text", "text": "Save As…"})
            named = await act(client, {"type": "fill_input", "label": "Name", "value": target.name})
            assert named["checks"][0]["ok"], named
            await act(client, {"type": "click_text", "text": "Save", "near": "Cancel"})
        for _ in range(50):
            if target.exists():
                break
            await anyio.sleep(0.1)
    assert target.read_text(encoding="utf-8") == text

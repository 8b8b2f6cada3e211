"""The publish-a-product task on randomized shops in Debian's Chromium, through the MCP tools, with no model.

Each variant is a shop the tests never saw (labels, placements, field styles, themes, font sizes,
English or Chinese: tests/support/shop). The script drives it as a host would, over stdio, and
compares every step's own report with what the shop's server received. It prints one JSON line
per variant and a summary: fill_input success per field style and label placement, upload success,
published products, and false claims (a step that reported success for an effect that did not happen).

    .venv/bin/python bench/real_apps.py --variants 12 --seed 100 --size 1366x768 --size 1920x1080
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.desktop import Chromium, Desktop, screenshot, skip_reason  # noqa: E402
from tests.support.servers import mcp_client  # noqa: E402
from tests.support.shop import ShopServer, ShopVariant, random_variant  # noqa: E402
from tests.support.shop.publish import NAME, PRICE, STOCK, headset_image  # noqa: E402

SHOTS: Path | None = None
"""Where a screenshot of the screen is saved when a step fails (--shots)."""


async def step(client: Any, action: dict[str, Any], desktop: Desktop | None = None) -> dict[str, Any]:
    """One action's outcome: ok (no error), the error text, and what it claimed."""
    result = await client.call_tool("execute_action", {"action": action})
    if result.is_error and SHOTS is not None and desktop is not None:
        path = SHOTS / f"{time.strftime('%H%M%S')}-{action['type']}.png"
        await anyio.to_thread.run_sync(lambda: screenshot(desktop, path))
    data = result.structured_content or {}
    return {
        "action": action["type"],
        "ok": not result.is_error,
        "error": result.content[0].text[:300] if result.is_error and result.content else None,
        "effect": data.get("effect"),
        "checks": {c["name"]: c["ok"] for c in data.get("checks", [])},
    }


async def run_variant(client: Any, desktop: Desktop, variant: ShopVariant, image: Path, sha: str) -> dict[str, Any]:
    """Publish one product; returns the steps, what the server received, and the verdicts."""
    steps: list[dict[str, Any]] = []
    values = {"name": NAME[variant.lang], "price": PRICE, "stock": STOCK}
    with ShopServer(variant) as shop, Chromium(
        desktop, f"{shop.url}/dashboard", ready=lambda: shop.requested("/dashboard")
    ):
        steps.append(await step(client, {"type": "click_text", "text": variant.texts["nav_products"]}, desktop))
        steps.append(await step(client, {"type": "click_text", "text": variant.texts["add_product"]}, desktop))
        for field, value in values.items():
            fill = {"type": "fill_input", "label": variant.labels[field], "value": value}
            steps.append(await step(client, fill, desktop))
        upload = {"type": "upload_file", "path": str(image), "label": variant.texts["choose_file"]}
        steps.append(await step(client, upload, desktop))
        steps.append(await step(client, {"type": "click_text", "text": variant.texts["publish"]}, desktop))
        try:
            received: dict[str, Any] | None = dict(shop.wait_for_submission(timeout=8))
        except TimeoutError:
            received = None
    fills = steps[2:5]
    attached = received is not None and (received.get("image") or {}).get("sha256") == sha
    fields_ok = {f: received is not None and received.get(f) == v for f, v in values.items()}
    false_claims = 0
    if received is not None:  # a success report for a value that did not arrive
        false_claims += sum(s["ok"] and not fields_ok[f] for s, f in zip(fills, values, strict=True))
        false_claims += int(steps[5]["ok"] and not attached)
    published = received is not None and all(fields_ok.values()) and attached
    false_claims += int(steps[6]["ok"] and received is None and all(s["ok"] for s in steps[:6]))
    return {
        "variant": variant.describe(),
        "style": variant.field_style,
        "placement": variant.label_placement,
        "steps": steps,
        "fills_ok": [s["ok"] for s in fills],
        "upload_ok": steps[5]["ok"],
        "published": published,
        "false_claims": false_claims,
    }


async def main_async(args: argparse.Namespace) -> int:
    reason = skip_reason("desktop", "chromium")
    if reason:
        print(f"real_apps: {reason}", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        image = headset_image(Path(folder))
        sha = hashlib.sha256(image.read_bytes()).hexdigest()
        for size in args.size:
            width, height = (int(v) for v in size.split("x"))
            with Desktop(width, height) as desktop:
                env = {**desktop.x_env(), "VLM_DESKTOP_AUDIT__PATH": f"{folder}/audit.jsonl"}
                env["VLM_DESKTOP_POLICY__RATE_LIMIT_ACTIONS"] = "0"
                async with mcp_client("stdio", env, ["--backend", "none"]) as client:
                    for n in range(args.variants):
                        variant = random_variant(args.seed + n)
                        row = {"size": size, **await run_variant(client, desktop, variant, image, sha)}
                        print(json.dumps(row, ensure_ascii=False), flush=True)
                        rows.append(row)
    fill = Counter[str]()
    fill_ok = Counter[str]()
    for row in rows:
        for key in (f"style:{row['style']}", f"placement:{row['placement']}"):
            fill[key] += len(row["fills_ok"])
            fill_ok[key] += sum(row["fills_ok"])
    summary = {
        "variants": len(rows),
        "published": sum(r["published"] for r in rows),
        "upload_ok": sum(r["upload_ok"] for r in rows),
        "fill_input": {k: f"{fill_ok[k]}/{fill[k]}" for k in sorted(fill)},
        "false_claims": sum(r["false_claims"] for r in rows),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=12, help="random shops per screen size")
    parser.add_argument("--seed", type=int, default=100, help="first variant seed (tests use 3, 8, 11, 21)")
    parser.add_argument("--size", action="append", help="screen size WxH (repeatable; default 1366x768)")
    parser.add_argument("--shots", type=Path, help="save a screenshot here whenever a step fails")
    args = parser.parse_args()
    global SHOTS
    SHOTS = args.shots
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
    args.size = args.size or ["1366x768"]
    return anyio.run(main_async, args)


if __name__ == "__main__":
    raise SystemExit(main())

"""Per-call server overhead, measured through real MCP clients on a real (virtual) display.

    .venv/bin/python bench/overhead.py [--calls 50]

Starts its own Xvfb (1920x1080) and the stand-in model server (which answers at once, so model
latency is ~0 and what remains is our overhead: capture, PNG encoding, HTTP to the model, parsing,
MCP framing). Reports medians per transport for:

* ``execute_action`` dry run (validation + event planning + MCP round trip, no input sent);
* ``describe_screen`` (capture + resize + PNG + model request + parsing + MCP round trip);
* ``describe_screen`` with ``include_screenshot`` (adds the client image).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import mcp_client  # noqa: E402
from tests.support.standin.scenario import Scenario  # noqa: E402
from tests.support.standin.server import StandIn  # noqa: E402
from tests.support.xvfb import start_xvfb  # noqa: E402

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "execute_action dry-run": ("execute_action", {"action": {"type": "click", "x": 10, "y": 10}, "dry_run": True}),
    "describe_screen": ("describe_screen", {}),
    "describe_screen + image": ("describe_screen", {"include_screenshot": True}),
}


async def measure(transport: str, env: dict[str, str], base_url: str, calls: int) -> dict[str, float]:
    """Median milliseconds per case over ``calls`` sequential calls (after one warm-up)."""
    medians: dict[str, float] = {}
    async with mcp_client(transport, env, ["--base-url", base_url]) as client:
        for label, (tool, args) in CASES.items():
            await client.call_tool(tool, args)
            samples = []
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool(tool, args)
                samples.append((time.perf_counter() - started) * 1000)
                assert not result.is_error, result.content
            medians[label] = round(statistics.median(samples), 1)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    xvfb = start_xvfb(1920, 1080)
    try:
        with StandIn() as standin:
            frame = {"x": 0, "y": 0, "width": 1920, "height": 1080}
            elements = [
                {"type": "button", "label": f"Button {i}", "box": [40 + 90 * i, 40, 120 + 90 * i, 80]}
                for i in range(20)
            ]
            standin.set_scenario(Scenario(frame=frame, elements=elements, plan=[]))
            report: dict[str, Any] = {
                "machine": f"{platform.node()} {platform.machine()} {platform.processor() or ''}".strip(),
                "python": platform.python_version(),
                "screen": "1920x1080 Xvfb",
                "calls": args.calls,
                "median_ms": {},
            }
            for transport in ("stdio", "http", "sse"):
                report["median_ms"][transport] = anyio.run(measure, transport, xvfb.env(), standin.base_url, args.calls)
    finally:
        xvfb.stop()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

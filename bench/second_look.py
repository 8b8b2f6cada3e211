"""What the second look buys when the model's first answer is off: clicks that land, miss, or abstain.

    .venv/bin/python bench/generate_ui.py --out /tmp/grounding --screens 8 --seed 5 --sizes 1366x768
    .venv/bin/python bench/second_look.py --dataset /tmp/grounding --off 0,40,80 [--json out.json]

For every target of a generated grounding set, the stand-in model (tests/support/standin) is shown the
screen with that target as its one element (labelled by the instruction), its first whole-screen
grounding answer shifted ``--off`` pixels to the right (``first_point_off``); answers on a crop are
exact, found by the stand-in from the pixels. Each target is grounded twice over real HTTP: once
**without** the second look (one grounding call, its answer used: ``SecondLook.single``, what
``desktop.second_look: false`` does) and once **with** it (``SecondLook.look`` with no plan point, as
``click_text``'s model fallback runs it: a lone answer is looked at again, zoomed). Outcomes: **landed**
(the point is inside the target's box), **wrong** (a point outside it: a click in the wrong place),
**abstained** (no point: the candidates are returned, nothing is clicked), and the model calls made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.vlm.backends.openai_http import OpenAIHTTPBackend  # noqa: E402
from engine.vlm.refine import Look, SecondLook  # noqa: E402
from engine.vlm.vision import VisionEngine  # noqa: E402
from tests.support.standin.server import StandIn  # noqa: E402


def outcome(look: Look, box: tuple[float, float, float, float]) -> str:
    """landed, wrong or abstained."""
    if look.point is None:
        return "abstained"
    x1, y1, x2, y2 = box
    return "landed" if x1 <= look.point[0] <= x2 and y1 <= look.point[1] <= y2 else "wrong"


async def run(dataset: Path, offsets: list[int]) -> dict[str, Any]:
    """Every target, every offset, without and with the second look."""
    items = json.loads((dataset / "dataset.json").read_text(encoding="utf-8"))
    report: dict[str, Any] = {"items": len(items), "offsets": {}}
    with StandIn() as standin:
        engine = VisionEngine(OpenAIHTTPBackend(standin.base_url, "Qwen/Qwen3-VL-2B-Instruct"))
        finder = SecondLook(engine)
        try:
            for off in offsets:
                counts: dict[str, Counter[str]] = {"without": Counter(), "with": Counter()}
                for item in items:
                    with Image.open(dataset / "images" / item["img_filename"]) as opened:
                        image = opened.convert("RGB")
                    x, y, w, h = item["bbox"]
                    box = (x, y, x + w, y + h)
                    element = {"type": "button", "label": item["instruction"], "box": list(box)}
                    frame = {"x": 0, "y": 0, "width": image.width, "height": image.height}
                    for mode in ("without", "with"):
                        standin.set_scenario({"frame": frame, "elements": [element], "first_point_off": off})
                        single = mode == "without"
                        look = await (
                            finder.single(image, item["instruction"])
                            if single
                            else finder.look(image, item["instruction"])
                        )
                        counts[mode][outcome(look, box)] += 1
                        counts[mode]["calls"] += look.calls
                report["offsets"][str(off)] = {mode: dict(c) for mode, c in counts.items()}
                print(f"off {off:4} px: {report['offsets'][str(off)]}", file=sys.stderr, flush=True)
        finally:
            await engine.backend.aclose()
    return report


def main() -> int:
    """Parse the arguments, run, print one JSON line (and write it with --json)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True, help="bench/generate_ui.py's --out folder")
    parser.add_argument("--off", default="0,40,80", help="first-answer offsets in pixels, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    report = asyncio.run(run(args.dataset, [int(v) for v in args.off.split(",")]))
    text = json.dumps(report, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the second look buys when the model's first answer is off: clicks that land, miss, or abstain.

    .venv/bin/python bench/generate_ui.py --out /tmp/grounding --screens 8 --seed 5 --sizes 1366x768
    .venv/bin/python bench/second_look.py --dataset /tmp/grounding --off 0,40,80 [--twins] [--json out.json]

For every target of a generated grounding set, the stand-in model (tests/support/standin) is shown the
screen with that target as its one element (labelled by the instruction), its first whole-screen
grounding answer shifted ``--off`` pixels to the right (``first_point_off``); answers on a crop are
exact, found by the stand-in from the pixels. Each target is grounded twice over real HTTP: once
**without** the second look (one grounding call, its answer used: ``SecondLook.single``, what
``desktop.second_look: false`` does) and once **with** it (``SecondLook.look`` with no plan point, as
``click_text``'s model fallback runs it: a lone answer is looked at again, zoomed). Outcomes: **landed**
(the point is inside the target's box), **wrong** (a point outside it: a click in the wrong place),
**abstained** (no point: the candidates are returned, nothing is clicked), and the model calls made.

With ``--twins`` every target is also pasted (its pixels copied) at a mirrored place on its screen, and
the stand-in sees both copies under the same label, as two "OK" buttons: the instruction no longer says
which one is meant. Outcomes then: **guessed** (a point on one of the copies: a click the instruction
does not settle), **wrong** (on neither), **abstained**, and **both listed** (abstentions whose
candidates hold a point on each copy).
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

Box = tuple[float, float, float, float]


def on(point: tuple[int, int], box: Box) -> bool:
    """Whether ``point`` lies on ``box``."""
    x1, y1, x2, y2 = box
    return x1 <= point[0] <= x2 and y1 <= point[1] <= y2


def outcome(look: Look, box: Box) -> str:
    """landed, wrong or abstained."""
    if look.point is None:
        return "abstained"
    return "landed" if on(look.point, box) else "wrong"


def twin_outcomes(look: Look, boxes: tuple[Box, Box]) -> list[str]:
    """guessed, wrong or abstained, and "both listed" when an abstention's candidates name each copy."""
    if look.point is not None:
        return ["guessed" if any(on(look.point, b) for b in boxes) else "wrong"]
    listed = all(any(on((c.x, c.y), b) for c in look.candidates) for b in boxes)
    return ["abstained", "both listed"] if listed else ["abstained"]


def twin(image: Image.Image, box: Box) -> Box | None:
    """Paste the pixels of ``box`` at the first mirrored place (left-right, top-bottom, both) clear of it by
    a box's size; the copy's box, or ``None`` when no such place fits."""
    x1, y1, x2, y2 = (round(v) for v in box)
    w, h = x2 - x1, y2 - y1
    for x, y in ((image.width - x2, y1), (x1, image.height - y2), (image.width - x2, image.height - y2)):
        if abs(x - x1) >= 2 * w or abs(y - y1) >= 2 * h:
            image.paste(image.crop((x1, y1, x2, y2)), (x, y))
            return (x, y, x + w, y + h)
    return None


async def run(dataset: Path, offsets: list[int], twins: bool = False) -> dict[str, Any]:
    """Every target, every offset, without and with the second look (each target twice over, with ``twins``)."""
    items = json.loads((dataset / "dataset.json").read_text(encoding="utf-8"))
    report: dict[str, Any] = {"items": len(items), "twins": twins, "offsets": {}}
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
                    boxes = [box]
                    if twins:
                        copy = twin(image, box)
                        if copy is None:
                            counts["without"]["no room for a copy"] += 1
                            continue
                        boxes.append(copy)
                    elements = [{"type": "button", "label": item["instruction"], "box": list(b)} for b in boxes]
                    frame = {"x": 0, "y": 0, "width": image.width, "height": image.height}
                    for mode in ("without", "with"):
                        standin.set_scenario({"frame": frame, "elements": elements, "first_point_off": off})
                        single = mode == "without"
                        look = await (
                            finder.single(image, item["instruction"])
                            if single
                            else finder.look(image, item["instruction"])
                        )
                        if twins:
                            counts[mode].update(twin_outcomes(look, (boxes[0], boxes[1])))
                        else:
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
    parser.add_argument("--twins", action="store_true", help="each target also pasted at a mirrored place")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    report = asyncio.run(run(args.dataset, [int(v) for v in args.off.split(",")], args.twins))
    text = json.dumps(report, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

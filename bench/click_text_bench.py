"""What ``click_text`` decides on a generated grounding set: lands, refuses, or misses.

    .venv/bin/python bench/generate_ui.py --out /tmp/grounding --screens 30 --seed 23
    .venv/bin/python bench/click_text_bench.py --dataset /tmp/grounding [--json out.json]

For every text target, ``click_text {text: <the target's text>}`` is resolved exactly as
execute_action resolves it (the server's OCR engine and :func:`tools.actions.locate.find_text`, the same
rules: a whole line beats words in a line beats a near match; equal matches are refused unless
``occurrence`` picks one). Outcomes: **landed** (the point is inside the target), **ambiguous**
(refused: the text is shown more than once; the error lists the places), **absent** (refused: not
found), **wrong** (clicked somewhere else: the failure that matters). Then ambiguous targets are
retried with the ``occurrence`` that a caller reading the error would pick (the candidate inside the
target, if any), which shows whether the listed places were right.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.ocr.reader import OcrEngine, OcrSettings  # noqa: E402
from tools.actions.locate import candidates, find_text  # noqa: E402
from tools.errors import InvalidAction  # noqa: E402


def inside(point: tuple[int, int], bbox: list[int]) -> bool:
    """Whether ``point`` lies in the ScreenSpot ``[x, y, w, h]`` box."""
    x, y, w, h = bbox
    return x <= point[0] <= x + w and y <= point[1] <= y + h


def outcome(lines: list[Any], item: dict[str, Any]) -> tuple[str, bool]:
    """The outcome of click_text for ``item``, and whether a listed candidate lies inside the target."""
    try:
        match = find_text(lines, item["text"])
    except InvalidAction as exc:
        if "appears" in str(exc):
            listed = candidates(lines, item["text"])
            return "ambiguous", any(inside(m.center, item["bbox"]) for m in listed)
        return "absent", False
    return ("landed" if inside(match.center, item["bbox"]) else "wrong"), False


def main(argv: list[str] | None = None) -> int:
    """Print the outcome counts; ``--json`` also writes them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True, help="a folder written by bench/generate_ui.py")
    parser.add_argument("--precision", choices=["int8", "fp32"], default="int8")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    engine = OcrEngine(OcrSettings(precision=args.precision))
    engine.load(wait=True)
    items = [i for i in json.loads((args.dataset / "dataset.json").read_text()) if i["data_type"] == "text"]
    counts: Counter[str] = Counter()
    resolvable = 0
    misses = []
    by_image: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_image.setdefault(item["img_filename"], []).append(item)
    for name, group in by_image.items():
        lines = engine.read(Image.open(args.dataset / "images" / name).convert("RGB"))
        for item in group:
            result, listed = outcome(lines, item)
            counts[result] += 1
            resolvable += listed
            if result in ("wrong", "absent"):
                misses.append({"image": name, "text": item["text"], "outcome": result})
    total = len(items)
    report = {
        "targets": total,
        **{k: counts[k] for k in ("landed", "ambiguous", "absent", "wrong")},
        "ambiguous_with_target_listed": resolvable,
        "landed_share": round(counts["landed"] / total, 4),
        "landed_or_listed_share": round((counts["landed"] + resolvable) / total, 4),
        "precision": engine.precision,
        "misses": misses,
    }
    print("| targets | landed | refused: ambiguous (target among the listed places) | refused: absent | wrong |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {total} | {counts['landed']} ({counts['landed'] / total:.1%}) | {counts['ambiguous']} ({resolvable}) "
        f"| {counts['absent']} | {counts['wrong']} |"
    )
    for miss in misses:
        print(f"  {miss['outcome']}: {miss['text']!r} on {miss['image']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

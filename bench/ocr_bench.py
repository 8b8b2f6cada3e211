"""OCR speed and grounding accuracy: rapidocr's defaults against this project's tuned pipeline.

    .venv/bin/python bench/generate_ui.py --out /tmp/grounding --screens 24
    .venv/bin/python bench/ocr_bench.py --dataset /tmp/grounding [--repeats 5] [--json out.json]

In one run, on the same images:

* **accuracy**: click accuracy on the generated set's text targets for each configuration (the same
  text matcher, :mod:`engine.textfind`, on each configuration's OCR lines), and seconds per screen;
* **speed on 1920x1080**: median full-pass time on the sparsest and busiest generated 1920x1080
  screens, and on a synthetic worst case (a screen-filling table, 384 cells), for rapidocr's defaults
  (``RapidOCR()(image)``) and the tuned pipeline (its crop cache off, so every pass is a real one);
* **cache**: an unchanged screen again (``cached``), and the same screen with a field's text changed
  (``incremental``), as ratios of the tuned full pass.

Prints Markdown tables; ``--json`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.ocr import OcrEngine, OcrSettings, TextBox  # noqa: E402
from engine.ocr_cache import ScreenReader  # noqa: E402
from engine.textfind import TextIndex, instruction_queries  # noqa: E402

Reader = Callable[[Image.Image], list[TextBox]]
TUNED = "tuned (det 1600, the default)"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def rapidocr_defaults() -> Reader:
    """``RapidOCR()`` exactly as shipped (PP-OCRv6 small det/rec, orientation classifier on)."""
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})

    def read(image: Image.Image) -> list[TextBox]:
        result = engine(image)
        if getattr(result, "txts", None) is None:
            return []
        lines = []
        for points, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            xs, ys = [int(p[0]) for p in points], [int(p[1]) for p in points]
            lines.append(TextBox(str(text), (min(xs), min(ys), max(xs), max(ys)), float(score)))
        return lines

    return read


def tuned(**overrides: Any) -> Reader:
    """This project's pipeline (``OcrSettings`` defaults unless overridden), crop cache off."""
    engine = OcrEngine(OcrSettings(crop_cache_size=0, **overrides))
    engine.load(wait=True)  # with INT8 recognition: build (or load) the INT8 copy first
    return engine.read


def timed(read: Reader, image: Image.Image, repeats: int) -> tuple[float, list[TextBox]]:
    """Median seconds of ``repeats`` passes (after one warm-up), and the lines of the last."""
    lines = read(image)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        lines = read(image)
        times.append(time.perf_counter() - started)
    return statistics.median(times), lines


def accuracy(read: Reader, dataset: Path) -> dict[str, float]:
    """Text-target click accuracy of ``read`` on the generated set, and mean seconds per screen."""
    items = [i for i in json.loads((dataset / "dataset.json").read_text()) if i["data_type"] == "text"]
    by_image: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_image.setdefault(item["img_filename"], []).append(item)
    hits, exact, seconds = 0, 0, []
    for name, group in by_image.items():
        image = Image.open(dataset / "images" / name).convert("RGB")
        started = time.perf_counter()
        lines = read(image)
        index = TextIndex(lines)
        seconds.append(time.perf_counter() - started)
        for item in group:
            exact += read_exactly(lines, item)
            point = None
            for query in instruction_queries(item["instruction"]):
                found = index.find(query)
                if found:
                    point = found[0].center
                    break
            x, y, w, h = item["bbox"]
            hits += point is not None and x <= point[0] <= x + w and y <= point[1] <= y + h
    return {
        "targets": len(items),
        "screens": len(by_image),
        "accuracy": round(hits / len(items), 4),
        "read_exactly": round(exact / len(items), 4),
        "s_per_screen": round(statistics.mean(seconds), 2),
    }


def read_exactly(lines: list[TextBox], item: dict[str, Any]) -> bool:
    """Whether a line touching the target's box holds its text exactly (stricter than a click landing)."""
    x, y, w, h = item["bbox"]
    return any(
        item["text"] in line.text
        for line in lines
        if line.box[0] <= x + w and line.box[2] >= x and line.box[1] <= y + h and line.box[3] >= y
    )


def worst_case() -> Image.Image:
    """A 1920x1080 screen filled with a 8x48 table of short labels (384 text cells)."""
    image = Image.new("RGB", (1920, 1080), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 13)
    words = ["File", "Edit", "View", "Save", "Open", "Close", "Submit", "Cancel", "Name", "Email", "City", "Status"]
    for row in range(48):
        for col in range(8):
            text = f"{words[(row * 7 + col * 3) % len(words)]} {words[(row + col) % len(words)]} {row * 97 + col}"
            draw.text((10 + col * 238, 8 + row * 22), text, fill="black", font=font)
    return image


def changed_copy(image: Image.Image) -> Image.Image:
    """The same screen with new text typed into a 300x28 field near its middle."""
    copy = image.copy()
    draw = ImageDraw.Draw(copy)
    x, y = image.width // 2 - 150, image.height // 2
    draw.rectangle((x, y, x + 300, y + 28), fill="white", outline="grey")
    draw.text((x + 6, y + 6), "Grace Hopper 1906", fill="black", font=ImageFont.truetype(FONT, 14))
    return copy


def cache_ratios(image: Image.Image, full: float, repeats: int) -> dict[str, float]:
    """Cached and incremental pass times as ratios of ``full`` (a tuned full pass)."""
    other = changed_copy(image)
    cached, incremental = [], []
    for _ in range(repeats):
        reader = ScreenReader(OcrEngine())
        reader.read(image)
        started = time.perf_counter()
        assert reader.read(image).how == "cached"
        cached.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert reader.read(other).how == "incremental"
        incremental.append(time.perf_counter() - started)
    return {
        "cached_ratio": round(statistics.median(cached) / full, 4),
        "incremental_ratio": round(statistics.median(incremental) / full, 3),
        "cached_ms": round(statistics.median(cached) * 1000, 1),
        "incremental_ms": round(statistics.median(incremental) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run everything; print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True, help="a folder written by bench/generate_ui.py")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-defaults-accuracy", action="store_true", help="rapidocr's defaults are slow")
    args = parser.parse_args(argv)

    configs: dict[str, Callable[[], Reader]] = {
        "rapidocr defaults": rapidocr_defaults,
        "tuned (det 1600, the default)": tuned,
        "tuned, fp32 recognition": lambda: tuned(precision="fp32"),
        "tuned, det 1280": lambda: tuned(det_max_side=1280),
        "tuned, det 960": lambda: tuned(det_max_side=960),
        "tuned, det full resolution": lambda: tuned(det_max_side=0),
        "tuned, no gap splitting": lambda: tuned(split_gap=0),
    }
    readers = {name: make() for name, make in configs.items()}
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    }

    print("## Grounding accuracy (OCR locator, text targets)\n")
    print("| configuration | targets | click accuracy | read exactly | s / screen |\n|---|---:|---:|---:|---:|")
    results["accuracy"] = {}
    for name, read in readers.items():
        if name == "rapidocr defaults" and args.skip_defaults_accuracy:
            continue
        row = accuracy(read, args.dataset)
        results["accuracy"][name] = row
        print(
            f"| {name} | {row['targets']} | {row['accuracy'] * 100:.1f}% | {row['read_exactly'] * 100:.1f}% "
            f"| {row['s_per_screen']:.2f} |",
            flush=True,
        )

    counts, passes = {}, []
    for path in sorted((args.dataset / "images").glob("*_1920x1080.png")):
        image = Image.open(path).convert("RGB")
        passes.append(timed(readers[TUNED], image, 1)[0])
        counts[path] = len(readers[TUNED](image))
    results["all_1080p"] = {
        "screens": len(passes),
        "median_s": round(statistics.median(passes), 3),
        "max_s": round(max(passes), 3),
    }
    print(
        f"\nTuned full pass over the set's {len(passes)} screens at 1920x1080: "
        f"median {statistics.median(passes):.2f} s, slowest {max(passes):.2f} s."
    )
    screens = {
        f"sparse ({min(counts.values())} lines)": Image.open(min(counts, key=counts.__getitem__)).convert("RGB"),
        f"busy ({max(counts.values())} lines)": Image.open(max(counts, key=counts.__getitem__)).convert("RGB"),
        "worst case: full-screen table (384 cells)": worst_case(),
    }
    print("\n## Full pass on 1920x1080 (median of", args.repeats, "after a warm-up)\n")
    print(
        "| screen | rapidocr defaults | tuned | tuned, fp32 recognition | tuned, det 1280 | speed-up "
        "| cached / full | incremental / full |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    results["speed"] = {}
    for label, image in screens.items():
        default_s, _ = timed(readers["rapidocr defaults"], image, max(1, args.repeats // 2))
        tuned_s, _ = timed(readers[TUNED], image, args.repeats)
        fp32_s, _ = timed(readers["tuned, fp32 recognition"], image, args.repeats)
        fast_s, _ = timed(readers["tuned, det 1280"], image, args.repeats)
        ratios = cache_ratios(image, tuned_s, args.repeats)
        results["speed"][label] = {
            "defaults_s": round(default_s, 3),
            "tuned_s": round(tuned_s, 3),
            "tuned_fp32_s": round(fp32_s, 3),
            "tuned_det1280_s": round(fast_s, 3),
            **ratios,
        }
        print(
            f"| {label} | {default_s:.2f} s | {tuned_s:.2f} s | {fp32_s:.2f} s | {fast_s:.2f} s "
            f"| {default_s / tuned_s:.1f}x "
            f"| {ratios['cached_ratio']:.4f} ({ratios['cached_ms']:.0f} ms) "
            f"| {ratios['incremental_ratio']:.3f} ({ratios['incremental_ms']:.0f} ms) |",
            flush=True,
        )
    print(f"\nMachine: {results['machine']}.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

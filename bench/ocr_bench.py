"""OCR speed and grounding accuracy: rapidocr's defaults against this project's tuned pipeline.

    .venv/bin/python bench/generate_ui.py --out /tmp/grounding --screens 24
    .venv/bin/python bench/ocr_bench.py --dataset /tmp/grounding [--repeats 5] [--json out.json]

In one run, on the same images:

* **accuracy**: click accuracy on the generated set's text targets for each configuration (the same
  text matcher, :mod:`engine.text.find`, on each configuration's OCR lines), and seconds per screen;
* **speed on 1920x1080**: median full-pass time on the sparsest and busiest generated 1920x1080
  screens, and on a synthetic worst case (a screen-filling table, 384 cells), for rapidocr's defaults
  (``RapidOCR()(image)``) and the tuned pipeline (its crop cache off, so every pass is a real one):
  as configured by default (INT8 recognition where its check passed on this machine, else fp32),
  with fp32 recognition, and with INT8 recognition forced; and, as ratios of the tuned pass, with
  its speed levers off (``--levers``: each one off by itself too): the detector on content areas only,
  readings shared between lines of the same content, denormals flushed in the OCR threads; and
  with the faint-text pass off (what reading near-invisible text costs on ordinary screens, as a
  ratio of the same runs);
* **the INT8 check's verdict** on this machine (see :mod:`engine.ocr.int8`);
* **cache**: an unchanged screen again (``cached``), and the same screen with a field's text changed
  (``incremental``), as ratios of the tuned full pass.

Prints Markdown tables; ``--json`` also writes the numbers. ``--speed-only`` skips the accuracy
table (and rapidocr's defaults can be left out of the speed table with ``--skip-defaults``). Times
are wall-clock medians; the JSON also holds each pass's CPU time (all threads), steadier than
wall-clock on a machine shared with other work.
"""

from __future__ import annotations

import argparse
import dataclasses
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

from engine.ocr.cache import ScreenReader  # noqa: E402
from engine.ocr.int8 import cpu_identity  # noqa: E402
from engine.ocr.lines import TextBox  # noqa: E402
from engine.ocr.reader import OcrEngine  # noqa: E402
from engine.ocr.settings import OcrSettings  # noqa: E402
from engine.text.find import TextIndex, instruction_queries  # noqa: E402

Reader = Callable[[Image.Image], list[TextBox]]
TUNED = "tuned (det 1600, the default)"
FP32 = "tuned, fp32 recognition"
INT8 = "tuned, INT8 recognition (forced)"
LEVERS_OFF = "tuned, speed levers off"
NO_FAINT = "tuned, faint-text pass off"
LEVERS = {
    "tuned, detector on the whole screen": {"det_content_only": False},
    "tuned, readings not shared": {"share_readings": False},
    "tuned, denormals kept": {"flush_denormals": False},
}
KEYS = {
    "rapidocr defaults": "defaults_s",
    TUNED: "tuned_s",
    FP32: "tuned_fp32_s",
    INT8: "tuned_int8_s",
    "tuned, det 1280": "tuned_det1280_s",
    LEVERS_OFF: "tuned_levers_off_s",
    NO_FAINT: "tuned_no_faint_s",
    "tuned, detector on the whole screen": "tuned_whole_screen_det_s",
    "tuned, readings not shared": "tuned_unshared_s",
    "tuned, denormals kept": "tuned_denormals_s",
}
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
    return tuned_engine(**overrides).read


def tuned_engine(**overrides: Any) -> OcrEngine:
    """:func:`tuned`'s engine, loaded: with INT8 recognition, its copy built and checked (or loaded) first."""
    engine = OcrEngine(OcrSettings(crop_cache_size=0, **overrides))
    engine.load(wait=True)
    return engine


def timed(read: Reader, image: Image.Image, repeats: int) -> tuple[float, list[TextBox]]:
    """Median seconds of ``repeats`` passes (after one warm-up), and the lines of the last."""
    lines = read(image)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        lines = read(image)
        times.append(time.perf_counter() - started)
    return statistics.median(times), lines


def timed_together(
    readers: dict[str, Reader], image: Image.Image, repeats: dict[str, int]
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall-clock and CPU seconds (all threads) per pass of each reader, after one warm-up each,
    runs alternating between the readers, so that other load on the machine weighs on all of them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in readers}
    cpu: dict[str, list[float]] = {name: [] for name in readers}
    for read in readers.values():
        read(image)
    for round_ in range(max(repeats.values())):
        for name, read in readers.items():
            if round_ < repeats[name]:
                started, started_cpu = time.perf_counter(), time.process_time()
                read(image)
                seconds[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - started_cpu)
    return (
        {name: statistics.median(times) for name, times in seconds.items()},
        {name: statistics.median(times) for name, times in cpu.items()},
    )


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
    parser.add_argument("--skip-defaults", action="store_true", help="leave rapidocr's defaults out entirely")
    parser.add_argument("--speed-only", action="store_true", help="no accuracy table: speed and the verdict only")
    parser.add_argument("--levers", action="store_true", help="also each speed lever off by itself")
    args = parser.parse_args(argv)

    default = tuned_engine()
    configs: dict[str, Callable[[], Reader]] = {
        "rapidocr defaults": rapidocr_defaults,
        TUNED: lambda: default.read,
        FP32: lambda: tuned(precision="fp32"),
        INT8: lambda: tuned(precision="int8", verify_int8=False),
        "tuned, det 1280": lambda: tuned(det_max_side=1280),
        "tuned, det 960": lambda: tuned(det_max_side=960),
        "tuned, det full resolution": lambda: tuned(det_max_side=0),
        "tuned, no gap splitting": lambda: tuned(split_gap=0),
        LEVERS_OFF: lambda: tuned(**{k: v for off in LEVERS.values() for k, v in off.items()}),
        NO_FAINT: lambda: tuned(faint_text=False),
    }
    if args.levers:
        configs |= {name: (lambda off=off: tuned(**off)) for name, off in LEVERS.items()}
    if args.skip_defaults:
        del configs["rapidocr defaults"]
    if args.speed_only:
        kept = (TUNED, FP32, INT8, LEVERS_OFF, NO_FAINT, "rapidocr defaults", *LEVERS)
        configs = {name: make for name, make in configs.items() if name in kept}
    readers = {name: make() for name, make in configs.items()}
    verdict = default.int8_verdict
    results: dict[str, Any] = {
        "machine": f"{cpu_identity().split(' [')[0]}, {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}",
        "default_precision": default.precision,
        "int8_verdict": None if verdict is None else dataclasses.asdict(verdict),
    }
    print(f"Default recognition here: {default.precision}.", end=" ")
    print(f"INT8 check: {verdict.summary()}.\n" if verdict else f"INT8: {default.int8_error or 'not checked'}.\n")

    if not args.speed_only:
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
    speed = ("rapidocr defaults", TUNED, FP32, INT8, "tuned, det 1280", LEVERS_OFF, NO_FAINT, *LEVERS)
    columns = [name for name in speed if name in readers]
    print("\n## Full pass on 1920x1080 (median of", args.repeats, "alternating runs after a warm-up)\n")
    print(f"| screen | {' | '.join(columns)} | cached / full | incremental / full |")
    print(f"|---|{'---:|' * (len(columns) + 2)}")
    results["speed"] = {}
    for label, image in screens.items():
        repeats = {name: max(1, args.repeats // 2) if name == "rapidocr defaults" else args.repeats for name in columns}
        seconds, cpu = timed_together({name: readers[name] for name in columns}, image, repeats)
        ratios = cache_ratios(image, seconds[TUNED], args.repeats)
        results["speed"][label] = {
            **{KEYS[name]: round(s, 3) for name, s in seconds.items()},
            **{f"{KEYS[name][:-2]}_cpu_s": round(s, 3) for name, s in cpu.items()},
            **ratios,
        }
        print(
            f"| {label} | {' | '.join(f'{seconds[name]:.2f} s' for name in columns)} "
            f"| {ratios['cached_ratio']:.4f} ({ratios['cached_ms']:.0f} ms) "
            f"| {ratios['incremental_ratio']:.3f} ({ratios['incremental_ms']:.0f} ms) |",
            flush=True,
        )
    if LEVERS_OFF in columns:
        print(f"\nCPU time per pass (all threads), tuned / {LEVERS_OFF}:", end="")
        for label, row in results["speed"].items():
            print(f" {label}: {row['tuned_cpu_s']:.2f} s / {row['tuned_levers_off_cpu_s']:.2f} s", end=";")
        print()
    if NO_FAINT in columns:
        print(f"\nThe faint-text pass's cost, tuned / {NO_FAINT} (same runs; wall-clock, CPU time):", end="")
        for label, row in results["speed"].items():
            wall, cpu = row["tuned_s"] / row["tuned_no_faint_s"], row["tuned_cpu_s"] / row["tuned_no_faint_cpu_s"]
            row["faint_ratio"], row["faint_cpu_ratio"] = round(wall, 3), round(cpu, 3)
            print(f" {label}: {wall:.3f}x, {cpu:.3f}x", end=";")
        print()
    print(f"\nMachine: {results['machine']}.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``vlm-desktop-mcp eval-grounding``: click accuracy of a locator on a ScreenSpot-schema dataset.

    vlm-desktop-mcp eval-grounding --dataset FILE.json --images DIR --locator ocr|model|hybrid
        [--predictions-out FILE.jsonl] [--base-url URL] [--model NAME] [--limit N]

The dataset is a JSON list of ``{img_filename, instruction, bbox, data_type, data_source}``:
ScreenSpot and ScreenSpot-v2 write ``bbox`` as ``[x, y, width, height]``; ScreenSpot-Pro writes
``[x1, y1, x2, y2]`` and ``ui_type`` instead of ``data_type`` (recognised by its ``ui_type`` or
``img_size`` keys, or forced with ``--bbox-format``). A prediction is a hit when the point lies
inside the box (edges included). Prints accuracy per data type and overall; the last line is a
JSON object with the same numbers. Items that carry a ``context`` key (``bench/generate_ui.py
--context`` writes ``near`` or ``position`` for instructions that name the target's row or place)
are also counted per context (``by_context``; ``none`` for the others). ``--predictions-out`` writes
one JSON line per item: ``{"img_filename", "instruction", "point": [x, y] or null}`` (null: the
locator abstained).

The OCR locator chooses as ``click_text`` does (:func:`engine.text.locate.choose_text`): an ambiguous
text is an abstention, and context named in the instruction chooses among occurrences.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anyio
from PIL import Image

from engine.errors import ModelError, ModelUnavailable
from engine.ocr.reader import OcrUnavailable
from engine.text.locate import HybridLocator, Locator, ModelLocator, OcrLocator
from engine.vlm.vision import VisionEngine
from mcp_server.config import ConfigError, Settings, load_settings
from mcp_server.lifespan import make_backend, make_grounder, make_screen_reader


class DatasetError(Exception):
    """The dataset or its images cannot be used; the message says which item and why."""


@dataclass(frozen=True)
class Item:
    """One grounding target: the instruction and the box (x1, y1, x2, y2 in image pixels) to hit."""

    img_filename: str
    instruction: str
    box: tuple[float, float, float, float]
    data_type: str
    context: str | None = None
    """How the instruction names the target's context (``near``, ``position``), when the dataset says."""


def load_dataset(path: Path, bbox_format: str = "auto") -> list[Item]:
    """Read a ScreenSpot / ScreenSpot-v2 / ScreenSpot-Pro annotation file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"dataset {path} is not valid JSON: {exc}") from exc
    if isinstance(raw, dict) and isinstance(raw.get("data"), list):
        raw = raw["data"]
    if not isinstance(raw, list):
        raise DatasetError(f"dataset {path} must be a JSON list of items")
    items = []
    for number, entry in enumerate(raw, 1):
        if not isinstance(entry, Mapping):
            raise DatasetError(f"item {number} of {path} is not an object")
        try:
            name, instruction, bbox = str(entry["img_filename"]), str(entry["instruction"]), entry["bbox"]
            x, y, a, b = (float(v) for v in bbox)
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(
                f"item {number} of {path} needs img_filename, instruction and a 4-number bbox: {exc}"
            ) from exc
        corners = bbox_format == "xyxy" or (bbox_format == "auto" and ("ui_type" in entry or "img_size" in entry))
        box = (x, y, a, b) if corners else (x, y, x + a, y + b)
        kind = str(entry.get("data_type") or entry.get("ui_type") or "unknown")
        context = entry.get("context")
        items.append(Item(name, instruction, box, kind, str(context) if context else None))
    return items


def hit(point: tuple[int, int] | None, box: tuple[float, float, float, float]) -> bool:
    """Whether ``point`` lies inside ``box`` (edges included); an abstention is a miss."""
    if point is None:
        return False
    x1, y1, x2, y2 = box
    return min(x1, x2) <= point[0] <= max(x1, x2) and min(y1, y2) <= point[1] <= max(y1, y2)


async def evaluate(
    items: list[Item],
    images: Path,
    locator: Locator,
    predictions: TextIO | None = None,
    log: TextIO = sys.stderr,
) -> dict[str, Any]:
    """Run ``locator`` on every item (each image opened once) and score the clicks."""
    by_type: dict[str, dict[str, int]] = {}
    by_context: dict[str, dict[str, int]] = {}
    started = time.perf_counter()
    order: dict[str, list[Item]] = {}
    for item in items:
        order.setdefault(item.img_filename, []).append(item)
    for done, (name, group) in enumerate(order.items(), 1):
        path = images / name
        try:
            with Image.open(path) as opened:
                image = opened.convert("RGB")
        except OSError as exc:
            raise DatasetError(f"cannot open image {path}: {exc}") from exc
        for item in group:
            located = await locator.locate(image, item.instruction)
            point = located.point if located is not None else None
            landed = hit(point, item.box)
            groups = [by_type.setdefault(item.data_type, {"n": 0, "hits": 0, "abstained": 0})]
            groups.append(by_context.setdefault(item.context or "none", {"n": 0, "hits": 0, "abstained": 0}))
            for counts in groups:
                counts["n"] += 1
                counts["hits"] += landed
                counts["abstained"] += point is None
            if predictions is not None:
                record = {
                    "img_filename": name,
                    "instruction": item.instruction,
                    "point": list(point) if point else None,
                }
                predictions.write(json.dumps(record, ensure_ascii=False) + "\n")
        if done % 10 == 0 or done == len(order):
            print(f"{done}/{len(order)} images", file=log, flush=True)
    total = sum(c["n"] for c in by_type.values())
    hits = sum(c["hits"] for c in by_type.values())
    report: dict[str, Any] = {
        "locator": locator.name,
        "items": total,
        "images": len(order),
        "accuracy": round(hits / total, 4) if total else 0.0,
        "hits": hits,
        "abstained": sum(c["abstained"] for c in by_type.values()),
        "by_type": _with_accuracy(by_type),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if set(by_context) != {"none"}:
        report["by_context"] = _with_accuracy(by_context)
    return report


def _with_accuracy(groups: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    return {
        name: {**counts, "accuracy": round(counts["hits"] / counts["n"], 4)} for name, counts in sorted(groups.items())
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    """Human-readable lines; the last is the report as one JSON object."""
    lines = [f"{report['locator']} locator: {report['items']} targets on {report['images']} images"]
    labels = [(kind, counts) for kind, counts in report["by_type"].items()]
    labels += [(f"context {kind}", counts) for kind, counts in report.get("by_context", {}).items()]
    width = max([8, *(len(label) for label, _ in labels)])
    for label, counts in labels:
        lines.append(
            f"{label:{width}} {counts['hits']:5}/{counts['n']:<5} {counts['accuracy'] * 100:6.1f}%"
            f"  (abstained {counts['abstained']})"
        )
    lines.append(f"{'overall':{width}} {report['hits']:5}/{report['items']:<5} {report['accuracy'] * 100:6.1f}%")
    lines.append(json.dumps(report, ensure_ascii=False))
    return lines


def build_locator(kind: str, settings: Settings) -> tuple[Locator, VisionEngine | None]:
    """The locator ``kind`` from the settings (its engine is returned so the caller can close it)."""
    engine = None
    if kind in ("model", "hybrid"):
        # What is measured is grounding: the grounder's model when model.grounder names one.
        backend = make_grounder(settings) or make_backend(settings)
        if backend is None:
            raise ConfigError(f"the {kind} locator needs a model: pass --base-url (and not --backend none)")
        engine = VisionEngine(backend, settings.model.engine)
    ocr = None
    if kind in ("ocr", "hybrid"):
        reader = make_screen_reader(settings, force=True)
        assert reader is not None
        try:
            # One precision for the whole run: on a first run, wait for the INT8 model instead of
            # scoring the first images with fp32 and the rest with INT8.
            reader.engine.load(wait=True)
        except OcrUnavailable as exc:
            raise ConfigError(f"the {kind} locator needs OCR: {exc}") from exc
        ocr = OcrLocator(reader)
    if kind == "ocr" and ocr is not None:
        return ocr, None
    assert engine is not None
    model = ModelLocator(engine)
    if kind == "model":
        return model, engine
    assert ocr is not None
    return HybridLocator(ocr, model), engine


def add_parser(commands: Any) -> None:
    """Register ``eval-grounding`` on the CLI's sub-command parsers."""
    cmd = commands.add_parser("eval-grounding", help="click accuracy of a locator on a ScreenSpot-schema dataset")
    cmd.add_argument("--dataset", type=Path, required=True, help="ScreenSpot-schema JSON file")
    cmd.add_argument("--images", type=Path, required=True, help="folder holding the dataset's images")
    cmd.add_argument("--locator", choices=["ocr", "model", "hybrid"], default="hybrid")
    cmd.add_argument("--predictions-out", type=Path, help="write one JSON line per item here")
    cmd.add_argument("--bbox-format", choices=["auto", "xywh", "xyxy"], default="auto")
    cmd.add_argument("--limit", type=int, help="evaluate only the first N items")
    cmd.add_argument("--config", type=Path, help="YAML config file (model: and ocr: sections apply)")
    cmd.add_argument("--base-url", help="OpenAI-compatible model server (model and hybrid locators)")
    cmd.add_argument("--model", help="model name")
    cmd.add_argument("--backend", choices=["sglang", "openai", "transformers", "none"])
    cmd.add_argument("--api-key", help="bearer token for the model server")


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Run the evaluation; returns the exit status (2: bad input, 1: the model failed)."""
    flags = {key: getattr(args, key, None) for key in ("base_url", "model", "backend", "api_key")}
    try:
        settings = load_settings(flags, env, args.config)
        items = load_dataset(args.dataset, args.bbox_format)
        if args.limit is not None:
            items = items[: max(0, args.limit)]
        if not items:
            raise DatasetError(f"dataset {args.dataset} has no items")
        if not args.images.is_dir():
            raise DatasetError(f"--images {args.images} is not a folder")
        locator, engine = build_locator(args.locator, settings)
    except (ConfigError, DatasetError) as exc:
        print(f"vlm-desktop-mcp eval-grounding: {exc}", file=sys.stderr)
        return 2

    async def main() -> dict[str, Any]:
        try:
            if args.predictions_out is None:
                return await evaluate(items, args.images, locator)
            with args.predictions_out.open("w", encoding="utf-8") as out:
                return await evaluate(items, args.images, locator, out)
        finally:
            if engine is not None:
                await engine.backend.aclose()

    try:
        report = anyio.run(main)
    except DatasetError as exc:
        print(f"vlm-desktop-mcp eval-grounding: {exc}", file=sys.stderr)
        return 2
    except ModelError as exc:
        hint = "; start it, or pass --base-url" if isinstance(exc, ModelUnavailable) else ""
        print(f"vlm-desktop-mcp eval-grounding: the model failed, no accuracy to report: {exc}{hint}", file=sys.stderr)
        return 1
    for line in report_lines(report):
        print(line)
    return 0

"""``vlm-desktop-mcp eval-grounding`` end to end: a generated screen set, the real CLI, real OCR; and its
scoring on a stub locator (no display)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image

from engine.text.locate import Located
from mcp_server.config import load_settings
from mcp_server.eval_grounding import Item, build_locator, report_lines
from mcp_server.eval_grounding import evaluate as score
from tests.support.markers import needs_display
from tests.support.servers import free_port
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn

ROOT = Path(__file__).resolve().parents[2]
SIZE = (1280, 800)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two generated screens (their own Xvfb), as bench/generate_ui.py writes them."""
    out = tmp_path_factory.mktemp("grounding")
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate_ui.py"), "--out", str(out), "--screens", "2", "--seed", "3",
         "--sizes", f"{SIZE[0]}x{SIZE[1]}", "--targets-per-screen", "10"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    yield out


def items(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


def evaluate(*args: str, timeout: float = 240, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", "eval-grounding", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})},
    )  # fmt: skip


def inside(point: list[int] | None, bbox: list[float]) -> bool:
    x, y, w, h = bbox
    return point is not None and x <= point[0] <= x + w and y <= point[1] <= y + h


@needs_display
def test_the_generator_writes_the_screenspot_schema(dataset: Path) -> None:
    data = items(dataset / "dataset.json")
    assert len(data) >= 12
    for item in data:
        assert {"img_filename", "instruction", "bbox", "data_type", "data_source"} <= set(item)
        assert item["data_type"] in ("text", "icon") and len(item["bbox"]) == 4
        assert (dataset / "images" / item["img_filename"]).is_file()
    assert {i["data_type"] for i in data} == {"text", "icon"}


@needs_display
def test_ocr_locator_hits_text_targets_and_abstains_on_icons(dataset: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "predictions.jsonl"
    done = evaluate(
        "--dataset", str(dataset / "dataset.json"), "--images", str(dataset / "images"), "--locator", "ocr",
        "--predictions-out", str(predictions),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    data = items(dataset / "dataset.json")
    texts = [i for i in data if i["data_type"] == "text"]
    icons = [i for i in data if i["data_type"] == "icon"]
    assert report["locator"] == "ocr" and report["items"] == len(data) and report["images"] == 2
    assert report["by_type"]["text"]["n"] == len(texts)
    assert report["by_type"]["text"]["accuracy"] >= 0.9, lines
    assert report["by_type"]["icon"] == {"n": len(icons), "hits": 0, "abstained": len(icons), "accuracy": 0.0}
    assert any(line.startswith("overall") for line in lines[:-1])
    # The predictions file scores to the same numbers with a scorer of its own.
    written = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    assert [(p["img_filename"], p["instruction"]) for p in written] == [
        (i["img_filename"], i["instruction"]) for i in data
    ]
    hits = sum(inside(p["point"], i["bbox"]) for p, i in zip(written, data, strict=True))
    assert hits == report["hits"]
    assert all(p["point"] is None for p, i in zip(written, data, strict=True) if i["data_type"] == "icon")


@needs_display
def test_screenspot_pro_boxes_and_fields_are_read_too(dataset: Path, tmp_path: Path) -> None:
    pro = [
        {"img_filename": i["img_filename"], "instruction": i["instruction"], "ui_type": i["data_type"],
         "bbox": [i["bbox"][0], i["bbox"][1], i["bbox"][0] + i["bbox"][2], i["bbox"][1] + i["bbox"][3]],
         "img_size": list(SIZE)}
        for i in items(dataset / "dataset.json")
    ]  # fmt: skip
    (tmp_path / "pro.json").write_text(json.dumps(pro), encoding="utf-8")
    done = evaluate("--dataset", str(tmp_path / "pro.json"), "--images", str(dataset / "images"), "--locator", "ocr")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(report["by_type"]) == {"text", "icon"} and report["by_type"]["text"]["accuracy"] >= 0.9


@needs_display
def test_model_and_hybrid_locators_ask_for_qwen_points(dataset: Path, tmp_path: Path, standin: StandIn) -> None:
    # One screen, and a stand-in that knows its targets: it answers point_2d on the 0-1000 grid.
    data = items(dataset / "dataset.json")
    first = [i for i in data if i["img_filename"] == data[0]["img_filename"]]
    (tmp_path / "one.json").write_text(json.dumps(first), encoding="utf-8")
    elements = [
        {"type": i["data_type"], "label": i["instruction"],
         "box": [i["bbox"][0], i["bbox"][1], i["bbox"][0] + i["bbox"][2], i["bbox"][1] + i["bbox"][3]]}
        for i in first
    ]  # fmt: skip
    standin.set_scenario(Scenario(frame={"x": 0, "y": 0, "width": SIZE[0], "height": SIZE[1]}, elements=elements))
    asked = {}
    for locator in ("model", "hybrid"):
        standin.clear_requests()
        done = evaluate(
            "--dataset", str(tmp_path / "one.json"), "--images", str(dataset / "images"), "--locator", locator,
            "--base-url", standin.base_url,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["locator"] == locator and report["abstained"] == 0
        assert report["by_type"]["icon"]["accuracy"] == 1.0 and report["by_type"]["text"]["accuracy"] >= 0.9
        asked[locator] = len(standin.requests)
    # The model locator asks about every target; the hybrid only about what OCR could not find.
    icons = sum(1 for i in first if i["data_type"] == "icon")
    assert asked["model"] == len(first) and icons <= asked["hybrid"] < len(first)


@needs_display
def test_bad_input_and_a_dead_model_are_clear_errors(dataset: Path, tmp_path: Path) -> None:
    missing = evaluate("--dataset", str(tmp_path / "nope.json"), "--images", str(dataset / "images"))
    assert missing.returncode == 2 and "cannot read dataset" in missing.stderr and not missing.stdout
    no_model = evaluate(
        "--dataset", str(dataset / "dataset.json"), "--images", str(dataset / "images"), "--locator", "model",
        "--backend", "none",
    )  # fmt: skip
    assert no_model.returncode == 2 and "needs a model" in no_model.stderr
    dead = evaluate(
        "--dataset", str(dataset / "dataset.json"), "--images", str(dataset / "images"), "--locator", "model",
        "--base-url", f"http://127.0.0.1:{free_port()}/v1", "--limit", "1", env={"VLM_DESKTOP_MODEL__RETRIES": "0"},
    )  # fmt: skip
    assert dead.returncode == 1 and "cannot reach the model server" in dead.stderr and not dead.stdout


@needs_display
def test_context_instructions_choose_among_repeated_texts(tmp_path: Path) -> None:
    # --context screens repeat target texts; their instructions name the row or the place.
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate_ui.py"), "--out", str(tmp_path), "--screens", "3",
         "--seed", "23", "--sizes", "1920x1080", "--targets-per-screen", "12", "--context"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    data = items(tmp_path / "dataset.json")
    named = [i for i in data if "context" in i]
    assert {i["context"] for i in named} == {"near", "position"}
    assert all(i["data_type"] == "text" and ("near" in i) == (i["context"] == "near") for i in named)
    done = evaluate(
        "--dataset", str(tmp_path / "dataset.json"), "--images", str(tmp_path / "images"), "--locator", "ocr"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    by_context = report["by_context"]
    assert by_context["near"]["n"] + by_context["position"]["n"] == len(named)
    assert by_context["near"]["hits"] + by_context["position"]["hits"] >= 0.8 * len(named), done.stdout
    assert any(line.startswith("context near") for line in done.stdout.splitlines())
    # Without the context, the same targets are ambiguous: the OCR locator abstains rather than guess.
    bare = [dict(i, instruction=i["text"]) for i in named]
    (tmp_path / "bare.json").write_text(json.dumps(bare, ensure_ascii=False), encoding="utf-8")
    done = evaluate("--dataset", str(tmp_path / "bare.json"), "--images", str(tmp_path / "images"), "--locator", "ocr")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["abstained"] >= 0.8 * len(named), done.stdout


class Stub:
    """A locator answering fixed points per instruction."""

    name = "stub"

    def __init__(self, points: dict[str, tuple[int, int] | None]) -> None:
        self.points = points

    async def locate(self, image: Image.Image, instruction: str) -> Located | None:
        point = self.points[instruction]
        return None if point is None else Located(point, self.name, 1.0)


def test_scores_are_counted_per_type_and_per_context(tmp_path: Path) -> None:
    Image.new("RGB", (100, 100)).save(tmp_path / "a.png")
    data = [
        Item("a.png", "Save", (0, 0, 10, 10), "text"),
        Item("a.png", "Block for Alice", (20, 20, 30, 30), "text", "near"),
        Item("a.png", "Orders in the sidebar", (40, 40, 50, 50), "text", "position"),
        Item("a.png", "search icon", (60, 60, 70, 70), "icon"),
    ]
    stub = Stub({"Save": (5, 5), "Block for Alice": (25, 25), "Orders in the sidebar": None, "search icon": (0, 0)})
    report = anyio.run(score, data, tmp_path, stub)
    assert report["by_type"]["text"] == {"n": 3, "hits": 2, "abstained": 1, "accuracy": 0.6667}
    assert report["by_context"] == {
        "near": {"n": 1, "hits": 1, "abstained": 0, "accuracy": 1.0},
        "none": {"n": 2, "hits": 1, "abstained": 0, "accuracy": 0.5},
        "position": {"n": 1, "hits": 0, "abstained": 1, "accuracy": 0.0},
    }
    lines = report_lines(report)
    assert any(line.startswith("context position") for line in lines)
    # A dataset without context keys reports no per-context counts.
    plain = anyio.run(score, [data[0], data[3]], tmp_path, stub)
    assert "by_context" not in plain


async def test_the_model_locator_measures_the_grounder_when_one_is_named() -> None:
    env = {
        "VLM_DESKTOP_MODEL": "Qwen/Qwen3-VL-8B-Thinking",
        "VLM_DESKTOP_MODEL__GROUNDER__NAME": "Tongyi-MAI/MAI-UI-2B",
        "VLM_DESKTOP_MODEL__GROUNDER__BASE_URL": "http://127.0.0.1:30001/v1",
    }
    _, engine = build_locator("model", load_settings({}, env))
    assert engine is not None
    try:
        assert engine.grounder.model_name == "Tongyi-MAI/MAI-UI-2B"
        assert engine.grounding_format.name == "mai-ui"
    finally:
        await engine.backend.aclose()

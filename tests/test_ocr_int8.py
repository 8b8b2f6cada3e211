"""The INT8 copy of the OCR recognition model: built once from the shipped model, cached, same readings."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest

from engine.ocr import OcrEngine, OcrSettings, shipped_model
from engine.ocr_int8 import calibration_batches, ensure_int8, int8_path, quantize
from tests.conftest import needs_display
from tests.support.servers import spawn_stdio
from tests.support.xvfb import Xvfb
from tests.test_ocr import by_text, form
from tests.test_stdio_fuzz import INIT, StdioServer, rpc


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OcrEngine, Path]]:
    """An engine that started on fp32 and switched to the INT8 copy it built in ``directory``."""
    directory = tmp_path_factory.mktemp("int8")
    engine = OcrEngine(OcrSettings(int8_dir=directory))
    engine.load()
    started_on = engine.precision
    engine.load(wait=True)
    assert (started_on, engine.precision, engine.int8_error) == ("fp32", "int8", None)
    yield engine, directory
    engine.close()


def test_the_int8_copy_is_built_once_and_reused(built: tuple[OcrEngine, Path]) -> None:
    _, directory = built
    source = shipped_model("rec")
    cached = int8_path(source, directory)
    assert [p.name for p in directory.iterdir()] == [cached.name]  # no scratch files left behind
    ops = [node.op_type for node in onnx.load(str(cached)).graph.node]
    assert ops.count("Conv") == 1 and ops.count("QLinearConv") > 50  # all convolutions INT8 but the first
    stamp = cached.stat().st_mtime_ns
    assert ensure_int8(source, directory) == cached and cached.stat().st_mtime_ns == stamp
    again = OcrEngine(OcrSettings(int8_dir=directory))
    again.load()  # cached: INT8 from the start, nothing built
    assert again.precision == "int8" and again.model_name.endswith("-int8")
    again.close()


def test_int8_reads_what_fp32_reads(built: tuple[OcrEngine, Path]) -> None:
    engine, _ = built
    fp32 = OcrEngine(OcrSettings(precision="fp32"))
    image, _ = form()
    int8_lines, fp32_lines = by_text(engine.read(image)), by_text(fp32.read(image))
    fp32.close()
    assert {"Your name:", "Submit", "Settings"} <= set(int8_lines)
    assert set(int8_lines) == set(fp32_lines)
    for text, line in int8_lines.items():
        assert line.box == fp32_lines[text].box  # detection is unchanged: only recognition is quantized


def test_a_copy_that_cannot_be_built_leaves_fp32_working(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    engine = OcrEngine(OcrSettings(int8_dir=blocker / "ocr"))
    engine.load(wait=True)
    assert engine.precision == "fp32"
    assert engine.int8_error is not None and "cannot build the INT8 OCR model" in engine.int8_error
    image, _ = form()
    assert "Submit" in by_text(engine.read(image))
    engine.close()


def test_calibration_data_is_deterministic_and_shaped_for_the_model() -> None:
    first, second = calibration_batches(batches=3), calibration_batches(batches=3)
    assert all((a == b).all() for a, b in zip(first, second, strict=True))
    assert all(batch.shape[1:3] == (3, 48) and batch.dtype.name == "float32" for batch in first)
    assert all(float(batch.min()) >= -1.0 and float(batch.max()) <= 1.0 for batch in first)


@needs_display
def test_first_run_builds_in_the_background_while_stdio_serves(display: Xvfb, tmp_path: Path) -> None:
    """A fresh machine: the stdio server answers at once (fp32), builds the INT8 copy, stdout stays protocol-only."""
    cache = tmp_path / "cache"
    env = {**display.env(), "XDG_CACHE_HOME": str(cache), "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl")}
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        proc = spawn_stdio(["--backend", "none"], env, stderr)
    server = StdioServer(proc)
    try:
        server.send(rpc("initialize", INIT, 0) + rpc("notifications/initialized"))
        assert "result" in server.wait_for(0)
        describe = {"name": "describe_screen", "arguments": {}}
        server.send(rpc("tools/call", describe, 1))  # while the INT8 copy is being built
        assert server.wait_for(1)["result"]["structuredContent"]["mode"] == "ocr_only"
        deadline = time.monotonic() + 120  # a hang guard: building takes seconds
        while "now runs on the INT8 model" not in stderr_path.read_text(errors="replace"):
            assert time.monotonic() < deadline and proc.poll() is None, stderr_path.read_text(errors="replace")
            time.sleep(0.2)
        server.send(rpc("tools/call", describe, 2))
        assert server.wait_for(2)["result"]["structuredContent"]["mode"] == "ocr_only"
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not server.not_jsonrpc  # the quantization tools' progress output went to stderr
    assert [p.name for p in (cache / "vlm-desktop-mcp" / "ocr").iterdir()] == [int8_path(shipped_model("rec")).name]


def test_scratch_left_by_a_killed_build_is_removed_by_the_next_one(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".int8-killed", tmp_path / ".int8-running"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "prepared.onnx").write_bytes(b"\0" * 1024)
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    target = quantize(shipped_model("rec"), tmp_path / "rec-int8.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, target.name]  # another build may own fresh

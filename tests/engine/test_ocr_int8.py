"""The INT8 copy of the OCR recognition model: built once from the shipped model, checked against fp32
on the machine it runs on, used only where it passes, cached with its verdict.

What INT8 reads depends on the CPU (onnxruntime's integer kernels differ per instruction set), so
nothing here asserts what it reads: only what holds on every CPU.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest

import engine.ocr.int8 as ocr_int8
from engine.ocr.int8 import (
    MIN_AGREEMENT,
    MIN_SPEEDUP,
    Verdict,
    calibration_batches,
    check_screens,
    cpu_identity,
    decide,
    ensure_checked,
    ensure_int8,
    int8_path,
    load_verdict,
    quantize,
    verdict_path,
)
from engine.ocr.reader import OcrEngine, OcrSettings, shipped_model, to_bgr
from tests.support.markers import needs_display
from tests.support.ocr_screens import by_text, form
from tests.support.servers import ROOT, spawn_stdio
from tests.support.stdio import INIT, StdioServer, rpc
from tests.support.xvfb import Xvfb


@pytest.fixture(scope="module")
def forced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OcrEngine, Path]]:
    """An engine forced onto INT8 (whatever its check would say here) that built its copy in ``directory``."""
    directory = tmp_path_factory.mktemp("int8")
    engine = OcrEngine(OcrSettings(int8_dir=directory, verify_int8=False))
    engine.load()
    started_on = engine.precision
    engine.load(wait=True)
    assert (started_on, engine.precision, engine.int8_error) == ("fp32", "int8", None)
    yield engine, directory
    engine.close()


@pytest.fixture
def model_only(forced: tuple[OcrEngine, Path], tmp_path: Path) -> Path:
    """A cache folder holding the built INT8 copy and no verdict on it."""
    built = int8_path(shipped_model("rec"), forced[1])
    shutil.copy(built, tmp_path / built.name)
    return tmp_path


def verdict(use_int8: bool, cpu: str | None = None) -> Verdict:
    return Verdict(use_int8, 1.0 if use_int8 else 0.9, 200, 1.0, 0.5, cpu or cpu_identity())


def test_the_int8_copy_is_built_once_and_reused(forced: tuple[OcrEngine, Path]) -> None:
    _, directory = forced
    source = shipped_model("rec")
    cached = int8_path(source, directory)
    assert [p.name for p in directory.iterdir()] == [cached.name]  # no scratch files; forced: nothing checked
    ops = [node.op_type for node in onnx.load(str(cached)).graph.node]
    assert ops.count("Conv") == 1 and ops.count("QLinearConv") > 50  # all convolutions INT8 but the first
    stamp = cached.stat().st_mtime_ns
    assert ensure_int8(source, directory) == cached and cached.stat().st_mtime_ns == stamp
    again = OcrEngine(OcrSettings(int8_dir=directory, verify_int8=False))
    again.load()  # cached: INT8 from the start, nothing built
    assert again.precision == "int8" and again.model_name.endswith("-int8") and again._builder is None
    again.close()


def test_forced_int8_only_changes_recognition(forced: tuple[OcrEngine, Path]) -> None:
    engine, _ = forced
    fp32 = OcrEngine(OcrSettings(precision="fp32"))
    image, _ = form()
    assert engine.detect(to_bgr(image)) == fp32.detect(to_bgr(image))  # detection stays fp32
    lines = engine.read(image)
    fp32.close()
    assert lines and all(0 < line.confidence <= 1 and len(line.chars) == len(line.text) for line in lines)


@pytest.mark.parametrize(
    ("agreement", "fp32_s", "int8_s", "used"),
    [
        (1.0, 1.0, 0.5, True),
        (MIN_AGREEMENT, 1.0, 1 / MIN_SPEEDUP, True),
        (0.98, 1.0, 0.5, False),  # faster but reads differently (a field's edge read into its label)
        (1.0, 1.0, 0.95, False),  # reads the same but hardly faster
        (1.0, 1.87, 2.06, False),  # slower
        (1.0, 1.0, 0.0, False),
    ],
)
def test_int8_is_used_only_where_it_reads_as_fp32_and_is_faster(
    agreement: float, fp32_s: float, int8_s: float, used: bool
) -> None:
    assert decide(agreement, fp32_s, int8_s) is used


def test_the_check_compares_both_on_rendered_screens_and_caches_its_verdict(
    model_only: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, found = ensure_checked(shipped_model("rec"), model_only)
    assert found.lines >= 150 and 0 <= found.agreement <= 1 and found.fp32_s > 0 and found.int8_s > 0
    assert found.use_int8 is decide(found.agreement, found.fp32_s, found.int8_s)
    assert found.cpu == cpu_identity() and len(found.differing) <= 10
    assert sorted(p.name for p in model_only.iterdir()) == sorted([model.name, verdict_path(model).name])
    assert load_verdict(model) == found
    assert json.loads(verdict_path(model).read_text())["use_int8"] is found.use_int8

    def no_second_check(*_: object, **__: object) -> Verdict:
        raise AssertionError("checked twice")

    monkeypatch.setattr(ocr_int8, "check", no_second_check)
    assert ensure_checked(shipped_model("rec"), model_only) == (model, found)


def test_the_check_screens_are_rendered_the_same_every_time() -> None:
    first, second = check_screens(), check_screens()
    assert len(first) >= 4 and all(a.tobytes() == b.tobytes() for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("use_int8", [True, False])
def test_the_engine_follows_the_cached_verdict(model_only: Path, use_int8: bool) -> None:
    model = int8_path(shipped_model("rec"), model_only)
    ocr_int8._save(model, verdict(use_int8))
    engine = OcrEngine(OcrSettings(int8_dir=model_only))
    engine.load()
    assert engine.precision == ("int8" if use_int8 else "fp32")
    assert engine._builder is None and engine.int8_verdict == verdict(use_int8)  # decided: nothing to build
    engine.close()


@pytest.mark.parametrize("use_int8", [True, False])
def test_an_unchecked_copy_is_checked_in_the_background_and_used_only_if_it_passes(
    model_only: Path, monkeypatch: pytest.MonkeyPatch, use_int8: bool
) -> None:
    model = int8_path(shipped_model("rec"), model_only)
    ocr_int8._save(model, verdict(True, cpu="another processor"))  # made elsewhere: not valid here
    assert load_verdict(model) is None
    monkeypatch.setattr(ocr_int8, "check", lambda model, threads=0: verdict(use_int8))
    engine = OcrEngine(OcrSettings(int8_dir=model_only))
    engine.load()
    assert engine.precision == "fp32"  # serves at once, on fp32
    engine.load(wait=True)
    assert (engine.precision, engine.int8_verdict, engine.int8_error) == (
        "int8" if use_int8 else "fp32",
        verdict(use_int8),
        None,
    )
    engine.close()


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


def test_the_build_command_prints_the_verdict_on_stdout(model_only: Path) -> None:
    model = int8_path(shipped_model("rec"), model_only)
    ocr_int8._save(model, dataclasses.replace(verdict(False), agreement=0.5))
    command = [sys.executable, "-m", "engine.ocr.int8", "--build", "--dir", str(model_only), "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)  # stdout holds the verdict and nothing else
    assert (printed["model"], printed["use_int8"], printed["agreement"]) == (str(model), False, 0.5)
    blocker = model_only / "a-file"
    blocker.write_text("")
    failed = subprocess.run(
        [*command[:-2], str(blocker / "ocr")], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert failed.returncode == 1 and "fp32" in failed.stderr and failed.stdout == ""


def test_calibration_data_is_deterministic_and_shaped_for_the_model() -> None:
    first, second = calibration_batches(batches=3), calibration_batches(batches=3)
    assert all((a == b).all() for a, b in zip(first, second, strict=True))
    assert all(batch.shape[1:3] == (3, 48) and batch.dtype.name == "float32" for batch in first)
    assert all(float(batch.min()) >= -1.0 and float(batch.max()) <= 1.0 for batch in first)
    assert MIN_SPEEDUP > 1


@needs_display
def test_first_run_builds_and_checks_in_the_background_while_stdio_serves(display: Xvfb, tmp_path: Path) -> None:
    """A fresh machine: the stdio server answers at once (fp32), builds and checks the INT8 copy, and
    logs the verdict; stdout stays protocol-only."""
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
        deadline = time.monotonic() + 300  # a hang guard: building and checking take tens of seconds
        while "OCR INT8 check: " not in stderr_path.read_text(errors="replace"):
            assert time.monotonic() < deadline and proc.poll() is None, stderr_path.read_text(errors="replace")
            time.sleep(0.2)
        server.send(rpc("tools/call", describe, 2))
        assert server.wait_for(2)["result"]["structuredContent"]["mode"] == "ocr_only"
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not server.not_jsonrpc  # the quantization tools' progress output went to stderr
    model = int8_path(shipped_model("rec"), cache / "vlm-desktop-mcp" / "ocr")
    assert sorted(p.name for p in model.parent.iterdir()) == sorted([model.name, verdict_path(model).name])
    assert load_verdict(model) is not None


def test_scratch_left_by_a_killed_build_is_removed_by_the_next_one(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".int8-killed", tmp_path / ".int8-running"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "prepared.onnx").write_bytes(b"\0" * 1024)
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    target = quantize(shipped_model("rec"), tmp_path / "rec-int8.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, target.name]  # another build may own fresh

"""serve --launch-sglang's lifecycle against the stand-in launcher (same command line, same endpoints):
the model's flags, a healthy start, a crash or a hang at start-up, a restart after a death, and no
process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import httpx
import pytest

from mcp_server.config import load_settings
from mcp_server.sglang_launcher import LaunchConfig, LaunchError, launch_argv, launched, pointed_at

STANDIN = [sys.executable, "-m", "tests.support.standin_launcher"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        return handle.read().split()[2] != "Z"  # a zombie has exited


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("model", "expected", "absent"),
    [
        ("Qwen/Qwen3-VL-8B-Thinking", ["--reasoning-parser", "qwen3"], ["--tool-call-parser"]),
        ("Qwen/Qwen3-VL-2B-Instruct", [], ["--reasoning-parser", "--tool-call-parser"]),
        ("Qwen/Qwen3.5-9B", ["--reasoning-parser", "qwen3", "--tool-call-parser", "qwen3_coder"], []),
        ("mPLUG/GUI-Owl-1.5-8B", [], ["--reasoning-parser"]),
    ],
)
def test_each_model_gets_its_own_flags_on_loopback(model: str, expected: list[str], absent: list[str]) -> None:
    config = LaunchConfig(context_length=32768, mem_fraction_static=0.8, max_pixels=2_000_000)
    argv = launch_argv(config, model, 31234, python="py")
    assert argv[:3] == ["py", "-m", "sglang.launch_server"]
    joined = " ".join(argv)
    assert f"--model-path {model} --host 127.0.0.1 --port 31234" in joined
    assert " ".join(expected) in joined and not any(flag in argv for flag in absent)
    assert "--chat-template" not in argv
    assert argv[argv.index("--context-length") + 1] == "32768"
    assert argv[argv.index("--mem-fraction-static") + 1] == "0.8"
    assert json.loads(argv[argv.index("--mm-process-config") + 1]) == {"image": {"max_pixels": 2_000_000}}


async def test_a_healthy_server_is_served_then_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv("STANDIN_RECORD", str(record))
    config = LaunchConfig(command=STANDIN, startup_timeout=60, log_file=tmp_path / "sglang.log")
    with anyio.fail_after(90):
        async with launched(config, "Qwen/Qwen3-VL-2B-Instruct") as server:
            async with httpx.AsyncClient() as client:
                models = (await client.get(server.base_url + "/models")).json()
            pid = int(_records(record)[0]["pid"])
            assert models["data"][0]["id"] == "Qwen/Qwen3-VL-2B-Instruct" and _alive(pid)
    assert not _alive(pid)
    assert "serving Qwen/Qwen3-VL-2B-Instruct" in (tmp_path / "sglang.log").read_text(encoding="utf-8")


async def test_a_crash_at_start_up_is_an_error_naming_the_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_LAUNCH", "crash")
    with anyio.fail_after(60), pytest.raises(LaunchError, match="exited with status 3 while starting"):
        async with launched(LaunchConfig(command=STANDIN, startup_timeout=60), "m"):
            pass


async def test_a_hang_at_start_up_times_out_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv("STANDIN_LAUNCH", "hang")
    monkeypatch.setenv("STANDIN_RECORD", str(record))
    with anyio.fail_after(60), pytest.raises(LaunchError, match=r"did not become healthy within 2 s"):
        async with launched(LaunchConfig(command=STANDIN, startup_timeout=2), "m"):
            pass
    assert not _alive(int(_records(record)[0]["pid"]))


async def test_a_server_that_dies_is_restarted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record, die = tmp_path / "record.jsonl", tmp_path / "die"
    monkeypatch.setenv("STANDIN_RECORD", str(record))
    monkeypatch.setenv("STANDIN_DIE_FILE", str(die))
    config = LaunchConfig(command=STANDIN, startup_timeout=60, restart_backoff=0.1)
    with anyio.fail_after(120):
        async with launched(config, "m") as server:
            die.touch()
            # Another process writes the record: there is no event to wait on.
            while len(record.read_text(encoding="utf-8").splitlines()) < 2 or server.restarts:  # noqa: ASYNC110
                await anyio.sleep(0.1)
            async with httpx.AsyncClient() as client:
                assert (await client.get(server.base_url.removesuffix("/v1") + "/health")).status_code == 200
    first, second = (int(r["pid"]) for r in _records(record))
    assert first != second and not _alive(second)


def test_sigterm_stops_the_server_and_its_sglang(tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    env = {**os.environ, "STANDIN_RECORD": str(record), "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl")}
    config = tmp_path / "config.yaml"
    config.write_text(
        "sglang:\n  command: [" + ", ".join(json.dumps(part) for part in STANDIN) + "]\n  startup_timeout: 60\n"
        "ocr:\n  enabled: false\n",
        encoding="utf-8",
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "mcp_server", "serve", "--launch-sglang", "--config", str(config), "--backend", "none"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert serve.stderr is not None
        for line in serve.stderr:  # wait until SGLang is up and the MCP server serves
            if b"SGLang is up" in line:
                break
        drain = threading.Thread(target=serve.stderr.read, daemon=True)  # a full pipe must not block it
        drain.start()
        pid = int(_records(record)[0]["pid"])
        assert _alive(pid)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
        assert not _alive(pid)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()


def test_the_launched_server_is_the_model_or_joins_the_listed_ones() -> None:
    launched_url = "http://127.0.0.1:41234/v1"
    alone = pointed_at(load_settings({}, {}), launched_url)
    assert alone.model.endpoints == [launched_url]
    listed = load_settings({}, {"VLM_DESKTOP_MODEL__BASE_URLS": "http://gpu1:30000/v1,http://gpu2:30000/v1"})
    pooled = pointed_at(listed, launched_url)
    assert pooled.model.endpoints == ["http://gpu1:30000/v1", "http://gpu2:30000/v1", launched_url]

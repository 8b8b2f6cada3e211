"""``vlm-desktop-mcp run-task`` as a person runs it: exit status by ending, stdout clean, confirmation on stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.task.trajectory import load

pytestmark = pytest.mark.slow
FRAME = {"x": 0, "y": 0, "width": 1366, "height": 768}
PRESS = {"action": "key", "keys": ["shift"], "thought": "Press shift to wake the screen."}
DONE = {"action": "terminate", "status": "success", "thought": "Nothing more to do."}


def run_task(
    display: Any, standin: Any, tmp_path: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        **display.env(),
        "VLM_DESKTOP_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
        "VLM_DESKTOP_OCR__ENABLED": "false",
        "VLM_DESKTOP_DESKTOP__SETTLE_TIMEOUT": "0.5",
    }
    command = [sys.executable, "-m", "mcp_server", "run-task", "wake the screen", "--base-url", standin.base_url]
    command += ["--out", str(tmp_path / "runs"), *args]
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_a_finished_task_exits_0_with_only_its_outcome_on_stdout(display: Any, standin: Any, tmp_path: Path) -> None:
    standin.set_scenario({"frame": FRAME, "plan": [PRESS, DONE], "reasoning": "prompted"})
    done = run_task(display, standin, tmp_path, "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert (outcome["status"], outcome["stop"], outcome["steps"]) == ("succeeded", "done", 2)
    assert "step 1" in done.stderr and "key shift" in done.stderr
    saved = load(Path(outcome["folder"]))
    assert saved.settings["dry_run"] is True and saved.steps[0].effect == "unverified"
    quiet = run_task(display, standin, tmp_path, "--dry-run")
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_the_step_limit_exits_4(display: Any, standin: Any, tmp_path: Path) -> None:
    standin.set_scenario({"frame": FRAME, "plan": [PRESS], "reasoning": "prompted"})  # never says done
    done = run_task(display, standin, tmp_path, "--dry-run", "--max-steps", "2", "--json")
    assert done.returncode == 4, done.stderr
    assert json.loads(done.stdout)["stop"] == "step_limit"
    assert "step limit (2)" in done.stderr


def test_a_declined_confirmation_exits_5_and_sends_nothing(display: Any, standin: Any, tmp_path: Path) -> None:
    standin.set_scenario({"frame": FRAME, "plan": [PRESS, DONE], "reasoning": "prompted"})
    done = run_task(display, standin, tmp_path, "--confirm", "always", "--json", stdin="n\n")
    assert done.returncode == 5, done.stderr
    assert "Allow it?" in done.stderr  # the question, asked on the terminal
    outcome = json.loads(done.stdout)
    assert outcome["stop"] == "refused" and "declined" in outcome["reason"]
    steps = load(Path(outcome["folder"])).steps
    assert steps[0].outcome == "refused" and steps[0].events == []


def test_bad_usage_exits_2(display: Any, standin: Any, tmp_path: Path) -> None:
    done = run_task(display, standin, tmp_path, "--max-steps", "0")
    assert done.returncode == 2 and "--max-steps" in done.stderr and done.stdout == ""

"""``vlm-desktop-mcp doctor`` as a person runs it: a table with a fix per problem, exit 1 when something the
configuration needs is broken; and the session type said at start-up on Wayland."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mcp_server.session_type import session_report
from tests.support.servers import free_port
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tests.support.xvfb import Xvfb

HANG_GUARD = 240  # seconds: doctor builds nothing new here, this only stops a hung run


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", "doctor", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        stdin=subprocess.DEVNULL,
    )


def _rows(stdout: str) -> dict[str, str]:
    """Each check's status, from the table."""
    rows = {}
    for line in stdout.splitlines():
        for status in (" OK ", " WARN ", " FAIL ", " SKIP "):
            if status in line and not line.lstrip().startswith("fix:"):
                rows[line.split(status)[0].strip()] = status.strip()
    return rows


def _x11(display: Xvfb, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in display.env().items() if k not in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    return {**env, "VLM_DESKTOP_MODEL__CANARY_CACHE": str(tmp_path / "canary.json")}


def test_everything_works_on_x11_with_a_model_that_sees(display: Xvfb, standin: StandIn, tmp_path: Path) -> None:
    standin.set_scenario(Scenario())
    done = _doctor(_x11(display, tmp_path), "--base-url", standin.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(done.stdout)
    for check in ("session", "display", "input", "clipboard", "ocr", "endpoint", "model info", "canary"):
        assert rows[check] == "OK", done.stdout
    assert rows["capture speed"] in ("OK", "WARN")  # how fast depends on the machine, not on us
    assert "XTEST present" in done.stdout and "grounding self-test passed" in done.stdout
    assert "Qwen/Qwen3-VL-2B-Instruct (sglang stand-in)" in done.stdout
    assert "Everything the configuration needs works." in done.stdout


def test_a_dead_endpoint_fails_with_the_fix_named(display: Xvfb, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    done = _doctor(_x11(display, tmp_path), "--base-url", dead)
    assert done.returncode == 1
    rows = _rows(done.stdout)
    assert rows["endpoint"] == "FAIL" and rows["canary"] == "SKIP" and rows["display"] == "OK"
    assert "fix: start the model server (python -m sglang.launch_server" in done.stdout
    assert "problem(s) the configuration needs fixed: endpoint" in done.stdout


def test_a_model_that_points_off_fails_the_canary(display: Xvfb, standin: StandIn, tmp_path: Path) -> None:
    standin.set_scenario(Scenario(canary_offset_px=90))
    try:
        done = _doctor(_x11(display, tmp_path), "--base-url", standin.base_url)
    finally:
        standin.set_scenario(Scenario())
    assert done.returncode == 1
    assert _rows(done.stdout)["canary"] == "FAIL"
    assert "mean pointing error 90 px" in done.stdout and "fix: use another SGLang/vLLM version" in done.stdout


def test_wayland_without_xwayland_says_nothing_works(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "XDG_SESSION_TYPE": "wayland",
        "WAYLAND_DISPLAY": "wayland-0",
    }
    done = _doctor(env, "--backend", "none")
    assert done.returncode == 1
    rows = _rows(done.stdout)
    assert rows["session"] == "FAIL" and rows["display"] == "FAIL"
    assert "wayland: nothing: there is no X server" in done.stdout and "docs/wayland.md" in done.stdout


def test_serve_on_wayland_says_at_start_up_what_works(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":99"}
    served = subprocess.run(
        [sys.executable, "-m", "mcp_server", "serve", "--backend", "none"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        stdin=subprocess.DEVNULL,  # end of input: the stdio server stops at once
    )
    assert served.stdout == ""  # the protocol channel stays clean
    assert "session type wayland (with XWayland)" in served.stderr
    assert "What works: XWayland windows only" in served.stderr and "GDK_BACKEND=x11" in served.stderr


@pytest.mark.parametrize(
    ("env", "platform", "kind", "usable", "problem"),
    [
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, "linux", "x11", True, False),
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, "linux", "wayland (with XWayland)", True, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", "wayland", False, True),
        ({}, "linux", "none", False, True),
        ({}, "win32", "windows", True, False),
        ({}, "darwin", "macos", True, False),
    ],
)
def test_the_session_type_is_read_from_the_environment(
    env: dict[str, str], platform: str, kind: str, usable: bool, problem: bool
) -> None:
    report = session_report(env, platform)
    assert (report.kind, report.usable, report.problem is not None) == (kind, usable, problem)
    assert (report.fix is not None) == problem

"""Fixtures shared by the whole test tree: a private home, a virtual screen, the Tk test app, the stand-in model.

Helpers that tests import by name live in tests/support/; no test module imports from another.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.ocr.reader import OcrEngine
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp
from tests.support.xvfb import SCREEN, Xvfb, start_xvfb


@pytest.fixture(scope="session", autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # The audit log defaults to ~/.local/state: tests must not write into the real home folder.
    with pytest.MonkeyPatch.context() as patch:
        home = tmp_path_factory.mktemp("home")
        patch.setenv("HOME", str(home))
        # One cache for the whole run, so the INT8 OCR model is built once: the default folder, which
        # the engine and in-process servers use (~/.cache), is also where server subprocesses look
        # (their configuration resolves $XDG_CACHE_HOME).
        patch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        yield


@pytest.fixture(scope="session", autouse=True)
def _int8_ocr_model(_private_home: None) -> None:
    # Built and checked against fp32 once before any test runs (some seconds), so no test sees OCR
    # switch from fp32 midway. Whether INT8 passes its check depends on the CPU: tests must hold
    # either way.
    engine = OcrEngine()
    engine.load(wait=True)
    engine.close()


@pytest.fixture(scope="session")
def display() -> Iterator[Xvfb]:
    """One 1366x768 virtual screen for the session, with a real Xauthority cookie."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (scripts/setup dev installs it)")
    xvfb = start_xvfb(*SCREEN)
    try:
        yield xvfb
    finally:
        xvfb.stop()


@pytest.fixture(scope="module")
def display_env(display: Xvfb) -> Iterator[None]:
    """``DISPLAY`` and ``XAUTHORITY`` point at the shared screen, for servers built in this process.

    In-process servers (tests/support/inprocess.py) capture and click where pyautogui and mss look:
    a module whose tests act through one requests this (``pytest.mark.usefixtures("display_env")``).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISPLAY", display.display)
        patch.setenv("XAUTHORITY", display.xauthority)
        yield


@pytest.fixture
def app(display: Xvfb, tmp_path: Path) -> Iterator[TkApp]:
    """A fresh Tk form on the virtual screen, reporting its widgets' geometry and state."""
    with TkApp(tmp_path / "state.json", env=display.env(), geometry="760x560+180+90") as tk_app:
        yield tk_app


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    """The stand-in SGLang server (a real HTTP server on 127.0.0.1)."""
    with StandIn() as server:
        yield server

"""``vlm-desktop-mcp doctor``: is everything the configuration needs here, and if not, what to do.

Each check gives one row (ok, warn, fail or skip) with what it found and, for warn and fail, the
fix. The exit status is 1 when something the configuration needs is broken, else 0. The table goes
to stdout: doctor is a command for a person, not the stdio server.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TextIO

import anyio

from engine.errors import ModelError
from engine.ocr.reader import OcrEngine, OcrUnavailable
from engine.vlm.backend import ChatBackend
from engine.vlm.backends.openai_http import OpenAIHTTPBackend
from engine.vlm.backends.pool import EndpointPool
from engine.vlm.trust import CanaryMode, GroundingGate, VerdictCache, identify
from engine.vlm.vision import VisionEngine
from mcp_server.config import Settings, canary_cache_path
from mcp_server.lifespan import judged, make_backend, make_grounder
from mcp_server.session_type import session_report
from tools.desktop.capture import MssCapturer
from tools.desktop.inputs import PyAutoGuiDriver
from tools.errors import ToolFailure

Status = Literal["ok", "warn", "fail", "skip"]
CAPTURE_SLOW_MS = 250.0
"""A full-screen grab slower than this makes every look at the screen noticeably slow."""
HEALTH_TIMEOUT = 10.0


@dataclass(frozen=True)
class Check:
    """One row of the table."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def run_doctor(settings: Settings, env: Mapping[str, str], out: TextIO = sys.stdout) -> int:
    """Run every check for ``settings``, print the table to ``out``; 1 when one failed, else 0."""
    checks = [*desktop_checks(settings, env), ocr_check(settings), *anyio.run(model_checks, settings)]
    out.write(format_table(checks))
    failed = [c.name for c in checks if c.status == "fail"]
    out.write(
        f"\n{len(failed)} problem(s) the configuration needs fixed: {', '.join(failed)}\n"
        if failed
        else "\nEverything the configuration needs works.\n"
    )
    return 1 if failed else 0


def format_table(checks: list[Check]) -> str:
    """The checks as an aligned table, each warning's or failure's fix on the line below it."""
    width = max(len(c.name) for c in checks)
    lines = [f"{'check':<{width}}  status  detail", f"{'-' * width}  ------  ------"]
    for check in checks:
        lines.append(f"{check.name:<{width}}  {check.status.upper():<6}  {check.detail}")
        if check.fix and check.status in ("warn", "fail"):
            lines.append(f"{'':<{width}}  {'':<6}  fix: {check.fix}")
    return "\n".join(lines) + "\n"


def desktop_checks(settings: Settings, env: Mapping[str, str]) -> list[Check]:
    """The session type, the display, capture speed, input and the clipboard."""
    report = session_report(env)
    session = Check(
        "session",
        "ok" if report.problem is None else ("warn" if report.usable else "fail"),
        f"{report.kind}: {report.works}" + (f" ({report.problem})" if report.problem else ""),
        report.fix or "",
    )
    capturer = MssCapturer()  # one connection for both: a second one opened after closing a first failed under Xvfb
    try:
        display = _display_check(capturer)
        speed = (
            _capture_speed_check(capturer) if display.status == "ok" else Check("capture speed", "skip", "no display")
        )
    finally:
        capturer.close()
    checks = [session, display, speed]
    checks.append(_input_check(settings))
    checks.append(_clipboard_check(env))
    return checks


def _display_check(capturer: MssCapturer) -> Check:
    try:
        monitors = capturer.monitors_sync()[1:]
    except Exception as exc:  # mss raises its own error types, and Xlib's for a refused connection
        return Check(
            "display",
            "fail",
            f"cannot open the display: {exc.__class__.__name__}: {exc}",
            "run inside the desktop session, or set DISPLAY and XAUTHORITY to it (e.g. DISPLAY=:0)",
        )
    sizes = ", ".join(f"{m.width}x{m.height} at {m.x},{m.y}" for m in monitors)
    return Check("display", "ok", f"{len(monitors)} monitor(s): {sizes}")


def _capture_speed_check(capturer: MssCapturer, grabs: int = 5) -> Check:
    times = []
    for _ in range(grabs):
        started = time.perf_counter()
        capture = capturer.grab_sync()
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    size = f"{capture.image.width}x{capture.image.height}"
    if median > CAPTURE_SLOW_MS:
        return Check(
            "capture speed",
            "warn",
            f"{median:.0f} ms per full-screen grab of {size} (median of {grabs})",
            "a remote or software-rendered display is slow to read: capture a monitor or region, not the whole desktop",
        )
    return Check("capture speed", "ok", f"{median:.0f} ms per full-screen grab of {size} (median of {grabs})")


def _input_check(settings: Settings) -> Check:
    driver = PyAutoGuiDriver(pause=settings.desktop.pause, failsafe=settings.desktop.failsafe)
    dry = " (dry run: no input is sent anyway)" if settings.desktop.dry_run else ""
    try:
        driver.load()
        x, y = driver.position()
    except ToolFailure as exc:
        return Check("input", "fail", f"{exc}{dry}", "install the desktop extras and run inside the X session")
    detail = f"pyautogui loaded, pointer at {x},{y}"
    if sys.platform.startswith("linux"):
        if not _has_xtest():
            return Check(
                "input",
                "fail",
                f"{detail}, but the X server has no XTEST extension: clicks and keys cannot be sent",
                "enable XTEST in the X server (Xvfb and Xorg have it unless started with -extension XTEST)",
            )
        detail += ", XTEST present"
        if shutil.which("xdotool") is None:
            return Check("input", "ok", f"{detail}; xdotool not installed (optional)")
    return Check("input", "ok", detail + dry)


def _has_xtest() -> bool:
    from Xlib import display as xdisplay

    connection = xdisplay.Display()
    try:
        return bool(connection.query_extension("XTEST"))
    finally:
        connection.close()


def _clipboard_check(env: Mapping[str, str]) -> Check:
    if not sys.platform.startswith("linux"):
        return Check("clipboard", "skip", "the clipboard tools serve X11 only for now")
    if shutil.which("xclip") is None:
        return Check(
            "clipboard",
            "warn",
            "xclip is not installed: typing text that is not ASCII and the clipboard tools will fail",
            "apt-get install xclip (dnf install xclip)",
        )
    if not env.get("DISPLAY"):
        return Check("clipboard", "skip", "no X display")
    from tools.desktop import clipboard

    try:
        clipboard.read_text()
    except ToolFailure as exc:
        return Check("clipboard", "warn", f"xclip could not read the clipboard: {exc}", "check DISPLAY/XAUTHORITY")
    return Check("clipboard", "ok", "xclip reads the clipboard")


def ocr_check(settings: Settings) -> Check:
    """Load the OCR models (building and checking the INT8 copy when none is cached yet)."""
    if not settings.ocr.enabled:
        return Check("ocr", "skip", "ocr.enabled is false")
    engine = OcrEngine(settings.ocr)
    try:
        engine.load(wait=True)
    except OcrUnavailable as exc:
        need: Status = "fail" if settings.model.backend == "none" else "warn"
        return Check(
            "ocr", need, f"the OCR models do not load: {exc}", "reinstall the package (its OCR models ship in it)"
        )
    finally:
        engine.close()
    detail = f"models load; recognition runs in {engine.precision}"
    if engine.int8_verdict is not None:
        detail += f" ({engine.int8_verdict.summary()})"
    elif engine.int8_error:
        detail += f" ({engine.int8_error})"
    return Check("ocr", "ok", detail)


async def model_checks(settings: Settings) -> list[Check]:
    """Each endpoint's health, the model it serves, and the grounding canary: rows per endpoint, per role.

    With several servers (``model.base_urls``) a server that fails while another of its role works is a
    warning (requests go to the working ones); with a separate grounder its rows are named ``grounder``.
    """
    model = settings.model
    if model.backend == "none":
        return [Check("model", "skip", "no model configured (model.backend none): describe_screen reads with OCR")]
    roles: list[tuple[str, ChatBackend | None]] = [("planner", make_backend(settings))]
    if model.split_roles:
        roles.append(("grounder", make_grounder(settings)))
    checks: list[Check] = []
    try:
        for role, backend in roles:
            servers = [e.backend for e in backend.endpoints] if isinstance(backend, EndpointPool) else [backend]
            if not all(isinstance(server, OpenAIHTTPBackend) for server in servers):
                return [Check("model", "skip", f"{model.backend} backend runs in this process: no endpoint to check")]
            label = f"{role} " if model.split_roles else ""
            enforced = judged(settings, "grounder" if role == "grounder" else "planner")
            rows = [
                await _endpoint_checks(
                    settings, server, label, "" if len(servers) == 1 else f" {number}", len(servers), enforced
                )
                for number, server in enumerate(servers, 1)
                if isinstance(server, OpenAIHTTPBackend)
            ]
            working = any(all(c.status in ("ok", "skip") for c in group) for group in rows)
            for group in rows:
                checks.extend(_spared(c) if working and len(rows) > 1 else c for c in group)
    finally:
        for _, backend in roles:
            if backend is not None:
                await backend.aclose()
    return checks


def _spared(check: Check) -> Check:
    """A failure of one of several servers while another works: a warning, requests go to the others."""
    if check.status != "fail":
        return check
    return Check(check.name, "warn", f"{check.detail} (requests go to the working servers)", check.fix)


async def _endpoint_checks(
    settings: Settings,
    backend: OpenAIHTTPBackend,
    label: str = "",
    number: str = "",
    servers: int = 1,
    enforced: bool = True,
) -> list[Check]:
    name = backend.model_name
    names = {kind: f"{label}{kind}{number}" for kind in ("endpoint", "model info", "canary")}
    where = "model.grounder.base_url(s)" if label.startswith("grounder") else "model.base_url"
    start_it = (
        f"start the model server (python -m sglang.launch_server --model-path {name} --port 30000, or "
        f"vlm-desktop-mcp serve --launch-sglang) or set {where} to where it listens"
    )
    if servers > 1:
        start_it = f"start the model server at {backend.root_url} ({name}), or take it out of {where}s"
    try:
        await backend.server_get("/health", timeout=HEALTH_TIMEOUT)
    except ModelError as exc:
        skipped = [Check(names[kind], "skip", "the endpoint is not healthy") for kind in ("model info", "canary")]
        return [Check(names["endpoint"], "fail", f"{backend.root_url}: {exc}", start_it), *skipped]
    checks = [Check(names["endpoint"], "ok", f"{backend.root_url}/health answers")]
    try:
        served = await backend.models()
        who = await identify(backend)
    except ModelError as exc:
        checks.append(Check(names["model info"], "fail", str(exc), start_it))
        return [*checks, Check(names["canary"], "skip", "no model information")]
    if name not in served:
        checks.append(
            Check(
                names["model info"],
                "fail",
                f"the server serves {', '.join(served) or 'no model'}, not {name}",
                f"set the model's name to one of {', '.join(served)}, or serve {name}",
            )
        )
        return [*checks, Check(names["canary"], "skip", "the configured model is not served")]
    checks.append(Check(names["model info"], "ok", f"{who}" + (f" at {backend.root_url}" if servers > 1 else "")))
    checks.append(await _canary_check(settings, backend, names["canary"], per_endpoint=servers > 1, enforced=enforced))
    return checks


async def _canary_check(
    settings: Settings,
    backend: OpenAIHTTPBackend,
    name: str = "canary",
    *,
    per_endpoint: bool = False,
    enforced: bool = True,
) -> Check:
    model = settings.model
    mode = CanaryMode.ENFORCE if model.canary is CanaryMode.OFF else model.canary
    gate = GroundingGate(
        VisionEngine(backend, model.engine),
        backend,
        mode=mode,
        bound_px=model.canary_bound_px,
        cache=VerdictCache(model.canary_cache or canary_cache_path(None)),
        endpoint=backend.root_url if per_endpoint else None,  # as the pool caches its servers' verdicts
    )
    try:
        verdict = await gate.judge(fresh=True)
    except ModelError as exc:
        return Check(name, "fail", f"the model did not answer the grounding self-test: {exc}", "check the server's log")
    if verdict is None:  # pragma: no cover - the mode is never off here
        return Check(name, "skip", "the self-test is off")
    if verdict.passed:
        return Check(name, "ok", f"grounding self-test passed: {verdict.summary()}")
    if not enforced and model.canary is not CanaryMode.OFF:
        return Check(
            name,
            "warn",
            f"grounding self-test failed: {verdict.summary()}; not enforced for the planner: the grounder checks "
            "its clicks again (desktop.second_look)",
            "keep desktop.second_look on with this planner, or serve it with another SGLang/vLLM version",
        )
    return Check(
        name,
        "fail" if model.canary is CanaryMode.ENFORCE else "warn",
        f"grounding self-test failed: {verdict.summary()} (model.canary is {model.canary.value})",
        "use another SGLang/vLLM version or the transformers backend, and check the model's image settings "
        "(sglang #35772, #36762); model.canary: warn uses the model anyway",
    )

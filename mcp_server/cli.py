"""The ``vlm-desktop-mcp`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from mcp_server import __version__, doctor, eval_grounding, sglang_launcher, task_cli
from mcp_server.config import SHORTCUTS, ConfigError, Settings, audit_path, load_settings
from mcp_server.lifespan import SharedRuntime
from mcp_server.server import build_server
from mcp_server.session_type import session_report, startup_line
from mcp_server.transports import check_exposure, serve
from tools.safety.audit_records import entry_json, format_entry, read_entries

log = logging.getLogger("vlm_desktop_mcp")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vlm-desktop-mcp",
        description="MCP server that sees and drives this desktop with a local Qwen3-VL model.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    serve_cmd.add_argument("--config", type=Path, help="YAML config file (sections model:, server:, desktop:)")
    serve_cmd.add_argument(
        "--transport", choices=["stdio", "sse", "http", "streamable-http"], help="default: stdio (http: streamable)"
    )
    serve_cmd.add_argument("--host", help="address for sse/http (default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port for sse/http (default 8765)")
    serve_cmd.add_argument("--base-url", help="OpenAI-compatible model server (default http://127.0.0.1:30000/v1)")
    serve_cmd.add_argument("--model", help="model name (default Qwen/Qwen3-VL-2B-Instruct)")
    serve_cmd.add_argument("--backend", choices=["sglang", "openai", "transformers", "none"], help="default sglang")
    serve_cmd.add_argument("--api-key", help="bearer token for the model server, if it wants one")
    serve_cmd.add_argument("--thinking", choices=["auto", "native", "prompted", "off"], help="default auto")
    serve_cmd.add_argument("--monitor", type=int, help="monitor to capture by default (1 = primary, 0 = all)")
    serve_cmd.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    serve_cmd.add_argument(
        "--launch-sglang",
        action="store_const",
        const=True,
        default=None,
        help="start SGLang for --model on a free loopback port, supervise it, stop it on exit (config: sglang:)",
    )
    serve_cmd.add_argument(
        "--dry-run", action="store_const", const=True, default=None, help="validate and record actions, send no input"
    )
    serve_cmd.add_argument(
        "--auth-token",
        help="bearer token HTTP clients must send (needed to listen beyond 127.0.0.1); "
        "prefer VLM_DESKTOP_AUTH_TOKEN, flags show in ps",
    )
    doctor_cmd = commands.add_parser(
        "doctor", help="check the display, input, clipboard, capture, OCR, the model server and its grounding"
    )
    doctor_cmd.add_argument("--config", type=Path, help="YAML config file to check")
    doctor_cmd.add_argument("--base-url", help="OpenAI-compatible model server (default http://127.0.0.1:30000/v1)")
    doctor_cmd.add_argument("--model", help="model name (default Qwen/Qwen3-VL-2B-Instruct)")
    doctor_cmd.add_argument("--backend", choices=["sglang", "openai", "transformers", "none"], help="default sglang")
    doctor_cmd.add_argument("--api-key", help="bearer token for the model server, if it wants one")
    audit_cmd = commands.add_parser("audit", help="print the audit log of actions (newest last)")
    audit_cmd.add_argument("--path", type=Path, help="audit log file (default: audit.path from the configuration)")
    audit_cmd.add_argument("--config", type=Path, help="YAML config file to take audit.path from")
    audit_cmd.add_argument("--interrupted", action="store_true", help="only actions a crash interrupted")
    audit_cmd.add_argument("--json", action="store_true", help="one JSON object per action")
    audit_cmd.add_argument("--last", type=int, metavar="N", help="only the last N actions")
    # eval-grounding: click accuracy of the OCR / model / hybrid locators (mcp_server/eval_grounding.py).
    eval_grounding.add_parser(commands)
    task_cli.add_parsers(commands)  # run-task, replay, view (mcp_server/task_cli.py)
    return parser


def configure_logging(level: str) -> None:
    """Logs go to stderr: in stdio mode stdout is the protocol channel."""
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per model request is noise


def audit_command(args: argparse.Namespace) -> int:
    """``vlm-desktop-mcp audit``: the log, readable (or as JSON lines); exit 1 when it cannot be read."""
    path = args.path
    if path is None:
        try:
            path = audit_path(load_settings({}, os.environ, args.config))
        except ConfigError as exc:
            print(f"vlm-desktop-mcp: {exc}", file=sys.stderr)
            return 2
    try:
        entries = read_entries(path)
    except OSError as exc:
        print(f"vlm-desktop-mcp: cannot read the audit log {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if args.interrupted:
        entries = [e for e in entries if e.status == "interrupted"]
    if args.last is not None:
        entries = entries[-args.last :] if args.last > 0 else []
    for entry in entries:
        print(json.dumps(entry_json(entry), ensure_ascii=False) if args.json else format_entry(entry))
    if not args.json:
        print(f"{len(entries)} action(s) in {path}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "audit":
        return audit_command(args)
    if args.command == "eval-grounding":
        configure_logging("WARNING")
        return eval_grounding.run(args, os.environ)
    if args.command == "view":
        configure_logging("WARNING")
        return task_cli.view(args)
    flags = {key: getattr(args, key, None) for key in SHORTCUTS}
    try:
        settings = load_settings(flags, os.environ, args.config)
        check_exposure(settings)
    except ConfigError as exc:
        print(f"vlm-desktop-mcp: {exc}", file=sys.stderr)
        return 2
    if args.command == "doctor":
        configure_logging("ERROR")  # the table says it all
        return doctor.run_doctor(settings, os.environ)
    if args.command in ("run-task", "replay"):
        configure_logging("WARNING")  # the progress display owns the terminal
        settings = task_cli.with_confirm(settings, args.confirm)
        return task_cli.run_task(args, settings) if args.command == "run-task" else task_cli.replay(args, settings)
    configure_logging(settings.server.log_level)
    session_problem = startup_line(session_report(os.environ))
    if session_problem:
        log.warning("%s", session_problem)
    model = settings.model
    grounder = f"; grounder {model.grounder_name} at {', '.join(model.grounder_endpoints)}" if model.split_roles else ""
    log.info(
        "serving over %s; model %s via %s at %s%s%s",
        settings.server.transport,
        model.name,
        model.backend,
        ", ".join(model.endpoints),
        grounder,
        " (dry run: no input is sent)" if settings.desktop.dry_run else "",
    )
    if settings.sglang.launch:
        return sglang_launcher.run_launched(settings, _serve)
    try:
        anyio.run(_serve, settings)
    except KeyboardInterrupt:
        return 130
    return 0


async def _serve(settings: Settings) -> None:
    shared = SharedRuntime(settings)
    shared.open_audit()  # reports actions a crash interrupted, before serving
    await serve(build_server(settings, shared), settings)

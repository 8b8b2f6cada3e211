"""The README's tool reference is generated from the registry; it must not drift."""

from __future__ import annotations

from pathlib import Path

from mcp_server.docs import END, START, render

ROOT = Path(__file__).resolve().parents[1]


def test_readme_tool_reference_matches_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(START), readme.index(END) + len(END)
    assert readme[start:end] == render(), "README is stale: run python -m mcp_server.docs and paste its output"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in readme and "scripts/test" in ci
    assert "scripts/serve" in readme

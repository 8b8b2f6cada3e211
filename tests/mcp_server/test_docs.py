"""The README's tool reference is generated from the registry; it must not drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_server import docs
from mcp_server.docs import END, START, render, update

ROOT = Path(__file__).resolve().parents[2]


def test_readme_tool_reference_matches_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(START) == 1 and readme.count(END) == 1, "each tools marker must appear exactly once"
    start, end = readme.index(START), readme.index(END) + len(END)
    assert readme[start:end] == render(), "README is stale: run python -m mcp_server.docs --write"
    assert update(readme) == readme


def test_regeneration_is_idempotent_and_repairs_doubled_end_markers(tmp_path: Path) -> None:
    stale = f"# Title\n\nintro\n\n{START}\nold text\n{END}\n{END}\n\n{END}\n## Next\n\nmore\n"
    once = update(stale)
    assert once == f"# Title\n\nintro\n\n{render()}\n## Next\n\nmore\n"
    assert update(once) == once
    assert once.count(START) == 1 and once.count(END) == 1

    readme = tmp_path / "README.md"
    readme.write_text(stale, encoding="utf-8")
    assert docs.write(readme) is True
    first = readme.read_bytes()
    assert docs.write(readme) is False
    assert readme.read_bytes() == first
    assert first.count(START.encode()) == 1 and first.count(END.encode()) == 1


@pytest.mark.parametrize(
    "text",
    [
        "no markers at all\n",
        f"{START}\nunterminated\n",
        f"{START}\nbody\n{END}\nprose\n{END}\n",
        f"{START}\nbody\n{END}\n{START}\nagain\n{END}\n",
    ],
)
def test_update_refuses_missing_or_ambiguous_markers(text: str) -> None:
    with pytest.raises(ValueError):
        update(text)


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in readme and "scripts/test" in ci
    assert "scripts/serve" in readme

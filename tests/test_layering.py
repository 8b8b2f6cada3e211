"""The import direction: engine knows neither tools nor the server; tools never import mcp; tests share code
through tests/support/ only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"engine": {"tools", "mcp_server", "mcp"}, "tools": {"mcp_server", "mcp"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_layering(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_test_modules_import_helpers_from_support_only() -> None:
    """Shared helpers live in tests/support/ and shared fixtures in a conftest.py, never in a test module."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _module_imports(path) if name.split(".")[-1].startswith(("test_", "conftest"))
        )
        for path in (ROOT / "tests").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def _module_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names

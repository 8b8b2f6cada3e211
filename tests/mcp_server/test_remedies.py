"""mcp_server/remedies.py: hints that name the server's flags and variables are added at its boundary only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mcp_server.remedies import remedy
from tools.errors import ActionRefused, AuditUnavailable, InvalidAction, ModelFailure, ModelUnreachable, ToolFailure
from tools.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("failure", "named"),
    [
        (ModelUnreachable("cannot reach the model server at http://127.0.0.1:9/v1"), "--base-url"),
        (
            AuditUnavailable("cannot write the audit log /x: Permission denied"),
            "VLM_DESKTOP_AUDIT__PATH",
        ),
    ],
)
def test_failures_the_operator_fixes_get_the_servers_own_names(failure: ToolFailure, named: str) -> None:
    assert named in remedy(failure)
    assert f"{failure}{remedy(failure)}".startswith(f"{failure}. ")  # one sentence after another


def test_a_message_that_ends_a_sentence_gets_no_second_full_stop() -> None:
    failure = AuditUnavailable("cannot write the audit log /x; no input was sent. Fix the file's permissions.")
    assert remedy(failure).startswith(" The log's place is audit.path")


def test_a_model_failure_without_a_model_says_how_to_configure_one() -> None:
    no_model = Runtime(settings=None, engine=None, capturer=None, driver=None)  # type: ignore[arg-type]
    assert "--backend" in remedy(ModelFailure("plan_next_action needs a vision model"), no_model)
    assert remedy(ModelFailure("the model's answer could not be used")) == ""


@pytest.mark.parametrize("failure", [InvalidAction("bad key"), ActionRefused("blocked_chords", "refused")])
def test_other_failures_get_no_hint(failure: ToolFailure) -> None:
    assert remedy(failure) == ""


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


@pytest.mark.parametrize("package", ["engine", "tools"])
def test_engine_and_tools_messages_name_no_server_flag_or_variable(package: str) -> None:
    # Docstrings may say how a module is run; messages must not name this server's flags or variables.
    offenders = {
        str(path.relative_to(ROOT)): text
        for path in (ROOT / package).rglob("*.py")
        for text in _strings(path)
        if "VLM_DESKTOP_" in text or "--base-url" in text
    }
    assert offenders == {}

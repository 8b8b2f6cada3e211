"""What the operator can do about a failure, said in this server's own terms: its flags, environment
variables and configuration keys.

The layers below say what went wrong and what to start; only the server knows how it is configured,
so a hint that names a flag or a variable is added here, where failures become results.
"""

from __future__ import annotations

from tools.errors import AuditUnavailable, ModelDistrusted, ModelFailure, ModelUnreachable, ToolFailure
from tools.runtime import Runtime

POINT_AT_MODEL = "Point this server at the model server with --base-url (VLM_DESKTOP_BASE_URL, model.base_url)."
CONFIGURE_MODEL = (
    "This server runs with no model (--backend none): restart it with --backend sglang and --base-url "
    "(VLM_DESKTOP_BACKEND, VLM_DESKTOP_BASE_URL)."
)
RECHECK_MODEL = (
    "After changing the model server, `vlm-desktop-mcp doctor` runs the self-test again; model.canary "
    "(VLM_DESKTOP_MODEL__CANARY=warn) uses the model despite it."
)
MOVE_AUDIT_LOG = "The log's place is audit.path (VLM_DESKTOP_AUDIT__PATH)."


def remedy(failure: ToolFailure, runtime: Runtime | None = None) -> str:
    """What to append to ``failure``'s message: its hint, after the punctuation the message lacks, or ``""``."""
    if isinstance(failure, ModelDistrusted):
        hint = RECHECK_MODEL
    elif isinstance(failure, ModelUnreachable):
        hint = POINT_AT_MODEL
    elif isinstance(failure, ModelFailure) and runtime is not None and runtime.engine is None:
        hint = CONFIGURE_MODEL
    elif isinstance(failure, AuditUnavailable):
        hint = MOVE_AUDIT_LOG
    else:
        return ""
    return f" {hint}" if str(failure).rstrip().endswith((".", "!", "?")) else f". {hint}"

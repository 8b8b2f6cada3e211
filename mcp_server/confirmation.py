"""Asking a person to confirm an action, through MCP elicitation, on either protocol generation.

The question is settled by an SDK resolver that runs before the tool body: on 2026-07-28 and
later the SDK turns ``Elicit`` into an ``InputRequiredResult`` round trip (the call returns, the
client asks the person, and retries with the answer); on older protocols the resolver asks over
the back-channel itself, bounded by ``policy.confirm_timeout``. The tool body then gets a
:data:`tools.runtime.Confirm` that hands back the settled answer, so ``tools/`` stays free of MCP.

An approval is bound to what it approved. The resolver prepares the action under the desktop lock
(a semantic action is resolved on the screen) and asks about every input event it would send; the
answer carries the digest of those events. The body reuses that preparation while the screen still
shows what it was prepared on, and prepares again otherwise; when what would run now differs from
what was approved (the screen moved, so a semantic action resolved elsewhere), the approval does not
count and nothing is done.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, ValidationError

from tools.errors import ToolFailure
from tools.registry import ToolSpec
from tools.runtime import Asked, Confirm, Runtime
from tools.safety.policy import refuse

log = logging.getLogger(__name__)

ROUND_TRIP_VERSION = "2026-07-28"
"""From this protocol version on, a server asks the client through ``InputRequiredResult``, not mid-call."""


class Approval(BaseModel):
    """The form a person fills in to confirm an action."""

    approve: bool = Field(description="Perform this action on the desktop?")


@dataclass(frozen=True)
class Decision:
    """A confirmation settled without a round trip: none needed, answered, or why nobody answered."""

    needed: bool
    approved: bool | None = None
    timed_out: float | None = None
    failed: bool = False
    """Preparing the question crashed: nobody can be asked, so the action is refused."""


class AskedQuestions:
    """What each in-flight call's resolver asked, by request id, so the body can bind the answer to it."""

    def __init__(self) -> None:
        self._asked: dict[str, Asked] = {}

    def remember(self, request_id: str, asked: Asked) -> None:
        """Record what was asked for ``request_id``."""
        self._asked[request_id] = asked

    def take(self, request_id: str) -> Asked | None:
        """What was asked for ``request_id`` (forgotten afterwards)."""
        return self._asked.pop(request_id, None)


def can_elicit(ctx: Context) -> bool:
    """Whether the client declared form elicitation (a bare ``elicitation: {}`` means form)."""
    capabilities = ctx.client_capabilities
    elicitation = None if capabilities is None else capabilities.elicitation
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def question_resolver(
    spec: ToolSpec,
    runtime_of: Callable[[], Runtime | None],
    requester: Callable[[Context], str | None],
    params_of: Callable[[ToolSpec, dict[str, Any]], BaseModel],
    asked: AskedQuestions,
) -> Callable[..., Any]:
    """The SDK resolver for ``spec``: takes the tool's arguments by name, returns ``Elicit`` or a :class:`Decision`."""

    async def resolver(ctx: Context, **arguments: Any) -> Elicit[Approval] | Decision:
        runtime = runtime_of()
        if runtime is None or spec.question is None:
            return Decision(needed=False)
        try:
            params = params_of(spec, arguments)
            asked_now = await spec.question(runtime, params, requester(ctx))
        except (ValidationError, ToolFailure):  # the tool body validates again and reports the problem itself
            log.debug("no confirmation question for %s", spec.name, exc_info=True)
            return Decision(needed=False)
        except Exception:
            log.exception("preparing the confirmation question for %s crashed", spec.name)
            return Decision(needed=True, failed=True)
        if asked_now is None:
            return Decision(needed=False)
        asked.remember(ctx.request_id, asked_now)
        question = asked_now.question
        if not can_elicit(ctx):
            return Decision(needed=True)
        if ctx.protocol_version is not None and is_version_at_least(ctx.protocol_version, ROUND_TRIP_VERSION):
            return Elicit(question, Approval)
        if not ctx.session.can_send_request:
            return Decision(needed=True)
        timeout = runtime.policy.confirm_timeout
        with anyio.move_on_after(timeout):
            try:
                answer = await ctx.elicit(question, Approval)
            except Exception as exc:  # the client could not be asked after all
                log.warning("confirmation request failed: %s: %s", exc.__class__.__name__, exc)
                return Decision(needed=True)
            return Decision(needed=True, approved=answer.action == "accept" and answer.data.approve)
        return Decision(needed=True, timed_out=timeout)

    parameters = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    parameters += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in spec.params.model_fields]
    resolver.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    resolver.__annotations__ = {"ctx": Context, "return": Elicit[Approval] | Decision}
    return resolver


def confirm_from(outcome: Any, shown: Asked | None) -> Confirm:
    """The tool body's :data:`Confirm`, answering with what the resolver settled (``None``: nobody can answer).

    An approval counts only for what the person was shown (``shown``): the same input events.
    """

    async def confirm(asked: Asked) -> bool | None:
        data = getattr(outcome, "data", None)
        if getattr(outcome, "action", None) in ("decline", "cancel"):
            return False
        if isinstance(data, Decision):
            if data.failed:
                raise refuse("confirm", "the confirmation question could not be prepared (see the server log)")
            if data.timed_out is not None:
                raise refuse("confirm", f"nobody confirmed it within {data.timed_out:g} s")
            approved = data.approved
        elif isinstance(data, Approval):
            approved = data.approve
        else:
            return None
        if approved and (shown is None or asked.digest != shown.digest):
            raise refuse(
                "confirm",
                "what would run now differs from what the person approved (the screen changed since the question "
                "was asked); nothing was done. Call execute_action again to ask about what would run now",
            )
        return approved

    return confirm

"""The tools as plain data: name, description, kind, parameters, result and handler.

``mcp_server`` turns each :class:`ToolSpec` into an MCP tool; nothing here knows about MCP. The
screen tools are defined here; the desktop-structure family (windows, applications, the clipboard,
waiting) in :mod:`tools.desktop_tools`. :data:`TOOLS` lists them all.
"""

from __future__ import annotations

import anyio
from pydantic import BaseModel, ConfigDict, Field

from tools.actions.vocabulary import Action, catalogue
from tools.batch import MAX_STEPS, batch_question, execute_batch
from tools.describe import RegionArg, describe_screen
from tools.describe_trust import screen_text_as_data
from tools.desktop_tools import DESKTOP_TOOLS
from tools.errors import InvalidAction
from tools.execute import confirmation_question, execute_action
from tools.marks import draw_marks
from tools.plan import plan_next_action
from tools.results import DescribeResult, ExecuteResult, PlanResult
from tools.runtime import Asked, Caller, Runtime
from tools.spec import Handler, Outcome, Question, ToolSpec
from tools.zoom import ZOOM_TOOLS

__all__ = ["TOOLS", "Handler", "Outcome", "Question", "ToolSpec"]


class DescribeParams(BaseModel):
    """Arguments of describe_screen."""

    model_config = ConfigDict(extra="forbid")
    region: RegionArg | None = Field(
        None, description="Only this screen rectangle {x, y, width, height} (screen pixels). Default: whole monitor."
    )
    monitor: int | None = Field(None, ge=0, le=16, description="Monitor to capture: 1 = primary, 0 = all monitors.")
    question: str | None = Field(
        None, max_length=2000, description="Optional question about the screen; the answer comes back in `answer`."
    )
    include_screenshot: bool = Field(False, description="Also return the screenshot as an image (scaled down).")
    marks: bool = Field(
        False,
        description="With include_screenshot: draw each element's id on its box (set-of-marks), so you can "
        "point at an element by id with a click_element action.",
    )


class PlanParams(BaseModel):
    """Arguments of plan_next_action."""

    model_config = ConfigDict(extra="forbid")
    goal: str = Field(min_length=1, max_length=4000, description="What the user wants done on this desktop.")
    history: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Short descriptions of the steps already taken, oldest first.",
    )
    thinking: bool = Field(True, description="Let the model reason step by step before it answers (slower, better).")
    max_reasoning_steps: int | None = Field(None, ge=1, le=32, description="Cap on numbered reasoning steps.")
    monitor: int | None = Field(None, ge=0, le=16, description="Monitor to look at: 1 = primary, 0 = all.")
    semantic: bool = Field(
        True,
        description="Also let the model propose click_text, fill_input, goto_url and upload_file (those the "
        "server's policy allows; found on the live screen by their text) where they fit better than coordinates. "
        "False: coordinates only.",
    )


class ExecuteParams(BaseModel):
    """Arguments of execute_action."""

    model_config = ConfigDict(extra="forbid")
    action: Action | None = Field(
        None, description="One action; `type` selects it. Coordinates are absolute screen pixels."
    )
    actions: list[Action] | None = Field(
        None,
        min_length=1,
        max_length=MAX_STEPS,
        description="Instead of `action`: an ordered list run as one unit. Policy and confirmation are checked for "
        "the whole list first; it stops at the first failure or at a step that changed nothing, and `batch` reports "
        "each step's result and the steps not run.",
    )
    dry_run: bool | None = Field(
        None, description="Validate and report the input events without sending them. Server setting if omitted."
    )
    action_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description=(
            "Optional idempotency key you choose (e.g. a UUID), new for every distinct action. If a call with this "
            "id already completed, its stored result comes back with `replayed: true` and nothing is done again, "
            "so retrying after a timeout or a lost connection is safe. Reusing an id for a different action is an "
            "error."
        ),
    )
    confirmation_token: str | None = Field(
        None,
        max_length=256,
        description="The `confirmation.token` of a dry run of exactly this action (or list): confirms it without "
        "elicitation. Single use, short-lived; refused when the input events differ from the dry run's.",
    )


async def _describe(runtime: Runtime, params: DescribeParams, caller: Caller) -> Outcome:
    result, capture = await describe_screen(runtime, params.region, params.monitor, params.question, caller.progress)
    result = screen_text_as_data(result)
    if not params.include_screenshot:
        return Outcome(result)
    if not params.marks:
        return Outcome(result, [capture.image])
    return Outcome(result, [await anyio.to_thread.run_sync(draw_marks, capture.image, capture.frame, result.elements)])


async def _plan(runtime: Runtime, params: PlanParams, caller: Caller) -> Outcome:
    result = await plan_next_action(
        runtime,
        params.goal,
        params.history,
        params.thinking,
        params.max_reasoning_steps,
        params.monitor,
        caller.progress,
        params.semantic,
    )
    return Outcome(result)


def _one_of(params: ExecuteParams) -> None:
    if (params.action is None) == (params.actions is None):
        raise InvalidAction("give either `action` (one action) or `actions` (a list run as one unit), not both")
    if params.actions is not None and params.action_id is not None:
        raise InvalidAction("action_id applies to one `action`; a batch (`actions`) takes none")


async def _execute(runtime: Runtime, params: ExecuteParams, caller: Caller) -> Outcome:
    _one_of(params)
    token = params.confirmation_token
    if params.actions is not None:
        return Outcome(await execute_batch(runtime, params.actions, params.dry_run, caller, token))
    assert params.action is not None
    return Outcome(await execute_action(runtime, params.action, params.dry_run, caller, params.action_id, token))


async def _execute_question(runtime: Runtime, params: ExecuteParams, requester: str | None) -> Asked | None:
    if (params.action is None) == (params.actions is None) or params.confirmation_token is not None:
        return None  # the call refuses bad arguments itself; a token is checked by the call
    if params.actions is not None:
        if params.dry_run or runtime.settings.dry_run:
            return None
        return await batch_question(runtime, params.actions, requester)
    assert params.action is not None
    return await confirmation_question(runtime, params.action, params.dry_run, params.action_id, requester)


TOOLS: list[ToolSpec] = [
    ToolSpec(
        name="describe_screen",
        title="Describe the screen",
        description=(
            "Take a screenshot and list the GUI elements on it (buttons, inputs, checkboxes, links, text...), each "
            "with a label, a box and a `center` in absolute screen pixels that execute_action can click directly, "
            "plus a one-sentence summary. Use it to find where things are before acting, or pass `question` to ask "
            "about the screen. Text boxes come from offline OCR fused with the model's elements; with no model "
            "available it still works from OCR alone (`mode: ocr_only`). It never changes anything on screen."
        ),
        kind="read",
        params=DescribeParams,
        result=DescribeResult,
        handler=_describe,
    ),
    ToolSpec(
        name="plan_next_action",
        title="Plan the next GUI action",
        description=(
            "Look at the screen and let the local vision model decide the single next step towards `goal`, "
            "reasoning step by step first. Returns the reasoning and an `action` object that can be passed "
            "unchanged to execute_action; `done` is true when the model considers the task finished. It does not "
            "act by itself."
        ),
        kind="read",
        params=PlanParams,
        result=PlanResult,
        handler=_plan,
    ),
    ToolSpec(
        name="execute_action",
        title="Perform one GUI action",
        description=(
            "Perform one GUI action on the real desktop. Primitive actions take absolute screen pixels, e.g. an "
            "element's `center` from describe_screen; semantic actions find their target on the live screen (by "
            "visible text, a field's label, an element id) and check their own effect. Prefer a semantic action "
            "when the target shows readable text. The actions:\n\n"
            + catalogue()
            + "\n\nPoints off the screen and unknown key names are refused, and so is anything the server's policy "
            "forbids (the error names the rule; the policy cannot be changed from here); the server may ask a person "
            "to confirm first. Returns the input events sent and the effect: `effect` says whether the screen "
            "changed, `checks` what a semantic action verified; a semantic action whose check fails is an error "
            "naming the stage where it stopped. Use dry_run to check an action without performing it, and "
            "action_id to make a retry safe."
        ),
        kind="act",
        params=ExecuteParams,
        result=ExecuteResult,
        handler=_execute,
        question=_execute_question,
    ),
    *ZOOM_TOOLS,
    *DESKTOP_TOOLS,
]
"""Every tool the server offers, in the order they are listed to clients."""

"""The two model calls the tools make: describe a screenshot, and propose the next action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio
from PIL import Image

from engine.errors import ModelOutputError, ModelServerError
from engine.vlm import prompts, usage
from engine.vlm.backend import ChatBackend, ChatRequest, ChatResponse, backend_preset
from engine.vlm.formats import GroundingFormat, format_for_preset
from engine.vlm.imaging import prepare_for_model
from engine.vlm.parsing import (
    GridDescription,
    GridElement,
    ToolCall,
    parse_description,
    parse_tool_call,
    split_thinking,
    thought_before_call,
)
from engine.vlm.settings import EngineSettings, StructuredOutput
from engine.vlm.thinking import ThinkingMode, resolve_thinking
from engine.vlm.trust import GroundingGate


@dataclass(frozen=True)
class Description:
    """A describe answer on the grid, with what it cost."""

    grid: GridDescription
    model: str
    image_size: tuple[int, int]
    latency_ms: float
    raw: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Proposal:
    """A planning answer: the reasoning and the tool call, coordinates still on the grid."""

    call: ToolCall
    reasoning: str | None
    mode: ThinkingMode
    model: str
    latency_ms: float
    raw: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


MAX_ANSWER_CHARS = 256_000
"""No describe or plan answer is legitimately this long; longer ones are runaway generations."""


def _check_complete(response: ChatResponse, max_tokens: int) -> None:
    """Refuse answers cut off at the token limit: a truncated element list or call is not an answer."""
    preview = response.content[:2000]
    if len(response.content) > MAX_ANSWER_CHARS:
        raise ModelOutputError(
            f"the model's answer is {len(response.content)} characters long, a runaway generation", raw=preview
        )
    if response.finish_reason == "length":
        raise ModelOutputError(
            f"the model's answer was cut off at the token limit ({max_tokens} tokens); "
            "ask about a smaller region, or raise the limit",
            raw=preview,
        )


def structured_output_body(mode: StructuredOutput, schema: dict[str, object]) -> dict[str, object]:
    """The request fields that constrain an answer to ``schema`` (``extra_body``), for ``mode``.

    * ``response_format``: OpenAI's ``{"type": "json_schema", "json_schema": {"name", "schema"}}``, which
      SGLang reads (docs.sglang.io, "Structured Outputs"; with ``--reasoning-parser`` the grammar applies
      after ``</think>``, "Structured Outputs For Reasoning Models") and vLLM reads too;
    * ``structured_outputs``: vLLM's own ``{"json": schema}`` (vLLM >= 0.12, which removed ``guided_json``;
      docs.vllm.ai "Structured Outputs");
    * ``off``: nothing.
    """
    if mode == "response_format":
        json_schema = {"name": prompts.DESCRIBE_SCHEMA_NAME, "schema": schema}
        return {"response_format": {"type": "json_schema", "json_schema": json_schema}}
    if mode == "structured_outputs":
        return {"structured_outputs": {"json": schema}}
    return {}


_SCHEMA_WORDS = ("response_format", "json_schema", "structured_outputs", "schema", "grammar")


def _refused_schema(error: ModelServerError, mode: StructuredOutput) -> ModelServerError | None:
    """An actionable error when ``error`` is the server refusing the describe schema, else None."""
    text = str(error)
    if mode == "off" or not any(word in text.lower() for word in _SCHEMA_WORDS):
        return None
    other = "; or structured_outputs for vLLM >= 0.12" if mode == "response_format" else ""
    return ModelServerError(
        f"the model server refused describe's JSON schema sent as {mode} ({text}); set model.structured_output "
        f"to off for a server without structured outputs{other}"
    )


class VisionEngine:
    """Asks a :class:`ChatBackend` about screenshots in Qwen3-VL's native formats."""

    def __init__(
        self,
        backend: ChatBackend,
        settings: EngineSettings | None = None,
        gate: GroundingGate | None = None,
        *,
        grounder: ChatBackend | None = None,
        grounder_gate: GroundingGate | None = None,
    ) -> None:
        self.backend = backend
        """The planner: :meth:`plan` asks it."""
        self.settings = settings or EngineSettings()
        self.gate = gate
        """When set, every plan first needs the planner to have passed the grounding canary (its
        coordinates are clicked); and every other call too when there is no separate grounder."""
        self.grounder = grounder or backend
        """The grounder: :meth:`describe` and :meth:`locate` ask it (the planner unless one is given)."""
        self.grounder_gate = gate if grounder is None else grounder_gate
        """The canary gate of the grounder's calls."""

    @property
    def model_name(self) -> str:
        """The model behind the backend."""
        return self.backend.model_name

    async def _ask(self, image: Image.Image, request: ChatRequest) -> tuple[ChatResponse, tuple[int, int]]:
        planning = request.purpose == "plan"
        gate = self.gate if planning else self.grounder_gate
        if gate is not None:
            await gate.check()
        # Resizing and encoding a full screen takes milliseconds of CPU: not on the event loop.
        png, size = await anyio.to_thread.run_sync(prepare_for_model, image, self.settings.max_image_pixels)
        response = await (self.backend if planning else self.grounder).chat(
            ChatRequest(
                prompt=request.prompt,
                image_png=png,
                system=request.system,
                temperature=request.temperature,
                top_p=request.top_p,
                max_tokens=request.max_tokens,
                purpose=request.purpose,
                extra_body=request.extra_body,
            )
        )
        usage.record(response)  # a cut-off answer cost its tokens too
        _check_complete(response, request.max_tokens)
        return response, size

    async def describe(self, image: Image.Image, question: str | None = None) -> Description:
        """List the GUI elements on ``image`` (grounding wants temperature 0).

        The answer is constrained to :func:`prompts.describe_schema` as
        :attr:`EngineSettings.structured_output` says; a server that refuses the constraint raises
        :class:`ModelServerError` saying to switch it off (not a silent retry without it: the refusal
        is the server's configuration, the same on every call, and the user should know the guarantee
        is off).
        """
        mode = self.settings.structured_output
        try:
            response, size = await self._ask(
                image,
                ChatRequest(
                    prompt=prompts.describe_prompt(question),
                    temperature=0.0,
                    max_tokens=self.settings.describe_max_tokens + self._thinking_allowance(),
                    purpose="describe",
                    extra_body=structured_output_body(mode, prompts.describe_schema(question)),
                ),
            )
        except ModelServerError as exc:
            refused = _refused_schema(exc, mode)
            if refused is None:
                raise
            raise refused from exc
        _, answer = split_thinking(response.content, response.reasoning)
        grid = parse_description(answer)
        return Description(
            grid,
            response.model,
            size,
            response.latency_ms,
            response.content,
            response.prompt_tokens,
            response.completion_tokens,
        )

    def _thinking_allowance(self) -> int:
        """Tokens a grounder that thinks natively spends before its answer (``thinking_max_tokens``), else 0.

        A -Thinking checkpoint reasons before every answer, grounding included, and servers count the
        reasoning against ``max_tokens``: without this a point answer's 256 tokens end mid-thought.
        """
        native = backend_preset(self.grounder).thinking is ThinkingMode.NATIVE
        return self.settings.thinking_max_tokens if native else 0

    @property
    def grounding_format(self) -> GroundingFormat:
        """The grounder's own grounding prompt and answer format (from its model's preset)."""
        return format_for_preset(backend_preset(self.grounder))

    async def locate(self, image: Image.Image, target: str) -> list[GridElement]:
        """Ground one described element to points/boxes on the grid, in the grounder's own format."""
        grounding = self.grounding_format
        asked = grounding.prompt(target)
        response, _ = await self._ask(
            image,
            ChatRequest(
                prompt=asked.user,
                system=asked.system,
                temperature=0.0,
                max_tokens=grounding.max_tokens + self._thinking_allowance(),
                purpose="locate",
            ),
        )
        _, answer = split_thinking(response.content, response.reasoning)
        return grounding.parse(answer, target)

    async def plan(
        self,
        image: Image.Image,
        goal: str,
        history: Sequence[str] = (),
        *,
        thinking: bool = True,
        max_reasoning_steps: int | None = None,
        semantic: Sequence[str] = (),
    ) -> Proposal:
        """Propose the next ``computer_use`` call for ``goal`` given what was done so far.

        ``semantic`` also offers the model these of :data:`prompts.SEMANTIC_PLAN_ACTIONS` (click_text, ...).
        """
        native = backend_preset(self.backend).thinking is ThinkingMode.NATIVE
        mode = resolve_thinking(self.settings.thinking_mode, native, requested=thinking)
        steps = max_reasoning_steps or self.settings.max_reasoning_steps
        prompt = prompts.planning_user_prompt(
            goal,
            history,
            reasoning=mode.value,
            max_reasoning_steps=steps,
            use_thinking_tokens=self.settings.use_thinking_tokens,
            semantic=semantic,
        )
        max_tokens = self.settings.plan_max_tokens
        if mode in (ThinkingMode.NATIVE, ThinkingMode.PROMPTED):
            max_tokens = self.settings.thinking_max_tokens
        response, _ = await self._ask(
            image,
            ChatRequest(
                prompt=prompt,
                system=prompts.planning_system_prompt(semantic),
                temperature=self.settings.temperature,
                top_p=self.settings.top_p,
                max_tokens=max_tokens,
                purpose="plan",
            ),
        )
        reasoning, answer = split_thinking(response.content, response.reasoning)
        call = parse_tool_call(answer)
        if reasoning is None:
            reasoning = thought_before_call(answer)
        return Proposal(
            call,
            reasoning,
            mode,
            response.model,
            response.latency_ms,
            response.content,
            response.prompt_tokens,
            response.completion_tokens,
        )

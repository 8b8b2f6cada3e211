"""What each supported model needs: its thinking mode, coordinate grid and SGLang parser flags.

Every preset here is a Qwen3-VL-architecture model answering on the relative 0-1000 grid in the
Qwen3-VL output formats (``point_2d``/``bbox_2d`` JSON, ``<tool_call>`` blocks). What differs:

* ``-Thinking`` checkpoints think natively: SGLang needs ``--reasoning-parser qwen3`` to split the
  thinking into ``reasoning_content``. Instruct checkpoints must not get it (on older SGLang the
  structured-output grammar then waits for a ``</think>`` that never comes).
* Qwen3.5 thinks by default, is served with ``--reasoning-parser qwen3 --tool-call-parser
  qwen3_coder``, and may leave out ``</think>`` before a tool call (the parser copes: see
  :func:`engine.vlm.parsing.parse_tool_call`).
* The GUI fine-tunes GUI-Owl-1.5 and UI-Venus-1.5 are Qwen3-VL fine-tunes on the 0-1000 grid.
* MAI-UI does not keep Qwen3-VL's formats (checked against Tongyi-MAI/MAI-UI's agents, see the
  README's "Model presets"): grounding answers ``<grounding_think>...</grounding_think>
  {"coordinate": [x, y]}`` on a 0-999 grid, and navigation calls a ``mobile_use`` tool inside
  ``<tool_call>`` after ``<thinking>``. Neither is parsed yet: its preset records the grid only.
* Qwen3.5 with ``--tool-call-parser qwen3_coder`` writes tool calls as XML
  (``<tool_call><function=NAME><parameter=KEY>VALUE</parameter></function></tool_call>``) when
  the request carries ``tools=``; this server prompts for the JSON ``<tool_call>`` block instead.

Names are matched case-insensitively on the model's name or path, most specific first.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.vlm.thinking import ThinkingMode


@dataclass(frozen=True)
class Preset:
    """How to serve and talk to one family of checkpoints."""

    name: str
    match: tuple[str, ...]
    """Lower-case substrings of the model name that select this preset (all must appear)."""
    thinking: ThinkingMode
    """How planning reasons with it (``native``: the checkpoint thinks by itself)."""
    grid: int = 1000
    """Coordinates come back relative, on a 0..grid square."""
    sglang_args: tuple[str, ...] = ()
    """Flags ``sglang.launch_server`` needs for it (beyond model path, host, port)."""
    grounder: bool = False
    """A GUI grounding fine-tune: the better choice for describe and click_text's fallback."""
    note: str = ""


_THINKING_PARSER = ("--reasoning-parser", "qwen3")

PRESETS: tuple[Preset, ...] = (
    Preset(
        "qwen3.5",
        ("qwen3.5",),
        ThinkingMode.NATIVE,
        sglang_args=(*_THINKING_PARSER, "--tool-call-parser", "qwen3_coder"),
        note="thinks by default; may omit </think> before a tool call",
    ),
    Preset("gui-owl-1.5", ("gui-owl",), ThinkingMode.PROMPTED, grounder=True, note="Qwen3-VL GUI fine-tune (mPLUG)"),
    Preset("ui-venus-1.5", ("ui-venus",), ThinkingMode.PROMPTED, grounder=True, note="Qwen3-VL GUI fine-tune"),
    Preset(
        "mai-ui",
        ("mai-ui",),
        ThinkingMode.PROMPTED,
        grid=999,
        grounder=True,
        note="Qwen3-VL GUI fine-tune with its own output formats (0-999 grid), not parsed yet",
    ),
    Preset("qwen3-vl-thinking", ("qwen3-vl", "thinking"), ThinkingMode.NATIVE, sglang_args=_THINKING_PARSER),
    Preset("qwen3-vl-instruct", ("qwen3-vl",), ThinkingMode.PROMPTED),
)

GENERIC = Preset("generic", (), ThinkingMode.PROMPTED, note="unknown model: Qwen3-VL conventions assumed")


def preset_for(model: str) -> Preset:
    """The preset for ``model`` (a name or a path), or :data:`GENERIC`."""
    name = model.lower()
    for preset in PRESETS:
        if all(part in name for part in preset.match):
            return preset
    if "thinking" in name:
        return Preset("generic-thinking", (), ThinkingMode.NATIVE, sglang_args=_THINKING_PARSER)
    return GENERIC


def by_name(name: str) -> Preset:
    """The preset called ``name``; ``ValueError`` listing the known ones otherwise."""
    for preset in (*PRESETS, GENERIC):
        if preset.name == name:
            return preset
    known = ", ".join(p.name for p in (*PRESETS, GENERIC))
    raise ValueError(f"unknown model preset {name!r}; known: {known}")

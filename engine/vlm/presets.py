"""What each supported model needs: its thinking mode, coordinate grid and SGLang parser flags.

Every preset here is a Qwen3-VL-architecture model. The base models answer on the relative 0-1000
grid in the Qwen3-VL output formats (``point_2d``/``bbox_2d`` JSON, ``<tool_call>`` blocks). What
differs:

* ``-Thinking`` checkpoints think natively: SGLang needs ``--reasoning-parser qwen3`` to split the
  thinking into ``reasoning_content``. Instruct checkpoints must not get it (on older SGLang the
  structured-output grammar then waits for a ``</think>`` that never comes).
* Qwen3.5 thinks by default, is served with ``--reasoning-parser qwen3 --tool-call-parser
  qwen3_coder``, and may leave out ``</think>`` before a tool call (the parser copes: see
  :func:`engine.vlm.parsing.parse_tool_call`).
* The GUI fine-tunes keep Qwen3-VL's architecture but not all of its output formats. Their grounding
  prompts and answers (checked with the search tool; sources in :mod:`engine.vlm.formats` and the
  README's "Model presets") are implemented there and used by every grounding call:

  - GUI-Owl-1.5 (X-PLUG/MobileAgent ``Mobile-Agent-v3.5``): relative 0-1000 coordinates; plans with
    the same ``computer_use`` ``<tool_call>`` on a 1000x1000 screen as Qwen3-VL (its computer-use
    cookbook), grounds through a click-only ``computer_use`` tool.
  - UI-Venus-1.5 (inclusionAI/UI-Venus ``models/grounding/ui_venus1_5_gd.py``): grounds to a bare
    ``[x,y]`` on 0-1000, ``[-1,-1]`` when the target is absent. Matched on ``ui-venus-1.5`` only: the
    earlier UI-Venus-Ground/Navi checkpoints were not checked.
  - MAI-UI (Tongyi-MAI/MAI-UI ``src/prompt.py``, ``src/mai_grounding_agent.py``,
    ``src/mai_naivigation_agent.py``): grounds to ``<grounding_think>...</grounding_think>
    <answer>{"coordinate": [x, y]}</answer>`` on a 0-999 grid (``SCALE_FACTOR = 999``, scaled by
    1000/999 here). Its navigation prompt offers one ``mobile_use`` tool (click, long_press, swipe,
    open app, system_button back/home/menu/enter...) inside ``<tool_call>`` after ``<thinking>``: a
    phone's action space with no keys, scroll amounts or right/double click, so planning keeps this
    server's ``computer_use`` prompt (in which MAI-UI was not trained).
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
    """Grounding coordinates come back relative, on a 0..grid square (see :mod:`engine.vlm.formats`)."""
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
    Preset(
        "gui-owl-1.5",
        ("gui-owl",),
        ThinkingMode.PROMPTED,
        grounder=True,
        note="Qwen3-VL GUI fine-tune (mPLUG), grounds through a click-only computer_use tool",
    ),
    Preset(
        "ui-venus-1.5",
        ("ui-venus-1.5",),
        ThinkingMode.PROMPTED,
        grounder=True,
        note="Qwen3-VL GUI fine-tune (Ant Group), grounds to a bare [x,y]",
    ),
    Preset(
        "mai-ui",
        ("mai-ui",),
        ThinkingMode.PROMPTED,
        grid=999,
        grounder=True,
        note="Qwen3-VL GUI fine-tune grounding in its own format on a 0-999 grid; plans with our computer_use prompt",
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

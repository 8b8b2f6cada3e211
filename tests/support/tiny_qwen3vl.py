"""A tiny random Qwen3-VL checkpoint, built on disk at test time.

No weights can be downloaded here, so tests that must run the real transformers code path build
their own model: a byte-level BPE tokenizer trained on a generated corpus and carrying Qwen's
special tokens, a Qwen-style chat template, a Qwen2-VL image processor config and a
``Qwen3VLConfig`` with two text and two vision layers, saved with random weights. It loads with
the same calls as a real ``Qwen/Qwen3-VL-2B-Instruct`` snapshot and builds in a few seconds.

Needs ``torch``, ``transformers`` and ``tokenizers``; import it only after checking they exist.
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

# Same order as Qwen's vocabulary, so the ids keep Qwen's relative layout.
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
# Qwen marks these as added but not special, so a normal decode keeps them in the text.
TEXT_CONTROL_TOKENS = ("<tool_call>", "</tool_call>", "<think>", "</think>")

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['content'] is string -%}"
    "{{- message['content'] -}}"
    "{%- else -%}"
    "{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' or 'image' in item -%}"
    "{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}"
    "{%- elif item['type'] == 'text' -%}"
    "{{- item['text'] -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- endif -%}"
)

# Modest pixel bounds keep the vision tower fast on CPU: 640x400 -> 20x12 merged tokens.
IMAGE_PROCESSOR_CONFIG: dict[str, object] = {
    "image_processor_type": "Qwen2VLImageProcessor",
    "processor_class": "Qwen3VLProcessor",
    "patch_size": 16,
    "merge_size": 2,
    "temporal_patch_size": 2,
    "size": {"shortest_edge": 32 * 32, "longest_edge": 1024 * 1024},
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "do_resize": True,
    "do_rescale": True,
    "do_normalize": True,
    "do_convert_rgb": True,
}

_WORDS = (
    *("click", "the", "button", "open", "file", "menu", "window", "screen", "desktop", "mouse"),
    *("keyboard", "type", "text", "scroll", "down", "up", "left", "right", "point", "box"),
    *("label", "icon", "search", "settings", "close", "save", "cancel", "ok", "yes", "no"),
    *("terminal", "browser", "json", "coordinate", "action", "answer", "thought", "image"),
    *("describe", "find", "locate", "element", "tool", "call"),
)

_build_lock = threading.Lock()
_built: Path | None = None


def _corpus(lines: int = 400, seed: int = 0) -> list[str]:
    """Deterministic pseudo-sentences with the words, digits and JSON the model will meet."""
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 12)))
        numbers = f'{{"point_2d": [{rng.randint(0, 1000)}, {rng.randint(0, 1000)}]}}'
        out.append(f"{words.capitalize()}. {numbers}\n")
    return out


def _build_tokenizer(directory: Path) -> Any:
    """Train a byte-level BPE tokenizer and save it as a transformers fast tokenizer."""
    import tokenizers
    import transformers
    from tokenizers import AddedToken

    raw = tokenizers.Tokenizer(tokenizers.models.BPE())
    raw.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=600,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(_corpus(), trainer=trainer)
    raw.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    raw.add_tokens([AddedToken(t, special=False, normalized=False) for t in TEXT_CONTROL_TOKENS])

    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=raw,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=32768,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)
    return tokenizer


def build_tiny_qwen3vl(directory: Path) -> Path:
    """Write a tiny random Qwen3-VL checkpoint into ``directory`` and return that path.

    The result loads with ``Qwen3VLForConditionalGeneration.from_pretrained``, ``AutoTokenizer``
    and ``AutoImageProcessor`` like a real snapshot; its answers are random but deterministic.
    """
    import torch
    import transformers

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _build_tokenizer(directory)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    (directory / "preprocessor_config.json").write_text(json.dumps(IMAGE_PROCESSOR_CONFIG, indent=2))

    config = transformers.Qwen3VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 128,
            "intermediate_size": 256,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 32,
            "max_position_embeddings": 32768,
            # mrope_section must add up to head_dim / 2 (one frequency per rotated pair).
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 5_000_000.0,
                "mrope_section": [6, 5, 5],
                "mrope_interleaved": True,
            },
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": 2,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_heads": 2,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "out_hidden_size": 128,  # must equal the text hidden size
            "num_position_embeddings": 256,
            "deepstack_visual_indexes": [0, 1],  # each must be < depth
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = transformers.Qwen3VLForConditionalGeneration(config).eval()
    # Qwen's real generation defaults sample; a greedy request must override them.
    model.generation_config = transformers.GenerationConfig(
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=True,
        temperature=0.7,
        top_p=0.8,
        top_k=20,
    )
    model.save_pretrained(directory)
    return directory


def cached_tiny_qwen3vl(directory: Path) -> Path:
    """Build the tiny checkpoint once per process; later calls return the first build's path.

    For a session-scoped fixture: ``cached_tiny_qwen3vl(tmp_path_factory.mktemp("tiny_qwen3vl"))``.
    """
    global _built
    with _build_lock:
        if _built is None:
            _built = build_tiny_qwen3vl(directory)
        return _built

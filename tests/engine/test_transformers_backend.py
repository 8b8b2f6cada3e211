"""The transformers backend, run for real on a tiny random Qwen3-VL built at test time."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
from PIL import Image

pytest.importorskip("torch", reason="the transformers backend needs torch (the [local] extra)")
pytest.importorskip("transformers", reason="the transformers backend needs transformers ([local])")

from engine.errors import ModelUnavailable
from engine.vlm.backend import ChatBackend, ChatRequest, ChatResponse
from engine.vlm.backends.transformers_backend import TransformersBackend, split_thinking
from tests.support.tiny_qwen3vl import SPECIAL_TOKENS, cached_tiny_qwen3vl


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_tiny_qwen3vl(tmp_path_factory.mktemp("tiny_qwen3vl"))


def png(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (235, 235, 240))
    for x in range(0, width, 40):
        for y in range(0, height, 40):
            image.putpixel((x, y), (x % 256, y % 256, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_tiny_model_has_qwen_special_token_ids_in_its_config(tiny_model: Path) -> None:
    config = json.loads((tiny_model / "config.json").read_text())
    vocab = json.loads((tiny_model / "tokenizer.json").read_text())["added_tokens"]
    ids = {token["content"]: token["id"] for token in vocab}
    assert set(SPECIAL_TOKENS) <= ids.keys()
    assert config["image_token_id"] == ids["<|image_pad|>"]
    assert config["vision_start_token_id"] == ids["<|vision_start|>"]
    assert (tiny_model / "model.safetensors").stat().st_size < 10 * 2**20


@pytest.mark.asyncio
async def test_greedy_answer_to_a_screenshot_is_deterministic(tiny_model: Path) -> None:
    backend = TransformersBackend(str(tiny_model), device="cpu")
    assert isinstance(backend, ChatBackend)
    request = ChatRequest(prompt="Describe the screen.", image_png=png(640, 400), system="Be brief.", max_tokens=12)
    first = await backend.chat(request)
    second = await backend.chat(request)
    await backend.aclose()

    assert isinstance(first, ChatResponse)
    assert first.content == second.content
    assert first.reasoning == second.reasoning
    assert first.model == str(tiny_model)
    assert first.prompt_tokens is not None and first.prompt_tokens > 240
    assert first.completion_tokens is not None and 0 < first.completion_tokens <= 12
    assert first.finish_reason in ("stop", "length")
    assert first.latency_ms >= 0
    assert not backend.loaded


@pytest.mark.asyncio
async def test_image_becomes_one_token_per_32px_square_plus_two_delimiters(
    tiny_model: Path,
) -> None:
    backend = TransformersBackend(str(tiny_model), device="cpu")
    counts: dict[tuple[int, int] | None, int] = {}
    for size in [None, (320, 192), (640, 384)]:
        image = None if size is None else png(*size)
        reply = await backend.chat(ChatRequest(prompt="What is here?", image_png=image, max_tokens=1))
        assert reply.prompt_tokens is not None
        counts[size] = reply.prompt_tokens
    await backend.aclose()

    assert counts[(320, 192)] - counts[None] == 10 * 6 + 2
    assert counts[(640, 384)] - counts[None] == 20 * 12 + 2


@pytest.mark.asyncio
async def test_max_pixels_shrinks_the_image_before_the_model_sees_it(tiny_model: Path) -> None:
    backend = TransformersBackend(str(tiny_model), device="cpu", max_pixels=320 * 192)
    reply = await backend.chat(ChatRequest(prompt="Hi", image_png=png(640, 384), max_tokens=1))
    await backend.aclose()
    assert reply.prompt_tokens is not None and reply.prompt_tokens < 100


@pytest.mark.asyncio
async def test_sampling_and_concurrent_requests_are_served(tiny_model: Path) -> None:
    backend = TransformersBackend(str(tiny_model), device="cpu")
    await backend.load()
    replies: list[ChatResponse] = []

    async def ask() -> None:
        request = ChatRequest(prompt="Go", image_png=png(64, 64), temperature=0.7, top_p=0.8, top_k=20, max_tokens=4)
        replies.append(await backend.chat(request))

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(ask)
    await backend.aclose()
    assert len(replies) == 3


@pytest.mark.asyncio
async def test_event_loop_keeps_running_while_the_model_loads_and_generates(
    tiny_model: Path,
) -> None:
    backend = TransformersBackend(str(tiny_model), device="cpu")
    ticks = 0
    done = anyio.Event()

    async def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await anyio.sleep(0.001)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick)
            await anyio.lowlevel.checkpoint()
            before = ticks
            await backend.chat(ChatRequest(prompt="Hi", image_png=png(640, 400), max_tokens=16))
            during = ticks - before
            done.set()
    await backend.aclose()
    assert during >= 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain answer", (None, "plain answer")),
        ("weigh it</think>\n\nanswer", ("weigh it", "answer")),
        ("<think>\nweigh it\n</think>\n\nanswer", ("weigh it", "answer")),
        ("</think>answer", ("", "answer")),
        ("a</think>b</think>c", ("a", "b</think>c")),
        (
            '<tool_call>\n{"name": "x"}\n</tool_call>',
            (None, '<tool_call>\n{"name": "x"}\n</tool_call>'),
        ),
    ],
)
def test_split_thinking(text: str, expected: tuple[str | None, str]) -> None:
    assert split_thinking(text) == expected


@pytest.mark.asyncio
async def test_missing_model_directory_is_unavailable_and_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelUnavailable, match="no-such-model"):
        await TransformersBackend(str(missing)).chat(ChatRequest(prompt="Hi"))


@pytest.mark.asyncio
async def test_directory_without_a_checkpoint_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="Could not load"):
        await TransformersBackend(str(tmp_path)).load()


@pytest.mark.asyncio
async def test_missing_torch_says_how_to_install_it(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ModelUnavailable, match=r"vlm-desktop-mcp\[local\]"):
        await TransformersBackend(str(tiny_model)).load()


@pytest.mark.asyncio
async def test_uncached_hub_id_is_unavailable_without_trying_to_download() -> None:
    with anyio.fail_after(10), pytest.raises(ModelUnavailable, match="hf download"):
        await TransformersBackend("vlm-desktop-mcp-tests/no-such-model").load()

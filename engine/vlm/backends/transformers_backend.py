"""Qwen3-VL in process, through Hugging Face transformers.

The alternative to an SGLang server when one machine runs both the agent and the model. torch and
transformers are optional (``pip install 'vlm-desktop-mcp[local]'``) and imported only on load.

Qwen3VLProcessor insists on a video processor, and the video processor needs torchvision, which is
often not installable next to a CPU torch; this backend therefore builds an image-only processor.
"""

from __future__ import annotations

import gc
import io
import re
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from engine.errors import ModelServerError, ModelUnavailable
from engine.vlm.backend import ChatRequest, ChatResponse
from engine.vlm.presets import Preset

INSTALL_HINT = "pip install 'vlm-desktop-mcp[local]'"
_END_MARKERS = ("<|im_end|>", "<|endoftext|>")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_DTYPES = ("auto", "float32", "float16", "bfloat16")


def split_thinking(text: str) -> tuple[str | None, str]:
    """Split a completion into ``(reasoning, content)`` at the first ``</think>``.

    -Thinking checkpoints open ``<think>`` in the prompt, so their completion is
    ``reasoning</think>answer``; a leading ``<think>`` is dropped too. Without ``</think>`` the
    whole text is content and the reasoning is ``None``.
    """
    head, marker, tail = text.partition("</think>")
    if not marker:
        return None, text
    reasoning = head.strip()
    if reasoning.startswith("<think>"):
        reasoning = reasoning[len("<think>") :].strip()
    return reasoning, tail.strip()


def _strip_end_markers(text: str) -> str:
    for marker in _END_MARKERS:
        text = text.replace(marker, "")
    return text.strip()


def _image_only_processor_class() -> Any:
    from transformers import Qwen3VLProcessor

    base: Any = Qwen3VLProcessor

    class ImageOnlyQwen3VLProcessor(base):  # type: ignore[misc]
        """Qwen3VLProcessor without the video processor (which would need torchvision)."""

        # ProcessorMixin derives its sub-processors from this signature: no video_processor here.
        def __init__(
            self,
            image_processor: Any = None,
            tokenizer: Any = None,
            chat_template: str | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(image_processor, tokenizer, None, chat_template=chat_template, **kwargs)

    return ImageOnlyQwen3VLProcessor


class TransformersBackend:
    """A :class:`engine.vlm.backend.ChatBackend` running Qwen3-VL with transformers in this process.

    ``model_path`` is a local snapshot directory, or a hub id already in the Hugging Face cache
    (nothing is downloaded).
    ``device`` is ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda``, ``cuda:1``...;
    ``dtype`` is ``auto`` (the checkpoint's) or ``float32``/``float16``/``bfloat16``;
    ``max_pixels`` caps the image processor's pixel budget per image. Weights load on first use
    or on :meth:`load`; generations run one at a time in a worker thread.
    ``presence_penalty`` and ``extra_body`` have no transformers equivalent and are ignored.
    """

    def __init__(
        self,
        model_path: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        max_pixels: int | None = None,
        preset: Preset | None = None,
    ) -> None:
        self.preset = preset
        """The model's preset when its path does not select it (see :func:`engine.vlm.backend.backend_preset`)."""
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, not {dtype!r}")
        self._model_path = model_path
        self._device = device
        self._dtype = dtype
        self._max_pixels = max_pixels
        self._model: Any = None
        self._processor: Any = None
        self._lock = anyio.Lock()

    @property
    def model_name(self) -> str:
        """The model path or hub id this backend was given."""
        return self._model_path

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._model is not None

    async def load(self) -> None:
        """Load the weights and processor now instead of on the first :meth:`chat`."""
        async with self._lock:
            await self._ensure_loaded()

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """Answer one turn; raises ``ModelUnavailable`` (cannot load) or ``ModelServerError``."""
        async with self._lock:
            await self._ensure_loaded()
            # Not abandoned on cancel: the lock stays held until the thread really finishes.
            return await anyio.to_thread.run_sync(self._generate, request)

    async def aclose(self) -> None:
        """Drop the model and processor and free their memory."""
        async with self._lock:
            model, self._model, self._processor = self._model, None, None
            if model is None:
                return
            del model
            gc.collect()
            try:
                import torch
            except ImportError:
                return
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    async def _ensure_loaded(self) -> None:
        if self._model is None:
            self._model, self._processor = await anyio.to_thread.run_sync(self._load_sync)

    def _load_sync(self) -> tuple[Any, Any]:
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise ModelUnavailable(
                f"The transformers backend needs torch and transformers ({exc}); install them with: {INSTALL_HINT}"
            ) from exc
        if not hasattr(transformers, "Qwen3VLForConditionalGeneration"):
            raise ModelUnavailable(
                f"transformers {transformers.__version__} has no Qwen3-VL; upgrade it with: {INSTALL_HINT}"
            )

        path = self._resolve_path()
        device = self._device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = self._dtype if self._dtype == "auto" else getattr(torch, self._dtype)
        try:
            processor = _image_only_processor_class().from_pretrained(path, local_files_only=True)
            if self._max_pixels is not None:
                # Set on the image processor itself: a max_pixels call argument is deprecated.
                size = processor.image_processor.size
                size.longest_edge = self._max_pixels
                size.shortest_edge = min(size.shortest_edge, self._max_pixels)
            model_class: Any = transformers.Qwen3VLForConditionalGeneration
            model = model_class.from_pretrained(path, dtype=dtype, local_files_only=True)
            model = model.to(device).eval()
        # A translation boundary: transformers raises OSError, ValueError, KeyError, RuntimeError...
        except Exception as exc:
            raise ModelUnavailable(
                f"Could not load Qwen3-VL from {self._model_path!r}: {type(exc).__name__}: {exc}"
            ) from exc
        return model, processor

    def _resolve_path(self) -> str:
        """The local snapshot directory: the path itself, or a hub id's copy in the HF cache.

        Never downloads: a multi-GB fetch (with minutes of retries when offline) has no place
        inside a tool call, so a missing model is reported with the command that fetches it.
        """
        local = Path(self._model_path).expanduser()
        if local.is_dir():
            return str(local)
        if not _HUB_ID.match(self._model_path):
            raise ModelUnavailable(f"Model path {self._model_path!r} does not exist")
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return str(snapshot_download(self._model_path, local_files_only=True))
        except LocalEntryNotFoundError as exc:
            raise ModelUnavailable(
                f"Model {self._model_path!r} is neither a local directory nor in the Hugging Face "
                f"cache; fetch it first with: hf download {self._model_path}"
            ) from exc

    def _generate(self, request: ChatRequest) -> ChatResponse:
        try:
            return self._generate_unchecked(request)
        # Any failure inside torch/transformers reaches callers as one engine error type.
        except Exception as exc:
            raise ModelServerError(f"{request.purpose}: generation failed: {type(exc).__name__}: {exc}") from exc

    def _generate_unchecked(self, request: ChatRequest) -> ChatResponse:
        import torch
        from PIL import Image

        model, processor = self._model, self._processor
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        content: list[dict[str, Any]] = []
        images = None
        if request.image_png is not None:
            image = Image.open(io.BytesIO(request.image_png))
            images = [image.convert("RGB")]
            content.append({"type": "image"})
        content.append({"type": "text", "text": request.prompt})
        messages.append({"role": "user", "content": content})

        prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = processor(text=[prompt], images=images, return_tensors="pt").to(model.device)
        sampling: dict[str, Any]
        if request.temperature > 0:
            sampling = {"do_sample": True, "temperature": request.temperature}
            if request.top_p is not None:
                sampling["top_p"] = request.top_p
            if request.top_k is not None:
                sampling["top_k"] = request.top_k
        else:
            # None clears the checkpoint's sampling defaults, which would only draw warnings.
            sampling = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}

        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=request.max_tokens, **sampling)
        latency_ms = (time.perf_counter() - started) * 1000

        prompt_tokens = int(inputs["input_ids"].shape[1])
        new_tokens = output[0, prompt_tokens:]
        text = _strip_end_markers(processor.tokenizer.decode(new_tokens, skip_special_tokens=False))
        reasoning, answer = split_thinking(text)
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        stopped = len(new_tokens) > 0 and int(new_tokens[-1]) in eos_ids
        return ChatResponse(
            content=answer,
            reasoning=reasoning,
            model=self._model_path,
            finish_reason="stop" if stopped else "length",
            prompt_tokens=prompt_tokens,
            completion_tokens=len(new_tokens),
            latency_ms=latency_ms,
        )

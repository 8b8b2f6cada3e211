"""Implementations of :class:`engine.vlm.backend.ChatBackend`.

``transformers_backend`` runs Qwen3-VL in process through Hugging Face transformers (optional
``[local]`` extra: torch and transformers).
"""

"""One settings object: defaults < YAML file < environment (``VLM_DESKTOP_*``) < command-line flags.

Read once at the edge (the CLI) and passed down; nothing below reads ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.thinking import ThinkingMode

DEFAULT_MODEL = "Qwen/Qwen3-VL-2B-Instruct"
DEFAULT_BASE_URL = "http://127.0.0.1:30000/v1"
ENV_PREFIX = "VLM_DESKTOP_"


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


class ModelConfig(BaseModel):
    """The vision model and how to talk to it. Also accepts the Qwen3-VL web UI's ``model:`` keys."""

    model_config = ConfigDict(extra="forbid")
    name: str = DEFAULT_MODEL
    backend: Literal["sglang", "openai", "transformers", "none"] = "sglang"
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    thinking_mode: ThinkingMode = ThinkingMode.AUTO
    max_reasoning_steps: int = Field(6, ge=1, le=32)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    use_thinking_tokens: bool = True
    max_image_pixels: int = Field(1920 * 1088, ge=65_536, le=16_777_216)
    connect_timeout: float = Field(5.0, gt=0, le=60)
    read_timeout: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=5)
    device: str = "auto"

    @field_validator("thinking_mode", mode="before")
    @classmethod
    def _thinking_aliases(cls, value: Any) -> Any:
        # The web UI writes booleans or enabled/disabled.
        # Environment variables are strings: "true"/"false" there mean what YAML's booleans mean.
        aliases = {"true": "auto", "false": "off", "enabled": "auto", "disabled": "off", "on": "auto", "none": "off"}
        if isinstance(value, bool):
            return "auto" if value else "off"
        if isinstance(value, str):
            return aliases.get(value.strip().lower(), value.strip().lower())
        return value  # anything else (a list, a mapping...) fails validation with the field's name


class ServerConfig(BaseModel):
    """How the MCP server is reached."""

    model_config = ConfigDict(extra="forbid")
    transport: Literal["stdio", "sse", "http"] = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("transport", mode="before")
    @classmethod
    def _transport_alias(cls, value: Any) -> Any:
        return "http" if value in ("streamable-http", "streamable_http") else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class DesktopConfig(BaseModel):
    """How the desktop is captured and driven."""

    model_config = ConfigDict(extra="forbid")
    dry_run: bool = False
    monitor: int = Field(1, ge=0, le=16)
    settle_timeout: float = Field(3.0, ge=0, le=30)
    settle_interval: float = Field(0.1, gt=0, le=2)
    pause: float = Field(0.02, ge=0, le=1)
    failsafe: bool = True
    max_text_length: int = Field(10_000, ge=1, le=100_000)


class Settings(BaseModel):
    """Everything configurable."""

    model_config = ConfigDict(extra="forbid")
    model: ModelConfig = Field(default_factory=ModelConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    desktop: DesktopConfig = Field(default_factory=DesktopConfig)


SHORTCUTS: dict[str, tuple[str, str]] = {
    "transport": ("server", "transport"),
    "host": ("server", "host"),
    "port": ("server", "port"),
    "log_level": ("server", "log_level"),
    "base_url": ("model", "base_url"),
    "model": ("model", "name"),
    "backend": ("model", "backend"),
    "api_key": ("model", "api_key"),
    "thinking": ("model", "thinking_mode"),
    "dry_run": ("desktop", "dry_run"),
    "monitor": ("desktop", "monitor"),
}
"""Flat option names (flags and ``VLM_DESKTOP_<NAME>``) and the setting each one sets."""


def _set(tree: dict[str, Any], section: str, key: str, value: Any) -> None:
    tree.setdefault(section, {})[key] = value


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_file(path: Path) -> dict[str, Any]:
    """The YAML file as a settings tree; a missing or malformed file is a :class:`ConfigError`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping with sections model:, server:, desktop:")
    # An empty section ("server:" and nothing under it) means its defaults.
    return {key: ({} if value is None else value) for key, value in data.items()}


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Settings from ``VLM_DESKTOP_<SHORTCUT>`` and ``VLM_DESKTOP_<SECTION>__<KEY>`` variables."""
    tree: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if "__" in key:
            section, _, field = key.partition("__")
            _set(tree, section, field, value)
        elif key in SHORTCUTS:
            _set(tree, *SHORTCUTS[key], value)
        else:
            known = ", ".join(ENV_PREFIX + k.upper() for k in SHORTCUTS)
            raise ConfigError(
                f"unknown environment variable {name}: use one of {known}, "
                f"or {ENV_PREFIX}<SECTION>__<KEY> (e.g. {ENV_PREFIX}MODEL__TEMPERATURE)"
            )
    return tree


def from_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    """Settings from parsed flags (``None`` means the flag was not given)."""
    tree: dict[str, Any] = {}
    for key, value in flags.items():
        if value is not None and key in SHORTCUTS:
            _set(tree, *SHORTCUTS[key], value)
    return tree


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build :class:`Settings` with precedence defaults < file < environment < flags.

    The file is ``config_file``, else ``$VLM_DESKTOP_CONFIG`` when set.
    """
    env = env or {}
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
    tree: dict[str, Any] = read_file(config_file) if config_file else {}
    tree = _merge(tree, from_env(env))
    tree = _merge(tree, from_flags(flags or {}))
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        source = f" (file {config_file}, environment and flags)" if config_file else ""
        raise ConfigError(f"invalid configuration{source}: {problems}") from exc

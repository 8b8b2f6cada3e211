"""One settings object: defaults < YAML file < environment (``VLM_DESKTOP_*``) < command-line flags.

Read once at the edge (the CLI) and passed down; nothing below reads ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from engine.ocr.int8 import cache_dir
from engine.vlm.thinking import ThinkingMode
from tools.safety.policy import ACTION_TYPES, DEFAULT_BLOCKED_CHORDS, parse_chord

DEFAULT_MODEL = "Qwen/Qwen3-VL-2B-Instruct"
DEFAULT_BASE_URL = "http://127.0.0.1:30000/v1"
ENV_PREFIX = "VLM_DESKTOP_"
AUDIT_FILE = Path("vlm-desktop-mcp", "audit.jsonl")


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
    auth_token: SecretStr | None = Field(None, min_length=16)
    """Bearer token every HTTP request must carry; required to listen beyond loopback."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Extra names or addresses (besides loopback) accepted in Host/Origin headers, e.g. this machine's address."""

    @field_validator("auth_token", mode="before")
    @classmethod
    def _empty_token(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        return _comma_list(value)

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
    capture_settle_timeout: float = Field(1.0, ge=0, le=30)
    """describe_screen waits up to this long for the screen to stop changing before it captures."""


def _comma_list(value: Any) -> Any:
    # Environment variables are strings: "click,type" means a list.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class RegionConfig(BaseModel):
    """A screen rectangle in screen pixels."""

    model_config = ConfigDict(extra="forbid")
    x: int
    y: int
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class PolicyConfig(BaseModel):
    """What actions the server allows; fixed at start-up, never changed by a tool call."""

    model_config = ConfigDict(extra="forbid")
    allowed_actions: list[Literal[ACTION_TYPES]] = Field(default_factory=lambda: list(ACTION_TYPES))  # type: ignore[valid-type]
    blocked_chords: list[str] = Field(default_factory=lambda: list(DEFAULT_BLOCKED_CHORDS))
    allowed_region: RegionConfig | None = None
    max_text_length: int = Field(10_000, ge=1, le=100_000)
    rate_limit_actions: int = Field(30, ge=0, le=100_000)
    rate_limit_seconds: float = Field(10.0, gt=0, le=86_400)
    confirm: Literal["never", "destructive", "always"] = "never"
    confirm_timeout: float = Field(120.0, gt=0, le=3600)
    upload_roots: list[str] = Field(default_factory=list)

    @field_validator("allowed_actions", "blocked_chords", "upload_roots", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _comma_list(value)

    @field_validator("blocked_chords")
    @classmethod
    def _chords(cls, value: list[str]) -> list[str]:
        for chord in value:
            parse_chord(chord)  # raises ValueError (a validation error naming the field) when empty
        return value

    @field_validator("allowed_region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() in ("", "none", "null"):
                return None
            parts = [p.strip() for p in value.split(",")]
            if len(parts) != 4:
                raise ValueError("write the region as x,y,width,height")
            return dict(zip(("x", "y", "width", "height"), parts, strict=True))
        return value


class AuditConfig(BaseModel):
    """The write-ahead audit log."""

    model_config = ConfigDict(extra="forbid")
    path: Path | None = None
    """None: $XDG_STATE_HOME/vlm-desktop-mcp/audit.jsonl, else ~/.local/state/vlm-desktop-mcp/audit.jsonl."""
    screenshots: bool = False
    keep_screenshots: int = Field(100, ge=0, le=1_000_000)
    max_bytes: int = Field(64 * 1024 * 1024, ge=0)
    """Size at which the log is rotated to audit.jsonl.1 (0: never)."""
    keep_files: int = Field(5, ge=0, le=1000)
    """Rotated logs kept."""


class OcrConfig(BaseModel):
    """Offline OCR (rapidocr's PP-OCR models on onnxruntime): fused with the model's elements, or alone."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    det_max_side: int = Field(1600, ge=0, le=8192)
    """Longest side of the image the text detector sees (0: full resolution; smaller is faster)."""
    min_confidence: float = Field(0.5, ge=0, le=1)
    threads: int = Field(0, ge=0, le=256)
    """CPU threads for OCR (0: every core)."""
    cache_screens: int = Field(8, ge=1, le=256)
    """Screens whose text is remembered by content: an unchanged screen is never read twice."""
    precision: Literal["int8", "fp32"] = "int8"
    """int8: recognise with an INT8 copy of the model, built once per machine (scripts/setup, else in the
    background) and used only where it proves itself on this CPU: its readings must agree with fp32 on
    screens rendered here and it must be faster; otherwise, and until then, fp32. fp32: the shipped model."""
    int8_dir: Path | None = None
    """Where the INT8 copy is cached. None: $XDG_CACHE_HOME/vlm-desktop-mcp/ocr, else ~/.cache/vlm-desktop-mcp/ocr."""


class Settings(BaseModel):
    """Everything configurable."""

    model_config = ConfigDict(extra="forbid")
    model: ModelConfig = Field(default_factory=ModelConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    desktop: DesktopConfig = Field(default_factory=DesktopConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    ocr: OcrConfig = Field(default_factory=OcrConfig)


def audit_path(settings: Settings) -> Path:
    """Where the audit log lives: ``audit.path``, or the per-user state folder."""
    return settings.audit.path or Path.home() / ".local" / "state" / AUDIT_FILE


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
    "auth_token": ("server", "auth_token"),
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
    if env.get("XDG_STATE_HOME") and not (tree.get("audit") or {}).get("path"):
        _set(tree, "audit", "path", str(Path(env["XDG_STATE_HOME"]) / AUDIT_FILE))
    if env.get("XDG_CACHE_HOME") and not (tree.get("ocr") or {}).get("int8_dir"):
        _set(tree, "ocr", "int8_dir", str(cache_dir(env["XDG_CACHE_HOME"])))
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        source = f" (file {config_file}, environment and flags)" if config_file else ""
        raise ConfigError(f"invalid configuration{source}: {problems}") from exc

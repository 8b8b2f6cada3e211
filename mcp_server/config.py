"""One settings object: defaults < YAML file < environment (``VLM_DESKTOP_*``) < command-line flags.

Each layer defines its own settings, with their one default and description: the engine's
:class:`EngineSettings` and :class:`OcrSettings`, the tools' :class:`ToolSettings` and :class:`Policy`.
:class:`Settings` composes them with the server's own sections (model transport, server, audit log);
what files and environment variables write (comma lists, ``x,y,width,height``, ``true`` for a thinking
mode) is turned into values here, by ``before`` validators. Read once at the edge (the CLI) and passed
down; nothing below reads ``os.environ``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from engine.ocr.int8 import cache_dir
from engine.ocr.settings import OcrSettings
from engine.vlm.presets import GENERIC, PRESETS, Preset, by_name
from engine.vlm.settings import EngineSettings
from engine.vlm.trust import CanaryMode
from mcp_server.sglang_launcher import LaunchConfig
from tools.safety.audit import AuditSettings
from tools.safety.policy import Policy
from tools.settings import ToolSettings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen3-VL-2B-Instruct"
DEFAULT_BASE_URL = "http://127.0.0.1:30000/v1"
ENV_PREFIX = "VLM_DESKTOP_"
AUDIT_FILE = Path("vlm-desktop-mcp", "audit.jsonl")


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


def _comma_list(value: Any) -> Any:
    # Environment variables are strings: "click,type" means a list.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _thinking_alias(value: Any) -> Any:
    # The Qwen3-VL web UI writes booleans or enabled/disabled; environment variables are strings, so
    # "true"/"false" there mean what YAML's booleans mean.
    aliases = {"true": "auto", "false": "off", "enabled": "auto", "disabled": "off", "on": "auto", "none": "off"}
    if isinstance(value, bool):
        return "auto" if value else "off"
    if isinstance(value, str):
        return aliases.get(value.strip().lower(), value.strip().lower())
    return value  # anything else (a list, a mapping...) fails validation with the field's name


def _endpoint_list(value: Any) -> Any:
    # "http://a:30000/v1, http://b:30000/v1" from the environment; a URL's trailing slash is not a new one.
    listed = _comma_list(value)
    if isinstance(listed, list):
        return [item.rstrip("/") if isinstance(item, str) else item for item in listed]
    return listed


def _one_endpoint_or_many(data: Any, where: str) -> None:
    if isinstance(data, Mapping) and data.get("base_url") and data.get("base_urls"):
        urls = [str(url).rstrip("/") for url in _comma_list(data["base_urls"]) or []]
        if str(data["base_url"]).rstrip("/") not in urls:
            raise ValueError(
                f"{where}base_url and {where}base_urls are both set and disagree: set base_urls alone for several "
                "model servers, base_url alone for one (or the URL of an sglang_router in front of several)"
            )


def _known_preset(value: str | None) -> str | None:
    if value is not None:
        by_name(value)  # ValueError listing the known presets
    return value


PRESET_HELP = (
    "The model's family, when the name it is served under does not say it (an alias from --served-model-name, "
    "a local path): one of " + ", ".join(p.name for p in (*PRESETS, GENERIC)) + " (default: chosen from the name)."
)


class GrounderConfig(BaseModel):
    """A second model (or the same model on other servers) that grounds: ``describe_screen``, ``click_text``'s
    model fallback and the second look ask it, while ``plan_next_action`` asks the planner (``model``).

    What is not set is the planner's: only ``name`` differs when one server serves both models (SGLang
    serves one model per server, so that is rare); only ``base_url(s)`` when the same model runs twice.
    """

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, description="The grounding model's name on its server (default: model.name).")
    base_url: str | None = Field(None, description="Its OpenAI-compatible server (default: the planner's).")
    base_urls: list[str] = Field(
        default_factory=list, description="Several servers of the grounding model; requests are spread over them."
    )
    api_key: str | None = Field(None, description="Bearer token for its server (default: model.api_key).")
    preset: Annotated[str | None, AfterValidator(_known_preset)] = Field(None, description=PRESET_HELP)

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, data: Any) -> Any:
        _one_endpoint_or_many(data, "model.grounder.")
        return data

    @field_validator("base_urls", mode="before")
    @classmethod
    def _url_list(cls, value: Any) -> Any:
        return _endpoint_list(value)


class ModelConfig(BaseModel):
    """The vision model and how to reach it; what the engine does with it is ``engine``.

    Files and the environment write the engine's keys flat, as the Qwen3-VL web UI's ``model:``
    section does (``model.temperature``, ``VLM_DESKTOP_MODEL__TEMPERATURE``): they are moved into
    ``engine`` here, and errors name them as written. ``grounder`` keys come from the environment as
    ``VLM_DESKTOP_MODEL__GROUNDER__NAME`` and so on.
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field(DEFAULT_MODEL, description="The model's name on the server (or its path for transformers).")
    backend: Literal["sglang", "openai", "transformers", "none"] = Field(
        "sglang",
        description="sglang/openai: an OpenAI-compatible server at base_url; transformers: in this process; "
        "none: no model (OCR only).",
    )
    base_url: str = Field(DEFAULT_BASE_URL, description="The OpenAI-compatible model server.")
    base_urls: list[str] = Field(
        default_factory=list,
        description="Several servers of the same model (instead of base_url): requests go to the least busy "
        "healthy one, a failed one is skipped until it recovers. One sglang_router URL needs only base_url.",
    )
    grounder: GrounderConfig | None = Field(
        None, description="A separate grounding model or servers (describe, click_text's fallback, second look)."
    )
    api_key: str | None = Field(None, description="Bearer token for the model server, if it wants one.")
    preset: Annotated[str | None, AfterValidator(_known_preset)] = Field(None, description=PRESET_HELP)
    connect_timeout: float = Field(5.0, gt=0, le=60, description="Seconds to connect to the model server.")
    read_timeout: float = Field(120.0, gt=0, le=3600, description="Seconds to wait for one model answer.")
    first_token_timeout: float = Field(
        30.0, gt=0, le=3600, description="Seconds to wait for the first streamed token of an answer."
    )
    stall_timeout: float = Field(15.0, gt=0, le=3600, description="Seconds a streamed answer may pause between tokens.")
    retries: int = Field(2, ge=0, le=5, description="Retries of a failed model call (actions are never retried).")
    device: str = Field("auto", description="transformers backend only: where the model runs (auto, cpu, cuda).")
    canary: CanaryMode = Field(
        CanaryMode.ENFORCE,
        description="The grounding self-test before the model is trusted: enforce (a model that fails it does not "
        "ground or plan), warn (only logged), off.",
    )
    canary_bound_px: float = Field(
        25.0, gt=0, le=1000, description="Most mean pointing error, in pixels of the 1200x900 test screen, to pass."
    )
    canary_cache: Path | None = Field(
        None, description="Where verdicts are kept per model and engine version (default: the user's cache folder)."
    )
    engine: EngineSettings = Field(default_factory=EngineSettings)

    @model_validator(mode="before")
    @classmethod
    def _engine_keys(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = _nested_grounder_keys(data)
        _one_endpoint_or_many(data, "model.")
        flat = {key: value for key, value in data.items() if key in EngineSettings.model_fields}
        nested = data.get("engine")
        if not flat and not isinstance(nested, Mapping):
            return data
        engine = {**(nested.model_dump() if isinstance(nested, EngineSettings) else nested or {}), **flat}
        if "thinking_mode" in engine:
            engine["thinking_mode"] = _thinking_alias(engine["thinking_mode"])
        return {**{key: value for key, value in data.items() if key not in flat}, "engine": engine}

    @field_validator("base_urls", mode="before")
    @classmethod
    def _url_list(cls, value: Any) -> Any:
        return _endpoint_list(value)

    @property
    def endpoints(self) -> list[str]:
        """The planner's servers: ``base_urls``, else ``base_url``."""
        return list(self.base_urls) or [self.base_url]

    @property
    def grounder_endpoints(self) -> list[str]:
        """The grounder's servers: its own, else the planner's."""
        if self.grounder is not None and (self.grounder.base_urls or self.grounder.base_url):
            return list(self.grounder.base_urls) or [str(self.grounder.base_url)]
        return self.endpoints

    def preset_of(self, role: Literal["planner", "grounder"]) -> Preset | None:
        """The preset configured for ``role``'s model (the grounder's own, else the planner's when the
        grounder is the same model), or ``None``: chosen from the model's name."""
        own = self.grounder.preset if role == "grounder" and self.grounder is not None else None
        if own is not None:
            return by_name(own)
        if role == "grounder" and self.grounder_name != self.name:
            return None
        return by_name(self.preset) if self.preset else None

    @property
    def grounder_name(self) -> str:
        """The grounding model's name: its own, else the planner's."""
        return (self.grounder.name if self.grounder is not None else None) or self.name

    @property
    def split_roles(self) -> bool:
        """Whether grounding goes to another model or other servers than planning."""
        return self.grounder_name != self.name or self.grounder_endpoints != self.endpoints


def _nested_grounder_keys(data: Mapping[str, Any]) -> Mapping[str, Any]:
    # The environment writes VLM_DESKTOP_MODEL__GROUNDER__BASE_URL: it arrives here as "grounder__base_url".
    nested = {key.partition("__")[2]: value for key, value in data.items() if key.startswith("grounder__")}
    if not nested:
        return data
    grounder = data.get("grounder")
    merged = {**(grounder if isinstance(grounder, Mapping) else {}), **nested}
    return {**{key: value for key, value in data.items() if not key.startswith("grounder__")}, "grounder": merged}


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


class AuditConfig(AuditSettings):
    """The write-ahead audit log: where it is, and the log's own settings."""

    path: Path | None = Field(
        None,
        description="The log file (None: $XDG_STATE_HOME/vlm-desktop-mcp/audit.jsonl, "
        "else ~/.local/state/vlm-desktop-mcp/audit.jsonl).",
    )


class OcrConfig(OcrSettings):
    """The engine's OCR settings, and whether the server reads text at all."""

    enabled: bool = Field(
        True, description="Fuse OCR with the model's elements; alone when no model is configured or reachable."
    )


def _policy_as_written(value: Any) -> Any:
    # Lists come comma-separated from the environment, the region as "x,y,width,height".
    if not isinstance(value, Mapping):
        return value
    data = dict(value)
    lists = ("allowed_actions", "blocked_chords", "upload_roots", "launch_allowed")
    for key in (*lists, "consequential_words", "password_words"):
        if key in data:
            data[key] = _comma_list(data[key])
    region = data.get("allowed_region")
    if isinstance(region, str):
        if region.strip().lower() in ("", "none", "null"):
            data["allowed_region"] = None
        else:
            parts = [part.strip() for part in region.split(",")]
            if len(parts) != 4:
                raise ValueError("allowed_region: write the region as x,y,width,height")
            data["allowed_region"] = dict(zip(("x", "y", "width", "height"), parts, strict=True))
    return data


class Settings(BaseModel):
    """Everything configurable: each layer's own settings, composed."""

    model_config = ConfigDict(extra="forbid")
    model: ModelConfig = Field(default_factory=ModelConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    desktop: ToolSettings = Field(default_factory=ToolSettings)
    policy: Annotated[Policy, BeforeValidator(_policy_as_written)] = Field(default_factory=Policy)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    ocr: OcrConfig = Field(default_factory=OcrConfig)
    sglang: LaunchConfig = Field(default_factory=LaunchConfig)


def audit_path(settings: Settings) -> Path:
    """Where the audit log lives: ``audit.path``, or the per-user state folder."""
    return settings.audit.path or Path.home() / ".local" / "state" / AUDIT_FILE


def canary_cache_path(cache_home: str | None) -> Path:
    """``<cache_home>/vlm-desktop-mcp/canary.json``, ``cache_home`` defaulting to ``~/.cache``."""
    return Path(cache_home or Path.home() / ".cache") / "vlm-desktop-mcp" / "canary.json"


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
    "launch_sglang": ("sglang", "launch"),
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


def _retire(tree: dict[str, Any]) -> list[str]:
    """Move settings given under a retired name to their one place; returns a note for each."""
    notes: list[str] = []
    desktop = tree.get("desktop")
    if isinstance(desktop, dict) and "max_text_length" in desktop and isinstance(tree.get("policy", {}), dict):
        old, policy = desktop.pop("max_text_length"), tree.setdefault("policy", {})
        given = policy.get("max_text_length")
        try:  # both limits used to apply: the smaller one still does
            policy["max_text_length"] = old if given is None else min(int(old), int(given))
        except (TypeError, ValueError):
            policy.setdefault("max_text_length", old)  # validation names the bad value
        notes.append(
            "desktop.max_text_length (VLM_DESKTOP_DESKTOP__MAX_TEXT_LENGTH) is deprecated: the one text-length "
            f"limit is policy.max_text_length (VLM_DESKTOP_POLICY__MAX_TEXT_LENGTH), now {policy['max_text_length']}"
        )
    return notes


def _where(loc: tuple[int | str, ...]) -> str:
    """A setting's name as files and the environment write it (the engine's keys flat under ``model``)."""
    parts = [str(part) for part in loc]
    if parts[:2] == ["model", "engine"]:
        parts = ["model", *parts[2:]]
    return ".".join(parts)


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
    for note in _retire(tree):
        log.warning("configuration: %s", note)
    if env.get("XDG_STATE_HOME") and not (tree.get("audit") or {}).get("path"):
        _set(tree, "audit", "path", str(Path(env["XDG_STATE_HOME"]) / AUDIT_FILE))
    if env.get("XDG_CACHE_HOME") and not (tree.get("model") or {}).get("canary_cache"):
        _set(tree, "model", "canary_cache", str(canary_cache_path(env["XDG_CACHE_HOME"])))
    if env.get("XDG_CACHE_HOME") and not (tree.get("ocr") or {}).get("int8_dir"):
        _set(tree, "ocr", "int8_dir", str(cache_dir(env["XDG_CACHE_HOME"])))
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False))
        source = f" (file {config_file}, environment and flags)" if config_file else ""
        raise ConfigError(f"invalid configuration{source}: {problems}") from exc

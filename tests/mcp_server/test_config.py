"""mcp_server/config.py and the CLI's handling of configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.vlm.thinking import ThinkingMode
from mcp_server import cli
from mcp_server.config import DEFAULT_BASE_URL, DEFAULT_MODEL, ConfigError, Settings, load_settings


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings()
    assert s == Settings()
    assert (s.model.name, s.model.backend, s.model.base_url) == (DEFAULT_MODEL, "sglang", DEFAULT_BASE_URL)
    assert DEFAULT_MODEL == "Qwen/Qwen3-VL-2B-Instruct" and DEFAULT_BASE_URL == "http://127.0.0.1:30000/v1"
    assert s.model.thinking_mode is ThinkingMode.AUTO
    assert (s.model.max_reasoning_steps, s.model.temperature, s.model.top_p) == (6, 0.0, None)
    assert s.model.use_thinking_tokens is True
    assert s.model.max_image_pixels == 1920 * 1088
    assert (s.server.transport, s.server.host, s.server.port, s.server.log_level) == (
        "stdio", "127.0.0.1", 8765, "INFO",
    )  # fmt: skip
    assert (s.desktop.dry_run, s.desktop.monitor, s.desktop.failsafe, s.desktop.max_text_length) == (
        False, 1, True, 10_000,
    )  # fmt: skip


FILE = """\
model:
  name: file-model
  base_url: http://file:1/v1
  temperature: 0.3
  max_reasoning_steps: 9
server:
  port: 9000
"""


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    path = write(tmp_path, FILE)
    env = {
        "VLM_DESKTOP_BASE_URL": "http://env:2/v1",
        "VLM_DESKTOP_MODEL": "env-model",
        "VLM_DESKTOP_MODEL__TEMPERATURE": "0.5",
        "VLM_DESKTOP_PORT": "9100",
        "OTHER_VARIABLE": "ignored",
    }
    s = load_settings({"model": "flag-model", "port": None, "transport": None}, env, path)
    assert s.model.name == "flag-model"  # flag > env > file
    assert s.model.base_url == "http://env:2/v1"  # env > file
    assert s.model.temperature == 0.5  # env (section__key form) > file
    assert s.server.port == 9100  # a flag of None was not given
    assert s.model.max_reasoning_steps == 9  # file > default
    assert s.server.host == "127.0.0.1"  # default
    assert load_settings(env=env, config_file=path).model.name == "env-model"
    assert load_settings(config_file=path).model.name == "file-model"


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, FILE)
    other = write(tmp_path, "model:\n  name: explicit\n", "other.yaml")
    assert load_settings(env={"VLM_DESKTOP_CONFIG": str(path)}).model.name == "file-model"
    # an explicit file (--config) beats $VLM_DESKTOP_CONFIG
    assert load_settings(env={"VLM_DESKTOP_CONFIG": str(path)}, config_file=other).model.name == "explicit"


def test_qwen_web_ui_model_section_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "model:\n  name: Qwen/Qwen3-VL-8B-Thinking\n  thinking_mode: true\n  max_reasoning_steps: 12\n"
        "  temperature: 0.6\n  top_p: 0.95\n  use_thinking_tokens: false\n",
    )
    m = load_settings(config_file=path).model
    assert (m.name, m.thinking_mode, m.max_reasoning_steps) == ("Qwen/Qwen3-VL-8B-Thinking", ThinkingMode.AUTO, 12)
    assert (m.temperature, m.top_p, m.use_thinking_tokens) == (0.6, 0.95, False)


@pytest.mark.parametrize(
    ("yaml_value", "mode"),
    [
        ("true", ThinkingMode.AUTO),
        ("false", ThinkingMode.OFF),
        ("enabled", ThinkingMode.AUTO),
        ("Disabled", ThinkingMode.OFF),
        ("on", ThinkingMode.AUTO),  # YAML 1.1: a boolean
        ("none", ThinkingMode.OFF),
        ("' Native '", ThinkingMode.NATIVE),
        ("prompted", ThinkingMode.PROMPTED),
        ("'false'", ThinkingMode.OFF),  # a quoted string, as environment variables always are
    ],
)
def test_thinking_mode_aliases(tmp_path: Path, yaml_value: str, mode: ThinkingMode) -> None:
    path = write(tmp_path, f"model:\n  thinking_mode: {yaml_value}\n")
    assert load_settings(config_file=path).model.thinking_mode is mode


@pytest.mark.parametrize(("value", "mode"), [("false", ThinkingMode.OFF), ("native", ThinkingMode.NATIVE)])
def test_thinking_from_environment(value: str, mode: ThinkingMode) -> None:
    assert load_settings(env={"VLM_DESKTOP_THINKING": value}).model.thinking_mode is mode
    assert load_settings(env={"VLM_DESKTOP_MODEL__THINKING_MODE": value}).model.thinking_mode is mode


@pytest.mark.parametrize(
    ("yaml_text", "env", "field"),
    [
        ("model:\n  nmae: x\n", {}, "model.nmae"),
        ("modle:\n  name: x\n", {}, "modle"),
        ("model:\n  temperature: 5\n", {}, "model.temperature"),
        ("model:\n  max_reasoning_steps: 0\n", {}, "model.max_reasoning_steps"),
        ("model:\n  backend: ollama\n", {}, "model.backend"),
        ("model:\n  thinking_mode: sometimes\n", {}, "model.thinking_mode"),
        ("model:\n  thinking_mode: [1, 2]\n", {}, "model.thinking_mode"),
        ("model:\n  thinking_mode: {a: 1}\n", {}, "model.thinking_mode"),
        ("server:\n  port: 0\n", {}, "server.port"),
        ("server:\n  transport: websocket\n", {}, "server.transport"),
        ("desktop:\n  monitor: -1\n", {}, "desktop.monitor"),
        ("", {"VLM_DESKTOP_PORT": "eighty"}, "server.port"),
        ("", {"VLM_DESKTOP_DESKTOP__DRY_RUN": "maybe"}, "desktop.dry_run"),
        ("", {"VLM_DESKTOP_MODEL__BOGUS": "1"}, "model.bogus"),
    ],
)
def test_bad_settings_name_the_field(tmp_path: Path, yaml_text: str, env: dict[str, str], field: str) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(ConfigError, match="invalid configuration") as info:
        load_settings(env=env, config_file=path)
    assert f"{field}:" in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*nope\.yaml"):
        load_settings(config_file=tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(env={"VLM_DESKTOP_CONFIG": str(tmp_path / "nope.yaml")})


@pytest.mark.parametrize(
    ("text", "message"),
    [("model: [unclosed\n", "is not valid YAML"), ("- a\n- b\n", "must hold a mapping"), ("just text", "mapping")],
)
def test_malformed_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=write(tmp_path, text))


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    assert load_settings(config_file=write(tmp_path, "# nothing yet\n")) == Settings()


@pytest.mark.parametrize("value", ["streamable-http", "streamable_http", "http"])
def test_transport_alias(tmp_path: Path, value: str) -> None:
    assert load_settings({"transport": value}).server.transport == "http"
    assert load_settings(config_file=write(tmp_path, f"server:\n  transport: {value}\n")).server.transport == "http"


def test_flag_shortcuts_and_log_level() -> None:
    s = load_settings(
        {"host": "0.0.0.0", "log_level": "debug", "backend": "none", "api_key": "k", "thinking": "off",
         "dry_run": True, "monitor": 0, "base_url": "http://x/v1"}
    )  # fmt: skip
    assert (s.server.host, s.server.log_level) == ("0.0.0.0", "DEBUG")
    assert (s.model.backend, s.model.api_key, s.model.thinking_mode, s.model.base_url) == (
        "none", "k", ThinkingMode.OFF, "http://x/v1",
    )  # fmt: skip
    assert (s.desktop.dry_run, s.desktop.monitor) == (True, 0)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("VLM_DESKTOP_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_env")
def test_cli_reports_a_missing_config_file_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--config", "/nonexistent.yaml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # stdout is the MCP channel in stdio mode
    assert err.startswith("vlm-desktop-mcp: cannot read config file /nonexistent.yaml")


@pytest.mark.usefixtures("clean_env")
def test_cli_accepts_streamable_http_and_reports_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    # --port 0 fails validation, so main returns before serving; the transport spelling was accepted.
    assert cli.main(["serve", "--transport", "streamable-http", "--port", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "server.port:" in err and "transport" not in err


@pytest.mark.usefixtures("clean_env")
def test_cli_env_config_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VLM_DESKTOP_MODEL__TEMPERATURE", "hot")
    assert cli.main(["serve"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "model.temperature:" in err


def test_empty_section_means_defaults(tmp_path: Path) -> None:
    settings = load_settings(config_file=write(tmp_path, "server:\nmodel:\n  name: m\n"))
    assert settings.server.port == 8765 and settings.model.name == "m"


def test_mistyped_environment_variable_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"VLM_DESKTOP_TEMPERATURE.*VLM_DESKTOP_MODEL__TEMPERATURE"):
        load_settings(env={"VLM_DESKTOP_TEMPERATURE": "0.3"})

"""mcp_server/config.py: each layer's settings composed (defaults < file < environment < flags), the
README's configuration section, and the CLI's handling of configuration errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.ocr.int8 import cache_dir
from engine.ocr.settings import OcrSettings
from engine.vlm.settings import EngineSettings
from engine.vlm.thinking import ThinkingMode
from mcp_server import cli
from mcp_server.config import DEFAULT_BASE_URL, DEFAULT_MODEL, ConfigError, Settings, from_env, load_settings
from mcp_server.lifespan import make_screen_reader
from tools.actions.vocabulary import TEXT_CEILING, FillInput, TypeText
from tools.errors import ActionRefused
from tools.safety.audit import AuditLog, AuditSettings
from tools.safety.policy import Policy, check_action
from tools.settings import ToolSettings

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings()
    assert s == Settings()
    assert (s.model.name, s.model.backend, s.model.base_url) == (DEFAULT_MODEL, "sglang", DEFAULT_BASE_URL)
    assert DEFAULT_MODEL == "Qwen/Qwen3-VL-2B-Instruct" and DEFAULT_BASE_URL == "http://127.0.0.1:30000/v1"
    assert s.model.engine.thinking_mode is ThinkingMode.AUTO
    assert (s.model.engine.max_reasoning_steps, s.model.engine.temperature, s.model.engine.top_p) == (6, 0.0, None)
    assert s.model.engine.use_thinking_tokens is True
    assert s.model.engine.max_image_pixels == 1920 * 1088
    assert (s.server.transport, s.server.host, s.server.port, s.server.log_level) == (
        "stdio", "127.0.0.1", 8765, "INFO",
    )  # fmt: skip
    assert (s.desktop.dry_run, s.desktop.monitor, s.desktop.failsafe, s.policy.max_text_length) == (
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
    assert s.model.engine.temperature == 0.5  # env (section__key form) > file
    assert s.server.port == 9100  # a flag of None was not given
    assert s.model.engine.max_reasoning_steps == 9  # file > default
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
    e = m.engine
    assert (m.name, e.thinking_mode, e.max_reasoning_steps) == ("Qwen/Qwen3-VL-8B-Thinking", ThinkingMode.AUTO, 12)
    assert (e.temperature, e.top_p, e.use_thinking_tokens) == (0.6, 0.95, False)


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
    assert load_settings(config_file=path).model.engine.thinking_mode is mode


@pytest.mark.parametrize(("value", "mode"), [("false", ThinkingMode.OFF), ("native", ThinkingMode.NATIVE)])
def test_thinking_from_environment(value: str, mode: ThinkingMode) -> None:
    assert load_settings(env={"VLM_DESKTOP_THINKING": value}).model.engine.thinking_mode is mode
    assert load_settings(env={"VLM_DESKTOP_MODEL__THINKING_MODE": value}).model.engine.thinking_mode is mode


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
    assert (s.model.backend, s.model.api_key, s.model.engine.thinking_mode, s.model.base_url) == (
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


# --- each setting defined once, by the layer that uses it ------------------------------------------


def test_the_composed_defaults_are_each_layers_own() -> None:
    s = Settings()
    assert s.model.engine == EngineSettings()
    assert s.desktop == ToolSettings()
    assert s.policy == Policy()
    assert OcrSettings.model_validate(s.ocr.model_dump(exclude={"enabled"})) == OcrSettings()
    assert s.ocr.enabled is True


def test_the_layers_get_their_settings_as_configured_not_copied() -> None:
    env = {
        "VLM_DESKTOP_MODEL__TEMPERATURE": "0.4",
        "VLM_DESKTOP_MODEL__DESCRIBE_MAX_TOKENS": "512",
        "VLM_DESKTOP_MONITOR": "2",
        "VLM_DESKTOP_POLICY__RATE_LIMIT_ACTIONS": "7",
        "VLM_DESKTOP_OCR__CACHE_SCREENS": "3",
    }
    s = load_settings(env=env)
    assert (s.model.engine.temperature, s.model.engine.describe_max_tokens) == (0.4, 512)
    assert s.desktop.monitor == 2 and s.policy.rate_limit_actions == 7
    reader = make_screen_reader(s)
    assert reader is not None and reader.engine.settings is s.ocr and reader.capacity == 3
    assert make_screen_reader(load_settings(env={"VLM_DESKTOP_OCR__ENABLED": "false"})) is None


def test_the_engine_keys_are_written_flat_and_errors_name_them_so(tmp_path: Path) -> None:
    nested = load_settings(config_file=write(tmp_path, "model:\n  engine:\n    temperature: 0.2\n"))
    flat = load_settings(config_file=write(tmp_path, "model:\n  temperature: 0.2\n", "flat.yaml"))
    assert nested == flat and flat.model.engine.temperature == 0.2
    with pytest.raises(ConfigError, match=r"model\.plan_max_tokens:"):
        load_settings(env={"VLM_DESKTOP_MODEL__PLAN_MAX_TOKENS": "0"})


def test_int8_dir_follows_xdg_cache_home(tmp_path: Path) -> None:
    assert load_settings(env={"XDG_CACHE_HOME": str(tmp_path)}).ocr.int8_dir == tmp_path / "vlm-desktop-mcp" / "ocr"
    assert cache_dir(tmp_path) == tmp_path / "vlm-desktop-mcp" / "ocr"
    # Unset: the engine's default folder under the home directory.
    assert load_settings().ocr.int8_dir is None
    assert cache_dir() == Path.home() / ".cache" / "vlm-desktop-mcp" / "ocr"
    # Set explicitly, the setting wins over the variable.
    env = {"XDG_CACHE_HOME": str(tmp_path), "VLM_DESKTOP_OCR__INT8_DIR": str(tmp_path / "mine")}
    assert load_settings(env=env).ocr.int8_dir == tmp_path / "mine"


def test_the_retired_desktop_text_limit_still_counts(caplog: pytest.LogCaptureFixture) -> None:
    old = load_settings(env={"VLM_DESKTOP_DESKTOP__MAX_TEXT_LENGTH": "50"})
    assert old.policy.max_text_length == 50 and "desktop.max_text_length" in caplog.text and "deprecated" in caplog.text
    both = {"VLM_DESKTOP_DESKTOP__MAX_TEXT_LENGTH": "50", "VLM_DESKTOP_POLICY__MAX_TEXT_LENGTH": "40"}
    assert load_settings(env=both).policy.max_text_length == 40  # both limits used to apply: the smaller does


def test_one_text_length_limit_is_enforced_with_the_configured_value() -> None:
    policy = load_settings(env={"VLM_DESKTOP_POLICY__MAX_TEXT_LENGTH": "5"}).policy
    check_action(policy, TypeText(text="abcde"))
    for action in (TypeText(text="abcdef"), FillInput(label="Name", value="abcdef")):
        with pytest.raises(ActionRefused, match="the text is 6 characters long; at most 5") as caught:
            check_action(policy, action)
        assert caught.value.rule == "max_text_length"
    # The schema no longer refuses first: a limit above the old hard 10 000 applies as configured.
    large = load_settings(env={"VLM_DESKTOP_POLICY__MAX_TEXT_LENGTH": str(TEXT_CEILING)}).policy
    check_action(large, TypeText(text="x" * 50_000))
    with pytest.raises(ConfigError, match=r"policy\.max_text_length"):
        load_settings(env={"VLM_DESKTOP_POLICY__MAX_TEXT_LENGTH": str(TEXT_CEILING + 1)})


# --- the README's configuration section ------------------------------------------------------------


def _configuration_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme[readme.index("## Configuration") : readme.index("## Tests")]


def test_readme_configuration_table_names_real_settings() -> None:
    rows = re.findall(r"^\|.*?\| `(VLM_DESKTOP_\w+)` \| `(\w+)\.(\w+)` \|", _configuration_section(), re.M)
    assert len(rows) >= 25
    for variable, section, key in rows:
        assert from_env({variable: "x"}) == {section: {key: "x"}}, variable
        fields = Settings.model_fields[section].annotation.model_fields  # type: ignore[union-attr]
        assert key in fields or (section == "model" and key in EngineSettings.model_fields), f"{section}.{key}"


def test_readme_configuration_example_loads(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(.*?)```", _configuration_section(), re.S)
    assert example is not None
    settings = load_settings(config_file=write(tmp_path, example.group(1)))
    assert settings.policy.upload_roots == ("~/Documents", "~/Downloads")


def test_the_audit_log_and_its_section_share_one_set_of_defaults(tmp_path: Path) -> None:
    section = Settings().audit
    defaults = AuditSettings()
    assert section.model_dump(exclude={"path"}) == defaults.model_dump()
    log = AuditLog(tmp_path / "audit.jsonl")
    kept = (log.screenshots, log.keep_screenshots, log.max_bytes, log.keep_files)
    assert kept == tuple(defaults.model_dump().values())
    configured = AuditLog.from_settings(tmp_path / "a.jsonl", AuditSettings(max_bytes=10, keep_files=1))
    assert (configured.max_bytes, configured.keep_files) == (10, 1)

"""Configuring several model servers and a separate grounder: what files and the environment write,
and the clear errors for what cannot be meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.vlm.backend import backend_preset
from mcp_server.config import ConfigError, load_settings
from mcp_server.lifespan import make_backend


def test_the_environment_lists_servers_comma_separated() -> None:
    model = load_settings(env={"VLM_DESKTOP_MODEL__BASE_URLS": "http://gpu1:30000/v1/, http://gpu2:30000/v1"}).model
    assert model.endpoints == ["http://gpu1:30000/v1", "http://gpu2:30000/v1"]
    assert model.grounder_endpoints == model.endpoints and not model.split_roles


def test_one_url_keeps_working_alone() -> None:
    model = load_settings({"base_url": "http://router:30000/v1"}).model
    assert model.endpoints == ["http://router:30000/v1"] and model.grounder is None


def test_a_url_and_a_list_that_disagree_are_refused_naming_both() -> None:
    env = {"VLM_DESKTOP_MODEL__BASE_URLS": "http://gpu1:30000/v1,http://gpu2:30000/v1"}
    with pytest.raises(ConfigError, match=r"model\.base_url and model\.base_urls are both set and disagree"):
        load_settings({"base_url": "http://elsewhere:30000/v1"}, env)
    agreeing = load_settings({"base_url": "http://gpu2:30000/v1"}, env).model
    assert agreeing.endpoints == ["http://gpu1:30000/v1", "http://gpu2:30000/v1"]


def test_the_grounder_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "model:\n  name: Qwen/Qwen3-VL-8B-Thinking\n  grounder:\n    name: Qwen/Qwen3-VL-8B-Instruct\n",
        encoding="utf-8",
    )
    env = {"VLM_DESKTOP_MODEL__GROUNDER__BASE_URLS": "http://gpu2:30000/v1,http://gpu3:30000/v1"}
    model = load_settings(env=env, config_file=config).model
    assert model.grounder_name == "Qwen/Qwen3-VL-8B-Instruct" and model.name == "Qwen/Qwen3-VL-8B-Thinking"
    assert model.grounder_endpoints == ["http://gpu2:30000/v1", "http://gpu3:30000/v1"]
    assert model.endpoints == ["http://127.0.0.1:30000/v1"] and model.split_roles


def test_an_unknown_grounder_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"model\.grounder\.temperature"):
        load_settings(env={"VLM_DESKTOP_MODEL__GROUNDER__TEMPERATURE": "0"})


def test_a_preset_names_the_family_of_a_model_served_under_an_alias() -> None:
    env = {
        "VLM_DESKTOP_MODEL": "planner",
        "VLM_DESKTOP_MODEL__PRESET": "qwen3-vl-thinking",
        "VLM_DESKTOP_MODEL__GROUNDER__NAME": "grounder",
        "VLM_DESKTOP_MODEL__GROUNDER__BASE_URL": "http://127.0.0.1:30001/v1",
        "VLM_DESKTOP_MODEL__GROUNDER__PRESET": "mai-ui",
    }
    settings = load_settings({}, env)
    planner, grounder = make_backend(settings), make_backend(settings, "grounder")
    assert planner is not None and grounder is not None
    assert backend_preset(planner).name == "qwen3-vl-thinking" and backend_preset(grounder).name == "mai-ui"
    assert backend_preset(make_backend(load_settings({}, {"VLM_DESKTOP_MODEL": "planner"}))).name == "generic"


def test_an_unknown_preset_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"model.preset: .*unknown model preset 'qwen4'; known: qwen3.5, .*mai-ui"):
        load_settings({}, {"VLM_DESKTOP_MODEL__PRESET": "qwen4"})

"""Server configuration of ECS: the default runner, egress profiles, runner options."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchyard.api import ServerConfig
from batchyard.api.app import App, ConfigError
from batchyard.api.ecs import install_ecs
from batchyard.ecs import EgressProfile, default_runner_kind
from batchyard.ecs import backends as backends_module
from batchyard.ecs.egress import ProfileSource, parse_profiles
from batchyard.store import open_store


def test_default_runner_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATCHYARD_RUNNER", raising=False)
    assert default_runner_kind("local") == "local"
    monkeypatch.setenv("BATCHYARD_RUNNER", "docker")
    assert default_runner_kind() == "docker"
    assert default_runner_kind("ecs") == "ecs"  # the server's own setting wins
    monkeypatch.setenv("BATCHYARD_RUNNER", "auto")
    monkeypatch.setattr(backends_module, "docker_reachable", lambda timeout=2.0: False)
    assert default_runner_kind() == "local"
    monkeypatch.setattr(backends_module, "docker_reachable", lambda timeout=2.0: True)
    assert default_runner_kind() == "docker"
    with pytest.raises(ValueError, match="unknown runner 'k8s'"):
        default_runner_kind("k8s")


def test_proxy_profile_environment() -> None:
    profile = EgressProfile(proxy="http://p:3128", https_proxy="http://s:3129")
    assert profile.environment() == {
        "HTTP_PROXY": "http://p:3128", "HTTPS_PROXY": "http://s:3129",
        "NO_PROXY": "localhost,127.0.0.1,::1,169.254.169.254,169.254.170.2",
        "http_proxy": "http://p:3128", "https_proxy": "http://s:3129",
        "no_proxy": "localhost,127.0.0.1,::1,169.254.169.254,169.254.170.2",
    }  # fmt: skip
    assert EgressProfile(docker_network="egress").environment() == {}
    with pytest.raises(ValueError, match=r"unknown settings \['prxy'\]"):
        parse_profiles({"typo": {"prxy": "http://p"}}, "egress.json")


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("egress.json", "{not json", "egress.json: not valid JSON"),
        ("egress.json", '{"p": {"proxy": "http://p", "port": 1}}', "unknown settings"),
        ("runners.json", '{"ecs": "eu-west-1"}', "runners.json: expected an object"),
    ],
)
def test_bad_configuration_files_stop_the_server(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    (tmp_path / name).write_text(text)
    config = ServerConfig(data_dir=tmp_path)
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with pytest.raises(ConfigError, match=problem):
            install_ecs(App(config), config, store, None)
    finally:
        store.close()


def test_a_broken_edit_keeps_the_last_good_profiles(tmp_path: Path) -> None:
    path = tmp_path / "egress.json"
    path.write_text('{"p": {"proxy": "http://p:1"}}')
    source = ProfileSource(ServerConfig(data_dir=tmp_path))
    assert source()["p"].proxy == "http://p:1"
    path.write_text("{broken")
    assert source()["p"].proxy == "http://p:1"
    path.write_text('{"q": {"docker_network": "n"}}')
    assert set(source()) == {"q"}

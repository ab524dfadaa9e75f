"""Settings from environment variables and the TOML file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.config import DEFAULT_CRIC_URL, Settings


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASKPANDA_MONITOR_URL")
    monkeypatch.delenv("ASKPANDA_CRIC_URL")
    settings = Settings()
    assert settings.monitor_url == "https://bigpanda.cern.ch"
    assert settings.cric_url == DEFAULT_CRIC_URL
    assert settings.log_roots == []
    assert settings.chroma_host is None


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASKPANDA_READ_TIMEOUT", "12.5")
    monkeypatch.setenv("ASKPANDA_LOG_ROOTS", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    settings = Settings()
    assert settings.read_timeout == 12.5
    assert settings.log_roots == [tmp_path / "a", tmp_path / "b"]


def test_toml_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('cric_url = "/cvmfs/atlas.cern.ch/repo/sw/local/etc/cric_pandaqueues.json"\nmax_retries = 5\n')
    monkeypatch.setenv("ASKPANDA_CONFIG", str(config))
    monkeypatch.delenv("ASKPANDA_CRIC_URL")
    settings = Settings()
    assert settings.cric_url.endswith("cric_pandaqueues.json")
    assert settings.max_retries == 5


def test_environment_wins_over_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("max_retries = 5\n")
    monkeypatch.setenv("ASKPANDA_CONFIG", str(config))
    monkeypatch.setenv("ASKPANDA_MAX_RETRIES", "1")
    assert Settings().max_retries == 1


def test_invalid_value_names_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASKPANDA_CONNECT_TIMEOUT", "-3")
    with pytest.raises(ValueError, match="connect_timeout"):
        Settings()


def test_token_from_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("  abc.def.ghi \n")
    assert Settings(token_file=token_file).bearer_token() == "abc.def.ghi"
    assert Settings(token="xyz").bearer_token() == "xyz"
    assert Settings(token_file=tmp_path / "missing").bearer_token() is None


def test_token_hidden_in_repr() -> None:
    assert "xyz-secret" not in repr(Settings(token="xyz-secret"))


def test_http_hosts_from_urls() -> None:
    settings = Settings(
        monitor_url="https://bigpanda.cern.ch",
        cric_url="/cvmfs/atlas.cern.ch/repo/sw/local/etc/cric_pandaqueues.json",
        allowed_hosts=["GitHub.com"],
    )
    assert settings.http_hosts() == {"bigpanda.cern.ch", "github.com"}

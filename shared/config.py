"""Settings of every askpanda-mcp server, read from ASKPANDA_* variables and an optional TOML file."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "askpanda-mcp"
DEFAULT_CRIC_URL = "https://atlas-cric.cern.ch/api/atlas/pandaqueue/query/?json"


def default_config_file() -> Path:
    """Return the TOML file read when ASKPANDA_CONFIG is not set."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _config_file() -> Path:
    return Path(os.environ.get("ASKPANDA_CONFIG") or default_config_file())


class Settings(BaseSettings):
    """Every setting, with its environment variable ASKPANDA_<NAME> and the same key in the TOML file.

    Environment variables win over the TOML file, which wins over the defaults.
    """

    model_config = SettingsConfigDict(env_prefix="ASKPANDA_", extra="ignore", populate_by_name=True)

    monitor_url: str = Field("https://bigpanda.cern.ch", description="BigPanDA base URL.")
    cric_url: str = Field(
        DEFAULT_CRIC_URL,
        description="CRIC PanDA queue JSON: an http(s) URL or a local file path (such as the CVMFS copy).",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir(APP_NAME)),
        description="Folder of the disk cache (logs, CRIC dumps).",
    )
    cache_max_mb: int = Field(2048, ge=1, description="Size cap of the disk cache in MB.")
    connect_timeout: float = Field(10.0, gt=0, description="TCP and TLS connect timeout in seconds.")
    read_timeout: float = Field(30.0, gt=0, description="Time allowed between two received chunks, in seconds.")
    request_deadline: float = Field(
        60.0, gt=0, description="Upper bound on one request with all its retries, in seconds."
    )
    max_retries: int = Field(3, ge=0, le=10, description="Retries after the first try of an HTTP request.")
    max_response_mb: int = Field(200, ge=1, description="Largest HTTP response body accepted, in MB.")
    token: SecretStr | None = Field(None, description="OIDC bearer token sent to BigPanDA.")
    token_file: Path | None = Field(None, description="File that contains the OIDC bearer token.")
    origin: str | None = Field(None, description="Value of the Origin header sent with the token (the VO).")
    log_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Local folders whose logs the logs server may read, separated by the platform's path separator.",
    )
    job_ttl_seconds: int = Field(300, ge=0, description="How long a job record from BigPanDA is reused, in seconds.")
    log_ttl_seconds: int = Field(86400, ge=0, description="How long a downloaded log file is reused, in seconds.")
    cric_ttl_seconds: int = Field(600, ge=0, description="How long the CRIC queue data is reused, in seconds.")
    docs_index_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)) / "docs-index",
        description="Folder of the docs server's Chroma index.",
    )
    docs_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Local folders the index_docs tool may index, separated like log_roots; the terminal command "
        "may index any folder.",
    )
    chroma_host: str | None = Field(None, description="Chroma server host; when unset the index is embedded.")
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra host names the HTTP client may fetch, besides the monitor and CRIC hosts.",
    )

    @field_validator("log_roots", "docs_roots", "allowed_hosts", mode="before")
    @classmethod
    def _split_path_list(cls, value: Any) -> Any:
        # A plain string from the environment is a list separated by os.pathsep (":" or ";").
        if isinstance(value, str):
            return [part for part in value.split(os.pathsep) if part.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_source = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml_source)

    def bearer_token(self) -> str | None:
        """Return the token from ASKPANDA_TOKEN, else the first line of ASKPANDA_TOKEN_FILE, else None."""
        if self.token is not None and self.token.get_secret_value().strip():
            return self.token.get_secret_value().strip()

        if self.token_file is not None:
            try:
                text = self.token_file.expanduser().read_text(encoding="utf-8")
            except OSError:
                return None
            return text.strip().splitlines()[0].strip() if text.strip() else None

        return None

    def http_hosts(self) -> set[str]:
        """Return the host names the HTTP client may contact: the monitor, CRIC and allowed_hosts."""
        hosts = {host.lower() for host in self.allowed_hosts}
        for url in (self.monitor_url, self.cric_url):
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.hostname:
                hosts.add(parts.hostname.lower())
        return hosts

    @property
    def monitor_base(self) -> str:
        """The monitor URL without a trailing slash."""
        return self.monitor_url.rstrip("/")


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()

"""Fixtures shared by every test module: the loopback HTTP fake, isolated settings and the reference data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from tests.fakeserver import FakeHTTPServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DATA = PROJECT_ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

requires_reference = pytest.mark.skipif(
    not REFERENCE_DATA.is_dir(),
    reason=f"reference data folder {REFERENCE_DATA} is absent (it sits beside the repository in CI)",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep every test away from the user's config, cache and token, and from any real host."""
    for name in list(__import__("os").environ):
        if name.startswith("ASKPANDA_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASKPANDA_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("ASKPANDA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ASKPANDA_MONITOR_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ASKPANDA_CRIC_URL", "http://127.0.0.1:9/api/atlas/pandaqueue/query/")
    monkeypatch.setenv("ASKPANDA_DOCS_INDEX_DIR", str(tmp_path / "docs-index"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    from shared.config import get_settings

    get_settings.cache_clear()


@pytest.fixture
def fake_http() -> Iterator[FakeHTTPServer]:
    """A started loopback HTTP server; register routes with .route() and faults with .add_fault()."""
    with FakeHTTPServer() as server:
        yield server


@pytest.fixture
def fast_settings(tmp_path: Path, fake_http: FakeHTTPServer) -> Settings:
    """Settings pointing at the fake server, with short timeouts so fault tests finish quickly."""
    return Settings(
        monitor_url=fake_http.url,
        cric_url=f"{fake_http.url}/api/atlas/pandaqueue/query/",
        cache_dir=tmp_path / "cache",
        connect_timeout=2.0,
        read_timeout=2.0,
        request_deadline=10.0,
        max_retries=2,
        max_response_mb=5,
    )


@pytest.fixture
def reference_data() -> Path:
    """The reference data folder beside the repository; skips the test when it is absent."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip(f"reference data folder {REFERENCE_DATA} is absent (it sits beside the repository in CI)")
    return REFERENCE_DATA


@pytest.fixture
def anyio_backend() -> str:
    """Run `@pytest.mark.anyio` tests on asyncio, the loop the MCP servers use."""
    return "asyncio"

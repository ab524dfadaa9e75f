"""Loading CRIC queue data: local files, the CRIC API through the disk cache, and CRIC failures."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import anyio
import pytest

from servers.sites.cric import CricLoader, CricUnavailableError
from shared.config import DEFAULT_CRIC_URL, Settings
from tests.fakeserver import FakeHTTPServer, Fault

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sites" / "cric_small.json"
CRIC_PATH = "/api/atlas/pandaqueue/query/"


def remote_settings(fake_http: FakeHTTPServer, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "cric_url": f"{fake_http.url}{CRIC_PATH}?json",
        "cache_dir": tmp_path / "cache",
        "connect_timeout": 1.0,
        "read_timeout": 0.5,
        "request_deadline": 3.0,
        "max_retries": 0,
    }
    values.update(overrides)
    return Settings(**values)


def serve_fixture(fake_http: FakeHTTPServer) -> None:
    fake_http.route(CRIC_PATH, json.loads(FIXTURE.read_text(encoding="utf-8")))


async def wait_for_refresh(loader: CricLoader) -> None:
    # The disk cache keeps its running background refreshes in a private dict; no public hook exists.
    with anyio.fail_after(5):
        while loader._cache._refreshing:
            await anyio.sleep(0.05)


# --- local files -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_local_file(tmp_path: Path) -> None:
    loader = CricLoader(Settings(cric_url=str(FIXTURE), cache_dir=tmp_path))
    data = await loader.load()
    assert len(data.table) == 8
    assert data.provenance.source == str(FIXTURE)
    assert data.provenance.fetched_at == FIXTURE.stat().st_mtime
    assert data.provenance.stale is False


@pytest.mark.anyio
async def test_local_file_url(tmp_path: Path) -> None:
    loader = CricLoader(Settings(cric_url=FIXTURE.as_uri(), cache_dir=tmp_path))
    assert len((await loader.load()).table) == 8


@pytest.mark.anyio
async def test_local_file_missing(tmp_path: Path) -> None:
    loader = CricLoader(Settings(cric_url=str(tmp_path / "absent.json"), cache_dir=tmp_path))
    with pytest.raises(CricUnavailableError) as raised:
        await loader.load()
    assert "absent.json" in str(raised.value)
    assert "/cvmfs/atlas.cern.ch/repo/sw/local/etc/cric_pandaqueues.json" in str(raised.value)


@pytest.mark.anyio
@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '{"error": "no access"}'])
async def test_local_file_invalid(tmp_path: Path, body: str) -> None:
    path = tmp_path / "cric.json"
    path.write_text(body, encoding="utf-8")
    loader = CricLoader(Settings(cric_url=str(path), cache_dir=tmp_path))
    with pytest.raises(CricUnavailableError) as raised:
        await loader.load()
    assert str(path) in str(raised.value)


@pytest.mark.anyio
async def test_local_file_reloaded_after_change(tmp_path: Path) -> None:
    path = tmp_path / "cric.json"
    shutil.copy(FIXTURE, path)
    loader = CricLoader(Settings(cric_url=str(path), cache_dir=tmp_path))
    first = await loader.load()
    again = await loader.load()
    assert again.table is first.table

    document = json.loads(path.read_text(encoding="utf-8"))
    del document["TRIAL_CLOUD"]
    path.write_text(json.dumps(document), encoding="utf-8")
    os.utime(path, (first.provenance.fetched_at + 10, first.provenance.fetched_at + 10))
    assert len((await loader.load()).table) == 7


# --- CRIC over HTTP ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_remote_fetched_once_within_ttl(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    loader = CricLoader(remote_settings(fake_http, tmp_path))
    first = await loader.load()
    second = await loader.load()
    assert len(first.table) == 8
    assert second.table is first.table
    assert len(fake_http.requests_to(CRIC_PATH)) == 1
    assert first.provenance.source.endswith(f"{CRIC_PATH}?json")
    assert first.provenance.stale is False


@pytest.mark.anyio
async def test_remote_html_without_cache(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    fake_http.add_fault(CRIC_PATH, Fault(kind="html"))
    loader = CricLoader(remote_settings(fake_http, tmp_path))
    with pytest.raises(CricUnavailableError) as raised:
        await loader.load()
    message = str(raised.value)
    assert "HTML page" in message
    assert "No cached copy" in message
    assert "ASKPANDA_CRIC_URL" in message


@pytest.mark.anyio
async def test_remote_timeout_without_cache(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    fake_http.add_fault(CRIC_PATH, Fault(kind="delay", seconds=2.0))
    loader = CricLoader(remote_settings(fake_http, tmp_path))
    with anyio.fail_after(10):
        with pytest.raises(CricUnavailableError) as raised:
            await loader.load()
    assert "timed out" in str(raised.value) or "did not answer" in str(raised.value)


@pytest.mark.anyio
async def test_remote_down_serves_stale_copy(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    await CricLoader(remote_settings(fake_http, tmp_path), background_refresh=False).load()

    fake_http.add_fault(CRIC_PATH, Fault(kind="status", status=503), times=5)
    expired = CricLoader(remote_settings(fake_http, tmp_path, cric_ttl_seconds=0), background_refresh=False)
    data = await expired.load()
    assert len(data.table) == 8
    assert data.provenance.stale is True
    assert "503" in (data.provenance.stale_reason or "")
    assert data.provenance.age_seconds >= 0


@pytest.mark.anyio
async def test_remote_bad_shape_keeps_copy(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    await CricLoader(remote_settings(fake_http, tmp_path), background_refresh=False).load()

    fake_http.route(CRIC_PATH, [{"not": "a queue map"}])
    expired = CricLoader(remote_settings(fake_http, tmp_path, cric_ttl_seconds=0), background_refresh=False)
    data = await expired.load()
    assert len(data.table) == 8
    assert data.provenance.stale is True
    assert "expected a JSON object keyed by queue name" in (data.provenance.stale_reason or "")


@pytest.mark.anyio
async def test_background_refresh_failure_reported(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    await CricLoader(remote_settings(fake_http, tmp_path)).load()

    fake_http.add_fault(CRIC_PATH, Fault(kind="status", status=503), times=5)
    loader = CricLoader(remote_settings(fake_http, tmp_path, cric_ttl_seconds=0))
    first = await loader.load()
    assert first.provenance.stale is True
    # The refresh may already have failed while the cached copy was being parsed; both reasons are right.
    assert (first.provenance.stale_reason or "").startswith("refresh in progress")

    await wait_for_refresh(loader)
    second = await loader.load()
    assert second.provenance.stale is True
    assert "previous refresh failed" in (second.provenance.stale_reason or "")
    assert "503" in (second.provenance.stale_reason or "")
    await wait_for_refresh(loader)


@pytest.mark.anyio
async def test_background_refresh_success(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    await CricLoader(remote_settings(fake_http, tmp_path)).load()

    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    del document["TRIAL_CLOUD"]
    fake_http.route(CRIC_PATH, document)
    # The stale copy is read from the cached file; a refresh that lands first would replace it, so it waits.
    fake_http.add_fault(CRIC_PATH, Fault(kind="delay", seconds=1.0))
    loader = CricLoader(remote_settings(fake_http, tmp_path, cric_ttl_seconds=0, read_timeout=3.0))
    assert len((await loader.load()).table) == 8

    await wait_for_refresh(loader)
    refreshed = CricLoader(remote_settings(fake_http, tmp_path, cric_ttl_seconds=600))
    data = await refreshed.load()
    assert len(data.table) == 7
    assert data.provenance.stale is False


@pytest.mark.anyio
async def test_damaged_cache_copy_fetched_again(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    settings = remote_settings(fake_http, tmp_path)
    await CricLoader(settings, background_refresh=False).load()
    for body in (tmp_path / "cache").glob("*/*"):
        if not body.name.endswith(".meta.json"):
            body.write_text("{broken", encoding="utf-8")

    loader = CricLoader(settings, background_refresh=False)
    with pytest.raises(CricUnavailableError) as raised:
        await loader.load()
    assert "cached copy" in str(raised.value)
    assert len((await loader.load()).table) == 8
    assert len(fake_http.requests_to(CRIC_PATH)) == 2


# --- a short wait for CRIC when a cached copy exists (terminal commands) ------------------------------


@pytest.mark.anyio
async def test_hanging_cric_serves_cached_copy_after_wait(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    slow = {"read_timeout": 30.0, "request_deadline": 60.0}
    await CricLoader(remote_settings(fake_http, tmp_path, **slow), background_refresh=False).load()

    fake_http.add_fault(CRIC_PATH, Fault(kind="delay", seconds=30.0), times=5)
    loader = CricLoader(
        remote_settings(fake_http, tmp_path, cric_ttl_seconds=0, **slow),
        background_refresh=False,
        refresh_wait=0.5,
    )
    started = time.monotonic()
    with anyio.fail_after(10):
        data = await loader.load()
    assert time.monotonic() - started < 5
    assert len(data.table) == 8
    assert data.provenance.stale is True
    assert data.provenance.stale_reason == "CRIC did not answer within 0.5 s, so the cached copy is served"


@pytest.mark.anyio
async def test_quick_refresh_within_wait_is_fresh(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    await CricLoader(remote_settings(fake_http, tmp_path), background_refresh=False).load()

    loader = CricLoader(
        remote_settings(fake_http, tmp_path, cric_ttl_seconds=0), background_refresh=False, refresh_wait=5.0
    )
    data = await loader.load()
    assert data.provenance.stale is False
    assert len(fake_http.requests_to(CRIC_PATH)) == 2


@pytest.mark.anyio
async def test_hanging_cric_without_cache_names_timeout(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    serve_fixture(fake_http)
    fake_http.add_fault(CRIC_PATH, Fault(kind="delay", seconds=30.0), times=5)
    loader = CricLoader(
        remote_settings(fake_http, tmp_path, read_timeout=0.3, request_deadline=1.0, max_retries=3),
        background_refresh=False,
        refresh_wait=0.2,
    )
    with anyio.fail_after(10):
        with pytest.raises(CricUnavailableError) as raised:
            await loader.load()
    message = str(raised.value)
    assert "did not respond within 1 s (last error: ReadTimeout)" in message
    assert "(last error: )" not in message
    assert "No cached copy exists yet" in message
    assert message.count(f"{CRIC_PATH}?json") == 1


# --- a local file that disappears or breaks ----------------------------------------------------------


@pytest.mark.anyio
async def test_deleted_file_serves_last_copy(tmp_path: Path) -> None:
    path = tmp_path / "cric.json"
    shutil.copy(FIXTURE, path)
    loader = CricLoader(Settings(cric_url=str(path), cache_dir=tmp_path / "cache"))
    fresh = await loader.load()

    path.unlink()
    stale = await loader.load()
    assert stale.table is fresh.table
    assert stale.provenance.stale is True
    assert stale.provenance.fetched_at == fresh.provenance.fetched_at
    assert "cannot be read: No such file or directory" in (stale.provenance.stale_reason or "")
    assert "The copy loaded before is served" in (stale.provenance.stale_reason or "")

    shutil.copy(FIXTURE, path)
    again = await loader.load()
    assert again.provenance.stale is False


@pytest.mark.anyio
async def test_broken_file_serves_last_copy(tmp_path: Path) -> None:
    path = tmp_path / "cric.json"
    shutil.copy(FIXTURE, path)
    loader = CricLoader(Settings(cric_url=str(path), cache_dir=tmp_path / "cache"))
    await loader.load()

    path.write_text("{half a docu", encoding="utf-8")
    data = await loader.load()
    assert len(data.table) == 8
    assert data.provenance.stale is True
    assert "is not valid JSON" in (data.provenance.stale_reason or "")


# --- ASKPANDA_CRIC_URL values ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["", "   "])
def test_empty_url_means_default(tmp_path: Path, url: str) -> None:
    loader = CricLoader(Settings(cric_url=url, cache_dir=tmp_path))
    assert loader.source == DEFAULT_CRIC_URL


@pytest.mark.anyio
@pytest.mark.parametrize("url", ["ftp://cric.example.org/cric.json", "s3://bucket/cric.json"])
async def test_unsupported_scheme_rejected(tmp_path: Path, url: str) -> None:
    loader = CricLoader(Settings(cric_url=url, cache_dir=tmp_path))
    with pytest.raises(CricUnavailableError) as raised:
        await loader.load()
    message = str(raised.value)
    assert f"{url!r} uses the unsupported scheme" in message
    assert "http(s) URL" in message

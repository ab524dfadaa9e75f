"""The BigPanDA client against the loopback fake monitor, and the optional CRIC queue lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from servers.logs.bigpanda import BigPandaClient, JobNotFoundError, LogsUnavailableError
from servers.logs.queueinfo import QueueDirectory, QueueInfo
from shared.config import Settings
from shared.exceptions import UpstreamUnavailableError
from tests.fake_bigpanda import FakeBigPanda
from tests.fakeserver import FakeHTTPServer, FakeResponse, Fault
from tests.logs_support import LOG_FIXTURES

pytestmark = pytest.mark.anyio


@pytest.fixture
def bigpanda(fake_http: FakeHTTPServer) -> FakeBigPanda:
    return FakeBigPanda(fake_http)


@pytest.fixture
def client(fast_settings: Settings) -> BigPandaClient:
    return BigPandaClient(fast_settings)


async def test_job_record(bigpanda: FakeBigPanda, client: BigPandaClient) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")

    fetched = await client.get_job(pandaid)

    assert fetched.value["job"]["piloterrorcode"] == 1331
    assert fetched.stale_reason is None


async def test_unknown_pandaid_gets_html(bigpanda: FakeBigPanda, client: BigPandaClient) -> None:
    with pytest.raises(JobNotFoundError, match="HTML page instead of the record of pandaid 42"):
        await client.get_job(42)


async def test_login_page(bigpanda: FakeBigPanda, client: BigPandaClient) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")
    bigpanda.login_required = True

    with pytest.raises(JobNotFoundError, match="ASKPANDA_TOKEN"):
        await client.get_job(pandaid)


async def test_empty_job_record(
    bigpanda: FakeBigPanda, fake_http: FakeHTTPServer, client: BigPandaClient
) -> None:
    fake_http.route("/job", FakeResponse.json({"job": {}, "files": [], "dsfiles": []}))

    with pytest.raises(JobNotFoundError, match="empty job record"):
        await client.get_job(7)


async def test_record_is_cached_in_memory(
    bigpanda: FakeBigPanda, fake_http: FakeHTTPServer, client: BigPandaClient
) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")

    await client.get_job(pandaid)
    await client.get_job(pandaid)

    assert len(fake_http.requests_to("/job")) == 1


async def test_stale_record_when_bigpanda_is_down(
    bigpanda: FakeBigPanda, fake_http: FakeHTTPServer, tmp_path: Path
) -> None:
    settings = Settings(
        monitor_url=fake_http.url,
        cache_dir=tmp_path / "cache",
        job_ttl_seconds=0,
        max_retries=0,
        request_deadline=5.0,
    )
    client = BigPandaClient(settings)
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")
    await client.get_job(pandaid)
    fake_http.add_fault("/job", Fault("status", status=503), times=3)

    fetched = await client.get_job(pandaid)

    assert fetched.value["job"]["pandaid"] == pandaid
    assert "503" in fetched.stale_reason


async def test_down_without_cache_raises(
    bigpanda: FakeBigPanda, fake_http: FakeHTTPServer, tmp_path: Path
) -> None:
    settings = Settings(
        monitor_url=fake_http.url, cache_dir=tmp_path / "cache", max_retries=0, request_deadline=5.0
    )
    fake_http.add_fault("/job", Fault("status", status=503))

    with pytest.raises(UpstreamUnavailableError):
        await BigPandaClient(settings).get_job(5)


async def test_file_list(bigpanda: FakeBigPanda, client: BigPandaClient) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "transform-conditions-fatal")

    listing = (await client.list_files(pandaid)).value

    assert {entry["name"] for entry in listing} == {
        "pilotlog.txt",
        "payload.stdout",
        "payload.stderr",
        "jobReport.json",
    }
    assert all(entry["size"] > 0 for entry in listing)


async def test_file_list_of_unknown_job(bigpanda: FakeBigPanda, client: BigPandaClient) -> None:
    with pytest.raises(LogsUnavailableError, match="HTTP 400"):
        await client.list_files(99)


async def test_tarball_too_large(bigpanda: FakeBigPanda, client: BigPandaClient) -> None:
    record = {"job": {"pandaid": 5, "jeditaskid": 77}, "files": [], "dsfiles": []}
    bigpanda.add_job(record, {"pilotlog.txt": b"x\n"}, tarball_size=600 * 1024 * 1024)

    with pytest.raises(LogsUnavailableError, match="rucio get"):
        await client.list_files(5)


async def test_file_download_follows_the_redirect(
    bigpanda: FakeBigPanda, fake_http: FakeHTTPServer, client: BigPandaClient
) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")

    entry = await client.fetch_file(pandaid, "pilotlog.txt")

    assert entry.path.read_bytes() == (LOG_FIXTURES / "stagein-file-missing" / "pilotlog.txt").read_bytes()
    assert fake_http.requests_to(FakeBigPanda.media_path(pandaid, "pilotlog.txt"))


async def test_file_not_in_tarball(bigpanda: FakeBigPanda, client: BigPandaClient) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")

    with pytest.raises(LogsUnavailableError, match="not in the log tarball"):
        await client.fetch_file(pandaid, "payload.stdout")


async def test_downloaded_file_is_cached_on_disk(
    bigpanda: FakeBigPanda, fake_http: FakeHTTPServer, client: BigPandaClient
) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")

    await client.fetch_file(pandaid, "pilotlog.txt")
    await client.fetch_file(pandaid, "pilotlog.txt")

    assert len(fake_http.requests_to(FakeBigPanda.media_path(pandaid, "pilotlog.txt"))) == 1


async def test_queue_info_from_cric_file(tmp_path: Path) -> None:
    dump = tmp_path / "cric_pandaqueues.json"
    dump.write_text('{"IN2P3-CC": {"atlas_site": "IN2P3-CC", "maxrss": 16000}, "BROKEN": [1, 2]}')
    directory = QueueDirectory(Settings(cric_url=str(dump), cache_dir=tmp_path / "cache"))

    info = await directory.lookup("IN2P3-CC")

    assert info == QueueInfo(site="IN2P3-CC", maxrss_mb=16000)
    assert await directory.lookup("BROKEN") is None
    assert await directory.lookup("NO_SUCH_QUEUE") is None


async def test_queue_info_from_cric_url(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    fake_http.route("/cric.json", {"TRIUMF": {"rc_site": "TRIUMF-LCG2", "maxrss": 2000}})
    settings = Settings(cric_url=f"{fake_http.url}/cric.json", cache_dir=tmp_path / "cache", max_retries=0)

    info = await QueueDirectory(settings).lookup("TRIUMF")

    assert info == QueueInfo(site="TRIUMF-LCG2", maxrss_mb=2000)


async def test_unreachable_cric_is_remembered(fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    settings = Settings(cric_url=f"{fake_http.url}/missing.json", cache_dir=tmp_path / "cache", max_retries=0)
    directory = QueueDirectory(settings)

    assert await directory.lookup("TRIUMF") is None
    assert await directory.lookup("TRIUMF") is None

    assert len(fake_http.requests_to("/missing.json")) == 1

"""HttpClient against the loopback fake: retries, Retry-After, HTML pages, caps, truncation, resets, allow-list."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import stamina

from shared.config import Settings
from shared.exceptions import (
    HostNotAllowedError,
    HtmlInsteadOfJsonError,
    NotFoundError,
    ResponseTooLargeError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from shared.http import HttpClient, parse_retry_after, redact_url
from tests.fakeserver import Fault, FakeHTTPServer, FakeResponse

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _no_backoff_waits() -> None:
    # stamina's testing mode keeps the retry count but drops the sleeps, so fault tests stay fast.
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


async def test_get_json_returns_document(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/job", {"job": {"pandaid": 1}})
    async with HttpClient(fast_settings) as client:
        payload = await client.get_json(f"{fake_http.url}/job", params={"pandaid": 1, "json": ""})
    assert payload == {"job": {"pandaid": 1}}
    request = fake_http.requests_to("/job")[0]
    assert request.query["pandaid"] == ["1"]
    assert request.headers["user-agent"].startswith("askpanda-mcp/")
    assert request.headers["accept"] == "application/json"


async def test_503_then_success_is_retried(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/job", {"ok": True})
    fake_http.add_fault("/job", Fault("status", status=503, retry_after="0"), times=2)
    async with HttpClient(fast_settings) as client:
        assert await client.get_json(f"{fake_http.url}/job") == {"ok": True}
    assert len(fake_http.requests_to("/job")) == 3


async def test_503_every_time_gives_unavailable(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/job", {"ok": True})
    fake_http.add_fault("/job", Fault("status", status=503), times=10)
    async with HttpClient(fast_settings) as client:
        with pytest.raises(UpstreamUnavailableError, match="503 on every one of 3 tries"):
            await client.get_json(f"{fake_http.url}/job")


async def test_500_is_not_retried(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/job", {"ok": True})
    fake_http.add_fault("/job", Fault("status", status=500))
    async with HttpClient(fast_settings) as client:
        with pytest.raises(UpstreamUnavailableError, match="500"):
            await client.get_json(f"{fake_http.url}/job")
    assert len(fake_http.requests_to("/job")) == 1


async def test_html_login_page_is_named(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/job", {"ok": True})
    fake_http.add_fault("/job", Fault("html"))
    async with HttpClient(fast_settings) as client:
        with pytest.raises(HtmlInsteadOfJsonError) as caught:
            await client.get_json(f"{fake_http.url}/job")
    assert "ASKPANDA_TOKEN" in str(caught.value)
    assert "HTML page" in str(caught.value)


async def test_truncated_body_is_retried(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/job", {"job": {"pandaid": 1, "pad": "x" * 1000}})
    fake_http.add_fault("/job", Fault("truncate"))
    async with HttpClient(fast_settings) as client:
        payload = await client.get_json(f"{fake_http.url}/job")
    assert payload["job"]["pandaid"] == 1
    assert len(fake_http.requests_to("/job")) == 2


async def test_connection_reset_is_retried(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/job", {"ok": True})
    fake_http.add_fault("/job", Fault("reset"))
    async with HttpClient(fast_settings) as client:
        assert await client.get_json(f"{fake_http.url}/job") == {"ok": True}


async def test_read_timeout_gives_timeout_error(tmp_path: Path, fake_http: FakeHTTPServer) -> None:
    settings = Settings(monitor_url=fake_http.url, read_timeout=0.3, request_deadline=20, max_retries=1)
    fake_http.route("/job", {"ok": True})
    fake_http.add_fault("/job", Fault("delay", seconds=1.0), times=5)
    async with HttpClient(settings) as client:
        with pytest.raises(UpstreamTimeoutError, match="timed out"):
            await client.get_json(f"{fake_http.url}/job")


async def test_slow_drip_stops_at_deadline(fake_http: FakeHTTPServer) -> None:
    settings = Settings(monitor_url=fake_http.url, read_timeout=5, request_deadline=1.5, max_retries=0)
    fake_http.route("/job", {"payload": "y" * 200})
    fake_http.add_fault("/job", Fault("drip", seconds=0.2))
    started = time.monotonic()
    async with HttpClient(settings) as client:
        with pytest.raises(UpstreamTimeoutError, match="within 2 s"):
            await client.get_json(f"{fake_http.url}/job")
    assert time.monotonic() - started < 5


async def test_body_over_cap_is_rejected(fake_http: FakeHTTPServer) -> None:
    settings = Settings(monitor_url=fake_http.url, max_response_mb=1)
    fake_http.route("/big", {"ok": True})
    fake_http.add_fault("/big", Fault("big", size=3 * 1024 * 1024))
    async with HttpClient(settings) as client:
        with pytest.raises(ResponseTooLargeError, match="larger than 1 MB"):
            await client.get_json(f"{fake_http.url}/big")


async def test_404_gives_not_found(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    async with HttpClient(fast_settings) as client:
        with pytest.raises(NotFoundError):
            await client.get_json(f"{fake_http.url}/missing")


async def test_other_host_is_not_fetched(fast_settings: Settings) -> None:
    async with HttpClient(fast_settings) as client:
        with pytest.raises(HostNotAllowedError, match="example.org"):
            await client.get_json("https://example.org/job")
        with pytest.raises(HostNotAllowedError, match="only http and https"):
            await client.get_json("file:///etc/passwd")


async def test_redirect_to_other_host_is_not_followed(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/jump", FakeResponse.redirect("https://example.org/raw"))
    async with HttpClient(fast_settings) as client:
        with pytest.raises(HostNotAllowedError):
            await client.get_bytes(f"{fake_http.url}/jump")


async def test_redirect_on_same_host_is_followed(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/jump", FakeResponse.redirect("/media/raw.txt"))
    fake_http.route("/media/raw.txt", b"log line\n")
    async with HttpClient(fast_settings) as client:
        assert await client.get_bytes(f"{fake_http.url}/jump") == b"log line\n"


async def test_token_goes_to_monitor_only(tmp_path: Path, fake_http: FakeHTTPServer) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("secret-token-value\n")
    settings = Settings(monitor_url=fake_http.url, token_file=token_file, origin="atlas")
    fake_http.route("/job", {"ok": True})
    async with HttpClient(settings) as client:
        await client.get_json(f"{fake_http.url}/job")
    headers = fake_http.requests_to("/job")[0].headers
    assert headers["authorization"] == "Bearer secret-token-value"
    assert headers["origin"] == "atlas"


async def test_token_absent_from_errors(fake_http: FakeHTTPServer) -> None:
    settings = Settings(monitor_url=fake_http.url, token="secret-token-value", max_retries=0)
    fake_http.route("/job", FakeResponse.json({"error": "denied"}, status=403))
    async with HttpClient(settings) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.get_json(f"{fake_http.url}/job")
    assert "secret-token-value" not in str(caught.value)
    assert "403" in str(caught.value)


async def test_download_is_atomic(fast_settings: Settings, fake_http: FakeHTTPServer, tmp_path: Path) -> None:
    fake_http.route("/log", b"a" * 5000)
    fake_http.add_fault("/log", Fault("reset"), times=5)
    dest = tmp_path / "out" / "pilotlog.txt"
    async with HttpClient(fast_settings) as client:
        with pytest.raises(UpstreamUnavailableError):
            await client.download(f"{fake_http.url}/log", dest)
        assert not dest.exists()
        assert list(dest.parent.iterdir()) == []
        fake_http.clear_faults()
        result = await client.download(f"{fake_http.url}/log", dest)
    assert result.size == 5000
    assert dest.read_bytes() == b"a" * 5000


def test_retry_after_parsing() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("9999") == 60.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=0.0) == 10.0


def test_redact_url_drops_credentials() -> None:
    assert redact_url("https://user:pw@host.example:8443/x?y=1") == "https://host.example:8443/x?y=1"

"""The logs and sites servers while the loopback BigPanDA and CRIC misbehave, through an in-memory MCP client.

Each case injects one fault (a timeout, 500, 503 with Retry-After, an HTML login page, truncated JSON, a
connection reset, a one-byte-a-second drip, a 50 MB body) and states what the caller must get: a retry that
succeeds, an error that names what happened, or a stale cached copy with its age. After every case no asyncio
task and no connection to the fake outlives the session.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.server.mcpserver import MCPServer

from servers.logs.server import build_server as build_logs_server
from servers.sites.server import build_server as build_sites_server
from shared.config import get_settings
from tests.e2e_support import (
    CRIC_PATH,
    DOCS_SITE,
    FakeServices,
    build_in_memory,
    check_structured_result,
    check_tool_error,
    client_connections,
    fake_services,
)
from tests.fake_bigpanda import FakeBigPanda
from tests.fakeserver import FakeResponse, Fault

pytestmark = pytest.mark.anyio

LEAK_GRACE_SECONDS = 8.0
"""Time allowed after a session for background refreshes to end, longer than any deadline used here."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServices]:
    # One fake for the module: stopping a FakeHTTPServer waits up to half a second for its poll loop.
    with fake_services(tmp_path_factory.mktemp("faults")) as started:
        yield started


@pytest.fixture
def services(world: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeServices:
    """The module's fakes with no faults and no recorded requests, and a fresh cache for this test."""
    world.http.clear_faults()
    world.http.requests.clear()
    for name, value in world.env(
        ASKPANDA_CACHE_DIR=str(tmp_path / "cache"),
        ASKPANDA_CONNECT_TIMEOUT="1",
        ASKPANDA_READ_TIMEOUT="0.5",
        ASKPANDA_REQUEST_DEADLINE="3",
        ASKPANDA_MAX_RETRIES="1",
        ASKPANDA_MAX_RESPONSE_MB="5",
        ASKPANDA_JOB_TTL_SECONDS="0",
    ).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return world


def configure(monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
    """Override settings (names without the ASKPANDA_ prefix) for the server built next."""
    for name, value in settings.items():
        monkeypatch.setenv(f"ASKPANDA_{name.upper()}", value)
    get_settings.cache_clear()


@dataclass
class Session:
    """An in-memory client with the listed tools, and the asyncio tasks that ran before it started."""

    client: Client
    tools: dict[str, Any]
    baseline_tasks: int
    port: int
    elapsed: list[float] = field(default_factory=list)

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        started = time.perf_counter()
        result = await self.client.call_tool(tool, arguments)
        self.elapsed.append(time.perf_counter() - started)
        return result


@asynccontextmanager
async def session(build: Callable[[], MCPServer], port: int, mode: str = "legacy") -> AsyncIterator[Session]:
    """Open a client on a fresh server, and on exit assert that no task or connection to the fake outlives it."""
    baseline = len(asyncio.all_tasks())
    async with Client(build(), mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        opened = Session(client, tools, baseline, port)
        yield opened
    await assert_no_leaks(baseline, port)


async def assert_no_leaks(baseline_tasks: int, port: int) -> None:
    """Wait for background work to end, then assert the task count is back to `baseline_tasks` and no connection is open."""
    deadline = time.monotonic() + LEAK_GRACE_SECONDS
    while time.monotonic() < deadline:
        if len(asyncio.all_tasks()) <= baseline_tasks and client_connections(port) == 0:
            break
        await anyio.sleep(0.05)
    leftover = [task.get_coro() for task in asyncio.all_tasks()][baseline_tasks:]
    assert len(asyncio.all_tasks()) <= baseline_tasks, f"tasks left running: {leftover}"
    assert client_connections(port) == 0, "connections to the fake server left open"


@dataclass(frozen=True)
class FaultCase:
    """One fault on the fake, how many requests get it, and what the tool call must return."""

    name: str
    fault: Fault
    times: int
    succeeds: bool
    requests: int
    mentions: tuple[str, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    min_seconds: float = 0.0


FAULT_CASES = [
    FaultCase("timeout-then-ok", Fault("delay", seconds=1.5), 1, succeeds=True, requests=2),
    FaultCase(
        "timeout-every-try",
        Fault("delay", seconds=1.5),
        2,
        succeeds=False,
        requests=2,
        mentions=("timed out",),
    ),
    FaultCase("http-500", Fault("status", status=500), 1, succeeds=False, requests=1, mentions=("HTTP 500",)),
    FaultCase(
        "http-503-retry-after-then-ok",
        Fault("status", status=503, retry_after="1"),
        1,
        succeeds=True,
        requests=2,
        min_seconds=0.9,
    ),
    FaultCase(
        "http-503-every-try",
        Fault("status", status=503, retry_after="1"),
        2,
        succeeds=False,
        requests=2,
        mentions=("503", "2 tries"),
    ),
    FaultCase("html-login-page", Fault("html"), 1, succeeds=False, requests=1, mentions=("HTML",)),
    FaultCase("truncated-then-ok", Fault("truncate"), 1, succeeds=True, requests=2),
    FaultCase(
        "truncated-every-try",
        Fault("truncate"),
        2,
        succeeds=False,
        requests=2,
        mentions=("complete response",),
    ),
    FaultCase("reset-then-ok", Fault("reset"), 1, succeeds=True, requests=2),
    FaultCase(
        "reset-every-try", Fault("reset"), 2, succeeds=False, requests=2, mentions=("complete response",)
    ),
    FaultCase(
        "drip-one-byte-a-second",
        Fault("drip", seconds=1.0),
        2,
        succeeds=False,
        requests=1,
        mentions=("within 3 s",),
        settings=(("read_timeout", "2"),),
        min_seconds=2.9,
    ),
    FaultCase(
        "body-50-mb",
        Fault("big", size=50 * 1024 * 1024),
        1,
        succeeds=False,
        requests=1,
        mentions=("larger than 5 MB",),
    ),
]


@dataclass(frozen=True)
class Target:
    """A server, the tool called, its arguments, the fake path that gets the fault, and its error context."""

    server: str
    build: Callable[[], MCPServer]
    tool: str
    path: str
    context: tuple[str, ...]

    def arguments(self, services: FakeServices) -> dict[str, Any]:
        if self.server == "logs":
            return {"pandaid": services.pandaid}
        return {"name": "EXAMPLE-T1", "fields": ["maxrss"]}


TARGETS = [
    Target("logs", build_logs_server, "get_job_status", "/job", ("pandaid",)),
    Target("sites", build_sites_server, "get_queue", CRIC_PATH, ("CRIC", "No cached copy")),
]


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.server)
@pytest.mark.parametrize("case", FAULT_CASES, ids=lambda case: case.name)
async def test_fault_gives_retry_or_clear_error(
    services: FakeServices, monkeypatch: pytest.MonkeyPatch, target: Target, case: FaultCase
) -> None:
    configure(monkeypatch, **dict(case.settings))
    services.http.add_fault(target.path, case.fault, times=case.times)

    async with session(target.build, services.http.port) as opened:
        result = await opened.call(target.tool, target.arguments(services))

        if case.succeeds:
            check_structured_result(opened.tools[target.tool], result)
        else:
            check_tool_error(target.tool, result, case.mentions + target.context)
    assert len(services.http.requests_to(target.path)) == case.requests
    assert opened.elapsed[0] >= case.min_seconds
    # One request with all its retries ends at the 3 s deadline, and a second request (CRIC for the queue) may follow.
    assert opened.elapsed[0] < 2 * 3.0 + 2.0


async def test_logs_stale_job_record_has_age(services: FakeServices) -> None:
    async with session(build_logs_server, services.http.port) as opened:
        fresh = await opened.call("get_job_status", {"pandaid": services.pandaid})
        services.http.add_fault("/job", Fault("status", status=500), times=5)
        stale = await opened.call("get_job_status", {"pandaid": services.pandaid})

    check_structured_result(opened.tools["get_job_status"], fresh)
    check_structured_result(opened.tools["get_job_status"], stale)
    notes = " ".join(stale.structured_content["notes"])
    assert "HTTP 500" in notes
    assert "cached copy" in notes and " h old" in notes
    assert stale.structured_content["primary_error"] == fresh.structured_content["primary_error"]


async def test_sites_stale_cric_copy_has_age(services: FakeServices, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, cric_ttl_seconds="0")
    arguments = {"name": "EXAMPLE-T1", "fields": ["maxrss"]}

    async with session(build_sites_server, services.http.port) as opened:
        fresh = await opened.call("get_queue", arguments)
        services.http.add_fault(CRIC_PATH, Fault("status", status=500), times=10)
        during = await opened.call("get_queue", arguments)
        await wait_for_requests(services, CRIC_PATH, 2)
        await anyio.sleep(0.2)
        after = await opened.call("get_queue", arguments)

    assert fresh.structured_content["data"]["stale"] is False
    assert during.structured_content["data"]["stale"] is True
    assert after.structured_content["data"]["stale"] is True
    assert "HTTP 500" in after.structured_content["data"]["stale_reason"]
    assert after.structured_content["data"]["age_seconds"] >= 0
    assert after.structured_content["values"] == fresh.structured_content["values"]


async def wait_for_requests(services: FakeServices, path: str, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(services.http.requests_to(path)) < count and time.monotonic() < deadline:
        await anyio.sleep(0.05)
    assert len(services.http.requests_to(path)) >= count


@pytest.mark.parametrize(
    ("fault", "status", "note"),
    [
        (Fault("reset"), "missing", "complete response"),
        (Fault("big", size=50 * 1024 * 1024), "missing", "larger than 5 MB"),
        (Fault("html"), "unreadable", "HTML"),
    ],
    ids=["reset", "body-50-mb", "html-login-page"],
)
async def test_log_download_fault_is_reported_in_files(
    services: FakeServices, fault: Fault, status: str, note: str
) -> None:
    media = FakeBigPanda.media_path(services.pandaid, "pilotlog.txt")
    services.http.add_fault(media, fault, times=2)

    async with session(build_logs_server, services.http.port) as opened:
        result = await opened.call("analyze_job_failure", {"pandaid": services.pandaid})

    check_structured_result(opened.tools["analyze_job_failure"], result)
    report = result.structured_content
    assert report["primary_error"]["code"] == 1331, (
        "the job record's error must survive a failed log download"
    )
    files = {entry["name"]: entry for entry in report["files"]}
    assert files["pilotlog.txt"]["status"] == status
    assert note in files["pilotlog.txt"]["note"]


async def test_log_list_failure_is_noted(services: FakeServices) -> None:
    services.http.add_fault("/filebrowser/", Fault("status", status=500), times=1)

    async with session(build_logs_server, services.http.port) as opened:
        result = await opened.call("analyze_job_failure", {"pandaid": services.pandaid})

    check_structured_result(opened.tools["analyze_job_failure"], result)
    report = result.structured_content
    assert report["primary_error"]["code"] == 1331
    assert any("HTTP 500" in note for note in report["notes"]), report["notes"]


async def test_logs_without_cric_still_report(services: FakeServices) -> None:
    services.http.add_fault(CRIC_PATH, Fault("status", status=500), times=5)

    async with session(build_logs_server, services.http.port) as opened:
        result = await opened.call("get_job_status", {"pandaid": services.pandaid})

    check_structured_result(opened.tools["get_job_status"], result)
    assert result.structured_content["job"]["site"] is None


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_unreachable_services_fail_fast(
    services: FakeServices, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    # Port 9 on loopback refuses connections: the documented "service down" case.
    configure(
        monkeypatch,
        monitor_url="http://127.0.0.1:9",
        cric_url="http://127.0.0.1:9/api/atlas/pandaqueue/query/",
    )

    async with session(build_logs_server, services.http.port, mode) as logs:
        job = await logs.call("get_job_status", {"pandaid": services.pandaid})
    async with session(build_sites_server, services.http.port, mode) as sites:
        queue = await sites.call("get_queue", {"name": "EXAMPLE-T1"})

    check_tool_error("get_job_status", job, ("127.0.0.1:9",))
    check_tool_error("get_queue", queue, ("127.0.0.1:9", "No cached copy"))
    assert max(logs.elapsed + sites.elapsed) < 3.0 + 2.0


DOCS_ARCHIVE_PATH = "/downloads/panda-docs.tar.gz"


def docs_archive() -> bytes:
    """Return the fixture documentation site as a tar.gz archive, as a docs source URL would serve it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(DOCS_SITE, arcname="panda-docs")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fault", "times", "succeeds", "requests", "mentions"),
    [
        (Fault("status", status=500), 1, False, 1, ("HTTP 500",)),
        (Fault("status", status=503, retry_after="1"), 1, True, 2, ()),
        (Fault("reset"), 1, True, 2, ()),
        (Fault("truncate"), 2, False, 2, ("complete response",)),
        (Fault("html"), 1, False, 1, ("HTML", "login page")),
        (Fault("big", size=50 * 1024 * 1024), 1, False, 1, ("larger than 5 MB",)),
    ],
    ids=[
        "http-500",
        "http-503-retry-after-then-ok",
        "reset-then-ok",
        "truncated-every-try",
        "html-login-page",
        "body-50-mb",
    ],
)
async def test_docs_url_source_fault(
    services: FakeServices, fault: Fault, times: int, succeeds: bool, requests: int, mentions: tuple[str, ...]
) -> None:
    services.http.route(
        DOCS_ARCHIVE_PATH, FakeResponse(200, docs_archive(), {"Content-Type": "application/gzip"})
    )
    services.http.add_fault(DOCS_ARCHIVE_PATH, fault, times=times)
    built = await build_in_memory("docs")

    async with session(lambda: built, services.http.port) as opened:
        result = await opened.call(
            "index_docs", {"sources": [f"{services.http.url}{DOCS_ARCHIVE_PATH}"], "name": "downloaded-docs"}
        )
        after = await opened.call("search_docs", {"query": "how do I kill a task with pbook", "k": 3})

    if succeeds:
        check_structured_result(opened.tools["index_docs"], result)
        indexed = {source["name"]: source for source in result.structured_content["sources"]}
        assert indexed["downloaded-docs"]["documents"] > 0
    else:
        check_tool_error("index_docs", result, mentions + ("panda-docs.tar.gz",))
    check_structured_result(opened.tools["search_docs"], after)
    assert len(services.http.requests_to(DOCS_ARCHIVE_PATH)) == requests

"""Fifty concurrent tool calls per server through one in-memory MCP session, with and without a slow CRIC.

Every call must succeed with a result valid for its output schema, concurrent callers must share one download
of the same BigPanDA record or CRIC dump, and no asyncio task or connection to the fake may outlive the session.
Timings are not asserted here beyond a bound against hangs, because speed targets live in benchmarks/.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client

from shared.config import get_settings
from tests.e2e_support import (
    CRIC_PATH,
    DOCS_SITE,
    DOCS_SITE_NAME,
    LOCAL_INDEX_TOOLS,
    SAMPLE_CALLS,
    SERVERS,
    FakeServices,
    build_in_memory,
    check_structured_result,
    client_connections,
    fake_services,
    point_settings_at,
    result_text,
)
from tests.fakeserver import Fault

pytestmark = pytest.mark.anyio

CONCURRENT_CALLS = 50
OUTAGE_CALLS = 10
SEARCH = ("search_docs", {"query": "how do I kill a task with pbook", "k": 3})
HANG_GUARD_SECONDS = 120.0
"""A bound against hangs only. The calls normally finish in a few seconds."""


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServices]:
    with fake_services(tmp_path / "world") as started:
        point_settings_at(started, monkeypatch, tmp_path, ASKPANDA_REQUEST_DEADLINE="10")
        yield started


async def run_concurrently(client: Client, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Start every call at once and return the results in call order."""
    results: list[Any] = [None] * len(calls)

    async def one(index: int, tool: str, arguments: dict[str, Any]) -> None:
        results[index] = await client.call_tool(tool, arguments)

    with anyio.fail_after(HANG_GUARD_SECONDS):
        async with anyio.create_task_group() as group:
            for index, (tool, arguments) in enumerate(calls):
                group.start_soon(one, index, tool, arguments)
    return results


def mixed_calls(server: str, services: FakeServices) -> list[tuple[str, dict[str, Any]]]:
    """Return CONCURRENT_CALLS valid sample calls of `server`, cycling through its read-only tools."""
    valid = [
        call for call in SAMPLE_CALLS[server] if not call.expect_error and call.tool not in LOCAL_INDEX_TOOLS
    ]
    cycle = itertools.cycle(valid)
    return [
        (call.tool, call.resolved(services.values())) for call in itertools.islice(cycle, CONCURRENT_CALLS)
    ]


async def settle(baseline_tasks: int, port: int, timeout: float = 10.0) -> None:
    """Wait until background work has ended: the task count is back to `baseline_tasks` and no connection is open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(asyncio.all_tasks()) <= baseline_tasks and client_connections(port) == 0:
            return
        await anyio.sleep(0.05)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize("server", SERVERS)
async def test_fifty_concurrent_calls(services: FakeServices, server: str, mode: str) -> None:
    calls = mixed_calls(server, services)
    built = await build_in_memory(server)
    baseline = len(asyncio.all_tasks())

    async with Client(built, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        if server == "docs":
            # The first search opens the index. Concurrent first searches are tested on their own below.
            await client.call_tool(*SEARCH)
        results = await run_concurrently(client, calls)
    await settle(baseline, services.http.port)

    for (tool, _), result in zip(calls, results, strict=True):
        check_structured_result(tools[tool], result)
    assert len(asyncio.all_tasks()) <= baseline, "asyncio tasks outlived the session"
    assert client_connections(services.http.port) == 0, "connections to the fake left open"


async def test_concurrent_job_calls_share_one_record_download(services: FakeServices) -> None:
    calls = [("get_job_status", {"pandaid": services.pandaid})] * CONCURRENT_CALLS

    async with Client(await build_in_memory("logs"), mode="legacy") as client:
        results = await run_concurrently(client, calls)

    assert all(not result.is_error for result in results)
    assert len(services.http.requests_to("/job")) == 1


async def test_concurrent_calls_wait_for_one_slow_cric_download(services: FakeServices) -> None:
    services.http.add_fault(CRIC_PATH, Fault("delay", seconds=1.0))
    calls = [("find_queues", {"status": "online"})] * CONCURRENT_CALLS

    async with Client(await build_in_memory("sites"), mode="legacy") as client:
        results = await run_concurrently(client, calls)

    assert all(not result.is_error for result in results)
    assert {result.structured_content["total"] for result in results} == {
        results[0].structured_content["total"]
    }
    assert len(services.http.requests_to(CRIC_PATH)) == 1


@pytest.mark.parametrize(
    ("server", "tool", "arguments_of", "path"),
    [
        ("sites", "get_queue", lambda services: {"name": "EXAMPLE-T1"}, CRIC_PATH),
        ("logs", "get_job_status", lambda services: {"pandaid": services.pandaid}, "/job"),
    ],
    ids=["sites-cric", "logs-bigpanda"],
)
async def test_concurrent_calls_during_outage_fail_together(
    services: FakeServices,
    monkeypatch: pytest.MonkeyPatch,
    server: str,
    tool: str,
    arguments_of: Callable[[FakeServices], dict[str, Any]],
    path: str,
) -> None:
    # Every request times out after 0.5 s and is not retried, so one caller learns of the outage in 0.5 s.
    monkeypatch.setenv("ASKPANDA_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("ASKPANDA_MAX_RETRIES", "0")
    get_settings.cache_clear()
    services.http.add_fault(path, Fault("delay", seconds=1.0), times=OUTAGE_CALLS)
    calls = [(tool, arguments_of(services))] * OUTAGE_CALLS
    baseline = len(asyncio.all_tasks())

    started = time.perf_counter()
    async with Client(await build_in_memory(server), mode="legacy") as client:
        results = await run_concurrently(client, calls)
    elapsed = time.perf_counter() - started
    await settle(baseline, services.http.port)

    assert all(result.is_error for result in results)
    assert all("timed out" in result.content[0].text for result in results)
    assert len(asyncio.all_tasks()) <= baseline
    # Callers of one key queue behind a single download. When it fails, each waiter should get that failure
    # instead of starting its own download in turn, which makes the last of N callers wait N timeouts.
    assert elapsed < 2.0, (
        f"{OUTAGE_CALLS} callers took {elapsed:.1f} s, so the requests ran one after another"
    )


async def test_concurrent_first_searches_never_crash(services: FakeServices) -> None:
    from servers.docs.server import build_server
    from servers.docs.service import DocsService
    from tests.docs_support import HashEmbedder

    await build_in_memory("docs")
    built_index = get_settings().docs_index_dir
    crashed: list[int] = []

    # The race needs an index path this process has not opened yet, so each round reads a fresh copy.
    for round_number in range(8):
        copy = built_index.parent / f"index-copy-{round_number}"
        shutil.copytree(built_index, copy)
        service = DocsService(get_settings().model_copy(update={"docs_index_dir": copy}), HashEmbedder())
        async with Client(build_server(service), mode="legacy") as client:
            results = await run_concurrently(client, [SEARCH] * 30)
        crashed.append(
            sum(1 for result in results if result_text(result).strip() == "Error executing tool search_docs")
        )

    assert crashed == [0] * 8, f"bare errors per round: {crashed}"


async def test_concurrent_index_runs_are_refused_with_reason(services: FakeServices) -> None:
    index = ("index_docs", {"sources": [str(DOCS_SITE)], "name": DOCS_SITE_NAME})

    async with Client(await build_in_memory("docs"), mode="legacy") as client:
        await client.call_tool(*SEARCH)
        results = await run_concurrently(client, [index, index, *([SEARCH] * 20)])

    indexed, refused = [r for r in results[:2] if not r.is_error], [r for r in results[:2] if r.is_error]
    assert len(indexed) >= 1
    for result in refused:
        assert "Another indexer" in result_text(result) and "Wait for it to finish" in result_text(result)
    searches = results[2:]
    assert [result_text(r) for r in searches if r.is_error] == []

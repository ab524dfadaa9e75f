"""Each server over streamable HTTP on loopback (`askpanda-X --transport streamable-http`), driven by the SDK client.

One server process per server serves both client modes and several sessions at once, as a shared deployment
would. The calls are the same sample calls as over stdio, and BigPanDA and CRIC are loopback fakes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest
from mcp.client import Client

from tests.e2e_support import (
    CALL_TIMEOUT_SECONDS,
    MODES,
    PROMPT_ARGUMENTS,
    RESOURCE_READS,
    SAMPLE_CALLS,
    SERVERS,
    FakeServices,
    ToolCall,
    Transcript,
    check_outcome,
    check_structured_result,
    check_tool_schemas,
    config_name,
    docs_index_template,
    e2e_cache_root,
    fake_services,
    make_call,
    record_transcript,
    sample_params,
    sample_tools,
    start_http_server,
    stop_process,
    traceback_lines,
    wait_for_port,
)

pytestmark = pytest.mark.slow

CASES = [(server, mode) for server in SERVERS for mode in MODES]
CASE_IDS = [f"{server}-{mode}" for server, mode in CASES]
CONCURRENT_SESSIONS = 8


class HttpServers:
    """One streamable-HTTP process per server, and one recorded session per (server, mode) made on first use."""

    def __init__(self, services: FakeServices, folder: Path, cache_root: Path | None) -> None:
        self.services = services
        self.folder = folder
        self.cache_root = cache_root
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: dict[str, str] = {}
        self._transcripts: dict[tuple[str, str], Transcript] = {}

    def start(self) -> None:
        self.services.install_docs_index(docs_index_template(self.cache_root))
        for server in SERVERS:
            process, url = start_http_server(server, self.services.env(), self.log_path(server))
            self.processes[server], self.urls[server] = process, url
        for server in SERVERS:
            wait_for_port(self.processes[server], urlsplit(self.urls[server]).port or 0)

    def stop(self) -> None:
        for process in self.processes.values():
            stop_process(process)

    def log_path(self, server: str) -> Path:
        return self.folder / f"{server}.log"

    def log(self, server: str) -> str:
        return self.log_path(server).read_text(encoding="utf-8", errors="replace")

    def transcript(self, server: str, mode: str) -> Transcript:
        key = (server, mode)
        if key not in self._transcripts:
            self._transcripts[key] = anyio.run(self._record, server, mode)
        return self._transcripts[key]

    async def _record(self, server: str, mode: str) -> Transcript:
        transcript = Transcript(server, mode)
        async with Client(self.urls[server], mode=mode, read_timeout_seconds=CALL_TIMEOUT_SECONDS) as client:
            await record_transcript(client, transcript, self.services.values())
        return transcript


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[HttpServers]:
    with fake_services(tmp_path_factory.mktemp("e2e-http")) as services:
        started = HttpServers(
            services, tmp_path_factory.mktemp("e2e-http-logs"), e2e_cache_root(pytestconfig)
        )
        try:
            started.start()
            yield started
        finally:
            started.stop()


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_initialize_names_server(servers: HttpServers, server: str, mode: str) -> None:
    transcript = servers.transcript(server, mode)

    assert transcript.server_name == config_name(server)
    assert transcript.instructions, f"{server}: no instructions for the model"


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_listed_tools_match_sample_calls(servers: HttpServers, server: str, mode: str) -> None:
    transcript = servers.transcript(server, mode)

    assert sorted(transcript.tools) == sorted(sample_tools(server)), (
        "add sample calls for new tools to e2e_support"
    )


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_tool_schemas_are_valid(servers: HttpServers, server: str, mode: str) -> None:
    for tool in servers.transcript(server, mode).tools.values():
        check_tool_schemas(tool)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("server", "call"), sample_params("valid"), ids=lambda value: getattr(value, "label", value)
)
def test_valid_call_matches_output_schema(
    servers: HttpServers, server: str, call: ToolCall, mode: str
) -> None:
    check_outcome(servers.transcript(server, mode), call)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("server", "call"), sample_params("invalid"), ids=lambda value: getattr(value, "label", value)
)
def test_invalid_call_is_tool_error(servers: HttpServers, server: str, call: ToolCall, mode: str) -> None:
    check_outcome(servers.transcript(server, mode), call)


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_prompts_and_resources(servers: HttpServers, server: str, mode: str) -> None:
    transcript = servers.transcript(server, mode)

    for prompt in transcript.prompts:
        assert prompt.name in PROMPT_ARGUMENTS, (
            f"add sample arguments for prompt {prompt.name!r} to e2e_support"
        )
        rendered = transcript.prompt_results[prompt.name]
        assert not isinstance(rendered, str), f"{prompt.name}: {rendered}"
    assert len(RESOURCE_READS.get(server, [])) == len(transcript.templates) + len(transcript.resources)
    for uri, read in transcript.resource_results.items():
        assert not isinstance(read, str), f"{uri}: {read}"


@pytest.mark.parametrize("server", SERVERS)
def test_concurrent_sessions(servers: HttpServers, server: str) -> None:
    calls = [call for call in SAMPLE_CALLS[server] if not call.expect_error and call.tool != "search_docs"][
        :2
    ]
    if not calls:
        pytest.skip(f"{server} has no sample call")

    async def one_session(results: list[str]) -> None:
        async with Client(
            servers.urls[server], mode="legacy", read_timeout_seconds=CALL_TIMEOUT_SECONDS
        ) as client:
            listed = {tool.name: tool for tool in (await client.list_tools()).tools}
            for call in calls:
                outcome = await make_call(client, call, servers.services.values())
                assert outcome.exception is None, outcome.exception
                check_structured_result(listed[call.tool], outcome.result)
                results.append(call.tool)

    async def run_all() -> list[str]:
        results: list[str] = []
        async with anyio.create_task_group() as group:
            for _ in range(CONCURRENT_SESSIONS):
                group.start_soon(one_session, results)
        return results

    assert len(anyio.run(run_all)) == CONCURRENT_SESSIONS * len(calls)


@pytest.mark.parametrize("server", SERVERS)
def test_log_has_no_traceback(servers: HttpServers, server: str) -> None:
    for mode in MODES:
        servers.transcript(server, mode)

    assert servers.processes[server].poll() is None, f"{server} exited: {servers.log(server)[-2000:]}"
    assert traceback_lines(servers.log(server)) == []

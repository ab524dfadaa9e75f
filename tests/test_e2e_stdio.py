"""Each server started from its claude_desktop_config.json entry over stdio, driven by the MCP Python SDK client.

Every server runs once per client mode (`legacy`, the initialize handshake Claude Desktop uses, and `auto`),
and one session records everything the tests below check: the listings, a valid and an invalid call of every
tool, the prompts and resources. BigPanDA and CRIC are loopback fakes.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import stdio_client

from tests.e2e_support import (
    CALL_TIMEOUT_SECONDS,
    MODES,
    PROMPT_ARGUMENTS,
    RESOURCE_READS,
    SERVERS,
    FakeServices,
    ToolCall,
    Transcript,
    check_outcome,
    check_tool_schemas,
    config_name,
    desktop_entry,
    desktop_params,
    docs_index_template,
    e2e_cache_root,
    fake_services,
    jsonrpc_problems,
    raw_stdio_session,
    record_transcript,
    sample_params,
    sample_tools,
    stop_process,
    subprocess_env,
    traceback_lines,
    watched_transport,
)
from tests.fakeserver import Fault

pytestmark = pytest.mark.slow

CASES = [(server, mode) for server in SERVERS for mode in MODES]
CASE_IDS = [f"{server}-{mode}" for server, mode in CASES]


class StdioSessions:
    """Runs one recorded session per (server, mode) on first use and keeps it and the server's stderr."""

    def __init__(self, services: FakeServices, folder: Path, cache_root: Path | None) -> None:
        self.services = services
        self.folder = folder
        self.cache_root = cache_root
        self._transcripts: dict[tuple[str, str], Transcript] = {}

    def transcript(self, server: str, mode: str) -> Transcript:
        key = (server, mode)
        if key not in self._transcripts:
            self._transcripts[key] = anyio.run(self._record, server, mode)
        return self._transcripts[key]

    def stderr(self, server: str, mode: str) -> str:
        self.transcript(server, mode)
        return self._stderr_path(server, mode).read_text(encoding="utf-8", errors="replace")

    def _stderr_path(self, server: str, mode: str) -> Path:
        return self.folder / f"{server}-{mode}.stderr"

    async def _record(self, server: str, mode: str) -> Transcript:
        if server == "docs":
            self.services.install_docs_index(docs_index_template(self.cache_root))
        params = desktop_params(config_name(server), self.services.env())
        transcript = Transcript(server, mode)
        with self._stderr_path(server, mode).open("w", encoding="utf-8") as errlog:
            transport = watched_transport(stdio_client(params, errlog=errlog), transcript.stray_messages)
            async with Client(transport, mode=mode, read_timeout_seconds=CALL_TIMEOUT_SECONDS) as client:
                await record_transcript(client, transcript, self.services.values())
        return transcript


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServices]:
    with fake_services(tmp_path_factory.mktemp("e2e-stdio")) as started:
        yield started


@pytest.fixture(scope="module")
def sessions(
    services: FakeServices, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> StdioSessions:
    return StdioSessions(services, tmp_path_factory.mktemp("e2e-stdio-stderr"), e2e_cache_root(pytestconfig))


def test_desktop_config_names_every_server() -> None:
    for server in SERVERS:
        entry = desktop_entry(config_name(server))
        assert Path(entry["command"]).is_file(), f"{config_name(server)}: {entry['command']} does not exist"


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_initialize_names_server(sessions: StdioSessions, server: str, mode: str) -> None:
    transcript = sessions.transcript(server, mode)

    assert transcript.server_name == config_name(server)
    assert transcript.instructions, f"{server}: no instructions for the model"
    if mode == "legacy":
        assert not transcript.protocol_version.startswith("2026"), transcript.protocol_version


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_listed_tools_match_sample_calls(sessions: StdioSessions, server: str, mode: str) -> None:
    transcript = sessions.transcript(server, mode)

    assert sorted(transcript.tools) == sorted(sample_tools(server)), (
        "add sample calls for new tools to e2e_support"
    )


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_tool_schemas_are_valid(sessions: StdioSessions, server: str, mode: str) -> None:
    transcript = sessions.transcript(server, mode)

    for tool in transcript.tools.values():
        check_tool_schemas(tool)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("server", "call"), sample_params("valid"), ids=lambda value: getattr(value, "label", value)
)
def test_valid_call_matches_output_schema(
    sessions: StdioSessions, server: str, call: ToolCall, mode: str
) -> None:
    check_outcome(sessions.transcript(server, mode), call)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("server", "call"), sample_params("invalid"), ids=lambda value: getattr(value, "label", value)
)
def test_invalid_call_is_tool_error(sessions: StdioSessions, server: str, call: ToolCall, mode: str) -> None:
    check_outcome(sessions.transcript(server, mode), call)


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_prompts_render(sessions: StdioSessions, server: str, mode: str) -> None:
    transcript = sessions.transcript(server, mode)

    for prompt in transcript.prompts:
        assert prompt.name in PROMPT_ARGUMENTS, (
            f"add sample arguments for prompt {prompt.name!r} to e2e_support"
        )
        rendered = transcript.prompt_results[prompt.name]
        assert not isinstance(rendered, str), f"{prompt.name}: {rendered}"
        assert rendered.messages, f"{prompt.name}: no messages"


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_resources_read(sessions: StdioSessions, server: str, mode: str) -> None:
    transcript = sessions.transcript(server, mode)

    assert len(RESOURCE_READS.get(server, [])) == len(transcript.templates) + len(transcript.resources)
    for uri, read in transcript.resource_results.items():
        assert not isinstance(read, str), f"{uri}: {read}"
        assert read.contents and read.contents[0].text.strip(), f"{uri}: empty"


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_stdout_carries_only_jsonrpc(sessions: StdioSessions, server: str, mode: str) -> None:
    transcript = sessions.transcript(server, mode)

    assert transcript.stray_messages == []


@pytest.mark.parametrize(("server", "mode"), CASES, ids=CASE_IDS)
def test_stderr_has_no_traceback(sessions: StdioSessions, server: str, mode: str) -> None:
    assert traceback_lines(sessions.stderr(server, mode)) == []


def _initialize(request_id: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }


@pytest.mark.parametrize("server", SERVERS)
def test_raw_stdout_is_only_jsonrpc(services: FakeServices, server: str) -> None:
    entry = desktop_entry(config_name(server))
    calls = [call for name, call in sample_params("valid") if name == server][:1]
    messages: list[dict[str, Any]] = [
        _initialize(1),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "prompts/list"},
    ]
    for offset, call in enumerate(calls):
        arguments = call.resolved(services.values())
        messages.append(
            {
                "jsonrpc": "2.0",
                "id": 4 + offset,
                "method": "tools/call",
                "params": {"name": call.tool, "arguments": arguments},
            }
        )
    messages.append({"jsonrpc": "2.0", "id": 99, "method": "no/such/method"})

    session = raw_stdio_session(
        [entry["command"], *entry.get("args", [])], {**entry.get("env", {}), **services.env()}, messages
    )

    assert jsonrpc_problems(session.stdout_lines) == []
    assert set(session.replies) >= {1, 2, 3, 99}
    assert session.replies[99]["error"]["code"] == -32601
    assert session.returncode == 0, session.stderr[-2000:]


def test_ten_megabyte_argument_over_stdio(services: FakeServices) -> None:
    entry = desktop_entry(config_name("errors"))
    huge = "x" * 10_000_000
    messages: list[dict[str, Any]] = [
        _initialize(1),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "search_error_codes", "arguments": {"text": huge}},
        },
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "explain_error_code", "arguments": {"code": 1152}},
        },
    ]

    session = raw_stdio_session([entry["command"]], services.env(), messages)

    assert jsonrpc_problems(session.stdout_lines) == []
    rejected = session.replies[2]["result"]
    assert rejected["isError"] is True
    assert len(json.dumps(rejected)) < 4000, "the error echoes the 10 MB argument"
    assert session.replies[3]["result"].get("isError") is not True, "the server did not recover"


def test_invalid_calls_leave_server_usable(sessions: StdioSessions) -> None:
    # The sample calls alternate valid and invalid calls, so each invalid one is followed by a valid one.
    for server in SERVERS:
        outcomes = sessions.transcript(server, "legacy").outcomes
        following = [after for before, after in itertools.pairwise(outcomes) if before.call.expect_error]
        following = [outcome for outcome in following if not outcome.call.expect_error]
        assert following, f"{server}: no valid call follows an invalid one"
        for outcome in following:
            assert outcome.exception is None, f"{server} {outcome.call.label}: {outcome.exception}"
            assert not outcome.result.is_error, f"{server} {outcome.call.label} failed after an invalid call"


def test_server_exits_when_client_leaves_mid_call(services: FakeServices) -> None:
    # BigPanDA replies only after 30 s, and the host closing stdin meanwhile must still end the server at once.
    entry = desktop_entry(config_name("logs"))
    services.http.add_fault("/job", Fault("delay", seconds=30.0))
    process = subprocess.Popen(
        [entry["command"]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=subprocess_env({**entry.get("env", {}), **services.env(ASKPANDA_JOB_TTL_SECONDS="0")}),
    )
    assert process.stdin is not None and process.stdout is not None
    messages = [
        _initialize(1),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "get_job_status", "arguments": {"pandaid": services.pandaid + 5}},
        },
    ]
    try:
        for message in messages:
            process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
        process.stdin.flush()
        assert json.loads(process.stdout.readline())["id"] == 1
        time.sleep(1.0)
        started = time.monotonic()
        process.stdin.close()
        process.wait(timeout=10)
    finally:
        stop_process(process)
        services.http.clear_faults()

    assert time.monotonic() - started < 10
    assert process.returncode == 0

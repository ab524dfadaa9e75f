"""Helpers for end-to-end tests: servers started from claude_desktop_config.json, the loopback services they
talk to, one sample call per tool and outcome, schema checks, and raw stdio and HTTP processes.

Sample calls are listed per server in SAMPLE_CALLS. A test compares them with the server's tools/list reply,
so a tool added without a sample call fails a test instead of going untested.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import psutil
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, get_default_environment

from tests.fake_bigpanda import FakeBigPanda
from tests.fakeserver import FakeHTTPServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DESKTOP_CONFIG = PROJECT_ROOT / "claude_desktop_config.json"
PLACEHOLDER = "/ABSOLUTE/PATH/TO/askpanda-mcp"
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
LOG_CASE = FIXTURES / "logs" / "stagein-file-missing"
CRIC_FIXTURE = FIXTURES / "sites" / "cric_small.json"
DOCS_SITE = FIXTURES / "docs" / "site"
DOCS_SITE_NAME = "fixture-site"
CRIC_PATH = "/api/atlas/pandaqueue/query/"

SERVERS = ("errors", "logs", "sites", "docs")
MODES = ("legacy", "auto")
"""`legacy` is the initialize handshake that Claude Desktop uses, and `auto` probes server/discover first."""

CALL_TIMEOUT_SECONDS = 120.0
"""Upper bound on one request in the end-to-end tests, long enough for the docs model to load on the first search."""

MAX_ERROR_CHARS = 4000
"""An error text longer than this is not a message the model can act on."""

LOCAL_INDEX_TOOLS = frozenset({"index_docs"})
"""Tools that write the local docs index, so they are not read-only, but they must be marked non-destructive."""


def desktop_entry(name: str) -> dict[str, Any]:
    """Return the config entry of `name` with the path placeholder filled in, as a user would fill it.

    CI installs into `.venv` at the repository root, which is exactly the documented layout. A developer
    venv elsewhere is used when the documented path does not exist.
    """
    config = json.loads(DESKTOP_CONFIG.read_text(encoding="utf-8"))
    entry = dict(config["mcpServers"][name])
    command = entry["command"].replace(PLACEHOLDER, str(PROJECT_ROOT))
    if not Path(command).exists():
        command = str(Path(sys.executable).parent / Path(command).name)
    entry["command"] = command
    return entry


def desktop_params(name: str, env: dict[str, str]) -> StdioServerParameters:
    """Return stdio parameters for `name` from the desktop config, with `env` merged over the entry's env."""
    entry = desktop_entry(name)
    merged = {**entry.get("env", {}), **env}
    return StdioServerParameters(command=entry["command"], args=entry.get("args", []), env=merged)


def config_name(server: str) -> str:
    """Return the key of a server in claude_desktop_config.json, e.g. askpanda-logs."""
    return f"askpanda-{server}"


# --- loopback services ---------------------------------------------------------------------------------------


@dataclass
class FakeServices:
    """A loopback BigPanDA and CRIC with one failed job, plus the folders a server process is given."""

    http: FakeHTTPServer
    bigpanda: FakeBigPanda
    root: Path
    pandaid: int

    @property
    def log_root(self) -> Path:
        return self.root / "logroot"

    @property
    def log_dir(self) -> Path:
        """A folder inside the log root with the failed job's pilotlog.txt and job.json."""
        return self.log_root / "job"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def docs_index_dir(self) -> Path:
        return self.root / "docs-index"

    @property
    def cric_url(self) -> str:
        return f"{self.http.url}{CRIC_PATH}?json"

    def env(self, **overrides: str) -> dict[str, str]:
        """Return the environment of a server process: every setting points into `root` or at the fakes."""
        env = {
            "ASKPANDA_CONFIG": str(self.root / "no-config.toml"),
            "ASKPANDA_MONITOR_URL": self.http.url,
            "ASKPANDA_CRIC_URL": self.cric_url,
            "ASKPANDA_CACHE_DIR": str(self.cache_dir),
            "ASKPANDA_LOG_ROOTS": str(self.log_root),
            "ASKPANDA_DOCS_INDEX_DIR": str(self.docs_index_dir),
            "ASKPANDA_DOCS_ROOTS": str(DOCS_SITE),
            "ASKPANDA_CONNECT_TIMEOUT": "2",
            "ASKPANDA_READ_TIMEOUT": "5",
            "ASKPANDA_REQUEST_DEADLINE": "20",
            "ASKPANDA_MAX_RETRIES": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            # A stray print() to a pipe stays in the buffer until the process exits, when the client no longer
            # reads. Unbuffered, it reaches the client during the session, where the stdout check finds it.
            "PYTHONUNBUFFERED": "1",
        }
        env.update(overrides)
        return env

    def values(self) -> dict[str, Any]:
        """Return the values that Ref placeholders in the sample calls stand for."""
        return {
            "pandaid": self.pandaid,
            "pandaid_text": str(self.pandaid),
            "unknown_pandaid": self.pandaid + 1,
            "log_dir": str(self.log_dir),
            "log_file": str(self.log_dir / "pilotlog.txt"),
            "docs_site": str(DOCS_SITE),
            # A host outside the allow-list, which the server must reject before connecting anywhere.
            "foreign_docs_url": "http://localhost:9/panda-docs.tar.gz",
        }

    def install_docs_index(self, template: Path) -> None:
        """Copy a prebuilt docs index (see docs_index_template) into this world, unless one is there already."""
        if not self.docs_index_dir.exists():
            shutil.copytree(template, self.docs_index_dir)


@contextmanager
def fake_services(root: Path) -> Iterator[FakeServices]:
    """Start the loopback BigPanDA (one failed job from tests/fixtures/logs) and CRIC (tests/fixtures/sites)."""
    root.mkdir(parents=True, exist_ok=True)
    with FakeHTTPServer() as http:
        bigpanda = FakeBigPanda(http)
        pandaid = bigpanda.add_case(LOG_CASE)
        http.route(CRIC_PATH, json.loads(CRIC_FIXTURE.read_text(encoding="utf-8")))
        services = FakeServices(http, bigpanda, root, pandaid)
        services.log_dir.mkdir(parents=True, exist_ok=True)
        for name in ("pilotlog.txt", "job.json"):
            shutil.copy(LOG_CASE / name, services.log_dir / name)
        yield services


_docs_templates: dict[Path, Path] = {}


def e2e_cache_root(config: Any) -> Path | None:
    """Return this project's folder in pytest's cache (`.pytest_cache`), or None when the cache is disabled."""
    cache = getattr(config, "cache", None)
    return Path(cache.mkdir("askpanda-e2e")) if cache is not None else None


def docs_index_template(cache_root: Path | None) -> Path:
    """Return a docs index of the fixture site and the default sources, brought up to date once per test process.

    A full build embeds about 1200 chunks with the real model, most of a minute on two cores, so the index
    lives under `cache_root` (pytest's cache folder) across runs and each run embeds only what changed. Every
    end-to-end module copies it instead of letting its first search build the default index. Without a
    cache folder the index goes to a temporary folder removed at exit.
    """
    if cache_root is None:
        import tempfile

        cache_root = Path(tempfile.mkdtemp(prefix="askpanda-e2e-docs-"))
        atexit.register(shutil.rmtree, cache_root, True)
    if cache_root in _docs_templates:
        return _docs_templates[cache_root]

    folder = cache_root / "docs-index"
    command = [
        desktop_entry(config_name("docs"))["command"],
        "index",
        str(DOCS_SITE),
        "--name",
        DOCS_SITE_NAME,
    ]
    env = subprocess_env(
        {
            "ASKPANDA_CONFIG": str(cache_root / "no-config.toml"),
            "ASKPANDA_DOCS_INDEX_DIR": str(folder),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    try:
        subprocess.run(command, env=env, capture_output=True, timeout=900, check=True)
    except subprocess.CalledProcessError:
        # An index left half-written by an interrupted run: start again from nothing.
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(command, env=env, capture_output=True, timeout=900, check=True)
    _docs_templates[cache_root] = folder
    return folder


# --- sample calls --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A placeholder in sample arguments for a value known only once the services run (see FakeServices.values)."""

    name: str


@dataclass(frozen=True)
class ToolCall:
    """One call of a tool and what must come back: a result valid for the output schema, or a ToolError.

    `mentions` lists texts the error must contain, normally the bad value, so the model can see what to fix.
    """

    tool: str
    arguments: dict[str, Any]
    expect_error: bool = False
    mentions: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.tool}-{'invalid' if self.expect_error else 'valid'}"

    def resolved(self, values: dict[str, Any]) -> dict[str, Any]:
        """Return the arguments with every Ref replaced by its value."""
        return _resolve(self.arguments, values)


def _resolve(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, Ref):
        return values[value.name]
    if isinstance(value, dict):
        return {key: _resolve(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, values) for item in value]
    return value


def valid(tool: str, **arguments: Any) -> ToolCall:
    return ToolCall(tool, arguments)


def invalid(tool: str, mentions: tuple[str, ...], **arguments: Any) -> ToolCall:
    return ToolCall(tool, arguments, expect_error=True, mentions=mentions)


SAMPLE_CALLS: dict[str, list[ToolCall]] = {
    "errors": [
        valid("explain_error_code", code=1152),
        invalid("explain_error_code", ("nosuchtable",), code=1152, component="nosuchtable"),
        valid("search_error_codes", text="md5 checksum mismatch after transfer", limit=3),
        invalid("search_error_codes", ("empty",), text="   "),
        valid("list_error_codes", component="pilot"),
        invalid("list_error_codes", ("not-a-cursor",), cursor="not-a-cursor"),
        valid(
            "triage_job_errors",
            errors={"piloterrorcode": 1152, "piloterrordiag": "stage-out timed out", "jobstatus": "failed"},
        ),
        invalid("triage_job_errors", ("errors",), errors={}),
    ],
    "logs": [
        valid("analyze_job_failure", pandaid=Ref("pandaid")),
        invalid("analyze_job_failure", ("12ab",), pandaid="12ab"),
        valid("analyze_log", path=Ref("log_dir")),
        invalid("analyze_log", ("/etc/passwd", "ASKPANDA_LOG_ROOTS"), path="/etc/passwd"),
        valid("get_job_status", pandaid=Ref("pandaid_text")),
        invalid("get_job_status", ("HTML",), pandaid=Ref("unknown_pandaid")),
        valid("list_job_files", pandaid=Ref("pandaid")),
        invalid("list_job_files", ("'0'",), pandaid=0),
        valid("read_log_lines", source=Ref("pandaid_text"), filename="pilotlog.txt", count=20),
        invalid(
            "read_log_lines",
            ("nosuch.txt", "list_job_files"),
            source=Ref("pandaid_text"),
            filename="nosuch.txt",
        ),
    ],
    "sites": [
        valid("get_queue", name="example-t1", fields=["maxrss", "copytools"]),
        invalid("get_queue", ("NO_SUCH_QUEUE", "find_queues"), name="NO_SUCH_QUEUE"),
        valid("find_queues", status="online", fields=["cloud"]),
        invalid("find_queues", ("bogus", "online"), status="bogus"),
        valid("summarize_queues", group_by="cloud"),
        invalid("summarize_queues", ("nosuchfield", "describe_queue_field"), group_by="nosuchfield"),
        valid("get_site", site="EXAMPLE-T1"),
        invalid("get_site", ("NOSITE",), site="NOSITE"),
        valid("compare_queues", names=["EXAMPLE-T1", "EXAMPLE-T1_TEST"]),
        invalid("compare_queues", ("2 to 10",), names=["EXAMPLE-T1"]),
        valid("describe_queue_field", field="maxrss"),
        invalid("describe_queue_field", ("nosuchfield",), field="nosuchfield"),
    ],
    "docs": [
        valid("index_status"),
        valid("list_doc_sources"),
        invalid("list_doc_sources", ("not-a-cursor",), cursor="not-a-cursor"),
        valid("search_docs", query="how do I kill a task with pbook", k=3),
        invalid("search_docs", ("empty",), query="   "),
        valid(
            "get_doc_section",
            source=f"{DOCS_SITE_NAME}:docs/source/client/bookkeeping.rst",
            section="Managing your tasks > Overview",
        ),
        invalid("get_doc_section", ("nosuch:page.rst",), source="nosuch:page.rst"),
        valid("index_docs", sources=[Ref("docs_site")], name=DOCS_SITE_NAME),
        invalid("index_docs", ("localhost",), sources=[Ref("foreign_docs_url")]),
    ],
}

PROMPT_ARGUMENTS: dict[str, dict[str, Any]] = {
    "explain-error-for-user": {"code": "1152"},
    "explain-error-for-expert": {"code": "1152", "component": "pilot"},
    "explain-job-failure-for-user": {"pandaid": Ref("pandaid_text")},
    "explain-job-failure-for-expert": {"pandaid": Ref("pandaid_text")},
}
"""Arguments for every prompt any server lists. A listed prompt missing here fails a test."""

RESOURCE_READS: dict[str, list[str]] = {
    "errors": ["panda-error://pilot/1152"],
}
"""Resource URIs read once per server, one per template the server lists."""


def sample_tools(server: str) -> list[str]:
    """Return the tool names the sample calls of `server` cover, in order."""
    return list(dict.fromkeys(call.tool for call in SAMPLE_CALLS[server]))


def sample_params(kind: str) -> list[tuple[str, ToolCall]]:
    """Return (server, call) pairs of the valid calls (`kind` 'valid') or the invalid ones ('invalid')."""
    wanted = kind == "invalid"
    return [
        (server, call) for server in SERVERS for call in SAMPLE_CALLS[server] if call.expect_error == wanted
    ]


# --- transcripts of a client session -------------------------------------------------------------------------


@dataclass
class CallOutcome:
    """The result of one sample call, or the exception the client raised instead of returning a result."""

    call: ToolCall
    arguments: dict[str, Any]
    result: Any = None
    exception: str | None = None
    seconds: float = 0.0


@dataclass
class Transcript:
    """Everything one client session saw: the listings, each call's outcome, and stray stdout lines."""

    server: str
    mode: str
    protocol_version: str = ""
    server_name: str | None = None
    instructions: str | None = None
    tools: dict[str, Any] = field(default_factory=dict)
    resources: list[Any] = field(default_factory=list)
    templates: list[Any] = field(default_factory=list)
    prompts: list[Any] = field(default_factory=list)
    prompt_results: dict[str, Any] = field(default_factory=dict)
    resource_results: dict[str, Any] = field(default_factory=dict)
    outcomes: list[CallOutcome] = field(default_factory=list)
    stray_messages: list[str] = field(default_factory=list)
    """Exceptions the client's reader reported, such as a stdout line that is not JSON-RPC."""

    def outcome(self, call: ToolCall) -> CallOutcome:
        for outcome in self.outcomes:
            if outcome.call == call:
                return outcome
        raise KeyError(f"{self.server}: no outcome recorded for {call.label}")


@asynccontextmanager
async def watched_transport(transport: Any, stray: list[str]) -> AsyncIterator[tuple[Any, Any]]:
    """Wrap a client transport and append to `stray` every item its reader hands over that is not a message.

    The stdio transport passes a stdout line that is not JSON-RPC to the session as an exception, and the
    session only logs it, so the check has to sit between the two.
    """
    async with transport as (read_stream, write_stream):
        sender, receiver = anyio.create_memory_object_stream[Any](0)

        async def forward() -> None:
            async with sender:
                async for item in read_stream:
                    if isinstance(item, Exception):
                        stray.append(f"{item.__class__.__name__}: {item}"[:500])
                    await sender.send(item)

        async with anyio.create_task_group() as group:
            group.start_soon(forward)
            try:
                yield receiver, write_stream
            finally:
                group.cancel_scope.cancel()


async def record_transcript(client: Client, transcript: Transcript, values: dict[str, Any]) -> Transcript:
    """List tools, resources and prompts, get every prompt, read the sample resources and make every sample call."""
    transcript.protocol_version = client.protocol_version
    transcript.server_name = client.server_info.name if client.server_info else None
    transcript.instructions = client.instructions
    transcript.tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    transcript.resources = list((await client.list_resources()).resources)
    transcript.templates = list((await client.list_resource_templates()).resource_templates)
    transcript.prompts = list((await client.list_prompts()).prompts)

    for prompt in transcript.prompts:
        arguments = _resolve(PROMPT_ARGUMENTS.get(prompt.name), values)
        if arguments is None:
            continue
        try:
            transcript.prompt_results[prompt.name] = await client.get_prompt(prompt.name, arguments)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever the client raised
            transcript.prompt_results[prompt.name] = f"{exc.__class__.__name__}: {exc}"

    for uri in RESOURCE_READS.get(transcript.server, []):
        try:
            transcript.resource_results[uri] = await client.read_resource(uri)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever the client raised
            transcript.resource_results[uri] = f"{exc.__class__.__name__}: {exc}"

    for call in SAMPLE_CALLS[transcript.server]:
        transcript.outcomes.append(await make_call(client, call, values))
    return transcript


async def make_call(client: Client, call: ToolCall, values: dict[str, Any]) -> CallOutcome:
    """Call a tool and keep the result, or the exception (for example a result that fails its output schema)."""
    arguments = call.resolved(values)
    started = time.perf_counter()
    try:
        result = await client.call_tool(call.tool, arguments, read_timeout_seconds=CALL_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the test reports whatever the client raised
        return CallOutcome(
            call,
            arguments,
            exception=f"{exc.__class__.__name__}: {exc}"[:2000],
            seconds=time.perf_counter() - started,
        )
    return CallOutcome(call, arguments, result=result, seconds=time.perf_counter() - started)


# --- checks --------------------------------------------------------------------------------------------------


def check_tool_schemas(tool: Any) -> None:
    """Assert that a listed tool's input and output schemas are valid JSON Schema."""
    jsonschema.Draft202012Validator.check_schema(tool.input_schema)
    assert tool.input_schema.get("type") == "object", f"{tool.name}: input schema is not an object"
    assert tool.output_schema is not None, f"{tool.name}: no output schema (structured content expected)"
    jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    annotations = tool.annotations
    assert annotations is not None, f"{tool.name}: no annotations"
    if tool.name in LOCAL_INDEX_TOOLS:
        assert annotations.destructive_hint is False, f"{tool.name}: not marked non-destructive"
    else:
        assert annotations.read_only_hint is True, f"{tool.name}: not marked read-only"


def check_structured_result(tool: Any, result: Any) -> None:
    """Assert that a successful call's structured content validates against the tool's output schema."""
    assert not result.is_error, f"{tool.name} failed: {result.content}"
    assert result.structured_content is not None, f"{tool.name}: no structured content"
    jsonschema.validate(result.structured_content, tool.output_schema)


def result_text(result: Any) -> str:
    """Return the text blocks of a tool result joined by newlines."""
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


def check_tool_error(tool: str, result: Any, mentions: tuple[str, ...] = ()) -> str:
    """Assert that a result is a ToolError the model can act on, and return its text.

    A crash inside a tool reaches the model as the bare "Error executing tool <name>", which gives no reason.
    """
    assert result.is_error, f"{tool} succeeded where an error was expected: {result_text(result)[:300]}"
    text = result_text(result)
    assert text.strip() != f"Error executing tool {tool}", (
        f"{tool}: bare error (an unexpected exception in the tool)"
    )
    assert len(text) <= MAX_ERROR_CHARS, f"{tool}: error text has {len(text)} characters"
    for needle in mentions:
        assert needle in text, f"{tool}: error does not mention {needle!r}: {text[:300]}"
    return text


def check_outcome(transcript: Transcript, call: ToolCall) -> None:
    """Assert that a recorded sample call returned what the call expects: a valid result or a ToolError."""
    outcome = transcript.outcome(call)
    assert outcome.exception is None, f"{call.label}: the client raised {outcome.exception}"
    if call.expect_error:
        check_tool_error(call.tool, outcome.result, call.mentions)
    else:
        check_structured_result(transcript.tools[call.tool], outcome.result)


def traceback_lines(stderr: str) -> list[str]:
    """Return the stderr lines that show an unexpected exception in a server."""
    markers = ("Traceback (most recent call last)", "raised an unexpected exception")
    return [line for line in stderr.splitlines() if any(marker in line for marker in markers)]


# --- processes -----------------------------------------------------------------------------------------------


def subprocess_env(env: dict[str, str]) -> dict[str, str]:
    """Return `env` over the few variables an MCP host passes on (PATH, HOME, ...), as stdio_client does."""
    return {**get_default_environment(), **env}


def raw_stdio_exchange(
    command: list[str], env: dict[str, str], messages: list[dict[str, Any]]
) -> list[bytes]:
    """Send JSON-RPC messages to a stdio server, close stdin, and return every line it wrote to stdout."""
    payload = b"".join(json.dumps(message).encode("utf-8") + b"\n" for message in messages)
    result = subprocess.run(
        command,
        input=payload,
        capture_output=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    return result.stdout.splitlines()


@dataclass
class RawSession:
    """What a stdio server wrote during a raw session: every stdout line, stderr, and its exit status."""

    stdout_lines: list[bytes]
    stderr: str
    returncode: int | None
    replies: dict[int, dict[str, Any]]


def raw_stdio_session(
    command: list[str], env: dict[str, str], messages: list[dict[str, Any]], *, timeout: float = 60.0
) -> RawSession:
    """Send each message, wait for the reply to each request, then close stdin and collect everything written.

    Unlike raw_stdio_exchange this keeps stdin open until every request has its reply, because a stdio server
    may drop requests still in flight when its input ends.
    """
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(env),
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    lines: queue.Queue[bytes | None] = queue.Queue()
    stderr_chunks: list[bytes] = []
    stdout_reader = threading.Thread(target=_pump_lines, args=(process.stdout, lines), daemon=True)
    stderr_reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)
    stdout_reader.start()
    stderr_reader.start()

    seen: list[bytes] = []
    replies: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    try:
        for message in messages:
            process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            process.stdin.flush()
            if "id" in message:
                _wait_for_reply(lines, message["id"], seen, replies, deadline)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=max(5.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stdout_reader.join(timeout=5)
        stderr_reader.join(timeout=5)

    while not lines.empty():
        line = lines.get()
        if line is not None:
            seen.append(line)
    stderr = b"".join(stderr_chunks).decode("utf-8", errors="replace")
    return RawSession(seen, stderr, process.returncode, replies)


def _pump_lines(stream: Any, lines: queue.Queue[bytes | None]) -> None:
    for line in iter(stream.readline, b""):
        lines.put(line.rstrip(b"\n"))
    lines.put(None)


def _wait_for_reply(
    lines: queue.Queue[bytes | None],
    request_id: int,
    seen: list[bytes],
    replies: dict[int, dict[str, Any]],
    deadline: float,
) -> None:
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no reply to request {request_id}")
        line = lines.get(timeout=remaining)
        if line is None:
            raise EOFError(f"the server closed stdout before replying to request {request_id}")
        seen.append(line)
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and "id" in message:
            replies[message["id"]] = message
            if message["id"] == request_id:
                return


def jsonrpc_problems(lines: list[bytes]) -> list[str]:
    """Return a description of every stdout line that is not one JSON-RPC 2.0 message."""
    problems = []
    for number, line in enumerate(lines, start=1):
        try:
            message = json.loads(line)
        except ValueError:
            problems.append(f"line {number} is not JSON: {line[:200]!r}")
            continue
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            problems.append(f"line {number} is not a JSON-RPC 2.0 message: {line[:200]!r}")
    return problems


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_http_server(
    server: str, env: dict[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `server` on streamable HTTP on a free loopback port, and return the process and its /mcp URL."""
    command = desktop_entry(config_name(server))["command"]
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [command, "--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=subprocess_env(env),
    )
    log.close()
    return process, f"http://127.0.0.1:{port}/mcp"


def wait_for_port(process: subprocess.Popen[bytes], port: int, *, timeout: float = 60.0) -> None:
    """Wait until `port` on 127.0.0.1 accepts connections, and raise if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with status {process.returncode} before listening on {port}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """Stop a server process this test started: SIGTERM, then SIGKILL after `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def client_connections(port: int) -> int:
    """Return the number of TCP connections this process has open to 127.0.0.1:`port` as a client."""
    connections = psutil.Process().net_connections(kind="tcp")
    return sum(
        1
        for connection in connections
        if connection.raddr and connection.raddr.port == port and connection.status == psutil.CONN_ESTABLISHED
    )


# --- in-memory servers ---------------------------------------------------------------------------------------


def point_settings_at(services: FakeServices, monkeypatch: Any, folder: Path, **overrides: str) -> None:
    """Set the ASKPANDA_* variables of this test process to the fakes, with cache and docs index in `folder`.

    The index_docs tool may read the fixture site and anything under `folder`.
    """
    from shared.config import get_settings

    env = services.env(
        ASKPANDA_CACHE_DIR=str(folder / "cache"),
        ASKPANDA_DOCS_INDEX_DIR=str(folder / "docs-index"),
        ASKPANDA_DOCS_ROOTS=os.pathsep.join((str(DOCS_SITE), str(folder))),
        **overrides,
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


async def build_in_memory(server: str) -> Any:
    """Build `server` from the current settings, for an in-memory Client.

    The docs server gets the hash embedder of tests/docs_support.py and the fixture site indexed under
    DOCS_SITE_NAME (without the default sources), so no model loads.
    """
    from shared.config import get_settings

    if server == "errors":
        from servers.errors.server import build_server as build_errors

        return build_errors()
    if server == "logs":
        from servers.logs.server import build_server as build_logs

        return build_logs()
    if server == "sites":
        from servers.sites.server import build_server as build_sites

        return build_sites()

    from servers.docs.server import build_server as build_docs
    from servers.docs.service import DocsService
    from servers.docs.sources import SourceSpec
    from tests.docs_support import HashEmbedder

    service = DocsService(get_settings(), HashEmbedder())
    await service.index([SourceSpec(str(DOCS_SITE), DOCS_SITE_NAME)], include_defaults=False)
    return build_docs(service)

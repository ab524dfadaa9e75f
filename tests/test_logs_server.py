"""askpanda-logs through a real MCP client (in memory) against the loopback fake BigPanDA."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from servers.logs.server import build_server
from shared.config import get_settings
from tests.e2e_support import check_structured_result, check_tool_schemas
from tests.fake_bigpanda import FakeBigPanda
from tests.fakeserver import FakeHTTPServer
from tests.logs_support import LOG_FIXTURES, case_folders, load_expected, problems_with

pytestmark = pytest.mark.anyio

TOOLS = {"analyze_job_failure", "analyze_log", "get_job_status", "list_job_files", "read_log_lines"}


@pytest.fixture
def log_root(tmp_path: Path) -> Path:
    root = tmp_path / "logroot"
    root.mkdir()
    return root


@pytest.fixture
def bigpanda(fake_http: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch, log_root: Path) -> FakeBigPanda:
    monkeypatch.setenv("ASKPANDA_MONITOR_URL", fake_http.url)
    monkeypatch.setenv("ASKPANDA_CRIC_URL", f"{fake_http.url}/api/atlas/pandaqueue/query/")
    monkeypatch.setenv("ASKPANDA_LOG_ROOTS", str(log_root))
    monkeypatch.setenv("ASKPANDA_MAX_RETRIES", "0")
    get_settings.cache_clear()
    return FakeBigPanda(fake_http)


@pytest.fixture
async def client(bigpanda: FakeBigPanda) -> AsyncIterator[Client]:
    async with Client(build_server(), mode="legacy") as connected:
        yield connected


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    listed = {item.name: item for item in (await client.list_tools()).tools}
    check_structured_result(listed[tool], result)
    return result.structured_content


async def call_error(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} succeeded on {arguments}"
    return result.content[0].text


async def test_tools_are_listed_with_schemas(client: Client) -> None:
    tools = (await client.list_tools()).tools

    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        check_tool_schemas(tool)
        assert len(tool.description or "") < 400


@pytest.mark.parametrize("folder", case_folders(LOG_FIXTURES), ids=lambda path: path.name)
async def test_fixture_case_by_pandaid(client: Client, bigpanda: FakeBigPanda, folder: Path) -> None:
    pandaid = bigpanda.add_case(folder)

    report = await call(client, "analyze_job_failure", {"pandaid": pandaid})

    assert problems_with(report, load_expected(folder)) == []
    assert report["job"]["link"].endswith(f"/job?pandaid={pandaid}")


@pytest.mark.reference
async def test_reference_cases_by_pandaid(
    client: Client, bigpanda: FakeBigPanda, reference_data: Path
) -> None:
    failures = {}
    for folder in case_folders(reference_data / "cases"):
        report = await call(client, "analyze_job_failure", {"pandaid": bigpanda.add_case(folder)})
        problems = problems_with(report, load_expected(folder))
        if problems:
            failures[folder.name] = problems

    assert failures == {}


async def test_pandaid_as_string(client: Client, bigpanda: FakeBigPanda) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")

    report = await call(client, "analyze_job_failure", {"pandaid": str(pandaid), "budget_chars": 2000})

    assert report["used_chars"] <= 2000
    assert report["phase"] == "stage-in"


@pytest.mark.parametrize("value", ["abc", "-5", "0", "12.5", "6715819744; rm -rf /"])
async def test_invalid_pandaid(client: Client, value: str) -> None:
    message = await call_error(client, "analyze_job_failure", {"pandaid": value})

    assert "Invalid pandaid" in message
    assert "positive integer" in message


async def test_unknown_pandaid(client: Client) -> None:
    message = await call_error(client, "analyze_job_failure", {"pandaid": 123456})

    assert "pandaid 123456" in message
    assert "HTML page" in message


async def test_login_page(client: Client, bigpanda: FakeBigPanda) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")
    bigpanda.login_required = True

    message = await call_error(client, "get_job_status", {"pandaid": pandaid})

    assert "ASKPANDA_TOKEN" in message


async def test_job_without_log_tarball(client: Client, bigpanda: FakeBigPanda) -> None:
    folder = LOG_FIXTURES / "lost-heartbeat"
    pandaid = bigpanda.add_job(json.loads((folder / "job.json").read_text()), {})

    report = await call(client, "analyze_job_failure", {"pandaid": pandaid})

    assert report["primary_error"]["field"] == "jobdispatchererrorcode"
    assert report["phase"] == "server"
    assert any("job record only" in note for note in report["notes"])


async def test_tarball_too_large_is_a_note(client: Client, bigpanda: FakeBigPanda) -> None:
    record = json.loads((LOG_FIXTURES / "setup-container-mount" / "job.json").read_text())
    pandaid = bigpanda.add_job(record, {"pilotlog.txt": b"x\n"}, tarball_size=700 * 1024 * 1024)

    report = await call(client, "analyze_job_failure", {"pandaid": pandaid})

    assert report["primary_error"]["code"] == 1309
    assert any("rucio get" in note for note in report["notes"])


async def test_empty_and_html_log_files(client: Client, bigpanda: FakeBigPanda) -> None:
    record = json.loads((LOG_FIXTURES / "stagein-file-missing" / "job.json").read_text())
    pilotlog = (LOG_FIXTURES / "stagein-file-missing" / "pilotlog.txt").read_bytes()
    pandaid = bigpanda.add_job(
        record,
        {
            "pilotlog.txt": pilotlog,
            "payload.stdout": b"",
            "payload.stderr": b"<!DOCTYPE html><html>login</html>",
        },
    )

    report = await call(client, "analyze_job_failure", {"pandaid": pandaid})

    notes = {note["name"]: note for note in report["files"]}
    assert notes["payload.stdout"]["status"] == "skipped"
    assert notes["payload.stderr"]["status"] == "unreadable"
    assert report["phase"] == "stage-in"


async def test_get_job_status(client: Client, bigpanda: FakeBigPanda) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "user-script-keyerror")

    status = await call(client, "get_job_status", {"pandaid": pandaid})

    assert status["failed"] is True
    assert status["job"]["queue"] == "ANALY_MANC_GPU"
    assert status["primary_error"]["code"] == 5318
    assert status["phase"] == "payload"


async def test_list_job_files(client: Client, bigpanda: FakeBigPanda) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "transform-conditions-fatal")

    listing = await call(client, "list_job_files", {"pandaid": pandaid})

    analyzed = {entry["name"]: entry["analyzed"] for entry in listing["files"]}
    assert analyzed["pilotlog.txt"] and analyzed["jobReport.json"]


async def test_read_log_lines_by_pandaid(client: Client, bigpanda: FakeBigPanda) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")

    page = await call(
        client,
        "read_log_lines",
        {"source": str(pandaid), "filename": "pilotlog.txt", "pattern": "stage-in failed", "count": 8},
    )

    assert page["match_line"] is not None
    assert any(
        line["number"] == page["match_line"] and "stage-in failed" in line["text"] for line in page["lines"]
    )
    assert page["next_start_line"] == page["lines"][-1]["number"] + 1


async def test_read_log_lines_pages_to_the_end(client: Client, log_root: Path) -> None:
    (log_root / "payload.stdout").write_text("".join(f"line {number}\n" for number in range(1, 26)))

    first = await call(client, "read_log_lines", {"source": str(log_root / "payload.stdout"), "count": 10})
    last = await call(
        client, "read_log_lines", {"source": str(log_root / "payload.stdout"), "start_line": 21, "count": 10}
    )

    assert [line["text"] for line in first["lines"]] == [f"line {number}" for number in range(1, 11)]
    assert first["next_start_line"] == 11
    assert last["end_of_file"] and last["next_start_line"] is None
    assert last["lines"][-1]["number"] == 25


async def test_read_log_lines_unknown_file(client: Client, bigpanda: FakeBigPanda) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")

    message = await call_error(
        client, "read_log_lines", {"source": str(pandaid), "filename": "payload.stdout"}
    )

    assert "list_job_files" in message


async def test_analyze_log_folder_in_root(client: Client, log_root: Path) -> None:
    shutil.copytree(LOG_FIXTURES / "user-script-keyerror", log_root / "job")
    (log_root / "job" / "job.json").unlink()

    report = await call(client, "analyze_log", {"path": str(log_root / "job")})

    assert report["primary_error"]["code"] == 5318
    assert "KeyError: 'jet_pt_calib'" in "\n".join(item["text"] for item in report["evidence"])


async def test_analyze_log_outside_roots(client: Client, tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "pilotlog.txt").write_text("x\n")

    message = await call_error(client, "analyze_log", {"path": str(outside / "pilotlog.txt")})

    assert "outside the allowed log folders" in message
    assert "ASKPANDA_LOG_ROOTS" in message


async def test_analyze_log_symlink_out_of_root(client: Client, log_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("ERROR: x\n")
    (log_root / "pilotlog.txt").symlink_to(target)

    message = await call_error(client, "analyze_log", {"path": str(log_root / "pilotlog.txt")})

    assert "outside the allowed log folders" in message


async def test_analyze_log_corrupt_gzip(client: Client, log_root: Path) -> None:
    (log_root / "payload.stdout.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 20)

    message = await call_error(client, "analyze_log", {"path": str(log_root / "payload.stdout.gz")})

    assert "corrupt or truncated" in message


async def test_analyze_log_binary(client: Client, log_root: Path) -> None:
    (log_root / "core.1").write_bytes(bytes(range(256)) * 20)

    message = await call_error(client, "analyze_log", {"path": str(log_root / "core.1")})

    assert "binary" in message


async def test_analyze_log_text(client: Client) -> None:
    text = (LOG_FIXTURES / "setup-container-mount" / "payload.stderr").read_text()

    report = await call(client, "analyze_log", {"text": text})

    assert "container creation failed" in report["evidence"][0]["text"]


async def test_analyze_log_needs_one_input(client: Client) -> None:
    message = await call_error(client, "analyze_log", {})

    assert "exactly one of path" in message


async def test_budget_above_maximum_is_clamped(client: Client, bigpanda: FakeBigPanda) -> None:
    pandaid = bigpanda.add_case(LOG_FIXTURES / "transform-conditions-fatal")

    report = await call(client, "analyze_job_failure", {"pandaid": pandaid, "budget_chars": 10_000_000})

    assert report["budget_chars"] == 40000
    assert any("above the maximum" in note for note in report["notes"])


async def test_prompts(client: Client) -> None:
    prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
    user = await client.get_prompt("explain-job-failure-for-user", {"pandaid": "7100000101"})
    expert = await client.get_prompt("explain-job-failure-for-expert", {"pandaid": "7100000101"})

    assert prompts == {"explain-job-failure-for-user", "explain-job-failure-for-expert"}
    assert "analyze_job_failure(pandaid=7100000101)" in user.messages[0].content.text
    assert "read_log_lines" in expert.messages[0].content.text


async def test_cric_site_and_maxrss_in_report(
    client: Client, bigpanda: FakeBigPanda, fake_http: FakeHTTPServer
) -> None:
    fake_http.route("/api/atlas/pandaqueue/query/", {"IN2P3-CC": {"atlas_site": "IN2P3-CC", "maxrss": 16000}})
    pandaid = bigpanda.add_case(LOG_FIXTURES / "killed-by-batch-sigterm")

    report = await call(client, "analyze_job_failure", {"pandaid": pandaid})

    assert report["job"]["site"] == "IN2P3-CC"
    assert report["memory"]["queue_maxrss_mb"] == 16000
    assert report["memory"]["queue_maxrss_source"] == "CRIC"

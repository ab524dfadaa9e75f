"""askpanda-sites through a real MCP client: tool listing, every tool, errors and CRIC faults.

CRIC is the loopback fake serving the invented fixture tests/fixtures/sites/cric_small.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from servers.sites.server import build_server
from shared.config import Settings
from tests.fakeserver import FakeHTTPServer, Fault
from tests.sites_support import CRIC_PATH, call, loopback_cric_settings

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sites" / "cric_small.json"
TOOLS = {"get_queue", "find_queues", "summarize_queues", "get_site", "compare_queues", "describe_queue_field"}


@pytest.fixture
def settings(fake_http: FakeHTTPServer, tmp_path: Path) -> Settings:
    fake_http.route(CRIC_PATH, json.loads(FIXTURE.read_text(encoding="utf-8")))
    return loopback_cric_settings(fake_http, tmp_path / "cache")


async def error_text(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return result.content[0].text


@pytest.mark.anyio
async def test_tools_listed_read_only(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.output_schema is not None
        assert len(tool.description or "") < 300, tool.name
    find = next(tool for tool in tools if tool.name == "find_queues")
    for argument in (
        "site",
        "cloud",
        "tier",
        "status",
        "state",
        "resource_type",
        "type",
        "copytool",
        "activity",
        "storage",
        "container_type",
        "where",
        "min",
        "max",
        "fields",
        "sort",
        "limit",
        "cursor",
    ):
        assert argument in find.input_schema["properties"], argument


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_get_queue(settings: Settings, mode: str) -> None:
    async with Client(build_server(settings), mode=mode) as client:
        result = await call(
            client, "get_queue", {"name": "example-t1", "fields": ["maxtime", "acopytools.pw"]}
        )
    assert result["queue"] == "EXAMPLE-T1"
    assert result["values"] == {"maxtime": 345600, "maxtime_hours": 96, "acopytools.pw": ["rucio"]}
    assert result["units"] == {"maxtime": "s", "maxtime_hours": "h"}
    assert result["data"]["stale"] is False
    assert result["data"]["queue_count"] == 8


@pytest.mark.anyio
async def test_find_queues_pages(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        first = await call(client, "find_queues", {"status": "online", "limit": 3, "fields": ["maxrss"]})
        second = await call(
            client,
            "find_queues",
            {"status": "online", "limit": 3, "fields": ["maxrss"], "cursor": first["next_cursor"]},
        )
    assert first["total"] == 5
    assert [row["queue"] for row in first["queues"] + second["queues"]] == [
        "DEMO-HPC",
        "EXAMPLE-T1",
        "SAMPLE_T2",
        "SAMPLE_T2_HIMEM",
        "TRIAL_CLOUD",
    ]
    assert second["next_cursor"] is None
    assert first["queues"][0] == {"queue": "DEMO-HPC", "maxrss": 64000}


@pytest.mark.anyio
async def test_find_queues_where_as_json_text(settings: Settings) -> None:
    # Models sometimes send an object argument as JSON text; the SDK decodes it before validation.
    async with Client(build_server(settings), mode="legacy") as client:
        result = await call(client, "find_queues", {"where": '{"queues.ce_flavour": "ARC-CE"}', "fields": []})
    assert [row["queue"] for row in result["queues"]] == ["SAMPLE_T2", "SAMPLE_T2_HIMEM"]


@pytest.mark.anyio
async def test_summarize_site_compare_describe(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        summary = await call(client, "summarize_queues", {"group_by": "cloud", "status": "online"})
        site = await call(client, "get_site", {"site": "DEMO-HPC"})
        comparison = await call(
            client, "compare_queues", {"names": ["SAMPLE_T2", "SAMPLE_T2_HIMEM"], "fields": ["maxrss"]}
        )
        field = await call(client, "describe_queue_field", {"field": "corepower"})
        listing = await call(client, "describe_queue_field", {})
    assert summary["counts"] == {"YY": 3, "ZZ": 2}
    assert [queue["copytools"] for queue in site["queues"]] == [["mv"], ["mv"]]
    assert comparison["values"] == {"maxrss": {"SAMPLE_T2": 32000, "SAMPLE_T2_HIMEM": 96000}}
    assert field["detail"]["unit"] == "HS06 per core"
    assert len(listing["fields"]) > 60


@pytest.mark.anyio
async def test_errors_name_value_and_next_step(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        unknown_queue = await error_text(client, "get_queue", {"name": "SAMPLE_T3"})
        bad_status = await error_text(client, "find_queues", {"status": "brokenoff"})
        bad_field = await error_text(client, "summarize_queues", {"group_by": "walltime"})
        bad_cursor = await error_text(client, "find_queues", {"cursor": "xyz"})
    assert "'SAMPLE_T3'" in unknown_queue and "SAMPLE_T2" in unknown_queue and "find_queues" in unknown_queue
    assert "brokeroff, offline, online, test" in bad_status
    assert "maxtime" in bad_field
    assert "Invalid cursor" in bad_cursor


@pytest.mark.anyio
async def test_cric_html_without_cache(settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.add_fault(CRIC_PATH, Fault(kind="html"))
    async with Client(build_server(settings), mode="legacy") as client:
        text = await error_text(client, "get_queue", {"name": "SAMPLE_T2"})
    assert "HTML page" in text
    assert "ASKPANDA_CRIC_URL" in text


@pytest.mark.anyio
async def test_cric_timeout_without_cache(settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.add_fault(CRIC_PATH, Fault(kind="delay", seconds=2.0))
    async with Client(build_server(settings), mode="legacy") as client:
        with anyio.fail_after(10):
            text = await error_text(client, "find_queues", {"cloud": "ZZ"})
    assert "timed out" in text or "did not answer" in text


@pytest.mark.anyio
async def test_cric_down_serves_stale_with_age(settings: Settings, fake_http: FakeHTTPServer) -> None:
    expiring = settings.model_copy(update={"cric_ttl_seconds": 0})
    async with Client(build_server(expiring), mode="legacy") as client:
        fresh = await call(client, "get_queue", {"name": "SAMPLE_T2", "fields": ["status"]})
        assert fresh["data"]["stale"] is False

        fake_http.add_fault(CRIC_PATH, Fault(kind="status", status=503), times=50)
        stale = await call(client, "get_queue", {"name": "SAMPLE_T2", "fields": ["status"]})
        assert stale["data"]["stale"] is True
        assert stale["values"] == {"status": "online"}

        with anyio.fail_after(10):
            while "previous refresh failed" not in (stale["data"]["stale_reason"] or ""):
                await anyio.sleep(0.1)
                stale = await call(client, "get_queue", {"name": "SAMPLE_T2", "fields": ["status"]})
    assert "503" in stale["data"]["stale_reason"]
    assert stale["data"]["age_seconds"] >= 0
    assert stale["data"]["fetched_at"] == fresh["data"]["fetched_at"]


@pytest.mark.anyio
@pytest.mark.slow
async def test_stdio_server(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "servers.sites"],
        env={
            "ASKPANDA_CRIC_URL": str(FIXTURE),
            "ASKPANDA_CACHE_DIR": str(tmp_path / "cache"),
            "ASKPANDA_CONFIG": str(tmp_path / "none.toml"),
        },
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    with anyio.fail_after(60):
        async with Client(stdio_client(params)) as client:
            result = await call(client, "find_queues", {"copytool": "mv", "fields": []})
    assert [row["queue"] for row in result["queues"]] == ["DEMO-HPC", "DEMO-HPC_GPU"]


@pytest.mark.anyio
async def test_tool_listing_compact(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        tools = (await client.list_tools()).tools
    dumped = [tool.model_dump(by_alias=True, exclude_none=True, mode="json") for tool in tools]
    # Measured at 13.8 KB after the schemas were compacted, down from 24 KB; the bound leaves room to grow.
    assert len(json.dumps(dumped)) < 16_000
    find = next(tool for tool in tools if tool.name == "find_queues")
    assert find.input_schema["properties"]["status"] == {
        "description": "online, test, brokeroff or offline.",
        "type": "string",
    }
    assert find.input_schema["properties"]["limit"]["maximum"] == 500
    assert find.output_schema["properties"]["data"]["type"] == "object"
    assert "$defs" not in find.output_schema or "DataSource" not in find.output_schema["$defs"]


@pytest.mark.anyio
async def test_instructions_name_every_tool(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        instructions = client.instructions or ""
    for tool in TOOLS:
        assert tool in instructions, tool
    assert "comment and state_comment" in instructions
    assert "brokeroff" in instructions


@pytest.mark.anyio
async def test_copytool_fallback_rows_marked(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        result = await call(client, "find_queues", {"copytool": "mv", "activity": "pw"})
    assert [row["queue"] for row in result["queues"]] == ["DEMO-HPC", "DEMO-HPC_GPU"]
    assert all(row["copytool_source"] == "copytools (acopytools is empty)" for row in result["queues"])
    assert result["notes"][0].startswith("2 matching queue(s) have an empty acopytools")


@pytest.mark.anyio
async def test_argument_errors_name_value_and_range(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        limit = await error_text(client, "find_queues", {"limit": 100000})
        groups = await error_text(client, "summarize_queues", {"group_by": "cloud", "limit": 0})
        bound = await error_text(client, "find_queues", {"min": {"maxrss": "abc"}})
        operand = await error_text(client, "find_queues", {"where": {"maxrss": ">abc"}})
    assert "limit must be 0 to 500 queues per page; got 100000" in limit
    assert "limit must be 1 to 500 groups per page; got 0" in groups
    assert "min needs a finite number for maxrss; got 'abc'" in bound
    assert "'abc', which is not a finite number" in operand
    for text in (limit, groups, bound, operand):
        assert "validation error" not in text
        assert "pydantic" not in text


@pytest.mark.anyio
async def test_named_filter_list_and_range(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        statuses = await call(client, "find_queues", {"status": ["test", "brokeroff"], "fields": []})
        in_range = await call(
            client, "find_queues", {"where": {"maxrss": [">16000", "<64000"]}, "fields": ["maxrss"]}
        )
    assert [row["queue"] for row in statuses["queues"]] == ["ANALY_EXAMPLE-T1", "EXAMPLE-T1_TEST"]
    assert statuses["filters"] == ["status in test, brokeroff"]
    assert [row["maxrss"] for row in in_range["queues"]] == [48000, 48000, 32000]


@pytest.mark.anyio
async def test_long_inputs_rejected_and_cut(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        name = await error_text(client, "get_queue", {"name": "Q" * 100_000})
        value = await error_text(client, "find_queues", {"where": {"comment": "~" + "x" * 5000}})
        fields = await error_text(client, "get_site", {"site": "SAMPLE", "fields": ["f" * 300]})
        listed = await call(client, "find_queues", {"where": {"comment": "~" + "x" * 900}, "limit": 0})
    assert "(100000 characters) is too long; names have at most 200 characters" in name
    assert "(5001 characters), is too long; filter values have at most 1000 characters" in value
    assert "(300 characters) is too long" in fields
    for text in (name, value, fields):
        assert len(text) < 400
    assert len(listed["filters"][0]) < 120


@pytest.mark.anyio
async def test_compare_same_queue_rejected(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        text = await error_text(client, "compare_queues", {"names": ["SAMPLE_T2", "sample_t2"]})
    assert "compare_queues takes 2 to 10 different queue names; got 1" in text


@pytest.mark.anyio
async def test_cursor_of_other_tool_named(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        page = await call(client, "find_queues", {"limit": 1})
        text = await error_text(
            client, "summarize_queues", {"group_by": "cloud", "cursor": page["next_cursor"]}
        )
    assert "comes from find_queues, not summarize_queues" in text
    assert "leave cursor out" in text

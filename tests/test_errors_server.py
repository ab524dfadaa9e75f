"""askpanda-errors through a real MCP client (in memory and over stdio) and its terminal commands."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from servers.errors.__main__ import main
from servers.errors.server import build_server
from shared.errorcodes import catalogue as catalogue_module
from tests.errors_support import FIXTURE_DATA, fixture_catalogue

pytestmark = pytest.mark.anyio


def _client(mode: str = "legacy") -> Client:
    return Client(build_server(fixture_catalogue()), mode=mode)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_tools_listed_read_only(mode: str) -> None:
    async with _client(mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"explain_error_code", "search_error_codes", "list_error_codes", "triage_job_errors"}
    for tool in tools.values():
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True
        assert tool.output_schema is not None
        assert len(tool.description or "") < 200


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_explain_error_code(mode: str) -> None:
    async with _client(mode) as client:
        result = await client.call_tool("explain_error_code", {"code": 1152})
    assert not result.is_error
    content = result.structured_content
    assert content is not None
    assert content["candidates"][0]["acronym"] == "STAGEOUTTIMEOUT"
    assert content["candidates"][0]["retry_advice"] == "retry-elsewhere-likely-helps"


async def test_explain_ranks_by_job_field() -> None:
    async with _client() as client:
        result = await client.call_tool("explain_error_code", {"code": 100, "component": "ddmErrorCode"})
    assert result.structured_content is not None
    assert result.structured_content["candidates"][0]["component"] == "dataservice"


async def test_explain_wrong_component_names_the_right_one() -> None:
    async with _client() as client:
        result = await client.call_tool("explain_error_code", {"code": 1152, "component": "transform"})
    assert result.is_error
    text = result.content[0].text
    assert "1152 is not a known transform code" in text
    assert "pilot 1152 STAGEOUTTIMEOUT" in text
    assert "Omit component" in text


async def test_explain_job_field_filters_meanings() -> None:
    async with _client() as client:
        wrong_field = await client.call_tool(
            "explain_error_code", {"code": 137, "component": "pilotErrorCode"}
        )
        ddm = await client.call_tool("explain_error_code", {"code": 100, "component": "ddmErrorCode"})
    assert wrong_field.is_error
    text = wrong_field.content[0].text
    assert "137 is not a known pilotErrorCode value" in text
    assert "transform 137 TRF_SIG_SIGKILL" in text
    assert "pilot-exit 137 KILLSIGNAL" in text
    assert "Omit component" in text
    assert ddm.structured_content is not None
    assert [entry["component"] for entry in ddm.structured_content["candidates"]] == ["dataservice"]
    assert ddm.structured_content["more_candidates"] == []


async def test_explain_unknown_code_and_component() -> None:
    async with _client() as client:
        unknown = await client.call_tool("explain_error_code", {"code": 4242})
        bad_component = await client.call_tool("explain_error_code", {"code": 1, "component": "executor"})
    assert unknown.is_error
    assert "4242" in unknown.content[0].text
    assert "search_error_codes" in unknown.content[0].text
    assert bad_component.is_error
    assert "'executor'" in bad_component.content[0].text
    assert "dataservice" in bad_component.content[0].text
    assert "exeErrorCode" in bad_component.content[0].text


async def test_search_error_codes() -> None:
    async with _client() as client:
        result = await client.call_tool("search_error_codes", {"text": "md5sum mismatch", "limit": 3})
        too_many = await client.call_tool("search_error_codes", {"text": "md5", "limit": 500})
    assert result.structured_content is not None
    assert result.structured_content["hits"][0]["code"] == 1145
    assert too_many.is_error


@pytest.mark.parametrize("text", ["", "   "])
async def test_search_empty_text_friendly(text: str) -> None:
    async with _client() as client:
        result = await client.call_tool("search_error_codes", {"text": text})
    assert result.is_error
    message = result.content[0].text
    assert "text is empty" in message
    assert "validation error" not in message


async def test_search_long_text_capped_and_shortened() -> None:
    async with _client() as client:
        too_long = await client.call_tool("search_error_codes", {"text": "md5 mismatch " * 2000})
        long_ok = await client.call_tool("search_error_codes", {"text": "md5 mismatch " * 1000})
    assert too_long.is_error
    assert "more than 20000" in too_long.content[0].text
    assert len(too_long.content[0].text) < 300
    assert long_ok.structured_content is not None
    assert len(long_ok.structured_content["query"]) <= 80


async def test_list_error_codes_pages() -> None:
    async with _client() as client:
        first = await client.call_tool("list_error_codes", {})
        assert first.structured_content is not None
        cursor = first.structured_content["next_cursor"]
        second = await client.call_tool("list_error_codes", {"cursor": cursor})
        filtered = await client.call_tool(
            "list_error_codes", {"component": "pilot", "category": "file and storage"}
        )
        mismatch = await client.call_tool("list_error_codes", {"component": "pilot", "cursor": cursor})
        bad_cursor = await client.call_tool("list_error_codes", {"cursor": "not-a-cursor!"})
        bad_category = await client.call_tool("list_error_codes", {"category": "Storage"})

    total = first.structured_content["total"]
    assert len(first.structured_content["items"]) == 50
    assert second.structured_content is not None
    assert len(second.structured_content["items"]) == total - 50
    assert second.structured_content["next_cursor"] is None

    assert filtered.structured_content is not None
    items = filtered.structured_content["items"]
    assert items
    assert {(item["component"], item["category"]) for item in items} == {("pilot", "File and Storage Issues")}

    assert mismatch.is_error
    assert bad_cursor.is_error
    assert bad_category.is_error
    assert "Categories:" in bad_category.content[0].text


async def test_triage_job_errors_tool() -> None:
    errors = {"jobStatus": "failed", "pilotErrorCode": 1305, "exeErrorCode": 65, "transExitCode": "65"}
    async with _client() as client:
        result = await client.call_tool("triage_job_errors", {"errors": errors})
        empty = await client.call_tool("triage_job_errors", {"errors": {}})
        as_text = await client.call_tool("triage_job_errors", {"errors": json.dumps(errors)})
        not_json = await client.call_tool("triage_job_errors", {"errors": "piloterrorcode=1099"})
    content = result.structured_content
    assert content is not None
    assert (content["primary"]["field"], content["primary"]["code"]) == ("exeerrorcode", 65)
    assert [other["code"] for other in content["others"]] == [1305]
    assert empty.is_error
    assert as_text.structured_content == content
    assert not_json.is_error
    assert "not a JSON object" in not_json.content[0].text


async def test_triage_tool_rejects_other_records() -> None:
    async with _client() as client:
        unrelated = await client.call_tool("triage_job_errors", {"errors": {"foo": 1}})
        definition = await client.call_tool(
            "triage_job_errors", {"errors": {"PandaID": 42, "jobPars": "--maxEvents 10", "inFiles": "a.root"}}
        )
        unreadable = await client.call_tool(
            "triage_job_errors", {"errors": {"jobstatus": "failed", "piloterrorcode": "abc"}}
        )
    assert unrelated.is_error
    assert "does not look like a BigPanDA job record" in unrelated.content[0].text
    assert definition.is_error
    assert "getJob" in definition.content[0].text
    assert "/job?pandaid=42&json" in definition.content[0].text
    assert unreadable.structured_content is not None
    assert unreadable.structured_content["retry_advice"] == "unclear"
    assert "'abc'" in unreadable.structured_content["warnings"][0]


async def test_error_resource() -> None:
    async with _client() as client:
        templates = await client.list_resource_templates()
        result = await client.read_resource("panda-error://pilot/1152")
        variants = await client.read_resource("panda-error://transform/251")
    assert [template.uri_template for template in templates.resource_templates] == [
        "panda-error://{component}/{code}"
    ]
    text = result.contents[0].text
    assert "STAGEOUTTIMEOUT" in text
    assert "retry-elsewhere-likely-helps" in text
    assert variants.contents[0].text.count("### transform 251") == 2


async def test_error_resource_not_found() -> None:
    async with _client() as client:
        with pytest.raises(Exception, match="4242 is not a known pilot code"):
            await client.read_resource("panda-error://pilot/4242")
        with pytest.raises(Exception, match="Use a code table .*transform.* or the job field"):
            await client.read_resource("panda-error://bogus/65")
        with pytest.raises(Exception, match="'abc' is not an error code"):
            await client.read_resource("panda-error://pilot/abc")


async def test_error_resource_by_job_field() -> None:
    async with _client() as client:
        result = await client.read_resource("panda-error://exeErrorCode/65")
    text = result.contents[0].text
    assert "### transform 65 TRF_EXEC_FAIL" in text
    assert "pilot-exit" not in text


async def test_prompts() -> None:
    async with _client() as client:
        names = {prompt.name for prompt in (await client.list_prompts()).prompts}
        user = await client.get_prompt("explain-error-for-user", {"code": "5406"})
        expert = await client.get_prompt(
            "explain-error-for-expert", {"code": "139", "component": "transform"}
        )
        unknown = await client.get_prompt("explain-error-for-user", {"code": "abc"})
    assert names == {"explain-error-for-user", "explain-error-for-expert"}
    user_text = user.messages[0].content.text
    assert "does not know PanDA internals" in user_text
    assert "What happened" in user_text
    assert "For experts" not in user_text
    expert_text = expert.messages[0].content.text
    assert "For experts" in expert_text
    assert "TRF_SIG_SIGSEGV" in expert_text
    unknown_text = unknown.messages[0].content.text
    assert "'abc' is not an error code" in unknown_text
    assert "invalid literal" not in unknown_text


async def test_prompt_arguments_described() -> None:
    async with _client() as client:
        prompts = (await client.list_prompts()).prompts
    for prompt in prompts:
        assert prompt.arguments
        for argument in prompt.arguments:
            assert argument.description, f"{prompt.name}: {argument.name} has no description"


async def test_tool_listing_compact() -> None:
    async with _client() as client:
        tools = (await client.list_tools()).tools
    listing = json.dumps([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools])
    explain = next(tool for tool in tools if tool.name == "explain_error_code")
    entry_schema = explain.output_schema["$defs"]["ErrorEntry"]
    assert "keywords" not in entry_schema["properties"]
    assert all("title" not in prop for prop in entry_schema["properties"].values())
    assert len(listing) < 14000


@pytest.fixture
def fixture_package_data(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the package catalogue at the fixture data, for commands that load it themselves."""
    monkeypatch.setattr(catalogue_module, "DATA_DIR", FIXTURE_DATA)
    # rich folds table cells to the terminal width; a wide one keeps acronyms whole.
    monkeypatch.setenv("COLUMNS", "240")
    catalogue_module.get_catalogue.cache_clear()
    yield
    catalogue_module.get_catalogue.cache_clear()


def _run_cli(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return int(stopped.value.code or 0)


def test_cli_explain(fixture_package_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run_cli(["explain", "1152"]) == 0
    output = capsys.readouterr().out
    assert "STAGEOUTTIMEOUT" in output
    assert "retry-elsewhere-likely-helps" in output


def test_cli_explain_json_matches_tool(
    fixture_package_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run_cli(["explain", "5406", "--json"]) == 0
    content = json.loads(capsys.readouterr().out)
    assert content["candidates"][0]["script"] == "runAthena"


def test_cli_explain_unknown(fixture_package_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run_cli(["explain", "4242"]) == 1
    assert "4242" in capsys.readouterr().err


def test_cli_search(fixture_package_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run_cli(["search", "md5sum mismatch"]) == 0
    output = capsys.readouterr().out
    assert "1145" in output
    assert "GETMD5MISMATCH" in output


def test_cli_list_and_triage(
    fixture_package_data: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _run_cli(["list", "--component", "transform"]) == 0
    assert "TRF_EXEC_FAIL" in capsys.readouterr().out

    job = tmp_path / "job.json"
    job.write_text(json.dumps({"job": {"jobstatus": "failed", "piloterrorcode": 1305, "exeerrorcode": 65}}))
    assert _run_cli(["triage", str(job)]) == 0
    output = capsys.readouterr().out
    assert "Primary error: exeerrorcode = 65" in output

    assert _run_cli(["triage", str(tmp_path / "absent.json")]) == 2


def test_cli_reports_broken_catalogue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(catalogue_module, "DATA_DIR", tmp_path)
    catalogue_module.get_catalogue.cache_clear()
    try:
        assert _run_cli(["explain", "1152"]) == 2
    finally:
        catalogue_module.get_catalogue.cache_clear()
    assert "could not be loaded" in capsys.readouterr().err


@pytest.mark.slow
async def test_stdio_server() -> None:
    env: dict[str, Any] = {name: value for name, value in os.environ.items() if name.startswith("ASKPANDA_")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "servers.errors"], env=env)
    async with Client(stdio_client(params), mode="legacy") as client:
        tools = await client.list_tools()
        explained = await client.call_tool("explain_error_code", {"code": 1099})
        searched = await client.call_tool(
            "search_error_codes", {"text": "Remote file open timed out", "limit": 3}
        )
    assert len(tools.tools) == 4
    assert explained.structured_content is not None
    assert explained.structured_content["candidates"][0]["acronym"] == "STAGEINFAILED"
    assert searched.structured_content is not None
    assert searched.structured_content["hits"][0]["code"] == 1368

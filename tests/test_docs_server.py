"""The docs server through a real MCP client: tools, structured results, errors, progress, stdio start-up."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from servers.docs.embedding import shared_embedder
from servers.docs.server import build_server
from servers.docs.service import DocsService
from servers.docs.sources import SourceSpec
from shared.config import Settings
from tests.docs_support import SITE, HashEmbedder

READ_ONLY_TOOLS = {"search_docs", "get_doc_section", "list_doc_sources", "index_status"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(docs_index_dir=tmp_path / "index", docs_roots=[SITE])


@pytest.fixture
def indexed(settings: Settings) -> DocsService:
    service = DocsService(settings, HashEmbedder())
    anyio.run(lambda: service.index([SourceSpec(str(SITE), "site")], include_defaults=False))
    return service


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_tools_and_annotations(indexed: DocsService, mode: str) -> None:
    async with Client(build_server(indexed), mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert set(tools) == READ_ONLY_TOOLS | {"index_docs"}
    for name in READ_ONLY_TOOLS:
        assert tools[name].annotations.read_only_hint is True
        assert tools[name].output_schema is not None
        assert len(tools[name].description or "") < 200
    assert tools["index_docs"].annotations.read_only_hint is False
    assert tools["index_docs"].annotations.destructive_hint is False


@pytest.mark.anyio
async def test_search_docs_structured(indexed: DocsService) -> None:
    async with Client(build_server(indexed), mode="legacy") as client:
        result = await client.call_tool("search_docs", {"query": "what is a jobset", "k": 3})

    assert not result.is_error
    passages = result.structured_content["passages"]
    assert passages[0]["section"] == "Glossary > Jobset"
    assert passages[0]["citation"].startswith("Glossary > Jobset (site:docs/source/concepts/glossary.rst, lines ")
    assert result.structured_content["total_chars"] < 6000


@pytest.mark.anyio
async def test_get_doc_section_pages(indexed: DocsService) -> None:
    async with Client(build_server(indexed), mode="legacy") as client:
        first = await client.call_tool(
            "get_doc_section", {"source": "site:notes/faq.md", "max_chars": 1000}
        )
        missing = await client.call_tool("get_doc_section", {"source": "site:notes/faq.md", "section": "Nope"})

    assert not first.is_error
    assert first.structured_content["section"] == "Frequently asked questions"
    assert missing.is_error
    assert "No section 'Nope' in site:notes/faq.md" in missing.content[0].text


@pytest.mark.anyio
async def test_tool_errors_name_value_and_next_step(indexed: DocsService) -> None:
    async with Client(build_server(indexed), mode="legacy") as client:
        empty = await client.call_tool("search_docs", {"query": "  "})
        long = await client.call_tool("search_docs", {"query": "x" * 1500})
        unknown = await client.call_tool("search_docs", {"query": "jobs", "source": "nope"})
        cursor = await client.call_tool("list_doc_sources", {"source": "site", "cursor": "%%%"})

    assert empty.is_error and "query is empty" in empty.content[0].text
    assert long.is_error and "1500 characters" in long.content[0].text
    assert unknown.is_error and "Indexed sources: site" in unknown.content[0].text
    assert cursor.is_error and "Invalid cursor" in cursor.content[0].text


@pytest.mark.anyio
async def test_list_doc_sources_cursor(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(60):
        (folder / f"page{number:02d}.md").write_text(f"# Page {number}\n\nText {number}.\n", encoding="utf-8")
    service = DocsService(settings, HashEmbedder())
    await service.index([SourceSpec(str(folder), "many")], include_defaults=False)

    async with Client(build_server(service), mode="legacy") as client:
        first = await client.call_tool("list_doc_sources", {"source": "many"})
        cursor = first.structured_content["next_cursor"]
        second = await client.call_tool("list_doc_sources", {"source": "many", "cursor": cursor})
        other = await client.call_tool("list_doc_sources", {"source": None, "cursor": cursor})

    assert len(first.structured_content["documents"]) == 50
    assert len(second.structured_content["documents"]) == 10
    assert second.structured_content["next_cursor"] is None
    assert other.is_error


@pytest.mark.anyio
async def test_first_search_builds_default_index_with_progress(settings: Settings) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with Client(build_server(DocsService(settings, HashEmbedder())), mode="legacy") as client:
        result = await client.call_tool(
            "search_docs", {"query": "which settings does the docs server read"}, progress_callback=on_progress
        )
        status = await client.call_tool("index_status", {})

    assert not result.is_error
    assert "default one" in result.structured_content["note"]
    assert any(message == "embedding" for _, _, message in updates)
    assert status.structured_content["state"] == "ready"


@pytest.mark.anyio
async def test_index_docs_tool(settings: Settings) -> None:
    updates: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(message)

    async with Client(build_server(DocsService(settings, HashEmbedder())), mode="legacy") as client:
        result = await client.call_tool(
            "index_docs", {"sources": [str(SITE)], "name": "site"}, progress_callback=on_progress
        )
        bad = await client.call_tool("index_docs", {"sources": [str(SITE / "absent")]})
        both = await client.call_tool("index_docs", {"sources": [str(SITE), str(SITE)], "name": "x"})

    assert not result.is_error
    names = [source["name"] for source in result.structured_content["sources"]]
    assert names[0] == "site"
    assert "writing" in updates
    assert bad.is_error and "neither an existing file or folder" in bad.content[0].text
    assert both.is_error and "exactly one source" in both.content[0].text


@pytest.mark.anyio
async def test_index_docs_refresh_keeps_no_defaults(settings: Settings) -> None:
    service = DocsService(settings, HashEmbedder())
    await service.index([SourceSpec(str(SITE), "site")], include_defaults=False)

    async with Client(build_server(service), mode="legacy") as client:
        refreshed = await client.call_tool("index_docs", {"sources": []})

    assert not refreshed.is_error, refreshed.content
    assert [source["name"] for source in refreshed.structured_content["sources"]] == ["site"]


@pytest.mark.anyio
async def test_index_docs_only_inside_roots(settings: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nNot documentation.\n", encoding="utf-8")
    link = tmp_path / "link-into-site"
    link.symlink_to(SITE, target_is_directory=True)

    async with Client(build_server(DocsService(settings, HashEmbedder())), mode="legacy") as client:
        rejected = await client.call_tool("index_docs", {"sources": [str(outside)]})
        escape = await client.call_tool("index_docs", {"sources": [str(SITE / ".." / "..")]})
        through_link = await client.call_tool("index_docs", {"sources": [str(link)], "name": "linked"})

    assert rejected.is_error
    assert "outside the folders the index_docs tool may read" in rejected.content[0].text
    assert "ASKPANDA_DOCS_ROOTS" in rejected.content[0].text
    assert "askpanda-docs index PATH" in rejected.content[0].text
    assert escape.is_error
    assert "outside the folders" in escape.content[0].text
    assert not through_link.is_error, through_link.content


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"name": "x" * 65}, "Invalid source name"),
        ({"name": "my docs"}, "Invalid source name"),
        ({"name": "site:docs"}, "Invalid source name"),
        ({"name": "bad\ud800"}, "Invalid source name"),
        ({"base_url": "javascript:alert(1)"}, "Invalid base_url"),
        ({"base_url": "https://docs.example.org/\ud800"}, "lone UTF-16 surrogate"),
    ],
    ids=["name-65-characters", "name-space", "name-colon", "name-surrogate", "base-url-scheme", "base-url-surrogate"],
)
async def test_index_docs_invalid_arguments(settings: Settings, arguments: dict[str, str], expected: str) -> None:
    async with Client(build_server(DocsService(settings, HashEmbedder())), mode="legacy") as client:
        result = await client.call_tool("index_docs", {"sources": [str(SITE)], **arguments})

    assert result.is_error
    assert expected in result.content[0].text


@pytest.mark.anyio
async def test_search_docs_lone_surrogate(indexed: DocsService) -> None:
    async with Client(build_server(indexed), mode="legacy") as client:
        result = await client.call_tool("search_docs", {"query": "jobset\ud800\x00 glossary", "k": 2})
        section = await client.call_tool("get_doc_section", {"source": "site:notes/faq.md\ud800"})

    assert not result.is_error, result.content
    assert result.structured_content["passages"]
    assert section.is_error
    assert "Error executing tool get_doc_section:" in section.content[0].text
    assert "site:notes/faq.md" in section.content[0].text


@pytest.mark.anyio
async def test_index_status_missing(settings: Settings) -> None:
    async with Client(build_server(DocsService(settings, HashEmbedder())), mode="legacy") as client:
        status = await client.call_tool("index_status", {})
        section = await client.call_tool("get_doc_section", {"source": "x:y.md"})

    assert status.structured_content["state"] == "missing"
    assert section.is_error and "askpanda-docs index" in section.content[0].text


def _server_env(index_dir: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        {
            "ASKPANDA_DOCS_INDEX_DIR": str(index_dir),
            "ASKPANDA_CONFIG": str(index_dir.parent / "no-config.toml"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    return env


@pytest.mark.anyio
@pytest.mark.slow
async def test_stdio_server_answers_without_index(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "servers.docs"], env=_server_env(tmp_path / "index")
    )
    async with Client(stdio_client(params), mode="legacy") as client:
        tools = await client.list_tools()
        status = await client.call_tool("index_status", {})

    assert {tool.name for tool in tools.tools} >= READ_ONLY_TOOLS
    assert status.structured_content["state"] == "missing"
    assert status.structured_content["model_loaded"] is False


@pytest.mark.anyio
@pytest.mark.slow
async def test_real_model_search_on_fixture(settings: Settings) -> None:
    service = DocsService(settings, shared_embedder())
    await service.index([SourceSpec(str(SITE), "site")], include_defaults=False)

    async with Client(build_server(service), mode="legacy") as client:
        result = await client.call_tool("search_docs", {"query": "my jobs keep going back to the queue"})

    passages: list[dict[str, Any]] = result.structured_content["passages"]
    assert passages[0]["section"] == "Frequently asked questions > Why do my jobs keep going back to the queue?"
    assert "dense" in passages[0]["matched_by"]

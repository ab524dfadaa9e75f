"""AskPandaServer: titles dropped from schemas, compact JSON text beside structured content."""

from __future__ import annotations

import json

import pytest
from mcp.client import Client
from pydantic import BaseModel

from mcp.server.mcpserver.exceptions import ToolError

from servers.common.base import AskPandaServer, shorten_message, strip_titles
from servers.common.tooling import READ_ONLY

pytestmark = pytest.mark.anyio


class Book(BaseModel):
    title: str
    pages: int


class Shelf(BaseModel):
    books: list[Book]
    note: str | None = None


def _server() -> AskPandaServer:
    server = AskPandaServer("test")

    @server.tool(annotations=READ_ONLY)
    def shelf(count: int) -> Shelf:
        """Return a shelf."""
        return Shelf(books=[Book(title=f"Book {index}", pages=index) for index in range(count)])

    return server


def test_strip_titles_keeps_property_named_title() -> None:
    schema = Book.model_json_schema()
    compact = strip_titles(schema)
    assert "title" not in compact
    assert "title" in compact["properties"]
    assert "title" not in compact["properties"]["title"]
    assert compact["required"] == ["title", "pages"]


async def test_listing_has_no_generated_titles() -> None:
    async with Client(_server(), mode="legacy") as client:
        tools = (await client.list_tools()).tools
    dumped = json.dumps(tools[0].output_schema)
    assert '"title": "Book"' not in dumped
    assert '"title": "Shelf"' not in dumped
    assert "title" in tools[0].output_schema["$defs"]["Book"]["properties"]


async def test_text_content_is_compact_json() -> None:
    async with Client(_server(), mode="legacy") as client:
        result = await client.call_tool("shelf", {"count": 2})
    text = result.content[0].text
    assert "\n" not in text
    assert json.loads(text) == result.structured_content
    assert result.structured_content["books"][1]["pages"] == 1


def test_shorten_message_cuts_long_values() -> None:
    message = f"No queue named {'A' * 10_000_000!r}. Call find_queues."
    short = shorten_message(message)
    assert len(short) < 300
    assert "(10000003 characters)" in short
    assert short.endswith("Call find_queues.")


def test_shorten_message_keeps_short_text() -> None:
    assert shorten_message("No queue named 'BNL_X'.") == "No queue named 'BNL_X'."


async def test_long_tool_error_is_cut() -> None:
    server = _server()

    @server.tool(annotations=READ_ONLY)
    def echo(name: str) -> Shelf:
        """Fail with the name."""
        raise ToolError(f"Unknown name {name!r}. Try another.")

    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("echo", {"name": "B" * 50_000})
    assert result.is_error
    assert len(result.content[0].text) < 400
    assert "Try another." in result.content[0].text

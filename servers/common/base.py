"""MCPServer with compact tool listings and compact JSON text beside structured results.

Claude Desktop truncates long `tools/list` replies, and many clients show the model only the text content
of a tool result. Pydantic puts a `title` on every schema node, and the SDK writes the structured result
as indented JSON. This subclass drops the generated titles and writes the text block without indentation;
the structured content and the schemas' meaning stay the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent, Tool

MAX_ERROR_CHARS = 2000
"""Longest ToolError text sent to the model; longer ones are cut, with a note."""

_LONG_RUN = re.compile(r"\S{200,}")


def shorten_message(message: str) -> str:
    """Cut runs of 200 or more non-space characters to 80 plus their length, then the whole text to 2000.

    Error messages quote the value they reject, and a caller can send a value of megabytes.
    """
    short = _LONG_RUN.sub(lambda match: f"{match.group(0)[:80]}... ({len(match.group(0))} characters)", message)
    if len(short) > MAX_ERROR_CHARS:
        short = short[: MAX_ERROR_CHARS - 40] + f"... (message cut, {len(message)} characters)"
    return short

# Keywords whose value is a map of names to schemas, or a single schema, or a list of schemas.
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_SINGLE = ("items", "additionalProperties", "not", "contains", "propertyNames")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def strip_titles(schema: Any) -> Any:
    """Return a copy of a JSON Schema without `title` keywords; property names called "title" are kept."""
    if not isinstance(schema, dict):
        return schema

    compact: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            compact[key] = {name: strip_titles(sub) for name, sub in value.items()}
        elif key in _SCHEMA_SINGLE:
            compact[key] = strip_titles(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            compact[key] = [strip_titles(sub) for sub in value]
        else:
            compact[key] = value
    return compact


class AskPandaServer(MCPServer):
    """The MCPServer every askpanda server builds on."""

    async def list_tools(self) -> list[Tool]:
        tools = await super().list_tools()
        for tool in tools:
            tool.input_schema = strip_titles(tool.input_schema)
            if tool.output_schema is not None:
                tool.output_schema = strip_titles(tool.output_schema)
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            result = await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            message = str(exc)
            short = shorten_message(message)
            if short == message:
                raise
            # The cause is kept: the SDK logs argument-validation failures by the cause's field names.
            raise ToolError(short) from exc.__cause__

        if isinstance(result, CallToolResult) and result.structured_content is not None and not result.is_error:
            text = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
            result.content = [TextContent(type="text", text=text)]
        return result

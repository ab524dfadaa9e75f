"""Helpers shared by the sites server tests: settings for CRIC served from loopback, and one tool call."""

from __future__ import annotations

from typing import Any

from mcp.client import Client

from shared.config import Settings
from tests.fakeserver import FakeHTTPServer

CRIC_PATH = "/api/atlas/pandaqueue/query/"


def loopback_cric_settings(fake_http: FakeHTTPServer, cache_dir: Any) -> Settings:
    """Return settings that read CRIC from `fake_http` at CRIC_PATH, with short timeouts and no retries."""
    return Settings(
        cric_url=f"{fake_http.url}{CRIC_PATH}?json",
        cache_dir=cache_dir,
        connect_timeout=1.0,
        read_timeout=0.5,
        request_deadline=3.0,
        max_retries=0,
    )


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool, assert it succeeded with structured content, and return that content."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content

"""MCP wiring of askpanda-sites: tools, resources and prompts over the domain modules."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from shared import __version__

NAME = "askpanda-sites"


def build_server() -> MCPServer:
    """Return a new server with every tool registered; tests build one per test."""
    server = MCPServer(NAME, version=__version__, instructions="CRIC PanDA queue data: find, filter and compare queues and sites.")
    return server

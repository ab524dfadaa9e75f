"""MCP wiring of askpanda-logs: tools, resources and prompts over the domain modules."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from shared import __version__

NAME = "askpanda-logs"


def build_server() -> MCPServer:
    """Return a new server with every tool registered; tests build one per test."""
    server = MCPServer(NAME, version=__version__, instructions="Failure reports for PanDA jobs from BigPanDA or from local logs.")
    return server

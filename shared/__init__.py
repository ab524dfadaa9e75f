"""Common code of the askpanda-mcp servers: settings, HTTP client, caches and the error catalogue.

Nothing in this package imports MCP, so every module here can be used and tested without a server.
"""

__version__ = "0.1.0"

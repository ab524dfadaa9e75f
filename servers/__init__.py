"""The four askpanda-mcp servers: errors, logs, sites and docs, each a stdio MCP server."""

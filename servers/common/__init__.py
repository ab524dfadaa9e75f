"""Wiring shared by the four servers: tool annotations, cursors, ToolError mapping and the command line."""

from servers.common.tooling import READ_ONLY, READ_ONLY_OPEN_WORLD, decode_cursor, encode_cursor, tool_error

__all__ = ["READ_ONLY", "READ_ONLY_OPEN_WORLD", "decode_cursor", "encode_cursor", "tool_error"]

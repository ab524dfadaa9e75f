"""Pieces every tool uses: read-only annotations, opaque page cursors, and ToolErrors from shared errors."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from shared.exceptions import AskPandaError

logger = logging.getLogger(__name__)

READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)
"""Annotations of a tool that only reads local data."""

READ_ONLY_OPEN_WORLD = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=True
)
"""Annotations of a tool that reads from BigPanDA, CRIC or another remote service."""


def encode_cursor(state: dict[str, Any]) -> str:
    """Return an opaque cursor string for a page state such as {"offset": 50}."""
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None, *, tool: str) -> dict[str, Any]:
    """Return the page state of a cursor made by encode_cursor; raise ToolError for anything else."""
    if not cursor:
        return {}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ToolError(
            f"Invalid cursor {cursor[:40]!r}. Pass the next_cursor value from the previous {tool} result "
            "unchanged, or omit cursor to start from the first page."
        ) from exc
    if not isinstance(state, dict):
        raise ToolError(f"Invalid cursor {cursor[:40]!r}. Omit cursor to start from the first page.")
    return state


def tool_error(exc: AskPandaError, *, context: str) -> ToolError:
    """Return a ToolError that carries the shared error's message after a short context such as 'pandaid 123'."""
    logger.info("%s: %s", context, exc)
    return ToolError(f"{context}: {exc}")

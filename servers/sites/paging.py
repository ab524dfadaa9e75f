"""Page cursors of the list results: an offset tied to the query that produced it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from servers.common.tooling import encode_cursor
from servers.sites.errors import COMMANDS, QueryError, argument, echo, in_terminal
from servers.sites.errors import tool as tool_name

MAX_LIMIT = 500
"""Largest page a caller may ask for; a page of 500 queues with a few fields is about 50 KB of JSON."""


def check_limit(limit: int, *, minimum: int, unit: str) -> int:
    """Return `limit` if it lies in minimum..MAX_LIMIT; raise QueryError naming the range if not."""
    if minimum <= limit <= MAX_LIMIT:
        return limit
    more = f"; page with {argument('cursor')} for more" if limit > MAX_LIMIT else ""
    raise QueryError(
        f"{argument('limit')} must be {minimum} to {MAX_LIMIT} {unit} per page; got {limit}{more}."
    )


def query_key(*parts: Any) -> str:
    """Return a short fingerprint of the arguments that decide which rows a query returns, and their order."""
    raw = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def next_cursor(offset: int, returned: int, total: int, key: str, *, tool: str) -> str | None:
    """Return the cursor of the page after this one, or None when this page is the last."""
    following = offset + returned
    if returned == 0 or following >= total:
        return None
    return encode_cursor({"offset": following, "query": key, "tool": tool})


def offset_from(cursor: str | None, key: str, *, tool: str) -> int:
    """Return the offset stored in a cursor from `tool`; raise QueryError for a cursor of another query."""
    if not cursor:
        return 0

    shown = echo(cursor)
    restart = f"or leave {argument('cursor')} out to start from the first page"
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError) as exc:
        previous = (
            f"the cursor printed by the previous {tool_name(tool)}"
            if in_terminal()
            else f"next_cursor of the previous {tool} result"
        )
        raise QueryError(f"Invalid cursor {shown}. Pass {previous} unchanged, {restart}.") from exc

    if not isinstance(state, dict) or not isinstance(state.get("offset"), int) or state["offset"] < 0:
        raise QueryError(f"Invalid cursor {shown}. Pass it unchanged, {restart}.")
    origin = state.get("tool")
    if isinstance(origin, str) and origin != tool and origin in COMMANDS:
        raise QueryError(
            f"The cursor {shown} comes from {tool_name(origin)}, not {tool_name(tool)}. Pass it to "
            f"{tool_name(origin)} with the arguments that returned it, {restart}."
        )
    if state.get("query") != key:
        raise QueryError(
            f"The cursor {shown} comes from a {tool_name(tool)} call with other filters or sort order. "
            f"Repeat the call with the same arguments as the one that returned the cursor, {restart}."
        )
    return int(state["offset"])

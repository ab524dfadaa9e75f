"""Page cursors of the list results: an offset tied to the query that produced it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from servers.common.tooling import encode_cursor
from servers.sites.errors import QueryError

MAX_LIMIT = 500
"""Largest page a caller may ask for; a page of 500 queues with a few fields is about 50 KB of JSON."""


def query_key(*parts: Any) -> str:
    """Return a short fingerprint of the arguments that decide which rows a query returns, and their order."""
    raw = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def next_cursor(offset: int, returned: int, total: int, key: str) -> str | None:
    """Return the cursor of the page after this one, or None when this page is the last."""
    following = offset + returned
    if returned == 0 or following >= total:
        return None
    return encode_cursor({"offset": following, "query": key})


def offset_from(cursor: str | None, key: str, *, tool: str) -> int:
    """Return the offset stored in a cursor from `tool`; raise QueryError for a cursor of another query."""
    if not cursor:
        return 0

    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise QueryError(
            f"Invalid cursor {cursor[:40]!r}. Pass next_cursor from the previous {tool} result unchanged, "
            "or omit cursor to start from the first page."
        ) from exc

    if not isinstance(state, dict) or not isinstance(state.get("offset"), int) or state["offset"] < 0:
        raise QueryError(f"Invalid cursor {cursor[:40]!r}. Omit cursor to start from the first page.")
    if state.get("query") != key:
        raise QueryError(
            f"The cursor {cursor[:40]!r} belongs to a {tool} call with other filters or sort order. Repeat the call "
            "with the same arguments as the one that returned the cursor, or omit cursor to start again."
        )
    return int(state["offset"])

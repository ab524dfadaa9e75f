"""The error of a query that cannot run as written, and the hints that tell the caller how to fix it.

Hints name the next step in the words of the front end that runs the query: MCP tool names and arguments
by default, `askpanda-sites` commands and options inside `front_end("terminal")`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any, Literal

from rapidfuzz import fuzz, process, utils

MAX_LISTED_CHOICES = 30
"""Lists of valid values up to this length go into a message whole; longer lists give close matches."""
MAX_ECHOED_CHARS = 80
"""Maximum length of a caller's value echoed in a message or result; longer ones are cut, length given."""

MAX_FUZZY_CHARS = 200
"""Characters of a query compared with the choices in close_matches."""

FrontEnd = Literal["mcp", "terminal"]
_FRONT_END: ContextVar[FrontEnd] = ContextVar("askpanda_sites_front_end", default="mcp")

COMMANDS = {
    "get_queue": "queue",
    "find_queues": "find",
    "summarize_queues": "summary",
    "get_site": "site",
    "compare_queues": "compare",
    "describe_queue_field": "field",
}
"""Terminal subcommand of each tool."""


class QueryError(ValueError):
    """A query names an unknown queue, site, field or value, or combines arguments that cannot work.

    The message names the bad value and what to pass or call instead; servers hand it to the model as is.
    """


@contextlib.contextmanager
def front_end(name: FrontEnd) -> Iterator[None]:
    """Word the hints of the messages raised inside this block for the MCP tools or the terminal commands."""
    token = _FRONT_END.set(name)
    try:
        yield
    finally:
        _FRONT_END.reset(token)


def in_terminal() -> bool:
    """Return whether the running query came from a terminal command rather than an MCP tool call."""
    return _FRONT_END.get() == "terminal"


def tool(name: str) -> str:
    """Return a tool's name as the current front end spells it: find_queues, or `askpanda-sites find`."""
    if _FRONT_END.get() == "terminal":
        return f"`askpanda-sites {COMMANDS[name]}`"
    return name


def call(name: str) -> str:
    """Return the start of a next-step sentence: "Call find_queues" or "Run `askpanda-sites find`"."""
    verb = "Run" if _FRONT_END.get() == "terminal" else "Call"
    return f"{verb} {tool(name)}"


TERMINAL_POSITIONALS = {
    "group_by": "GROUP_BY",
    "field": "FIELD",
    "names": "NAMES",
    "name": "NAME",
    "site": "SITE",
}
"""Tool arguments that are positional arguments of the terminal commands, by their metavar."""


def argument(name: str, *, positional: bool = False) -> str:
    """Return an argument's name as the current front end spells it: where or --where, group_by or GROUP_BY.

    `positional` is True when the terminal command takes the argument by position rather than as an option.
    """
    if _FRONT_END.get() != "terminal":
        return name
    if positional:
        return TERMINAL_POSITIONALS.get(name, name.upper())
    return "--" + name.replace("_", "-")


def echo(value: Any) -> str:
    """Return repr(value) for a message, cut to MAX_ECHOED_CHARS characters with the full length after it."""
    text = repr(value)
    if len(text) <= MAX_ECHOED_CHARS:
        return text
    size = len(value) if isinstance(value, str) else len(text)
    return f"{text[:MAX_ECHOED_CHARS]}... ({size} characters)"


def cut(text: str) -> str:
    """Return `text` cut to MAX_ECHOED_CHARS characters, for labels that repeat a caller's value."""
    if len(text) <= MAX_ECHOED_CHARS:
        return text
    return f"{text[:MAX_ECHOED_CHARS]}... ({len(text)} characters)"


def close_matches(query: str, choices: Iterable[str], *, limit: int = 5, cutoff: float = 70.0) -> list[str]:
    """Return up to `limit` choices that look like `query`, best first, ignoring case."""
    # A name or value is at most a few dozen characters; a longer query matches nothing and only costs time.
    query = query[:MAX_FUZZY_CHARS]
    unique = sorted(set(choices))
    exact = [choice for choice in unique if choice.casefold() == query.casefold()]
    scored = process.extract(
        query, unique, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit, score_cutoff=cutoff
    )
    ranked = exact + [choice for choice, _, _ in scored if choice not in exact]
    return ranked[:limit]


def choices_hint(query: str, choices: Iterable[str], *, what: str = "values") -> str:
    """Return "Valid values: a, b." for a short list, else the close matches (or the count when none match)."""
    unique = sorted(set(choices), key=str.casefold)
    if not unique:
        return f"No {what} exist in the loaded CRIC data."
    if len(unique) <= MAX_LISTED_CHOICES:
        return f"Valid {what}: {', '.join(unique)}."

    matches = close_matches(query, unique)
    if matches:
        return f"Close matches: {', '.join(matches)}."
    return f"None of the {len(unique)} {what} is close to it."

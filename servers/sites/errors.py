"""The error of a query that cannot run as written, and the hints that tell the caller how to fix it."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process, utils

MAX_LISTED_CHOICES = 30
"""Lists of valid values up to this length go into a message whole; longer lists give close matches."""


class QueryError(ValueError):
    """A query names an unknown queue, site, field or value, or combines arguments that cannot work.

    The message names the bad value and what to pass or call instead; servers hand it to the model as is.
    """


def close_matches(query: str, choices: Iterable[str], *, limit: int = 5, cutoff: float = 70.0) -> list[str]:
    """Return up to `limit` choices that look like `query`, best first, ignoring case."""
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

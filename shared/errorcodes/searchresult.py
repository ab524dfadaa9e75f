"""Results of an error search: the hit and result models, and the limits on the text searched for."""

from __future__ import annotations

from pydantic import Field

from shared.errorcodes.models import CompactModel, ErrorSummary

# Maximum length of a search text, and the length a query is cut to in results and messages.
MAX_QUERY_CHARS = 20000
SHORT_QUERY_CHARS = 80


class SearchHit(ErrorSummary):
    """One search result: an entry summary with its score and the signals that matched."""

    score: float = Field(description="Relevance; only the order within one result is meaningful.")
    matched: list[str] = Field(default_factory=list, description="What matched: codes, message, words.")
    other_codes: list[int] = Field(
        default_factory=list, description="wnscripts: the same base error reported by the other scripts."
    )


class SearchResult(CompactModel):
    """The ranked hits of one search, with the codes the text names explicitly."""

    query: str = Field(description=f"The text searched for, cut to {SHORT_QUERY_CHARS} characters.")
    hits: list[SearchHit]
    codes_in_text: list[str] = Field(
        default_factory=list, description="Codes the text names, e.g. 'pilot 1099'."
    )


def shorten(text: str, limit: int = SHORT_QUERY_CHARS) -> str:
    """Return `text` on one line, cut to `limit` characters with an ellipsis when it is longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

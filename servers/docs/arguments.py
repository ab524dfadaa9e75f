"""Checks and cleaning of the text that a model or a user passes to the docs tools and commands."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from servers.docs.errors import DocsError
from servers.docs.sources import MAX_LOCATION_CHARS, check_location, check_within_roots, is_local, short_repr

SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""An index name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.

Document ids are `NAME:PATH`, so a name must not contain ':'; it also appears in every citation, so it is short.
"""

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def replace_lone_surrogates(text: str) -> str:
    """Replace lone UTF-16 surrogates with U+FFFD.

    JSON allows an escape such as "\\ud800" on its own; Python decodes it to a str that cannot be encoded as
    UTF-8, so echoing it in a result would fail. Valid pairs arrive already combined into one code point.
    """
    return _LONE_SURROGATE.sub("\ufffd", text)


def clean_query(text: str) -> str:
    """Return a search query without lone surrogates and NUL characters."""
    return replace_lone_surrogates(text).replace("\0", "")


def check_source_name(name: str) -> None:
    """Raise DocsError unless `name` is a valid index name (see SOURCE_NAME)."""
    if SOURCE_NAME.fullmatch(name):
        return
    raise DocsError(
        f"Invalid source name {short_repr(name)}: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter "
        "or digit, e.g. 'panda-docs'."
    )


def _check_encodable(label: str, value: str) -> None:
    if _LONE_SURROGATE.search(value):
        raise DocsError(f"{label} {short_repr(value)} contains a lone UTF-16 surrogate. Pass it as valid Unicode text.")


def check_index_arguments(sources: list[str], name: str | None, base_url: str | None, *, roots: list[Path]) -> None:
    """Raise DocsError for index_docs arguments that are invalid, or for a local source outside `roots`.

    Only the MCP tool limits local sources to the docs roots (ASKPANDA_DOCS_ROOTS): the terminal command indexes
    whatever its user names, but through the tool a model could read any file of the server's user into the index.
    URLs are not checked here, because the HTTP client accepts only allowed hosts.
    """
    if name is not None:
        check_source_name(name)
    if base_url is not None:
        _check_encodable("base_url", base_url)
        if len(base_url) > MAX_LOCATION_CHARS or urlsplit(base_url).scheme not in ("http", "https"):
            raise DocsError(f"Invalid base_url {short_repr(base_url)}: pass an http(s) URL, or omit base_url.")
    for location in sources:
        check_location(location)
        _check_encodable("Source", location)
        if is_local(location):
            check_within_roots(location, roots)

"""Turn one document into chunk records: parse its sections, cut chunks, attach ids, hashes and web links."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import PurePosixPath

from servers.docs.chunking import chunk_document
from servers.docs.errorcatalog import CATALOGUE_KIND
from servers.docs.htmltext import html_to_lines
from servers.docs.records import ChunkRecord, chunk_id, document_hash
from servers.docs.sections import ParsedDocument, parse_lines
from servers.docs.sources import DocumentFile

_SLUG_DROP = re.compile(r"[^\w\s-]")
_SLUG_SPACE = re.compile(r"[\s_-]+")
_SPHINX_MASTERS = ("index.rst", "index.md", "conf.py")


def parse_document(document: DocumentFile) -> ParsedDocument:
    """Return the section structure of a document of any supported kind."""
    fallback = PurePosixPath(document.path).stem
    if document.kind == "html":
        lines, numbers = html_to_lines(document.text)
        return parse_lines(lines, "html", fallback, numbers)
    kind = "md" if document.kind == CATALOGUE_KIND else document.kind
    return parse_lines(document.text.splitlines(), kind, fallback)


def slug(title: str) -> str:
    """Return the HTML anchor Sphinx and GitHub give a heading: lowercase words joined by hyphens."""
    text = _SLUG_DROP.sub("", title.lower())
    return _SLUG_SPACE.sub("-", text).strip("-")


def site_root(paths: Sequence[str]) -> str:
    """Return the folder that a documentation site is built from: the shallowest folder with index.rst or index.md.

    For a Sphinx project laid out as docs/source/index.rst this is "docs/source", so docs/source/client/prun.rst
    is published as client/prun.html. Returns "" when no such folder exists.
    """
    candidates = [PurePosixPath(path).parent for path in paths if PurePosixPath(path).name in _SPHINX_MASTERS]
    if not candidates:
        return ""
    shallowest = min(candidates, key=lambda folder: (len(folder.parts), str(folder)))
    return "" if str(shallowest) == "." else str(shallowest)


def web_url(base_url: str | None, root: str, document: DocumentFile, titles: tuple[str, ...]) -> str:
    """Return the web address of a section, or "" when the source has no base URL and the page no URL."""
    anchor = f"#{slug(titles[-1])}" if len(titles) > 1 else ""
    if document.url:
        return document.url + anchor
    if not base_url:
        return ""

    path = PurePosixPath(document.path)
    if root and path.is_relative_to(root):
        path = path.relative_to(root)
    if document.kind in ("rst", "md"):
        path = path.with_suffix(".html")
    return base_url.rstrip("/") + "/" + path.as_posix() + anchor


def build_records(
    source: str, document: DocumentFile, *, base_url: str | None = None, root: str = ""
) -> list[ChunkRecord]:
    """Return the chunk records of one document, in line order."""
    parsed = parse_document(document)
    doc_hash = document_hash(document.kind, document.text)
    # One error code is one passage: its explanation reads as a whole and is rarely longer than 2000 characters.
    limits = {"target_chars": 2000, "max_chars": 2000} if document.kind == CATALOGUE_KIND else {}
    records: list[ChunkRecord] = []
    seen: Counter[str] = Counter()
    for ordinal, draft in enumerate(chunk_document(parsed, **limits)):
        identifier = chunk_id(source, document.path, draft.titles, draft.text)
        # Two identical chunks in one document (a repeated code block under one heading) need distinct ids.
        seen[identifier] += 1
        if seen[identifier] > 1:
            identifier = f"{identifier}-{seen[identifier]}"
        records.append(
            ChunkRecord(
                id=identifier,
                source=source,
                path=document.path,
                kind=document.kind,
                titles=draft.titles,
                section_line=draft.section_line,
                line_start=draft.line_start,
                line_end=draft.line_end,
                ordinal=ordinal,
                text=draft.text,
                url=web_url(base_url, root, document, draft.titles),
                doc_hash=doc_hash,
            )
        )
    return records

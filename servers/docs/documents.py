"""Turn one document into chunk records: parse its sections, cut chunks, attach ids, hashes and web links."""

from __future__ import annotations

import re
import unicodedata
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
_ID_OTHER = re.compile(r"[^a-z0-9]+")
_ID_ENDS = re.compile(r"^[-0-9]+|-+$")
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
    """Return the anchor GitHub gives a Markdown heading: lowercase words joined by hyphens, punctuation dropped."""
    text = _SLUG_DROP.sub("", title.lower())
    return _SLUG_SPACE.sub("-", text).strip("-")


def sphinx_id(title: str) -> str:
    """Return the id Sphinx (docutils) gives an rst section title.

    Accents are folded to ASCII and every run of other characters becomes one hyphen; leading digits and hyphens
    and trailing hyphens go, so "4.1. Resource Group Registration" becomes "resource-group-registration" and
    "panda_server.cfg" becomes "panda-server-cfg".
    """
    folded = unicodedata.normalize("NFKD", " ".join(title.split()).lower()).encode("ascii", "ignore").decode()
    return _ID_ENDS.sub("", _ID_OTHER.sub("-", folded))


def anchor(kind: str, title: str) -> str:
    """Return the anchor of a section title in the page built from a document of this kind."""
    return sphinx_id(title) if kind == "rst" else slug(title)


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


def web_url(base_url: str | None, root: str, document: DocumentFile, fragment: str = "") -> str:
    """Return the web address of a section (`fragment` is its anchor, "" for the page), or "" when unknown."""
    anchor = f"#{fragment}" if fragment else ""
    if document.url:
        return document.url + anchor
    if not base_url:
        return ""

    path = PurePosixPath(document.path)
    if root:
        # Files beside the site folder (a repository README, say) are not pages of the site.
        if not path.is_relative_to(root):
            return ""
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
    # Keyed by heading line as well: two sections with one title path are two anchors.
    fragments: dict[tuple[tuple[str, ...], int], str] = {}
    for ordinal, draft in enumerate(chunk_document(parsed, **limits)):
        section = (draft.titles, draft.section_line)
        if section not in fragments:
            fragments[section] = _fragment(document.kind, draft.titles, set(fragments.values()))
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
                url=web_url(base_url, root, document, fragments[(draft.titles, draft.section_line)]),
                doc_hash=doc_hash,
            )
        )
    return records


def _fragment(kind: str, titles: tuple[str, ...], used: set[str]) -> str:
    """Return the anchor of a section, or "" for the page title and for a title whose anchor the page already has.

    Sphinx gives a repeated id a number from a counter that other elements of the page also advance, so a repeated
    title links to its page rather than to a guessed anchor.
    """
    if len(titles) < 2:
        return ""
    fragment = anchor(kind, titles[-1])
    return "" if fragment in used else fragment


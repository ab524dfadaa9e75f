"""Reading whole sections back from the index: find a document and a section by name, render its text in pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from servers.docs.errors import DocsError
from servers.docs.records import TITLE_SEPARATOR, ChunkRecord


class NotFoundInIndexError(DocsError):
    """A document or section named by the caller is not in the index."""


@dataclass(frozen=True)
class SectionText:
    """A section rendered as text: subsection headings as Markdown `#` lines, then each chunk's text."""

    doc_id: str
    titles: tuple[str, ...]
    text: str
    line_start: int
    line_end: int
    url: str
    subsections: list[str]


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("``", "").split())


def find_document(chunks: Sequence[ChunkRecord], name: str) -> str:
    """Return the document id that `name` stands for: an exact id, or a unique path or path ending."""
    ids = sorted({chunk.doc_id for chunk in chunks})
    if name in ids:
        return name

    requested = name.strip().lstrip("/")
    matches = [doc_id for doc_id in ids if doc_id.split(":", 1)[1] == requested]
    if not matches:
        matches = [doc_id for doc_id in ids if doc_id.endswith("/" + requested) or doc_id.endswith(":" + requested)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFoundInIndexError(
            f"Document name {name!r} is ambiguous: {', '.join(matches[:5])}. Pass one of these ids as source."
        )

    sources = sorted({doc_id.split(":", 1)[0] for doc_id in ids})
    named = requested.split(":", 1)[0] if ":" in requested else None
    if named is not None and named not in sources:
        raise NotFoundInIndexError(
            f"Source {named!r} of document {name!r} not found in the docs index. Indexed sources: {', '.join(sources)}. "
            "Pass the source value of a search_docs passage, or call list_doc_sources to browse documents."
        )

    from rapidfuzz import process

    close = [match[0] for match in process.extract(requested, ids, limit=3, score_cutoff=60)]
    hint = f" Close matches: {', '.join(close)}." if close else ""
    raise NotFoundInIndexError(
        f"No document {name!r} in the docs index.{hint} Pass the source value of a search_docs passage, "
        "or call list_doc_sources to browse documents."
    )


def section_paths(chunks: Sequence[ChunkRecord], doc_id: str) -> list[tuple[str, ...]]:
    """Return every section title path of a document in reading order, parents included."""
    paths: list[tuple[str, ...]] = []
    seen: set[tuple[str, ...]] = set()
    for chunk in sorted((c for c in chunks if c.doc_id == doc_id), key=lambda c: c.ordinal):
        for depth in range(1, len(chunk.titles) + 1):
            prefix = chunk.titles[:depth]
            if prefix not in seen:
                seen.add(prefix)
                paths.append(prefix)
    return paths


TYPO_SIMILARITY = 90
"""rapidfuzz ratio (0-100) from which a requested title counts as a misspelling of a section title."""


def find_section(paths: list[tuple[str, ...]], section: str | None, doc_id: str) -> tuple[str, ...]:
    """Return the title path that `section` names: a full path ("A > B"), a title, or a misspelling of either.

    Raises NotFoundInIndexError, listing the closest sections, when nothing matches or a title is ambiguous.
    """
    if not paths:
        raise NotFoundInIndexError(f"Document {doc_id!r} has no indexed text.")
    if not section or not section.strip():
        return paths[0][:1]

    requested = _normal(section)
    for matcher in (
        lambda path: _normal(TITLE_SEPARATOR.join(path)) == requested,
        lambda path: _normal(path[-1]) == requested,
        lambda path: _normal(TITLE_SEPARATOR.join(path)).endswith(requested),
    ):
        found = list(dict.fromkeys(path for path in paths if matcher(path)))
        if len(found) == 1:
            return found[0]
        if found:
            choices = "; ".join(TITLE_SEPARATOR.join(path) for path in found[:10])
            raise NotFoundInIndexError(
                f"Section {section!r} is ambiguous in {doc_id}: {choices}. Pass one of these full title paths."
            )

    from rapidfuzz import fuzz, process

    labels = {TITLE_SEPARATOR.join(path): path for path in paths}
    spelled = {
        label: max(fuzz.ratio(requested, _normal(label)), fuzz.ratio(requested, _normal(path[-1])))
        for label, path in labels.items()
    }
    best = max(spelled.values())
    typos = [label for label, score in spelled.items() if score == best]
    if best >= TYPO_SIMILARITY and len(typos) == 1:
        return labels[typos[0]]

    close = [label for label, _, _ in process.extract(section, list(labels), scorer=fuzz.WRatio, limit=5, score_cutoff=60)]
    if close:
        hint = f"The closest are: {'; '.join(close)}."
    else:
        hint = f"Its sections include: {'; '.join(path[-1] for path in paths[:15])}."
    raise NotFoundInIndexError(
        f"No section {section!r} in {doc_id}. {hint} Pass a title or a full title path as search results give it."
    )


def render_section(chunks: Sequence[ChunkRecord], doc_id: str, titles: tuple[str, ...]) -> SectionText:
    """Return the text of a section and all its subsections, with subsection headings restored."""
    depth = len(titles)
    selected = sorted(
        (c for c in chunks if c.doc_id == doc_id and c.titles[:depth] == titles), key=lambda c: c.ordinal
    )
    lines: list[str] = []
    previous: tuple[str, ...] = titles
    subsections: list[str] = []
    for chunk in selected:
        if chunk.titles != previous:
            common = 0
            while common < min(len(chunk.titles), len(previous)) and chunk.titles[common] == previous[common]:
                common += 1
            for level in range(max(common, depth), len(chunk.titles)):
                heading = chunk.titles[level]
                lines.extend(["", "#" * (level - depth + 2) + " " + heading, ""])
                subsections.append(TITLE_SEPARATOR.join(chunk.titles[depth : level + 1]))
            previous = chunk.titles
        lines.extend([chunk.text, ""])

    text = "\n".join(lines).strip("\n")
    line_start = min((c.section_line or c.line_start for c in selected if c.titles == titles), default=0)
    if not line_start:
        line_start = min((c.line_start for c in selected), default=0)
    line_end = max((c.line_end for c in selected), default=0)
    url = next((c.url for c in selected if c.url), "")
    if url and len(titles) <= 1:
        url = url.split("#", 1)[0]
    return SectionText(doc_id, titles, text, line_start, line_end, url, subsections)


def page(text: str, offset: int, limit: int) -> tuple[str, int | None]:
    """Return text[offset:] cut to about `limit` characters at a line break, and the offset to continue from."""
    if offset >= len(text):
        return "", None
    end = offset + limit
    if end >= len(text):
        return text[offset:], None
    newline = text.rfind("\n", offset, end)
    if newline > offset + limit // 2:
        end = newline + 1
    return text[offset:end], end

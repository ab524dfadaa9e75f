"""Records stored in the docs index: chunks with their citation metadata, and the manifest of indexed sources."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from servers.docs.chunking import MAX_CHARS, TARGET_CHARS

CHUNKER_VERSION = f"sections-3/{TARGET_CHARS}/{MAX_CHARS}"
"""Changes whenever chunking changes, so that the next index run re-chunks every document."""

EMBEDDING_INPUT_VERSION = "titles-2"
"""Changes whenever `embedding_input` changes, so that the next index run re-embeds every chunk."""

MANIFEST_FORMAT = 1
TITLE_SEPARATOR = " > "

_ROLE = re.compile(r":[\w.+-]+:`([^`<]*?)\s*(?:<[^`>]*>)?`")


@dataclass(frozen=True)
class ChunkRecord:
    """One indexed chunk: its text and where it comes from, for ranking, citing and rebuilding sections.

    `line_start` and `line_end` are 1-based and inclusive, in the source file (for generated documents such as
    the error catalogue, in the generated text). `ordinal` orders the chunks of one document.
    """

    id: str
    source: str
    path: str
    kind: str
    titles: tuple[str, ...]
    section_line: int
    line_start: int
    line_end: int
    ordinal: int
    text: str
    url: str
    doc_hash: str

    @property
    def doc_id(self) -> str:
        return document_id(self.source, self.path)

    @property
    def section(self) -> str:
        return TITLE_SEPARATOR.join(self.titles)

    def metadata(self) -> dict[str, str | int]:
        """Return the Chroma metadata of this chunk (scalars only; the title path travels as JSON)."""
        return {
            "source": self.source,
            "path": self.path,
            "kind": self.kind,
            "titles": json.dumps(list(self.titles), ensure_ascii=False),
            "section_line": self.section_line,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "ordinal": self.ordinal,
            "url": self.url,
            "doc_hash": self.doc_hash,
        }

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, metadata: dict[str, Any]) -> ChunkRecord:
        """Rebuild a record from Chroma; raises KeyError or ValueError when a field is missing or malformed."""
        return cls(
            id=chunk_id,
            source=str(metadata["source"]),
            path=str(metadata["path"]),
            kind=str(metadata["kind"]),
            titles=tuple(json.loads(str(metadata["titles"]))),
            section_line=int(metadata["section_line"]),
            line_start=int(metadata["line_start"]),
            line_end=int(metadata["line_end"]),
            ordinal=int(metadata["ordinal"]),
            text=text,
            url=str(metadata.get("url") or ""),
            doc_hash=str(metadata["doc_hash"]),
        )

    def to_json(self) -> str:
        record = asdict(self)
        record["titles"] = list(self.titles)
        return json.dumps(record, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> ChunkRecord:
        record = json.loads(line)
        record["titles"] = tuple(record["titles"])
        return cls(**record)


def document_id(source: str, path: str) -> str:
    """Return the id of a document as tools show it: `<source>:<path>`."""
    return f"{source}:{path}"


def chunk_id(source: str, path: str, titles: tuple[str, ...], text: str) -> str:
    """Return a content-derived id, so an unchanged chunk keeps its id (and its embedding) when lines move."""
    digest = hashlib.sha256("\0".join((source, path, *titles, text)).encode("utf-8")).hexdigest()
    return digest[:32]


def document_hash(kind: str, text: str) -> str:
    """Return the hash that decides whether a document is chunked again."""
    return hashlib.sha256(f"{CHUNKER_VERSION}\0{kind}\0{text}".encode()).hexdigest()[:32]


def plain_text(text: str) -> str:
    """Return text with the reStructuredText markup that only adds noise removed (``literals``, :role:`x`)."""
    return _ROLE.sub(r"\1", text.replace("``", ""))


EMBEDDED_CATALOGUE_CHARS = 600
"""Characters of an error-code entry that are embedded: the code, message, category and the start of the
explanation. BM25 still indexes the whole entry; the cap halves the time of the first, default index build."""


def embedding_input(record: ChunkRecord) -> str:
    """Return the text embedded for a chunk: its title path on the first line, then its text."""
    text = plain_text(record.text)
    if record.kind == "catalogue":
        text = text[:EMBEDDED_CATALOGUE_CHARS]
    return f"{record.section}\n{text}"


@dataclass
class SourceEntry:
    """One indexed source: where it was read from and the hash of each of its documents."""

    name: str
    location: str
    kind: str
    base_url: str | None = None
    indexed_at: float = 0.0
    documents: dict[str, str] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0


@dataclass
class Manifest:
    """Index-wide state besides the chunks: the sources with their document hashes, versions and revision."""

    sources: dict[str, SourceEntry] = field(default_factory=dict)
    updated_at: float = 0.0
    chunker: str = CHUNKER_VERSION
    embedding: str = ""
    revision: int = 0
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a manifest; raises ValueError (json.JSONDecodeError, KeyError as ValueError) when it is damaged."""
        try:
            raw = json.loads(text)
            sources = {name: SourceEntry(**entry) for name, entry in raw.get("sources", {}).items()}
            return cls(
                sources=sources,
                updated_at=float(raw.get("updated_at", 0.0)),
                chunker=str(raw.get("chunker", "")),
                embedding=str(raw.get("embedding", "")),
                revision=int(raw.get("revision", 0)),
                format=int(raw.get("format", 0)),
            )
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"invalid manifest: {exc}") from exc

"""Results of the docs tools, as pydantic models so they travel as structured content with an output schema."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Passage(BaseModel):
    """One retrieved passage: a section's best-matching text with where it comes from."""

    rank: int = Field(description="1 for the best passage.")
    source: str = Field(description="Document id '<source>:<path>'; pass it to get_doc_section.")
    section: str = Field(description="Title path of the section, page title first, joined by ' > '.")
    lines: tuple[int, int] = Field(description="First and last line of the passage in the source file.")
    score: float = Field(description="Relevance from 0 to 1, comparable within one result; falls with rank.")
    matched_by: list[str] = Field(description="Rankings that found it: dense, keyword, title.")
    citation: str = Field(description="Ready-to-quote reference: section, document, lines and URL.")
    url: str | None = Field(None, description="Web address of the section, when the source has a base URL.")
    text: str
    truncated: bool = Field(False, description="True when the text is only part of its section (see get_doc_section).")


class SearchResult(BaseModel):
    query: str
    passages: list[Passage]
    total_chars: int = Field(description="Characters of passage text returned.")
    note: str | None = Field(None, description="Why the result was slow, partial or empty, and what to do.")


class DocSection(BaseModel):
    """A whole section (with its subsections) read from the index, one page at a time."""

    source: str
    section: str
    lines: tuple[int, int] = Field(description="First and last line of the whole section, on every page.")
    url: str | None = None
    subsections: list[str] = Field(default_factory=list, description="Subsection title paths, in order.")
    text: str
    offset: int = Field(description="Character offset of this page in the section text.")
    total_chars: int
    next_offset: int | None = Field(None, description="Pass as offset to read on; null at the end.")
    citation: str


class DocSource(BaseModel):
    name: str
    location: str = Field(description="Folder, file or URL it was read from.")
    kind: str = Field(description="folder, file, archive, url-page, url-archive or builtin.")
    documents: int
    chunks: int
    skipped: int = Field(description="Files left out (not UTF-8, too large, unsafe); index_status lists why.")
    indexed_at: str | None = None
    base_url: str | None = None


class DocDocument(BaseModel):
    source: str = Field(description="Document id; pass it to get_doc_section.")
    title: str
    chunks: int


class DocSourcesResult(BaseModel):
    sources: list[DocSource] = Field(default_factory=list)
    documents: list[DocDocument] = Field(default_factory=list, description="Documents of the requested source.")
    next_cursor: str | None = None
    note: str | None = None


class SkippedDocument(BaseModel):
    source: str
    path: str
    reason: str


class IndexStatus(BaseModel):
    state: str = Field(description="ready, missing, busy, error or unavailable.")
    location: str = Field(description="Index folder or Chroma server.")
    generation: str | None = None
    updated_at: str | None = None
    sources: int = 0
    documents: int = 0
    chunks: int = 0
    embedding_model: str
    model_loaded: bool
    skipped: list[SkippedDocument] = Field(default_factory=list, description="First 50 files left out, with reasons.")
    message: str | None = Field(None, description="What is wrong and how to fix it, when state is not ready.")


class IndexedSource(BaseModel):
    name: str
    documents: int
    chunks: int
    added: int
    updated: int
    removed: int
    skipped: int


class IndexResult(BaseModel):
    location: str
    sources: list[IndexedSource]
    removed_sources: list[str] = Field(default_factory=list)
    total_chunks: int
    embedded: int = Field(description="Chunks embedded in this run; unchanged chunks are reused.")
    seconds: float

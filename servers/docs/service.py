"""The docs service that the MCP tools and the terminal commands share: one open index, searched and read.

Every method blocks (model loading, Chroma, file reads), so the MCP server calls them in worker threads. The
index is reopened when an indexer has switched it to a new generation since the last call.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from servers.docs.embedding import MODEL_NAME, Embedder, shared_embedder
from servers.docs.errors import ChromaUnavailableError, DocsError, EmbeddingUnavailableError, IndexMissingError
from servers.docs.indexer import IndexReport, Progress, apply_sources, default_contents, gather_sources
from servers.docs.models import (
    DocDocument,
    DocSection,
    DocSource,
    DocSourcesResult,
    IndexedSource,
    IndexResult,
    IndexStatus,
    Passage,
    SearchResult,
    SkippedDocument,
)
from servers.docs.reading import find_document, find_section, page, render_section, section_paths
from servers.docs.records import TITLE_SEPARATOR, ChunkRecord, Manifest
from servers.docs.reranking import SectionVector
from servers.docs.retrieval import Hit, Searcher
from servers.docs.sources import SourceSpec
from servers.docs.store import BUILD_COMMAND, EmbeddedIndex, ServerIndex, open_index
from shared.config import Settings

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1000
DEFAULT_K = 5
DEFAULT_MAX_CHARS = 6000
SECTION_PAGE_CHARS = 8000
K_RANGE = (1, 10)
MAX_CHARS_RANGE = (500, 20000)
SECTION_PAGE_RANGE = (1000, 30000)
"""Accepted (minimum, maximum) of passages per search, passage characters and section page characters. The MCP
tools and the terminal commands share them."""
DOCUMENTS_PAGE = 50


STATUS_WAIT_SECONDS = 2.0
"""How long index_status waits for a call that is building or opening the index before it reports busy."""

Method = TypeVar("Method", bound=Callable[..., Any])


def _serialized(method: Method) -> Method:
    """Run a DocsService method under the service lock, so the index never switches generations during a call."""

    @functools.wraps(method)
    def wrapper(self: DocsService, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _iso(timestamp: float) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


def citation(section: str, doc_id: str, lines: tuple[int, int], url: str | None) -> str:
    """Return a reference a reader can follow: section, document, line range and web address."""
    text = f"{section} ({doc_id}, lines {lines[0]}-{lines[1]})"
    return f"{text} {url}" if url else text


class DocsService:
    """Search and read the docs index named by the settings; builds the default index on first search if needed."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or shared_embedder()
        self.store: EmbeddedIndex | ServerIndex = open_index(settings, self.embedder)
        self._lock = threading.RLock()
        self._reader: object | None = None
        self._identity: str | None = None
        self._searcher: Searcher | None = None
        self._manifest = Manifest()
        self._last_query: tuple[str, list[float]] | None = None
        self._section_cache: dict[str, list[float]] = {}

    # --- opening ---------------------------------------------------------------------------------------------

    def _open(self, *, build_default: bool, progress: Progress | None) -> list[str]:
        """Make sure the current generation is loaded; return notes about what had to happen first."""
        notes: list[str] = []
        with self._lock:
            identity = self.store.identity()
            if identity is None:
                if not build_default:
                    raise IndexMissingError(
                        f"No docs index in {self.store.description} yet. Call search_docs once to build the default "
                        f"index, or run `{BUILD_COMMAND} SOURCE...`."
                    )
                started = time.monotonic()
                logger.info("No docs index yet: building the default index (project docs and error catalogue)")
                apply_sources(self.store, self.embedder, default_contents(), progress=progress or _quiet)
                notes.append(
                    f"No docs index existed, so the default one (this project's docs and the error catalogue) was "
                    f"built first, in {time.monotonic() - started:.0f} s. Index the PanDA docs with "
                    f"`{BUILD_COMMAND} URL-or-folder` for fuller answers."
                )
                identity = self.store.identity()

            if identity != self._identity or self._searcher is None:
                self._close_reader()
                reader = self.store.open_reader()
                try:
                    manifest, chunks = reader.load()
                    self._searcher = Searcher(chunks, reader.lexical_folder, manifest.embedding)
                except BaseException:
                    reader.close()
                    raise
                self._reader, self._manifest, self._identity = reader, manifest, reader.identity
                logger.info("Opened docs index %s (%d chunks)", self._identity, len(chunks))
        return notes

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()  # type: ignore[attr-defined]
        self._searcher = None
        self._section_cache = {}

    def close(self) -> None:
        with self._lock:
            self._close_reader()

    @property
    def chunks(self) -> list[ChunkRecord]:
        return self._searcher.chunks if self._searcher else []

    # --- search ---------------------------------------------------------------------------------------------

    def _filter(self, source: str | None) -> tuple[list[str] | None, str | None]:
        """Return (source names, document id prefix) for a source filter; raises DocsError for an unknown one."""
        if not source:
            return None, None
        if source in self._manifest.sources:
            return [source], None
        # A document id, or a folder of documents: a source name, a colon, then a path up to a "/".
        name = source.split(":", 1)[0]
        if ":" in source and name in self._manifest.sources:
            if any(chunk.doc_id == source for chunk in self.chunks):
                return [name], source
            folder = source.rstrip("/") + "/"
            if any(chunk.doc_id.startswith(folder) for chunk in self.chunks):
                return [name], folder
        known = ", ".join(sorted(self._manifest.sources)) or "none"
        raise DocsError(
            f"Unknown source {source!r}. Indexed sources: {known}. Pass a source name, a document id, or omit source."
        )

    @_serialized
    def search(
        self,
        query: str,
        *,
        k: int = DEFAULT_K,
        source: str | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        progress: Progress | None = None,
        weights: dict[str, float] | None = None,
        rerank: bool = True,
    ) -> SearchResult:
        """Return up to k passages for the query, one per section, together under max_chars characters.

        `weights` replaces the fusion weights of retrieval.WEIGHTS; without a "dense" weight the model is not used.
        `rerank=False` skips the whole-section reordering (the benchmark compares both).
        """
        query = " ".join(query.split())
        if not query:
            raise DocsError("The query is empty. Ask a question or give a few keywords, e.g. 'what is a jobset'.")
        if len(query) > MAX_QUERY_CHARS:
            raise DocsError(
                f"The query has {len(query)} characters; the limit is {MAX_QUERY_CHARS}. Ask a short question or "
                "give the key terms (an error message's first line is enough)."
            )

        notes = self._open(build_default=True, progress=progress)
        names, prefix = self._filter(source)
        dense = None
        if weights is None or weights.get("dense"):
            dense, dense_notes = self._dense(names, prefix, progress)
            notes.extend(dense_notes)

        assert self._searcher is not None
        similarity = self._section_similarity if dense is not None and rerank else None
        outcome = self._searcher.search(
            query,
            k=k,
            max_chars=max_chars,
            sources=names,
            doc_prefix=prefix,
            dense=dense,
            weights=weights,
            similarity=similarity,
        )
        passages = [self._passage(rank, hit) for rank, hit in enumerate(outcome.hits, start=1)]
        if not passages:
            notes.append(
                "No passage matched. Try other words (the docs' own terms help: jobset, jediTaskID, pbook), "
                "or call list_doc_sources to see what is indexed."
            )
        return SearchResult(
            query=query,
            passages=passages,
            total_chars=sum(len(p.text) for p in passages),
            note=" ".join(notes) or None,
        )

    def _dense(
        self, names: list[str] | None, prefix: str | None, progress: Progress | None
    ) -> tuple[Callable[[str, int, Sequence[str] | None], list[tuple[str, float]]] | None, list[str]]:
        """Return the dense search function, loading the model first; None with a note when it cannot load."""
        notes: list[str] = []
        if not self.embedder.loaded:
            if progress:
                progress("loading the embedding model", 0, 1)
            try:
                self.embedder.load()
            except EmbeddingUnavailableError as exc:
                logger.warning("Dense retrieval disabled: %s", exc)
                return None, [f"Dense retrieval is unavailable ({exc}); passages come from keyword matching only."]
            notes.append(
                f"The embedding model was loaded for this query ({self.embedder.load_seconds or 0:.1f} s); "
                "later queries are faster."
            )
            if progress:
                progress("loading the embedding model", 1, 1)

        reader = self._reader
        assert reader is not None

        def dense(query: str, n: int, sources: Sequence[str] | None) -> list[tuple[str, float]]:
            # A document prefix filter keeps few chunks; ask for more neighbours so some survive it.
            return reader.query(self._query_vector(query), n * 4 if prefix else n, names)  # type: ignore[attr-defined]

        return dense, notes

    def _query_vector(self, query: str) -> list[float]:
        """Embed a query once per search: dense retrieval and section reranking both use the vector."""
        if self._last_query is None or self._last_query[0] != query:
            self._last_query = (query, self.embedder.embed([query])[0])
        return self._last_query[1]

    def _section_similarity(self, query: str, sections: Sequence[SectionVector]) -> list[float | None]:
        """Return the cosine similarity of the query to each section's vector.

        Vectors come from the index and are kept for the life of the opened generation. A section vector that the
        index lacks (an index built before section vectors existed) is embedded here once.
        """
        missing = [section.id for section in sections if section.id not in self._section_cache]
        if missing:
            self._section_cache.update(self._reader.vectors(missing))  # type: ignore[union-attr]
            unstored = [section for section in sections if section.id not in self._section_cache and section.own]
            if unstored:
                vectors = self.embedder.embed([section.text for section in unstored])
                self._section_cache.update({section.id: vector for section, vector in zip(unstored, vectors)})
        query_vector = self._query_vector(query)
        return [
            sum(a * b for a, b in zip(query_vector, self._section_cache[section.id]))
            if section.id in self._section_cache
            else None
            for section in sections
        ]

    def _passage(self, rank: int, hit: Hit) -> Passage:
        chunk = hit.first
        lines = (hit.line_start, hit.line_end)
        return Passage(
            rank=rank,
            source=chunk.doc_id,
            section=chunk.section,
            lines=lines,
            score=round(hit.score, 3),
            matched_by=hit.matched_by,
            citation=citation(chunk.section, chunk.doc_id, lines, chunk.url or None),
            url=chunk.url or None,
            text=hit.text,
            truncated=hit.truncated,
        )

    # --- reading --------------------------------------------------------------------------------------------

    @_serialized
    def get_section(
        self, source: str, section: str | None = None, *, offset: int = 0, max_chars: int = SECTION_PAGE_CHARS
    ) -> DocSection:
        """Return one page of a section's full text (with subsections), and the offset of the next page."""
        self._open(build_default=False, progress=None)
        chunks = self.chunks
        doc_id = find_document(chunks, source)
        titles = find_section(section_paths(chunks, doc_id), section, doc_id)
        rendered = render_section(chunks, doc_id, titles)
        if offset < 0 or (offset and offset >= len(rendered.text)):
            raise DocsError(
                f"Offset {offset} is outside the section text ({len(rendered.text)} characters). "
                "Pass 0 or the next_offset of the previous page."
            )
        text, next_offset = page(rendered.text, offset, max_chars)
        lines = (rendered.line_start, rendered.line_end)
        name = TITLE_SEPARATOR.join(titles)
        return DocSection(
            source=doc_id,
            section=name,
            lines=lines,
            url=rendered.url or None,
            subsections=rendered.subsections[:50],
            text=text,
            offset=offset,
            total_chars=len(rendered.text),
            next_offset=next_offset,
            citation=citation(name, doc_id, lines, rendered.url or None),
        )

    @_serialized
    def list_sources(self, source: str | None = None, *, offset: int = 0) -> DocSourcesResult:
        """Return the indexed sources, or one page of the documents of `source`."""
        try:
            self._open(build_default=False, progress=None)
        except IndexMissingError as exc:
            return DocSourcesResult(note=str(exc))

        counts: dict[str, int] = {}
        titles: dict[str, str] = {}
        for chunk in self.chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
            titles.setdefault(chunk.doc_id, chunk.titles[0] if chunk.titles else chunk.path)

        if source is None:
            sources = [
                DocSource(
                    name=entry.name,
                    location=entry.location,
                    kind=entry.kind,
                    documents=len(entry.documents),
                    chunks=entry.chunks,
                    skipped=len(entry.skipped),
                    indexed_at=_iso(entry.indexed_at),
                    base_url=entry.base_url,
                )
                for entry in sorted(self._manifest.sources.values(), key=lambda e: e.name)
            ]
            return DocSourcesResult(sources=sources)

        if source not in self._manifest.sources:
            known = ", ".join(sorted(self._manifest.sources)) or "none"
            raise DocsError(f"Unknown source {source!r}. Indexed sources: {known}.")
        doc_ids = sorted(doc_id for doc_id in counts if doc_id.split(":", 1)[0] == source)
        window = doc_ids[offset : offset + DOCUMENTS_PAGE]
        documents = [DocDocument(source=doc_id, title=titles[doc_id], chunks=counts[doc_id]) for doc_id in window]
        more = offset + DOCUMENTS_PAGE < len(doc_ids)
        return DocSourcesResult(documents=documents, next_cursor=str(offset + DOCUMENTS_PAGE) if more else None)

    def status(self) -> IndexStatus:
        """Describe the index without building anything; a missing or broken index gives a state, not a DocsError."""
        base = {"location": self.store.description, "embedding_model": MODEL_NAME, "model_loaded": self.embedder.loaded}
        if not self._lock.acquire(timeout=STATUS_WAIT_SECONDS):
            return IndexStatus(
                state="busy",
                message="Another call is building or opening the index (the first search builds it). Ask again shortly.",
                **base,
            )
        try:
            return self._status(base)
        finally:
            self._lock.release()

    def _status(self, base: dict[str, Any]) -> IndexStatus:
        try:
            self._open(build_default=False, progress=None)
        except IndexMissingError as exc:
            return IndexStatus(state="missing", message=str(exc), **base)
        except DocsError as exc:
            state = "unavailable" if isinstance(exc, ChromaUnavailableError) else "error"
            return IndexStatus(state=state, message=str(exc), **base)

        manifest = self._manifest
        skipped = [
            SkippedDocument(source=entry.name, path=item.get("path", ""), reason=item.get("reason", ""))
            for entry in manifest.sources.values()
            for item in entry.skipped
        ]
        return IndexStatus(
            state="ready",
            generation=self._identity,
            updated_at=_iso(manifest.updated_at),
            sources=len(manifest.sources),
            documents=sum(len(entry.documents) for entry in manifest.sources.values()),
            chunks=len(self.chunks),
            skipped=skipped[:50],
            **base,
        )

    # --- indexing -------------------------------------------------------------------------------------------

    @_serialized
    def known_specs(self) -> list[SourceSpec]:
        """Return the sources indexed before (other than the defaults), to refresh them all."""
        try:
            self._open(build_default=False, progress=None)
        except IndexMissingError:
            return []
        return [
            SourceSpec(entry.location, entry.name, entry.base_url)
            for entry in self._manifest.sources.values()
            if entry.kind != "builtin"
        ]

    @_serialized
    def defaults_indexed(self) -> bool:
        """Return whether the index contains the default sources, or would get them (no index yet)."""
        try:
            self._open(build_default=False, progress=None)
        except IndexMissingError:
            return True
        return any(entry.kind == "builtin" for entry in self._manifest.sources.values())

    async def index(
        self,
        specs: Sequence[SourceSpec],
        *,
        remove: Sequence[str] = (),
        rebuild: bool = False,
        include_defaults: bool = True,
        progress: Progress | None = None,
    ) -> IndexResult:
        """Read the sources, then update the index in a worker thread; returns what changed."""
        import anyio

        reserved = {"askpanda-mcp", "error-catalogue"}
        for spec in specs:
            if spec.name in reserved:
                raise DocsError(f"Source name {spec.name!r} is reserved for a default source; pass another --name.")
        contents = await gather_sources(specs, self.settings)
        if include_defaults:
            contents = [*contents, *default_contents()]

        def run() -> IndexReport:
            return apply_sources(
                self.store, self.embedder, contents, remove=remove, rebuild=rebuild, progress=progress or _quiet
            )

        report = await anyio.to_thread.run_sync(run)
        return IndexResult(
            location=report.location,
            sources=[
                IndexedSource(
                    name=item.name,
                    documents=item.documents,
                    chunks=item.chunks,
                    added=item.added,
                    updated=item.updated,
                    removed=item.removed,
                    skipped=len(item.skipped),
                )
                for item in report.sources
            ],
            removed_sources=report.removed_sources,
            total_chunks=report.total_chunks,
            embedded=report.embedded,
            seconds=round(report.seconds, 1),
        )


def _quiet(stage: str, done: int, total: int) -> None:
    return None

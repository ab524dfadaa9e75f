"""Incremental indexing: read sources, chunk them, embed only new chunks, drop chunks of deleted files.

Chunk ids are hashes of their content (source, path, title path, text). A chunk that did not change therefore
keeps its id and its embedding even when lines above it moved, and only its line metadata is updated. A source
that is indexed again replaces its previous document set, so files deleted from it leave the index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import servers
from servers.docs.documents import build_records, site_root
from servers.docs.embedding import MODEL_NAME, Embedder
from servers.docs.errorcatalog import CATALOGUE_SOURCE, catalogue_folder, read_catalogue
from servers.docs.lexical import LexicalIndex, chunk_terms
from servers.docs.records import (
    EMBEDDING_INPUT_VERSION,
    ChunkRecord,
    Manifest,
    SourceEntry,
    document_hash,
    embedding_input,
)
from servers.docs.reranking import SectionVector, section_vectors
from servers.docs.sources import (
    DocumentFile,
    SkippedFile,
    SourceContent,
    SourceSpec,
    decode,
    read_folder,
    read_source,
)
from servers.docs.store import EmbeddedIndex, EmbeddedWriter, ServerIndex, ServerWriter
from shared.config import Settings

logger = logging.getLogger(__name__)

PROJECT_SOURCE = "askpanda-mcp"
EMBED_BATCH = 256
"""Texts per encode call; the model sorts each call by length, so larger calls pad less."""
EMBEDDING_TAG = f"{MODEL_NAME}/{EMBEDDING_INPUT_VERSION}"

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) as indexing advances; stages are reading, embedding and writing."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class SourceReport:
    """Counts from indexing one source."""

    name: str
    documents: int
    chunks: int
    added: int
    updated: int
    removed: int
    skipped: list[SkippedFile] = field(default_factory=list)


@dataclass
class IndexReport:
    """The outcome of one indexing run."""

    sources: list[SourceReport]
    removed_sources: list[str]
    total_chunks: int
    embedded: int
    seconds: float
    location: str


def project_root() -> Path:
    return Path(servers.__file__).resolve().parent.parent


def default_contents() -> list[SourceContent]:
    """Return the sources indexed by default: this project's README and docs/, and the error catalogue.

    Neither needs a download. In an installed wheel the docs/ folder is absent and only the catalogue remains.
    """
    root = project_root()
    project = SourceContent(PROJECT_SOURCE, str(root), "builtin", None)
    if (root / "docs").is_dir():
        documents, skipped = read_folder(root / "docs")
        project.documents = [replace(document, path=f"docs/{document.path}") for document in documents]
        project.skipped = [replace(skip, path=f"docs/{skip.path}") for skip in skipped]
    readme = root / "README.md"
    if readme.is_file():
        result = decode("README.md", readme.read_bytes())
        if isinstance(result, DocumentFile):
            project.documents.insert(0, result)

    catalogue = SourceContent(CATALOGUE_SOURCE, str(catalogue_folder()), "builtin", None)
    catalogue.documents, catalogue.skipped = read_catalogue()
    return [content for content in (project, catalogue) if content.documents or content.skipped]


async def gather_sources(specs: Sequence[SourceSpec], settings: Settings) -> list[SourceContent]:
    """Read every named source; raises SourceError for the first one that cannot be read at all."""
    contents: list[SourceContent] = []
    for spec in specs:
        logger.info("Reading docs source %s", spec.location)
        contents.append(await read_source(spec, settings))
    return contents


def _diff(
    previous: dict[str, ChunkRecord], current: list[ChunkRecord]
) -> tuple[list[ChunkRecord], list[ChunkRecord], list[str]]:
    """Return (chunks to embed and add, chunks whose metadata changed, ids to delete)."""
    current_ids = {record.id for record in current}
    to_add = [record for record in current if record.id not in previous]
    to_update = [record for record in current if record.id in previous and previous[record.id] != record]
    to_delete = [chunk_id for chunk_id in previous if chunk_id not in current_ids]
    return to_add, to_update, to_delete


def _source_records(content: SourceContent) -> list[ChunkRecord]:
    root = site_root([document.path for document in content.documents])
    records: list[ChunkRecord] = []
    for document in content.documents:
        records.extend(build_records(content.name, document, base_url=content.base_url, root=root))
    return records


def _embed(embedder: Embedder, texts: list[str], progress: Progress, done: int, total: int) -> list[list[float]]:
    """Embed texts in batches. Progress counts from `done` towards `total`, chunks and section texts together."""
    vectors: list[list[float]] = []
    for start in range(0, len(texts), EMBED_BATCH):
        vectors.extend(embedder.embed(texts[start : start + EMBED_BATCH]))
        progress("embedding", done + min(start + EMBED_BATCH, len(texts)), total)
    return vectors


def _section_changes(
    writer: EmbeddedWriter | ServerWriter, chunks: Sequence[ChunkRecord]
) -> tuple[list[SectionVector], list[str]]:
    """Return (sections whose own vector is missing, stored section vectors no section uses any more)."""
    needed = {vector.id: vector for vector in section_vectors(chunks, EMBEDDING_TAG).values() if vector.own}
    stored = set(writer.sections.ids())
    missing = [vector for vector_id, vector in sorted(needed.items()) if vector_id not in stored]
    return missing, sorted(stored - set(needed))


def apply_sources(
    index: EmbeddedIndex | ServerIndex,
    embedder: Embedder,
    contents: Sequence[SourceContent],
    *,
    remove: Sequence[str] = (),
    rebuild: bool = False,
    progress: Progress = _no_progress,
) -> IndexReport:
    """Bring the index up to date with `contents` (each replaces its source) and drop the `remove` sources."""
    started = time.monotonic()
    writer, manifest, previous_chunks = index.open_writer(rebuild=rebuild)
    try:
        manifest = manifest or Manifest()
        if manifest.embedding and manifest.embedding != EMBEDDING_TAG:
            logger.info("Embedding changed (%s -> %s): every chunk is embedded again", manifest.embedding, EMBEDDING_TAG)
            writer.chroma.delete([record.id for record in previous_chunks])
            previous_chunks = []
            manifest.sources = {}

        by_source: dict[str, dict[str, ChunkRecord]] = {}
        for record in previous_chunks:
            by_source.setdefault(record.source, {})[record.id] = record

        reports: list[SourceReport] = []
        additions: list[ChunkRecord] = []
        for position, content in enumerate(contents):
            progress("reading", position, len(contents))
            current = _source_records(content)
            to_add, to_update, to_delete = _diff(by_source.get(content.name, {}), current)
            writer.chroma.delete(to_delete)
            writer.chroma.update_metadata(to_update)
            additions.extend(to_add)
            by_source[content.name] = {record.id: record for record in current}
            manifest.sources[content.name] = SourceEntry(
                name=content.name,
                location=content.location,
                kind=content.kind,
                base_url=content.base_url,
                indexed_at=time.time(),
                documents={d.path: document_hash(d.kind, d.text) for d in content.documents},
                skipped=[{"path": s.path, "reason": s.reason} for s in content.skipped],
                chunks=len(current),
            )
            reports.append(
                SourceReport(content.name, len(content.documents), len(current), len(to_add), len(to_update),
                             len(to_delete), list(content.skipped))
            )
            logger.info(
                "Source %s: %d documents, %d chunks (%d new, %d moved, %d removed), %d files skipped",
                content.name, len(content.documents), len(current), len(to_add), len(to_update), len(to_delete),
                len(content.skipped),
            )
        progress("reading", len(contents), len(contents))

        removed_sources = [name for name in remove if name in by_source or name in manifest.sources]
        for name in removed_sources:
            writer.chroma.delete(list(by_source.pop(name, {})))
            manifest.sources.pop(name, None)

        chunks = [record for name in sorted(by_source) for record in _ordered(by_source[name].values())]
        new_sections, stale_sections = _section_changes(writer, chunks)
        total = len(additions) + len(new_sections)
        progress("embedding", 0, total)
        vectors = _embed(embedder, [embedding_input(record) for record in additions], progress, 0, total)
        writer.chroma.add(additions, vectors)
        own_vectors = _embed(embedder, [vector.text for vector in new_sections], progress, len(additions), total)
        writer.sections.add([vector.id for vector in new_sections], own_vectors)
        writer.sections.delete(stale_sections)
        logger.info("Section vectors: %d embedded, %d removed", len(new_sections), len(stale_sections))

        progress("writing", 0, 1)
        if writer.lexical_folder is not None:
            LexicalIndex.build([chunk_terms(r.titles, r.text) for r in chunks]).save(writer.lexical_folder)
        manifest.updated_at = time.time()
        manifest.embedding = EMBEDDING_TAG
        manifest.revision += 1
        writer.commit(manifest, chunks)
        progress("writing", 1, 1)
    except BaseException:
        writer.abort()
        raise

    return IndexReport(reports, removed_sources, len(chunks), len(additions), time.monotonic() - started,
                       index.description)


def _ordered(records: Iterable[ChunkRecord]) -> list[ChunkRecord]:
    return sorted(records, key=lambda record: (record.path, record.ordinal))

"""Whole-section reranking: the order it gives, the section vectors the indexer keeps, and their use in search."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest

from servers.docs.indexer import EMBEDDING_TAG
from servers.docs.models import IndexResult
from servers.docs.records import ChunkRecord
from servers.docs.reranking import SECTION_ID_PREFIX, SectionVector, rerank, section_vectors
from servers.docs.retrieval import Searcher
from servers.docs.service import DocsService
from servers.docs.sources import SourceSpec
from servers.docs.store import SECTION_COLLECTION, EmbeddedIndex, chroma_settings
from shared.config import Settings
from tests.docs_support import HashEmbedder

PARAGRAPH = (
    "The brokerage weighs every candidate PanDA queue by the free slots it reports, the data it already holds and "
    "the jobs that wait for it there, then picks one queue for each job with a probability that follows the "
    "weights. Paragraph {n} of the long section adds nothing new, only words."
)

GUIDE = """Operations guide
================

Brokerage
---------

{paragraphs}

Heartbeats
----------

A pilot sends a heartbeat every few minutes while its job runs.
"""


def _chunk(path: str, titles: tuple[str, ...], ordinal: int, text: str) -> ChunkRecord:
    return ChunkRecord(
        id=f"{ordinal:032x}",
        source="site",
        path=path,
        kind="rst",
        titles=titles,
        section_line=1,
        line_start=ordinal * 10 + 1,
        line_end=ordinal * 10 + 5,
        ordinal=ordinal,
        text=text,
        url="",
        doc_hash="d",
    )


def test_rerank_combines_fused_and_similarity_ranks() -> None:
    order = ["a", "b", "c", "d", "e", "f"]
    similarity = {"a": 0.1, "b": 0.9, "c": 0.5, "d": 0.4, "e": 0.3, "f": 1.0}

    reordered = rerank(order, similarity, depth=5)

    # b is second by fusion and first by similarity, so it leads. a is first by fusion but last by similarity, so
    # c (third and second) passes it too. f is outside the window and stays where it was.
    assert reordered == ["b", "c", "a", "d", "e", "f"]


def test_rerank_ties_keep_fused_order() -> None:
    order = ["a", "b", "c"]

    assert rerank(order, {}) == order
    assert rerank(order, {"a": 0.5, "b": 0.5, "c": 0.5}) == order
    # A section without a vector ranks last by similarity, so it gives way to those that have one.
    assert rerank(order, {"b": 0.2, "c": 0.1}) == ["b", "a", "c"]


def test_one_chunk_sections_reuse_the_chunk_vector() -> None:
    short = _chunk("guide.rst", ("Guide", "Short"), 0, "One paragraph.")
    long_parts = [_chunk("guide.rst", ("Guide", "Long"), n, f"Part {n} of the long section.") for n in (1, 2, 3)]

    vectors = section_vectors([short, *long_parts], "model/1")

    assert vectors[("site:guide.rst", ("Guide", "Short"))] == SectionVector(short.id)
    own = vectors[("site:guide.rst", ("Guide", "Long"))]
    assert own.id.startswith(SECTION_ID_PREFIX)
    assert own.text.startswith("Guide > Long\nPart 1 of the long section.")
    assert own.text.index("Part 2") < own.text.index("Part 3")
    assert section_vectors(list(reversed(long_parts)), "model/1")[("site:guide.rst", ("Guide", "Long"))] == own
    assert section_vectors(long_parts, "model/2")[("site:guide.rst", ("Guide", "Long"))].id != own.id


def test_searcher_reorders_the_first_sections_by_similarity() -> None:
    chunks = [
        _chunk("guide.rst", ("Guide", "Queues"), 0, "Queue weights decide where a job goes."),
        _chunk("guide.rst", ("Guide", "Brokerage"), 1, "Brokerage picks a queue by its weights."),
        _chunk("guide.rst", ("Guide", "Shares"), 2, "Global shares split the resources; a queue has a share."),
    ]
    searcher = Searcher(chunks)
    fits = {chunks[0].id: 0.1, chunks[1].id: 0.9, chunks[2].id: 0.5}
    calls: list[Sequence[SectionVector]] = []

    def similarity(query: str, sections: Sequence[SectionVector]) -> list[float | None]:
        calls.append(sections)
        return [fits[section.id] for section in sections]

    plain = searcher.search("queue weights", k=3, max_chars=2000)
    reranked = searcher.search("queue weights", k=1, max_chars=2000, similarity=similarity)

    assert [hit.first.titles[-1] for hit in plain.hits] == ["Queues", "Brokerage", "Shares"]
    # With k=1 the window still covers the first RERANK_DEPTH sections, so a better-fitting one can win.
    assert len(calls[0]) == 3
    assert [hit.first.titles[-1] for hit in reranked.hits] == ["Brokerage"]


def test_scores_fall_with_rank_after_rerank() -> None:
    chunks = [
        _chunk("guide.rst", ("Guide", "Queues"), 0, "Queue weights decide where a job goes."),
        _chunk("guide.rst", ("Guide", "Brokerage"), 1, "Brokerage picks a queue by its weights."),
        _chunk("guide.rst", ("Guide", "Shares"), 2, "Global shares split the resources; a queue has a share."),
    ]
    fits = {chunks[0].id: 0.1, chunks[1].id: 0.9, chunks[2].id: 0.5}
    plain = Searcher(chunks).search("queue weights", k=3, max_chars=2000)
    before = {hit.first.titles[-1]: hit.score for hit in plain.hits}

    reranked = Searcher(chunks).search(
        "queue weights", k=3, max_chars=2000, similarity=lambda query, sections: [fits[s.id] for s in sections]
    )

    scores = [hit.score for hit in reranked.hits]
    assert [hit.first.titles[-1] for hit in reranked.hits][0] == "Brokerage"
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == before["Queues"]


@pytest.fixture
def guide(tmp_path: Path) -> Path:
    folder = tmp_path / "guide"
    folder.mkdir()
    paragraphs = "\n\n".join(PARAGRAPH.format(n=n) for n in range(1, 5))
    (folder / "operations.rst").write_text(GUIDE.format(paragraphs=paragraphs), encoding="utf-8")
    return folder


def _index(service: DocsService, folder: Path) -> IndexResult:
    return anyio.run(lambda: service.index([SourceSpec(str(folder), "guide")], include_defaults=False))


def _stored_section_ids(index_dir: Path) -> set[str]:
    import chromadb

    generation = EmbeddedIndex(index_dir, HashEmbedder()).current()
    assert generation is not None
    client = chromadb.PersistentClient(path=str(generation / "chroma"), settings=chroma_settings())
    try:
        return set(client.get_collection(SECTION_COLLECTION).get(include=[])["ids"])
    finally:
        client.close()


def test_indexer_keeps_one_vector_per_long_section(tmp_path: Path, guide: Path) -> None:
    embedder = HashEmbedder()
    service = DocsService(Settings(docs_index_dir=tmp_path / "index"), embedder)

    first = _index(service, guide)
    service.search("brokerage", k=1)
    long_sections = [vector for vector in section_vectors(service.chunks, EMBEDDING_TAG).values() if vector.own]
    service.close()

    assert len(long_sections) == 1
    assert embedder.embedded == first.embedded + 2  # the chunks, the long section and the query
    assert _stored_section_ids(tmp_path / "index") == {long_sections[0].id}

    again = _index(service, guide)
    assert again.embedded == 0
    assert embedder.embedded == first.embedded + 2

    page = guide / "operations.rst"
    page.write_text(page.read_text(encoding="utf-8").replace("Paragraph 4", "The fourth paragraph"), encoding="utf-8")
    _index(service, guide)
    service.close()
    changed = _stored_section_ids(tmp_path / "index")
    assert len(changed) == 1
    assert changed != {long_sections[0].id}


def test_search_reads_section_vectors_from_the_index(tmp_path: Path, guide: Path) -> None:
    embedder = HashEmbedder()
    service = DocsService(Settings(docs_index_dir=tmp_path / "index"), embedder)
    _index(service, guide)
    before = embedder.embedded

    result = service.search("how does the brokerage pick a queue for each job", k=2)

    assert result.passages[0].section == "Operations guide > Brokerage"
    assert embedder.embedded == before + 1  # the query only


def test_index_without_section_vectors_embeds_them_once(tmp_path: Path, guide: Path) -> None:
    import chromadb

    embedder = HashEmbedder()
    settings = Settings(docs_index_dir=tmp_path / "index")
    service = DocsService(settings, embedder)
    _index(service, guide)
    service.close()
    # An index built before section vectors existed has no section collection.
    generation = EmbeddedIndex(settings.docs_index_dir, embedder).current()
    assert generation is not None
    client = chromadb.PersistentClient(path=str(generation / "chroma"), settings=chroma_settings())
    client.delete_collection(SECTION_COLLECTION)
    client.close()
    before = embedder.embedded

    first = service.search("how does the brokerage pick a queue for each job", k=2)
    after_first = embedder.embedded
    service.search("brokerage weights of a queue", k=2)

    assert first.passages[0].section == "Operations guide > Brokerage"
    assert after_first == before + 2  # the query and the long section
    assert embedder.embedded == after_first + 1  # the query; the section vector was kept


def test_thin_parent_section_goes_after_the_others() -> None:
    chunks = [
        _chunk("guide.rst", ("Guide", "Plugins"), 0, "Harvester plugins."),
        _chunk("guide.rst", ("Guide", "Plugins", "Error codes"), 1, "A plugin sets an error code on the worker."),
        _chunk("guide.rst", ("Guide", "Queues"), 2, "Queue settings of the plugins live in a JSON file."),
    ]

    hits = Searcher(chunks).search("harvester plugins", k=3, max_chars=2000).hits

    assert [hit.first.titles[-1] for hit in hits][-1] == "Plugins"
    assert len(hits) == 3


def test_spare_budget_goes_to_the_best_cut_passage() -> None:
    brokerage = "Brokerage weighs each queue by its free slots and data. " * 9
    shares = "Global shares split the resources between activities. " * 9
    chunks = [
        _chunk("guide.rst", ("Guide", "Brokerage"), 0, brokerage),
        _chunk("guide.rst", ("Guide", "Brokerage"), 1, brokerage.replace("queue", "site")),
        _chunk("guide.rst", ("Guide", "Shares"), 2, shares),
        _chunk("guide.rst", ("Guide", "Shares"), 3, shares.replace("resources", "slots")),
    ]

    hits = Searcher(chunks).search("brokerage slots", k=2, max_chars=1600).hits

    # Each section needs about 1000 characters and gets 800 at first: one chunk each, 600 left over.
    assert [hit.first.titles[-1] for hit in hits] == ["Brokerage", "Shares"]
    assert len(hits[0].chunks) == 2
    assert hits[0].truncated is False
    assert len(hits[1].chunks) == 1
    assert hits[1].truncated is True
    assert sum(len(hit.text) for hit in hits) < 1600

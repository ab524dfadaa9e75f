"""A second look at the best sections: how well does the whole section, not one chunk of it, fit the query?

Chunks are small so that they match precisely, but a small chunk can share a question's words while its section
is about something else. The first RERANK_DEPTH sections of the fused ranking are therefore ranked again by the
cosine similarity between the query and an embedding of the whole section: its title path and the start of its
text. Reciprocal rank fusion then combines the two orders. Reranking changes the order of those sections only,
never which sections are returned.

A section of one chunk reuses that chunk's vector. A longer section has a vector of its own: the indexer computes
it and stores it under a content-derived id, as it does for chunks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from servers.docs.records import ChunkRecord, plain_text

RERANK_DEPTH = 5
"""Sections of the fused ranking that are ordered again. Deeper windows let weak sections climb too far."""

RERANK_WEIGHT = 1.0
"""Weight of the section-similarity order against the fused order (which has weight 1)."""

RERANK_RRF_K = 20

SECTION_INPUT_CHARS = 2000
"""Characters of a section's text that are embedded. The model reads at most 256 word pieces (max_seq_length in
its sentence_bert_config.json), which English prose fills in fewer characters than this (an estimate)."""

SECTION_INPUT_VERSION = "sections-1"
"""Part of every section vector id: changing how section texts are built gives every section a new vector."""

SECTION_ID_PREFIX = "s-"
"""Prefix of section vector ids. Chunk ids are plain hexadecimal digests, so the two never collide."""

SectionKey = tuple[str, tuple[str, ...]]
"""A section as the searcher groups chunks: (document id, title path)."""

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class SectionVector:
    """The vector source of one section: a chunk's vector (`text` empty) or an embedding of its own text."""

    id: str
    text: str = ""

    @property
    def own(self) -> bool:
        return bool(self.text)


def section_vectors(chunks: Sequence[ChunkRecord], embedding_tag: str) -> dict[SectionKey, SectionVector]:
    """Return the vector source of every section in the chunks.

    The id of a section's own vector hashes the embedding model tag and the embedded text, so an unchanged section
    keeps its vector across index runs and a changed model or section text gets a new one.
    """
    groups: dict[SectionKey, list[ChunkRecord]] = {}
    for chunk in chunks:
        groups.setdefault((chunk.doc_id, chunk.titles), []).append(chunk)

    result: dict[SectionKey, SectionVector] = {}
    for key, members in groups.items():
        if len(members) == 1:
            result[key] = SectionVector(members[0].id)
            continue
        members.sort(key=lambda chunk: chunk.ordinal)
        text = plain_text("\n\n".join(chunk.text for chunk in members))[:SECTION_INPUT_CHARS]
        embedded = f"{members[0].section}\n{text}"
        digest = hashlib.sha256(
            "\0".join((SECTION_INPUT_VERSION, embedding_tag, key[0], embedded)).encode("utf-8")
        ).hexdigest()
        result[key] = SectionVector(SECTION_ID_PREFIX + digest[:30], embedded)
    return result


def rerank(order: Sequence[Key], similarity: Mapping[Key, float], *, depth: int = RERANK_DEPTH) -> list[Key]:
    """Return `order` with its first `depth` items ordered by fused rank and similarity rank together.

    An item with no similarity ranks last by similarity. Ties keep the fused order.
    """
    window = list(order[:depth])
    by_similarity = sorted(window, key=lambda key: -similarity.get(key, -2.0))
    similarity_rank = {key: rank for rank, key in enumerate(by_similarity)}
    score = {
        key: 1 / (RERANK_RRF_K + rank + 1) + RERANK_WEIGHT / (RERANK_RRF_K + similarity_rank[key] + 1)
        for rank, key in enumerate(window)
    }
    return sorted(window, key=lambda key: -score[key]) + list(order[depth:])

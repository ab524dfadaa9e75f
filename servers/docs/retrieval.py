"""Hybrid retrieval: dense (all-MiniLM-L6-v2 in Chroma), BM25 over chunks, and BM25 over section titles.

The three rankings are fused by weighted reciprocal rank fusion, chunk by chunk, and a section ranks where its
best chunk does. The first few sections are then ordered again by how well each whole section fits the query
(reranking.py). Hits from one section become one passage: the best chunk, joined with the section's other hits
and neighbouring chunks while the passage budget allows. Chunks are small (a few hundred characters) so that
they match precisely; passages are grown from them so that they read well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from servers.docs.lexical import LexicalIndex, chunk_terms, title_terms, tokenize
from servers.docs.records import ChunkRecord
from servers.docs.reranking import RERANK_DEPTH, SectionKey, SectionVector, rerank, section_vectors

logger = logging.getLogger(__name__)

CANDIDATES = 50
"""Chunks taken from each ranking before fusion."""

RRF_K = 20
"""Reciprocal rank fusion constant: a hit at rank r adds weight / (RRF_K + r)."""

WEIGHTS = {"dense": 1.0, "keyword": 0.3, "title": 0.5}
"""Fusion weights: the dense ranking leads; keywords and section titles correct it on exact terms."""

CORRECTED_TERM_WEIGHT = 0.5

THIN_SECTION_CHARS = 100
"""A section with subsections and less of its own text than this (an introductory line) comes after the others."""

DenseSearch = Callable[[str, int, Sequence[str] | None], list[tuple[str, float]]]
"""Returns up to n (chunk id, similarity) pairs for a query, optionally only from the given sources."""

SectionSimilarity = Callable[[str, Sequence[SectionVector]], list[float | None]]
"""Returns the cosine similarity between a query and each section vector, None where it is not known."""


@dataclass
class Hit:
    """One passage before it becomes a tool result."""

    chunks: list[ChunkRecord]
    score: float
    matched_by: list[str]
    text: str
    truncated: bool

    @property
    def first(self) -> ChunkRecord:
        return self.chunks[0]

    @property
    def line_start(self) -> int:
        return min(chunk.line_start for chunk in self.chunks)

    @property
    def line_end(self) -> int:
        return max(chunk.line_end for chunk in self.chunks)


@dataclass
class SearchOutcome:
    hits: list[Hit]
    notes: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)


def _top(scores: object, limit: int, allowed: set[int] | None) -> list[int]:
    import numpy as np

    array = np.asarray(scores)
    order = np.argsort(-array, kind="stable")
    ranked: list[int] = []
    for index in order:
        if array[index] <= 0:
            break
        if allowed is None or int(index) in allowed:
            ranked.append(int(index))
            if len(ranked) >= limit:
                break
    return ranked


def _ranked(items: list[int]) -> list[tuple[int, int]]:
    return [(item, rank) for rank, item in enumerate(items)]


def fuse(
    rankings: dict[str, list[tuple[int, int]]], weights: dict[str, float], k: int | None = None
) -> list[tuple[int, float, list[str]]]:
    """Return (item, fused score, names of the rankings that contain it), best first.

    Each ranking lists (item, rank) pairs with 0 for the best rank; tied items share a rank.
    """
    k = RRF_K if k is None else k
    scores: dict[int, float] = {}
    matched: dict[int, list[str]] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 0.0)
        for item, rank in ranking:
            scores[item] = scores.get(item, 0.0) + weight / (k + rank + 1)
            matched.setdefault(item, []).append(name)
    order = sorted(scores, key=lambda item: (-scores[item], item))
    return [(item, scores[item], matched[item]) for item in order]


class Searcher:
    """Ranks the chunks of one index generation; built once per generation and reused for every query."""

    def __init__(self, chunks: list[ChunkRecord], lexical_folder: Path | None = None, embedding_tag: str = "") -> None:
        self.chunks = chunks
        self.position = {chunk.id: index for index, chunk in enumerate(chunks)}
        self._by_document: dict[str, list[int]] = {}
        for index, chunk in enumerate(chunks):
            self._by_document.setdefault(chunk.doc_id, []).append(index)
        for indexes in self._by_document.values():
            indexes.sort(key=lambda index: chunks[index].ordinal)

        # Titles are ranked per section; every chunk of a section shares the section's title rank.
        sections: dict[tuple[str, tuple[str, ...]], int] = {}
        self.section_of = [sections.setdefault((c.doc_id, c.titles), len(sections)) for c in chunks]
        self.section_chunks: list[list[int]] = [[] for _ in sections]
        for index, section in enumerate(self.section_of):
            self.section_chunks[section].append(index)
        self.lexical = self._lexical(lexical_folder)
        self.titles = LexicalIndex.build([title_terms(titles) for _, titles in sections])
        # The tag must be the one the index was built with, so that section vector ids match the stored ones.
        self.section_vectors = section_vectors(chunks, embedding_tag)
        self.thin_sections = self._thin_sections(sections)

    def _thin_sections(self, sections: dict[SectionKey, int]) -> set[SectionKey]:
        """Return the sections that have subsections and fewer than THIN_SECTION_CHARS characters of their own."""
        parents = {(doc_id, titles[:depth]) for doc_id, titles in sections for depth in range(1, len(titles))}
        return {
            key
            for key, section in sections.items()
            if key in parents and sum(len(self.chunks[index].text) for index in self.section_chunks[section]) < THIN_SECTION_CHARS
        }

    def _lexical(self, folder: Path | None) -> LexicalIndex:
        if folder is not None and folder.is_dir():
            try:
                return LexicalIndex.load(folder, len(self.chunks))
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("Rebuilding the BM25 index in memory, the saved one in %s is unusable: %s", folder, exc)
        return LexicalIndex.build([chunk_terms(chunk.titles, chunk.text) for chunk in self.chunks])

    def allowed(self, sources: Sequence[str] | None, doc_prefix: str | None = None) -> set[int] | None:
        """Return the chunk positions a filter keeps (by source name, and by document id prefix), None for all."""
        if not sources and not doc_prefix:
            return None
        source_names = set(sources or ())
        return {
            index
            for index, chunk in enumerate(self.chunks)
            if (not source_names or chunk.source in source_names) and (not doc_prefix or chunk.doc_id.startswith(doc_prefix))
        }

    def rank(
        self,
        query: str,
        *,
        sources: Sequence[str] | None = None,
        doc_prefix: str | None = None,
        dense: DenseSearch | None = None,
        weights: dict[str, float] | None = None,
    ) -> tuple[list[tuple[int, float, list[str]]], list[str]]:
        """Return the fused chunk ranking for a query and the query's index terms.

        `weights` replaces the fusion weights (the benchmark ranks by one signal alone with it).
        """
        allowed = self.allowed(sources, doc_prefix)
        terms = tokenize(query)
        corrected = self.lexical.correct(terms)
        term_weights = [1.0 if fixed == original else CORRECTED_TERM_WEIGHT for fixed, original in zip(corrected, terms)]

        rankings: dict[str, list[tuple[int, int]]] = {
            "keyword": _ranked(_top(self.lexical.scores(corrected, term_weights), CANDIDATES, allowed)),
            "title": self._title_ranking(corrected, term_weights, allowed),
        }
        if dense is not None:
            found = [self.position[chunk_id] for chunk_id, _ in dense(query, CANDIDATES, sources)]
            rankings["dense"] = _ranked([i for i in found if allowed is None or i in allowed])
        weights = WEIGHTS if weights is None else weights
        return fuse({name: ranking for name, ranking in rankings.items() if weights.get(name)}, weights), corrected

    def _title_ranking(
        self, terms: list[str], weights: list[float], allowed: set[int] | None
    ) -> list[tuple[int, int]]:
        ranking: list[tuple[int, int]] = []
        for rank, section in enumerate(_top(self.titles.scores(terms, weights), CANDIDATES, None)):
            ranking.extend(
                (index, rank) for index in self.section_chunks[section] if allowed is None or index in allowed
            )
        return ranking

    def search(
        self,
        query: str,
        *,
        k: int,
        max_chars: int,
        sources: Sequence[str] | None = None,
        doc_prefix: str | None = None,
        dense: DenseSearch | None = None,
        weights: dict[str, float] | None = None,
        similarity: SectionSimilarity | None = None,
    ) -> SearchOutcome:
        """Return up to k passages, one per section, whose texts together stay under `max_chars` characters.

        With `similarity`, the first RERANK_DEPTH sections are reordered by whole-section similarity.
        """
        weights = WEIGHTS if weights is None else weights
        ranking, terms = self.rank(query, sources=sources, doc_prefix=doc_prefix, dense=dense, weights=weights)
        weight_total = sum(weight for name, weight in weights.items() if dense is not None or name != "dense")
        best_possible = weight_total / (RRF_K + 1)

        order, groups = self._sections(ranking, query, k, similarity)
        hits = self._passages(order, groups, max_chars, best_possible)
        # A section the rerank moved up takes the score of the best one it passed, so scores fall with rank.
        for position in range(len(hits) - 2, -1, -1):
            hits[position].score = max(hits[position].score, hits[position + 1].score)
        return SearchOutcome(hits, terms=terms)

    def _sections(
        self,
        ranking: list[tuple[int, float, list[str]]],
        query: str,
        k: int,
        similarity: SectionSimilarity | None,
    ) -> tuple[list[SectionKey], dict[SectionKey, list[tuple[int, float, list[str]]]]]:
        """Return the k best sections in order and, for each, its ranked chunks."""
        collect = max(k, RERANK_DEPTH) if similarity is not None else k
        groups: dict[SectionKey, list[tuple[int, float, list[str]]]] = {}
        order: list[SectionKey] = []
        substantial = 0
        for item in ranking:
            chunk = self.chunks[item[0]]
            key = (chunk.doc_id, chunk.titles)
            if key not in groups:
                if substantial >= collect:
                    continue
                order.append(key)
                groups[key] = []
                substantial += key not in self.thin_sections
            groups[key].append(item)
        if similarity is not None and len(order) > 1:
            window = order[:RERANK_DEPTH]
            scores = similarity(query, [self.section_vectors[key] for key in window])
            known = {key: score for key, score in zip(window, scores) if score is not None}
            if known:
                order = rerank(order, known)
        # A parent section with only a line of its own text before its subsections adds little beyond its title.
        order = [key for key in order if key not in self.thin_sections] + [key for key in order if key in self.thin_sections]
        return order[:k], groups

    def _passages(
        self,
        order: list[SectionKey],
        groups: dict[SectionKey, list[tuple[int, float, list[str]]]],
        max_chars: int,
        best_possible: float,
    ) -> list[Hit]:
        """Return one passage per section, sharing `max_chars` characters between them."""
        needs = []
        for key in order:
            run = self._section_run(groups[key][0][0])
            needs.append(sum(len(self.chunks[index].text) + 2 for index in run) - 2)
        hits = [
            self._passage(groups[key], budget, best_possible)
            for key, budget in zip(order, share_budget(needs, max_chars - 1))
        ]
        # Passages grow by whole chunks, so some budget is left over. It goes to passages that were cut, best first.
        spare = max_chars - 1 - sum(len(hit.text) for hit in hits)
        for position, key in enumerate(order):
            if spare <= 0:
                break
            if len(hits[position].text) < needs[position]:
                grown = self._passage(groups[key], len(hits[position].text) + spare, best_possible)
                spare -= len(grown.text) - len(hits[position].text)
                hits[position] = grown
        return hits

    def _passage(self, items: list[tuple[int, float, list[str]]], budget: int, best_possible: float) -> Hit:
        """Grow a passage from the best chunk of a section: its other hits first, then neighbours after and before."""
        best_index, best_score, _ = items[0]
        best = self.chunks[best_index]
        siblings = self._section_run(best_index)
        hit_set = {item[0] for item in items}
        matched = sorted({name for item in items for name in item[2]})

        chosen = [best_index]
        size = len(best.text)
        place = siblings.index(best_index)
        low, high = place, place
        while True:
            candidates = []
            if high + 1 < len(siblings):
                candidates.append(("after", siblings[high + 1]))
            if low - 1 >= 0:
                candidates.append(("before", siblings[low - 1]))
            # Prefer a neighbour that was itself a hit, then the following text, which usually continues the best one.
            candidates.sort(key=lambda candidate: (candidate[1] not in hit_set, candidate[0] != "after"))
            grown = False
            for direction, index in candidates:
                extra = len(self.chunks[index].text) + 2
                if size + extra <= budget:
                    chosen.append(index)
                    size += extra
                    if direction == "after":
                        high += 1
                    else:
                        low -= 1
                    grown = True
                    break
            if not grown:
                break

        records = [self.chunks[i] for i in sorted(chosen, key=lambda i: self.chunks[i].ordinal)]
        text = "\n\n".join(record.text for record in records)
        truncated = len(chosen) < len(siblings)
        if len(text) > budget:
            text = _cut(text, budget)
            truncated = True
        return Hit(records, min(best_score / best_possible, 1.0), matched, text, truncated)

    def _section_run(self, index: int) -> list[int]:
        """Return the consecutive chunks of the document that share this chunk's title path, in order.

        Two sections with the same title path are kept apart, so a passage never spans the text between them.
        """
        document = self._by_document[self.chunks[index].doc_id]
        titles = self.chunks[index].titles
        place = document.index(index)
        start, end = place, place
        while start > 0 and self.chunks[document[start - 1]].titles == titles:
            start -= 1
        while end + 1 < len(document) and self.chunks[document[end + 1]].titles == titles:
            end += 1
        return document[start : end + 1]


def share_budget(needs: Sequence[int], total: int) -> list[int]:
    """Split `total` characters among passages that could use `needs` characters each.

    A passage that needs less than an equal share gets what it needs, and what it leaves goes to the others, so
    short sections do not waste the budget that a long top section could use.
    """
    budgets = [0] * len(needs)
    pending = list(range(len(needs)))
    remaining = total
    while pending:
        share = remaining // len(pending)
        small = [index for index in pending if needs[index] <= share]
        if not small:
            for index in pending:
                budgets[index] = share
            break
        for index in small:
            budgets[index] = needs[index]
            remaining -= needs[index]
        pending = [index for index in pending if needs[index] > share]
    return budgets


def _cut(text: str, limit: int) -> str:
    """Return at most `limit` characters of text, ending at a line break when one is near, with an ellipsis mark."""
    marker = " [...]"
    room = max(limit - len(marker), 0)
    cut = text[:room]
    newline = cut.rfind("\n")
    if newline > room * 0.6:
        cut = cut[:newline]
    return cut.rstrip() + marker

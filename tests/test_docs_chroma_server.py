"""The same retrieval checks against a Chroma server started on 127.0.0.1, and a Chroma server that is down."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from servers.docs.errors import DocsError
from servers.docs.service import DocsService
from servers.docs.sources import SourceSpec
from shared.config import Settings
from tests.docs_support import SITE, HashEmbedder

pytestmark = pytest.mark.slow


def _chroma_binary() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else shutil.which("chroma")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = _chroma_binary()
    if binary is None:
        pytest.skip("the chroma command is not installed (pip install chromadb provides it)")
    port = _free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [binary, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(folder / "data")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chroma run did not start: {(folder / 'server.log').read_text(errors='replace')[-2000:]}")
                time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    return copy


@pytest.fixture
def service(chroma_port: int, tmp_path: Path, site: Path) -> DocsService:
    settings = Settings(chroma_host="127.0.0.1", chroma_port=chroma_port, docs_index_dir=tmp_path / "unused")
    service = DocsService(settings, HashEmbedder())
    anyio.run(lambda: service.index([SourceSpec(str(site), "site")], include_defaults=False, rebuild=True))
    return service


def test_search_on_chroma_server(service: DocsService) -> None:
    result = service.search("how do I retry only the failed jobs of my task?", k=3)

    assert result.passages[0].section == "Managing your tasks > Overview > Retrying failed jobs"
    assert service.status().location.startswith("Chroma server 127.0.0.1:")
    assert service.status().state == "ready"


def test_source_filter_and_section_on_chroma_server(service: DocsService) -> None:
    found = service.search("jobs", source="site:notes/faq.md")
    section = service.get_section("site:docs/source/client/bookkeeping.rst", "Overview")

    assert {p.source for p in found.passages} == {"site:notes/faq.md"}
    assert "## Killing a task" in section.text


def test_server_chunk_order_matches_embedded(chroma_port: int, site: Path, tmp_path: Path) -> None:
    # Chroma returns chunks in the order they were added; "zsite" is added before "asite" here.
    specs = [SourceSpec(str(site), "zsite"), SourceSpec(str(site / "notes"), "asite")]
    server_settings = Settings(chroma_host="127.0.0.1", chroma_port=chroma_port, docs_index_dir=tmp_path / "unused")
    on_server = DocsService(server_settings, HashEmbedder())
    anyio.run(lambda: on_server.index(specs, include_defaults=False, rebuild=True))
    embedded = DocsService(Settings(docs_index_dir=tmp_path / "embedded"), HashEmbedder())
    anyio.run(lambda: embedded.index(specs, include_defaults=False))

    from_server = on_server.search("why do jobs go back to the queue", k=5)
    local = embedded.search("why do jobs go back to the queue", k=5)

    # Ranking ties fall to chunk order, so the same order gives the same passages.
    assert [chunk.id for chunk in on_server.chunks] == [chunk.id for chunk in embedded.chunks]
    assert from_server.passages == local.passages


def test_incremental_on_chroma_server(service: DocsService, site: Path) -> None:
    again = anyio.run(lambda: service.index([SourceSpec(str(site), "site")], include_defaults=False))
    (site / "notes" / "faq.md").unlink()
    removed = anyio.run(lambda: service.index([SourceSpec(str(site), "site")], include_defaults=False))

    assert again.embedded == 0
    assert removed.sources[0].documents == 5
    assert all(chunk.path != "notes/faq.md" for chunk in service.chunks)
    assert all("faq.md" not in p.source for p in service.search("going back to the queue").passages)


def test_section_vectors_on_chroma_server(chroma_port: int, tmp_path: Path) -> None:
    guide = tmp_path / "guide"
    guide.mkdir()
    paragraph = "Paragraph {n}: the brokerage weighs each queue by free slots and data. " * 4
    brokerage = "\n\n".join(paragraph.format(n=n) for n in range(4))
    heartbeats = "A pilot reports on its queue."
    page = f"Guide\n=====\n\nBrokerage\n---------\n\n{brokerage}\n\nHeartbeats\n----------\n\n{heartbeats}\n"
    (guide / "operations.rst").write_text(page, encoding="utf-8")
    embedder = HashEmbedder()
    settings = Settings(chroma_host="127.0.0.1", chroma_port=chroma_port, docs_index_dir=tmp_path / "unused")
    service = DocsService(settings, embedder)
    result = anyio.run(lambda: service.index([SourceSpec(str(guide), "guide")], include_defaults=False, rebuild=True))
    before = embedder.embedded

    found = service.search("how does the brokerage weigh a queue", k=2)

    assert result.total_chunks > 1
    assert embedder.embedded == before + 1  # the query; the section vector came from the server
    assert [passage.section for passage in found.passages] == ["Guide > Brokerage", "Guide > Heartbeats"]


def test_chroma_server_down(tmp_path: Path) -> None:
    settings = Settings(chroma_host="127.0.0.1", chroma_port=_free_port(), docs_index_dir=tmp_path / "unused")
    service = DocsService(settings, HashEmbedder())

    status = service.status()

    assert status.state == "unavailable"
    assert "unset ASKPANDA_CHROMA_HOST" in (status.message or "")
    with pytest.raises(DocsError, match="cannot be reached"):
        service.search("jobset")


def test_chroma_server_never_replies(tmp_path: Path) -> None:
    # A listening socket that never accepts: connections succeed, and no byte ever comes back.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = int(listener.getsockname()[1])
        settings = Settings(
            chroma_host="127.0.0.1",
            chroma_port=port,
            docs_index_dir=tmp_path / "unused",
            connect_timeout=0.5,
            read_timeout=0.5,
        )
        service = DocsService(settings, HashEmbedder())
        started = time.monotonic()

        status = service.status()
        with pytest.raises(DocsError, match="did not reply within 0.5 s"):
            service.search("jobset")

    assert status.state == "unavailable"
    assert "ASKPANDA_READ_TIMEOUT" in (status.message or "")
    assert time.monotonic() - started < 10


def test_chroma_client_gets_our_timeouts(service: DocsService) -> None:
    service.search("jobset", k=1)

    # The session is private to chromadb, so this test guards the NOTE in store._limit_session.
    session = service.store._client._server._session  # type: ignore[union-attr]
    assert session.timeout.read == service.settings.read_timeout
    assert session.timeout.connect == service.settings.connect_timeout


"""Hostile locations: path traversal and symlink escapes from the allowed log folders, archive members that point
outside, and URLs or redirects to hosts outside the allow-list, through an in-memory MCP client.

Every case must end in a ToolError that names the location (or a report that skips the bad part with a note),
must never return the content of a file outside the log folders, and must never contact a host outside the
allow-list. "localhost" below is such a host: the fakes are allowed as 127.0.0.1 only.
"""

from __future__ import annotations

import io
import os
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from tests.e2e_support import (
    CRIC_FIXTURE,
    FakeServices,
    build_in_memory,
    check_structured_result,
    check_tool_error,
    fake_services,
    point_settings_at,
    result_text,
)
from tests.fake_bigpanda import FakeBigPanda
from tests.fakeserver import FakeHTTPServer, FakeResponse

pytestmark = pytest.mark.anyio

SECRET = "askpanda-secret-outside-the-log-folders"
"""Content of the file outside the log folders, which must never appear in a result."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServices]:
    with fake_services(tmp_path_factory.mktemp("paths")) as started:
        outside = started.root / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_text(f"ERROR {SECRET}\n", encoding="utf-8")
        os.symlink(outside / "secret.txt", started.log_dir / "secret-link.txt")
        os.symlink(outside, started.log_root / "outside-link")
        yield started


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[FakeHTTPServer]:
    """A server that the allow-list does not name when addressed as localhost, so it must receive no request."""
    with FakeHTTPServer() as server:
        server.route(
            "/stolen", FakeResponse(200, f"ERROR {SECRET}\n".encode(), {"Content-Type": "text/plain"})
        )
        yield server


@pytest.fixture
def services(world: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeServices:
    world.http.clear_faults()
    world.http.requests.clear()
    point_settings_at(world, monkeypatch, tmp_path, ASKPANDA_MAX_RETRIES="0")
    return world


async def call(server: str, tool: str, arguments: dict[str, Any]) -> Any:
    async with Client(await build_in_memory(server), mode="legacy") as client:
        return await client.call_tool(tool, arguments)


def assert_no_secret(result: Any) -> None:
    assert SECRET not in result_text(result)
    assert SECRET not in str(result.structured_content or "")


ESCAPES: list[tuple[str, Callable[[FakeServices], str], tuple[str, ...]]] = [
    ("dot-dot", lambda s: f"{s.log_root}/../outside/secret.txt", ("outside the allowed log folders",)),
    ("absolute", lambda s: str(s.root / "outside" / "secret.txt"), ("outside the allowed log folders",)),
    (
        "relative-to-cwd",
        lambda s: "../" * 12 + str(s.root / "outside" / "secret.txt").lstrip("/"),
        ("outside",),
    ),
    ("home", lambda s: "~/.bashrc", ("~/.bashrc",)),
    ("file-url", lambda s: f"file://{s.root}/outside/secret.txt", ("secret.txt",)),
    ("symlink-to-file", lambda s: str(s.log_dir / "secret-link.txt"), ("outside the allowed log folders",)),
    (
        "symlink-to-folder",
        lambda s: str(s.log_root / "outside-link" / "secret.txt"),
        ("outside the allowed log folders",),
    ),
    ("symlinked-folder", lambda s: str(s.log_root / "outside-link"), ("outside the allowed log folders",)),
]



@pytest.mark.parametrize("tool", ["analyze_log", "read_log_lines"])
@pytest.mark.parametrize(
    ("path_of", "mentions"),
    [pytest.param(path_of, mentions, id=name) for name, path_of, mentions in ESCAPES]
    + [
        pytest.param(
            lambda s: f"{s.log_dir}/pilotlog.txt\x00.png",
            ("pilotlog.txt",),
            id="nul-byte",
        )
    ],
)
async def test_log_path_escape_is_refused(
    services: FakeServices, tool: str, path_of: Callable[[FakeServices], str], mentions: tuple[str, ...]
) -> None:
    path = path_of(services)
    arguments = {"path": path} if tool == "analyze_log" else {"source": path, "filename": "secret.txt"}

    result = await call("logs", tool, arguments)

    check_tool_error(tool, result, mentions)
    assert_no_secret(result)


async def test_folder_with_escaping_link_skips_it(services: FakeServices) -> None:
    result = await call("logs", "analyze_log", {"path": str(services.log_dir)})

    assert not result.is_error, result_text(result)
    assert_no_secret(result)
    files = {entry["name"]: entry for entry in result.structured_content["files"]}
    assert files["secret-link.txt"]["status"] == "skipped"
    assert "outside the allowed log folders" in files["secret-link.txt"]["note"]


@pytest.mark.parametrize(
    "filename", ["../../outside/secret.txt", "/etc/passwd", "secret-link.txt", "..", "."]
)
async def test_read_log_lines_filename_cannot_escape(services: FakeServices, filename: str) -> None:
    result = await call("logs", "read_log_lines", {"source": str(services.log_dir), "filename": filename})

    check_tool_error("read_log_lines", result)
    assert_no_secret(result)


def hostile_tarball(token: str) -> bytes:
    """Return a job log tarball whose extra members try to write or link outside the unpack folder."""
    pilotlog = (LOG_LINE + "\n").encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in [
            ("tarball_PandaJob_1/pilotlog.txt", pilotlog),
            (f"../../escape-{token}.txt", b"ERROR written outside\n"),
            (f"/tmp/absolute-escape-{token}.txt", b"ERROR written outside\n"),
        ]:
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
        for name, kind in [
            ("tarball_PandaJob_1/link.txt", tarfile.SYMTYPE),
            ("tarball_PandaJob_1/hard.txt", tarfile.LNKTYPE),
        ]:
            member = tarfile.TarInfo(name)
            member.type = kind
            member.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else "../../../outside/secret.txt"
            archive.addfile(member)
    return buffer.getvalue()


LOG_LINE = (
    "2026-03-02 08:15:01,000 | ERROR    | pilot.control.data               | _stage_in                 | "
    "error code: 1331, message: Input file is missing in storage element"
)


async def test_tarball_members_stay_inside(services: FakeServices, tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    tarball = services.log_root / f"hostile-{token}.tgz"
    tarball.write_bytes(hostile_tarball(token))

    result = await call("logs", "analyze_log", {"path": str(tarball)})

    assert not result.is_error, result_text(result)
    assert_no_secret(result)
    assert "root:x:0:0" not in result_text(result)
    assert "1331" in result_text(result)
    unpacked = tmp_path / "cache" / "unpacked"
    written = [path for root in (services.root, tmp_path) for path in root.rglob(f"*escape-{token}*")]
    assert [path for path in written if not path.is_relative_to(unpacked)] == []
    assert not Path(f"/tmp/absolute-escape-{token}.txt").exists()


@pytest.mark.parametrize(
    ("tool", "arguments_of"),
    [
        ("analyze_job_failure", lambda url: {"pandaid": f"{url}/job?pandaid=1"}),
        ("get_job_status", lambda url: {"pandaid": url}),
        ("read_log_lines", lambda url: {"source": f"{url}/stolen", "filename": "pilotlog.txt"}),
        ("analyze_log", lambda url: {"path": f"{url}/stolen"}),
    ],
    ids=["analyze_job_failure", "get_job_status", "read_log_lines", "analyze_log"],
)
async def test_monitor_url_in_argument_is_not_fetched(
    services: FakeServices,
    elsewhere: FakeHTTPServer,
    tool: str,
    arguments_of: Callable[[str], dict[str, Any]],
) -> None:
    url = f"http://localhost:{elsewhere.port}"
    elsewhere.requests.clear()

    result = await call("logs", tool, arguments_of(url))

    check_tool_error(tool, result)
    assert_no_secret(result)
    assert elsewhere.requests == []


async def test_log_redirect_to_other_host_is_refused(
    services: FakeServices, elsewhere: FakeHTTPServer
) -> None:
    elsewhere.requests.clear()
    job = dict(services.bigpanda.jobs[services.pandaid].response)
    pandaid = services.pandaid + 17
    job["job"] = {**job["job"], "pandaid": pandaid}
    services.bigpanda.add_job(job, {"pilotlog.txt": b"placeholder\n"})
    services.http.route(
        FakeBigPanda.media_path(pandaid, "pilotlog.txt"),
        FakeResponse.redirect(f"http://localhost:{elsewhere.port}/stolen", status=302),
    )

    result = await call("logs", "read_log_lines", {"source": str(pandaid), "filename": "pilotlog.txt"})

    check_tool_error("read_log_lines", result, ("localhost", "not allowed"))
    assert_no_secret(result)
    assert elsewhere.requests == []


async def test_cric_redirect_to_other_host_is_refused(
    services: FakeServices, elsewhere: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere.requests.clear()
    elsewhere.route(
        "/cric", FakeResponse(200, CRIC_FIXTURE.read_bytes(), {"Content-Type": "application/json"})
    )
    services.http.route(
        "/moved-cric/", FakeResponse.redirect(f"http://localhost:{elsewhere.port}/cric", status=302)
    )
    point_settings_at(
        services,
        monkeypatch,
        Path(os.environ["ASKPANDA_CACHE_DIR"]).parent,
        ASKPANDA_CRIC_URL=f"{services.http.url}/moved-cric/?json",
    )

    result = await call("sites", "get_queue", {"name": "EXAMPLE-T1"})

    check_tool_error("get_queue", result, ("localhost", "not allowed"))
    assert elsewhere.requests == []


FOREIGN_URLS: list[tuple[str, Callable[[int, str], str], tuple[str, ...]]] = [
    (
        "other-host",
        lambda port, fake: f"http://localhost:{port}/docs.tar.gz",
        ("'localhost' is not allowed",),
    ),
    (
        "userinfo-trick",
        lambda port, fake: f"http://127.0.0.1@localhost:{port}/docs.tar.gz",
        ("'localhost' is not allowed",),
    ),
    (
        "fragment-trick",
        lambda port, fake: f"http://localhost:{port}#@127.0.0.1/docs.tar.gz",
        ("'localhost' is not allowed",),
    ),
    ("scheme-ftp", lambda port, fake: f"ftp://127.0.0.1:{port}/docs.tar.gz", ("ftp://",)),
    (
        "redirect-from-allowed",
        lambda port, fake: f"{fake}/moved-docs.tar.gz",
        ("'localhost' is not allowed",),
    ),
]


@pytest.mark.parametrize(
    ("url_of", "mentions"),
    [pytest.param(url_of, mentions, id=name) for name, url_of, mentions in FOREIGN_URLS],
)
async def test_docs_source_outside_allowed_hosts(
    services: FakeServices,
    elsewhere: FakeHTTPServer,
    url_of: Callable[[int, str], str],
    mentions: tuple[str, ...],
) -> None:
    elsewhere.requests.clear()
    services.http.route(
        "/moved-docs.tar.gz", FakeResponse.redirect(f"http://localhost:{elsewhere.port}/stolen", 302)
    )
    url = url_of(elsewhere.port, services.http.url)

    async with Client(await build_in_memory("docs"), mode="legacy") as client:
        result = await client.call_tool("index_docs", {"sources": [url], "name": "foreign"})
        sources = await client.call_tool("list_doc_sources", {})

    check_tool_error("index_docs", result, mentions)
    assert elsewhere.requests == []
    assert not sources.is_error, result_text(sources)
    assert "foreign" not in str(sources.structured_content), "a refused source was added to the index"


async def test_docs_section_id_cannot_escape(services: FakeServices) -> None:
    async with Client(await build_in_memory("docs"), mode="legacy") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        results = [
            await client.call_tool("get_doc_section", {"source": source})
            for source in (
                "fixture-site:../../outside/secret.txt",
                f"fixture-site:{services.root}/outside/secret.txt",
                f"{services.root}/outside/secret.txt",
            )
        ]
        good = await client.call_tool("get_doc_section", {"source": "fixture-site:notes/faq.md"})

    for result in results:
        check_tool_error("get_doc_section", result)
        assert_no_secret(result)
    check_structured_result(tools["get_doc_section"], good)

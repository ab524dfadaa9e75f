"""Reading documentation sources: folders, single files, archives and URLs on a loopback server."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from servers.docs.errorcatalog import catalogue_page, read_catalogue
from servers.docs.errors import SourceError
from servers.docs.sources import (
    MAX_FILE_BYTES,
    SourceSpec,
    check_within_roots,
    decode,
    default_name,
    read_archive,
    read_folder,
    read_source,
)
from shared.config import Settings
from tests.docs_support import SITE
from tests.fakeserver import FakeHTTPServer, FakeResponse


def test_folder_reads_docs_and_skips_with_reasons() -> None:
    documents, skipped = read_folder(SITE)

    paths = [document.path for document in documents]
    reasons = {item.path: item.reason for item in skipped}
    assert paths == [
        "docs/source/client/bookkeeping.rst",
        "docs/source/concepts/glossary.rst",
        "docs/source/index.rst",
        "notes/faq.md",
        "notes/page.html",
        "notes/plain.txt",
    ]
    assert reasons["notes/latin1.txt"].startswith("not UTF-8 (invalid byte 0xe9")
    assert not any(".hidden" in path for path in paths)


def test_folder_skips_huge_file_and_outside_link(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "big.md").write_bytes(b"# Big\n" + b"x" * (MAX_FILE_BYTES + 1))
    (tmp_path / "outside.md").write_text("# Outside\n", encoding="utf-8")
    (tmp_path / "docs" / "link.md").symlink_to(tmp_path / "outside.md")

    documents, skipped = read_folder(tmp_path / "docs")

    assert documents == []
    reasons = {item.path: item.reason for item in skipped}
    assert reasons["big.md"].startswith("larger than 4 MB")
    assert reasons["link.md"] == "symbolic link to a file outside the source folder"


def test_decode_strips_bom_and_normalizes_newlines() -> None:
    document = decode("a.md", b"\xef\xbb\xbf# T\r\n\r\nText\r\n")

    assert document.text == "# T\n\nText\n"


def test_decode_rejects_binary() -> None:
    assert decode("a.txt", b"abc\0def").reason == "binary content (NUL bytes)"


def _tar_gz(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def _repository_tarball() -> bytes:
    members = {
        f"panda-docs-main/{path.relative_to(SITE).as_posix()}": path.read_bytes()
        for path in sorted(SITE.rglob("*"))
        if path.is_file() and ".hidden" not in path.parts
    }
    members["panda-docs-main/../../evil.rst"] = b"Evil\n====\n"
    members["panda-docs-main/docs/source/conf.py"] = b"project = 'x'\n"
    return _tar_gz(members, links={"panda-docs-main/docs/source/passwd.rst": "/etc/passwd"})


def test_archive_strips_top_folder_and_rejects_unsafe(tmp_path: Path) -> None:
    archive = tmp_path / "docs.tar.gz"
    archive.write_bytes(_repository_tarball())

    documents, skipped = read_archive(archive)

    paths = [document.path for document in documents]
    assert "docs/source/client/bookkeeping.rst" in paths
    assert "notes/page.html" in paths
    assert not any("evil" in path or "passwd" in path for path in paths)
    assert any(item.reason.startswith("unsafe member name") for item in skipped)
    assert any(item.path == "notes/latin1.txt" for item in skipped)


def test_zip_archive_with_traversal(tmp_path: Path) -> None:
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("site/guide.md", "# Guide\n\nText.\n")
        handle.writestr("site/../../escape.md", "# Escape\n")
        handle.writestr("/abs.md", "# Absolute\n")

    documents, skipped = read_archive(archive)

    assert [document.path for document in documents] == ["guide.md"]
    assert len(skipped) == 2


def test_damaged_archive_raises(tmp_path: Path) -> None:
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(_tar_gz({"a/b.md": b"# B\n"})[:40])

    with pytest.raises(SourceError, match="damaged or unsupported archive"):
        read_archive(archive)


def test_default_names() -> None:
    assert default_name("https://github.com/PanDAWMS/panda-docs/archive/refs/heads/main.tar.gz") == "panda-docs"
    assert default_name("https://codeload.github.com/PanDAWMS/panda-docs/tar.gz/refs/heads/main") == "panda-docs"
    assert default_name("https://example.org/guides/copytools.html") == "copytools"
    assert default_name(str(SITE)) == "site"


@pytest.mark.anyio
async def test_url_archive_from_loopback(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    tarball = _repository_tarball()
    fake_http.route(
        "/PanDAWMS/panda-docs/archive/refs/heads/main.tar.gz",
        FakeResponse.redirect("/codeload/panda-docs-main.tar.gz", status=302),
    )
    fake_http.route(
        "/codeload/panda-docs-main.tar.gz",
        FakeResponse(200, tarball, {"Content-Type": "application/x-gzip"}),
    )

    content = await read_source(
        SourceSpec(f"{fake_http.url}/PanDAWMS/panda-docs/archive/refs/heads/main.tar.gz"), fast_settings
    )

    assert content.name == "panda-docs"
    assert content.kind == "url-archive"
    assert "docs/source/concepts/glossary.rst" in [document.path for document in content.documents]


@pytest.mark.anyio
async def test_url_page_keeps_its_address(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/guide/copytools", FakeResponse.html((SITE / "notes" / "page.html").read_bytes()))

    content = await read_source(SourceSpec(f"{fake_http.url}/guide/copytools", name="guide"), fast_settings)

    assert content.kind == "url-page"
    assert [document.path for document in content.documents] == ["guide/copytools.html"]
    assert content.documents[0].url == f"{fake_http.url}/guide/copytools"


@pytest.mark.anyio
async def test_url_on_other_host_is_rejected(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    with pytest.raises(SourceError, match="not allowed"):
        await read_source(SourceSpec(f"http://localhost:{fake_http.port}/x.tar.gz"), fast_settings)


@pytest.mark.anyio
async def test_url_not_found(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    with pytest.raises(SourceError, match="404"):
        await read_source(SourceSpec(f"{fake_http.url}/missing.tar.gz"), fast_settings)


@pytest.mark.anyio
async def test_missing_path_and_bad_scheme(fast_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="neither an existing file or folder"):
        await read_source(SourceSpec(str(tmp_path / "nope")), fast_settings)
    with pytest.raises(SourceError, match="Unsupported source"):
        await read_source(SourceSpec("ftp://example.org/docs.tar.gz"), fast_settings)


@pytest.mark.anyio
async def test_url_archive_html_page_is_named(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/downloads/docs.tar.gz", FakeResponse.html())
    fake_http.route(
        "/downloads/untyped.tgz", FakeResponse(200, b"\n  <!DOCTYPE html><title>Sign in</title>", {})
    )

    for path in ("/downloads/docs.tar.gz", "/downloads/untyped.tgz"):
        with pytest.raises(SourceError) as caught:
            await read_source(SourceSpec(f"{fake_http.url}{path}"), fast_settings)
        message = str(caught.value)
        assert path in message
        assert "returned an HTML page (a login page or an error page)" in message
        assert "that the archive is public" in message


@pytest.mark.anyio
async def test_url_damaged_archive_names_url(fast_settings: Settings, fake_http: FakeHTTPServer) -> None:
    fake_http.route("/downloads/broken.tar.gz", FakeResponse(200, b"\x1f\x8bnot gzip", {}))

    with pytest.raises(SourceError, match=r"/downloads/broken\.tar\.gz: damaged or unsupported archive"):
        await read_source(SourceSpec(f"{fake_http.url}/downloads/broken.tar.gz"), fast_settings)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("x" * 10_000, "longer than 4096 characters"),
        ("y" * 1000, "File name too long"),
        ("docs\0/etc", "NUL byte"),
        ("   ", "empty"),
    ],
    ids=["10000-characters", "long-component", "nul", "blank"],
)
async def test_invalid_local_location(fast_settings: Settings, location: str, expected: str) -> None:
    with pytest.raises(SourceError, match=expected) as caught:
        await read_source(SourceSpec(location), fast_settings)
    assert len(str(caught.value)) < 400


def test_roots_accept_inside_and_reject_escapes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "docs").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)

    check_within_roots(str(root / "docs"), [root])
    check_within_roots(str(root), [root])
    for location in (str(outside), str(root / "escape"), str(root / ".." / "outside"), "/etc"):
        with pytest.raises(SourceError, match="outside the folders the index_docs tool may read"):
            check_within_roots(location, [root])
    with pytest.raises(SourceError, match="ASKPANDA_DOCS_ROOTS: none set"):
        check_within_roots(str(root / "docs"), [])


@pytest.mark.anyio
async def test_single_file_source(fast_settings: Settings) -> None:
    content = await read_source(SourceSpec(str(SITE / "notes" / "faq.md")), fast_settings)

    assert content.name == "faq"
    assert [document.path for document in content.documents] == ["faq.md"]


def test_catalogue_page_sections() -> None:
    raw = {
        "component": "pilot",
        "job_field": "pilotErrorCode",
        "entries": [
            {
                "code": 1099,
                "acronym": "STAGEINFAILED",
                "message": "Failed to stage-in file",
                "category": "File and Storage Issues",
                "user_explanation": "The input file could not be copied to the worker node.",
                "likely_causes": ["storage down", "file lost"],
                "retry_advice": "retry-elsewhere-likely-helps",
                "retry_reason": "Another site may read the file.",
                "keywords": ["stage-in failure"],
                "historical": False,
            },
            "not an entry",
        ],
    }

    page = catalogue_page("pilot.json", raw)

    assert page.startswith("# PanDA error codes: pilot\n")
    assert "## pilot error 1099 STAGEINFAILED: Failed to stage-in file" in page
    assert "Likely causes: storage down; file lost" in page
    assert "Retry advice: retry-elsewhere-likely-helps (Another site may read the file)." in page


def test_catalogue_absent_or_damaged(tmp_path: Path) -> None:
    assert read_catalogue(tmp_path / "absent") == ([], [])

    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "wrong.json").write_text('{"codes": []}', encoding="utf-8")
    documents, skipped = read_catalogue(tmp_path)

    assert documents == []
    assert sorted(item.path for item in skipped) == ["bad.json", "wrong.json"]


def test_file_permissions_error_is_skipped(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    (tmp_path / "locked.md").write_text("# Locked\n", encoding="utf-8")
    (tmp_path / "locked.md").chmod(0)

    documents, skipped = read_folder(tmp_path)

    assert documents == []
    assert skipped[0].reason.startswith("unreadable")

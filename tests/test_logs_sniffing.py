"""Content sniffing and sparse files: sampled windows, NUL holes, and the skipped files a report lists."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp.client import Client

from servers.logs.analysis import MAX_SKIPPED_LISTED, JobInput, analyze
from servers.logs.holes import segments_between_holes
from servers.logs.pages import read_page
from servers.logs.render import render_report
from servers.logs.server import build_server
from servers.logs.sniffing import SNIFF_BYTES, sniff_file, sniff_kind
from servers.logs.sources import LogFile, open_local
from shared.config import get_settings

ERROR_LINE = (
    b"2026-01-01 00:00:00,000 | ERROR    | pilot.control.data | copytool_in | stage-in failed: no such file\n"
)
INFO_LINE = b"2026-01-01 00:00:01,000 | INFO     | pilot.control.job | job_monitor | job is running\n"


def write_sparse(path: Path, hole: int, tail: bytes, head: bytes = b"") -> Path:
    """Write `head`, then a hole of `hole` bytes (never written, so it costs no disk), then `tail`."""
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(len(head) + hole)
        handle.seek(len(head) + hole)
        handle.write(tail)
    return path


def has_holes(path: Path) -> bool:
    seek_data = getattr(os, "SEEK_DATA", None)
    if seek_data is None:
        return False
    with path.open("rb") as handle:
        try:
            return os.lseek(handle.fileno(), 0, seek_data) > 0
        except OSError:
            return False


def test_sparse_gigabyte_with_log_tail(tmp_path: Path) -> None:
    path = write_sparse(tmp_path / "pilotlog.txt", 1024**3, ERROR_LINE)

    assert sniff_file(path).kind == "text"


def test_unaligned_hole_then_lines(tmp_path: Path) -> None:
    path = write_sparse(tmp_path / "pilotlog.txt", 10_000_123, INFO_LINE + ERROR_LINE)

    assert sniff_file(path).kind == "text"


def test_text_between_holes_is_found(tmp_path: Path) -> None:
    path = tmp_path / "pilotlog.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024**2)
        handle.seek(20 * 1024**2)
        handle.write(ERROR_LINE * 10)
    if not has_holes(path):
        pytest.skip("the file system of tmp_path does not report holes (SEEK_DATA)")

    assert sniff_file(path).kind == "text"


def test_binary_middle_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "payload.stdout"
    middle = 4 * SNIFF_BYTES
    path.write_bytes(INFO_LINE * (middle // len(INFO_LINE)) + os.urandom(middle) + INFO_LINE * 400)

    sniffed = sniff_file(path)

    assert sniffed.kind == "binary"
    assert sniffed.reason.startswith("binary data")


def test_short_nul_run_in_text_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "payload.stdout"
    path.write_bytes(INFO_LINE * 10 + b"\x00" * 8 + INFO_LINE * 10)

    sniffed = sniff_file(path)

    assert sniffed.kind == "binary"
    assert "NUL bytes inside the content" in sniffed.reason


def test_hole_inside_text_window_is_text(tmp_path: Path) -> None:
    path = tmp_path / "payload.stdout"
    path.write_bytes(INFO_LINE * 10 + bytes(4096) + INFO_LINE * 10)

    assert sniff_file(path).kind == "text"


def test_zero_filled_file(tmp_path: Path) -> None:
    path = tmp_path / "payload.stdout"
    path.write_bytes(bytes(200_000))

    sniffed = sniff_file(path)

    assert sniffed.kind == "zeros"
    assert "only NUL bytes" in sniffed.reason


def test_window_cut_inside_utf8_character(tmp_path: Path) -> None:
    path = tmp_path / "payload.stdout"
    path.write_bytes(b"x" + "\u00e4\u20ac".encode() * 20_000)

    assert sniff_file(path).kind == "text"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (bytes(8192), "zeros"),
        (bytes(100) + b"log text\n", "text"),
        (b"\x00log text\n", "binary"),
        (b"log text\n" + bytes(10), "text"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary"),
    ],
)
def test_sniff_kind_holes(head: bytes, kind: str) -> None:
    assert sniff_kind(head) == kind


def test_segments_skip_whole_holes() -> None:
    buffer = bytearray(b"abc" + bytes(3 * 4096 + 5) + b"ERROR x\n" + bytes(100))

    segments = segments_between_holes(buffer, len(buffer))

    assert [bytes(buffer[start:end]) for start, end in segments] == [b"abc", b"ERROR x\n" + bytes(100)]


def test_sparse_log_analysis_quotes_tail_line(tmp_path: Path) -> None:
    path = write_sparse(tmp_path / "pilotlog.txt", 256 * 1024**2 + 17, INFO_LINE + ERROR_LINE)
    bundle = open_local(path, roots=[tmp_path], trusted=False, work_root=tmp_path / "work")

    report = analyze(JobInput(source=str(path), bundle=bundle))

    quoted = "\n".join(item.text for item in report.evidence)
    assert "stage-in failed: no such file" in quoted
    assert "\x00" not in quoted


def test_sparse_log_read_page_shows_text(tmp_path: Path) -> None:
    path = write_sparse(tmp_path / "pilotlog.txt", 3 * 1024**2 + 5, INFO_LINE + ERROR_LINE)
    log = LogFile("pilotlog.txt", path, path.stat().st_size)

    page = read_page(log, str(path), 1, 10, None)

    assert [line.text for line in page.lines] == [
        INFO_LINE.decode().rstrip("\n"),
        ERROR_LINE.decode().rstrip("\n"),
    ]


def test_report_lists_skipped_files(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "pilotlog.txt").write_bytes(INFO_LINE + ERROR_LINE)
    (folder / "payload.stdout").write_bytes(bytes(range(256)) * 20)
    bundle = open_local(folder, roots=[tmp_path], trusted=False, work_root=tmp_path / "work")

    report = analyze(JobInput(source=str(folder), bundle=bundle))
    markdown = render_report(report)

    assert [skipped.name for skipped in report.skipped_files] == ["payload.stdout"]
    assert report.skipped_files[0].reason.startswith("binary data")
    assert "## Skipped files" in markdown
    assert f"- payload.stdout: {report.skipped_files[0].reason}" in markdown
    assert "## Files not fully read" not in markdown


@pytest.fixture
async def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Client]:
    monkeypatch.setenv("ASKPANDA_LOG_ROOTS", str(tmp_path))
    get_settings.cache_clear()
    async with Client(build_server(), mode="legacy") as connected:
        yield connected


@pytest.mark.anyio
async def test_analyze_log_lists_skipped_files(client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "pilotlog.txt").write_bytes(INFO_LINE + ERROR_LINE)
    (folder / "core.1").write_bytes(bytes(range(256)) * 20)

    result = await client.call_tool("analyze_log", {"path": str(folder)})

    assert not result.is_error
    skipped = result.structured_content["skipped_files"]
    assert [entry["name"] for entry in skipped] == ["core.1"]
    assert skipped[0]["reason"].startswith("binary data")


@pytest.mark.anyio
async def test_analyze_log_junk_folder_error(client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "core.1").write_bytes(bytes(range(256)) * 20)
    (folder / "zeros.log").write_bytes(bytes(100_000))

    result = await client.call_tool("analyze_log", {"path": str(folder)})

    assert result.is_error
    message = result.content[0].text
    assert "core.1 (binary data" in message
    assert "zeros.log (only NUL bytes" in message


@pytest.mark.anyio
async def test_analyze_log_sparse_file(client: Client, tmp_path: Path) -> None:
    path = write_sparse(tmp_path / "pilotlog.txt", 1024**3, ERROR_LINE)

    result = await client.call_tool("analyze_log", {"path": str(path)})

    assert not result.is_error
    evidence = "\n".join(item["text"] for item in result.structured_content["evidence"])
    assert "stage-in failed: no such file" in evidence


def test_report_caps_skipped_files(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "pilotlog.txt").write_bytes(INFO_LINE + ERROR_LINE)
    for index in range(MAX_SKIPPED_LISTED + 2):
        (folder / f"core.{index:02d}").write_bytes(b"\x00\x01" * 100)
    bundle = open_local(folder, roots=[tmp_path], trusted=False, work_root=tmp_path / "work")

    report = analyze(JobInput(source=str(folder), bundle=bundle))

    assert len(report.skipped_files) == MAX_SKIPPED_LISTED
    assert sum(1 for note in report.files if note.status == "skipped") == MAX_SKIPPED_LISTED + 2
    assert any(f"{MAX_SKIPPED_LISTED + 2} files were skipped" in note for note in report.notes)

"""Local log sources: allowed folders, symlinks, archives, gzip bombs, binary junk and empty or huge files."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from servers.logs import sources
from servers.logs.sources import EXAMPLES_DIR, LogSourceError, open_local, sniff_kind

PILOT_LINE = b"2026-01-20 10:22:56,808 | WARNING  | pilot.util.https | request2 | failed to send request\n"


@pytest.fixture
def roots(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


def open_in(path: Path, root: Path, tmp_path: Path, *, trusted: bool = False):
    return open_local(path, roots=[root], trusted=trusted, work_root=tmp_path / "work")


def make_tgz(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))


def test_file_inside_root(roots: Path, tmp_path: Path) -> None:
    (roots / "pilotlog.txt").write_bytes(PILOT_LINE)

    bundle = open_in(roots / "pilotlog.txt", roots, tmp_path)

    assert [log.name for log in bundle.files] == ["pilotlog.txt"]


def test_path_outside_roots_is_rejected(roots: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes(PILOT_LINE)

    with pytest.raises(LogSourceError, match="outside the allowed log folders"):
        open_in(outside, roots, tmp_path)


def test_symlink_out_of_root_is_rejected(roots: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(PILOT_LINE)
    (roots / "link.txt").symlink_to(secret)

    with pytest.raises(LogSourceError, match="outside the allowed log folders"):
        open_in(roots / "link.txt", roots, tmp_path)


def test_symlink_out_in_folder_skipped(roots: Path, tmp_path: Path) -> None:
    job = roots / "job"
    job.mkdir()
    (job / "pilotlog.txt").write_bytes(PILOT_LINE)
    secret = tmp_path / "passwords.txt"
    secret.write_bytes(b"root:x\n")
    (job / "payload.stdout").symlink_to(secret)

    bundle = open_in(job, roots, tmp_path)

    assert [log.name for log in bundle.files] == ["pilotlog.txt"]
    assert any(note.name == "payload.stdout" and note.status == "skipped" for note in bundle.notes)


def test_parent_traversal_is_resolved_first(roots: Path, tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_bytes(PILOT_LINE)

    with pytest.raises(LogSourceError, match="outside"):
        open_in(roots / ".." / "other.txt", roots, tmp_path)


def test_bundled_examples_are_always_allowed(roots: Path, tmp_path: Path) -> None:
    bundle = open_in(EXAMPLES_DIR / "failed-job", roots, tmp_path)

    assert bundle.find("pilotlog.txt") is not None


def test_trusted_terminal_path_skips_roots(roots: Path, tmp_path: Path) -> None:
    outside = tmp_path / "pilotlog.txt"
    outside.write_bytes(PILOT_LINE)

    bundle = open_in(outside, roots, tmp_path, trusted=True)

    assert bundle.files[0].path == outside


def test_missing_path(roots: Path, tmp_path: Path) -> None:
    with pytest.raises(LogSourceError, match="No such file"):
        open_in(roots / "nope.txt", roots, tmp_path)


def test_empty_file(roots: Path, tmp_path: Path) -> None:
    (roots / "pilotlog.txt").write_bytes(b"")

    with pytest.raises(LogSourceError, match="empty"):
        open_in(roots / "pilotlog.txt", roots, tmp_path)


def test_binary_junk(roots: Path, tmp_path: Path) -> None:
    (roots / "core.12345").write_bytes(os.urandom(4096))

    with pytest.raises(LogSourceError, match="binary"):
        open_in(roots / "core.12345", roots, tmp_path)


def test_huge_single_file(roots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1000)
    (roots / "pilotlog.txt").write_bytes(PILOT_LINE * 50)

    with pytest.raises(LogSourceError, match="above the"):
        open_in(roots / "pilotlog.txt", roots, tmp_path)


def test_huge_file_in_folder_is_tail_scanned(
    roots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1000)
    (roots / "pilotlog.txt").write_bytes(PILOT_LINE * 50)

    bundle = open_in(roots, roots, tmp_path)

    assert bundle.files[0].tail_only


def test_tgz_log_tarball(roots: Path, tmp_path: Path) -> None:
    make_tgz(
        roots / "log.1._000001.job.log.tgz.1",
        {
            "tarball_PandaJob_1_X/pilotlog.txt": PILOT_LINE,
            "tarball_PandaJob_1_X/payload.stdout": b"ERROR: boom\n",
            "tarball_PandaJob_1_X/core": b"\x00\x01" * 100,
        },
    )

    bundle = open_in(roots / "log.1._000001.job.log.tgz.1", roots, tmp_path)

    assert bundle.find("pilotlog.txt") is not None
    assert bundle.find("payload.stdout").path.read_bytes() == b"ERROR: boom\n"
    assert all("core" not in log.name for log in bundle.files)


def test_tar_member_paths_never_escape(roots: Path, tmp_path: Path) -> None:
    make_tgz(roots / "evil.tgz", {"../../escaped.txt": PILOT_LINE, "/etc/passwd.txt": PILOT_LINE})

    bundle = open_in(roots / "evil.tgz", roots, tmp_path)

    assert not (tmp_path / "escaped.txt").exists()
    assert all((tmp_path / "work") in log.path.parents for log in bundle.files)


def test_gzip_file(roots: Path, tmp_path: Path) -> None:
    (roots / "pilotlog.txt.gz").write_bytes(gzip.compress(PILOT_LINE * 3))

    bundle = open_in(roots / "pilotlog.txt.gz", roots, tmp_path)

    assert bundle.files[0].name == "pilotlog.txt"
    assert bundle.files[0].path.read_bytes() == PILOT_LINE * 3


def test_corrupt_gzip(roots: Path, tmp_path: Path) -> None:
    data = gzip.compress(PILOT_LINE * 2000)
    (roots / "pilotlog.txt.gz").write_bytes(data[: len(data) // 2])

    with pytest.raises(LogSourceError, match="corrupt or truncated"):
        open_in(roots / "pilotlog.txt.gz", roots, tmp_path)


def test_gzip_bomb_stops_at_the_cap(roots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_UNPACKED_BYTES", 100_000)
    (roots / "pilotlog.txt.gz").write_bytes(gzip.compress(b"A" * 5_000_000))

    with pytest.raises(LogSourceError, match="unpacks to more than"):
        open_in(roots / "pilotlog.txt.gz", roots, tmp_path)


def test_folder_without_logs(roots: Path, tmp_path: Path) -> None:
    (roots / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)

    with pytest.raises(LogSourceError, match="no readable log files"):
        open_in(roots, roots, tmp_path)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"hello\x00world", "binary"),
        (b"plain text\n", "text"),
        ("käse\n".encode(), "text"),
    ],
)
def test_sniff_kind(head: bytes, kind: str) -> None:
    assert sniff_kind(head) == kind


def test_folder_lists_skipped_binary(roots: Path, tmp_path: Path) -> None:
    (roots / "pilotlog.txt").write_bytes(PILOT_LINE)
    (roots / "payload.stdout").write_bytes(bytes(range(256)) * 20)

    bundle = open_in(roots, roots, tmp_path)

    assert [log.name for log in bundle.files] == ["pilotlog.txt"]
    skipped = {note.name: note for note in bundle.notes}
    assert skipped["payload.stdout"].status == "skipped"
    assert "binary data" in skipped["payload.stdout"].note


def test_folder_of_junk_names_each_file(roots: Path, tmp_path: Path) -> None:
    (roots / "core.12345").write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(4000))
    (roots / "payload.stdout").write_bytes(bytes(64 * 1024))
    (roots / "notes.md").write_bytes(b"# my notes\n")
    (roots / "pilotlog.txt.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 20)

    with pytest.raises(LogSourceError) as caught:
        open_in(roots, roots, tmp_path)

    message = str(caught.value)
    assert "no readable log files" in message
    assert "Skipped 4 files" in message
    assert "core.12345 (binary data" in message
    assert "payload.stdout (only NUL bytes" in message
    assert "notes.md (text, but not named like a log" in message
    assert "pilotlog.txt.gz (Archive 'pilotlog.txt.gz' is corrupt or truncated" in message


def test_folder_error_caps_listed_skips(roots: Path, tmp_path: Path) -> None:
    for index in range(sources.MAX_LISTED_SKIPS + 3):
        (roots / f"core.{index}").write_bytes(b"\x00\x01" * 100)

    with pytest.raises(LogSourceError) as caught:
        open_in(roots, roots, tmp_path)

    message = str(caught.value)
    assert f"Skipped {sources.MAX_LISTED_SKIPS + 3} files" in message
    assert "and 3 more" in message
    assert message.count("binary data") == sources.MAX_LISTED_SKIPS


def test_sparse_file_with_log_tail(roots: Path, tmp_path: Path) -> None:
    path = roots / "pilotlog.txt"
    with path.open("wb") as handle:
        handle.truncate(1024**3)
        handle.seek(1024**3)
        handle.write(PILOT_LINE)

    bundle = open_in(path, roots, tmp_path)

    assert bundle.files[0].size == 1024**3 + len(PILOT_LINE)


def test_zero_filled_file_is_rejected(roots: Path, tmp_path: Path) -> None:
    (roots / "pilotlog.txt").write_bytes(bytes(100_000))

    with pytest.raises(LogSourceError, match="only NUL bytes"):
        open_in(roots / "pilotlog.txt", roots, tmp_path)

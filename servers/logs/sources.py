"""Local log sources: files, folders and archives, checked against the allowed folders, with size and content guards.

An archive (`.tgz`, `.tar.gz`, `.tar`) or a gzip file is unpacked into a work folder under the cache, member by
member and with a byte cap, so a gzip bomb stops at the cap. Binary and zero-filled files are recognised by
sampling (see `servers.logs.sniffing`) and skipped. Every skipped file gets a note with the reason, and every
file handed on is a plain file on disk, so readers can seek in it.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from servers.logs.models import FileNote
from servers.logs.sniffing import SNIFF_BYTES, Sniffed, sniff_file, sniff_kind

logger = logging.getLogger(__name__)

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
"""Bundled example jobs; always readable, like a folder in log_roots."""

MAX_FILE_BYTES = 2 * 1024**3
"""Largest single file that analyze_log accepts; larger files inside a folder or archive are tail-scanned."""

MAX_UNPACKED_BYTES = 2 * 1024**3
"""Cap on the bytes unpacked from one archive or gzip file (all members together)."""

MAX_FOLDER_FILES = 200
MAX_FOLDER_DEPTH = 4
MAX_LISTED_SKIPS = 10
"""Skipped files named in the error raised when a folder or archive contains no readable log file."""
EXTRACT_MAX_AGE_SECONDS = 86400

KNOWN_LOG_NAMES = (
    "pilotlog.txt",
    "payload.stdout",
    "payload.stderr",
    "jobReport.json",
    "payload_error_report.json",
    "memory_monitor_summary.json",
    "memory_monitor_output.txt",
    "stageinlog.txt",
    "stageoutlog.txt",
    "setup.stdout",
    "job.json",
)
"""Names of the files a job leaves behind, in the order they are most useful."""

TEXT_SUFFIXES = (".txt", ".log", ".json", ".stdout", ".stderr", ".out", ".err", ".xml")
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar")


class LogSourceError(Exception):
    """A local path cannot be read as logs; the message names the path and what to do."""


@dataclass
class LogFile:
    """A readable log file of a job: its display name and where its bytes are."""

    name: str
    path: Path
    size: int
    tail_only: bool = False


@dataclass
class LogBundle:
    """The log files of one job, and notes on files that were left out."""

    origin: str
    files: list[LogFile] = field(default_factory=list)
    notes: list[FileNote] = field(default_factory=list)

    def describe_skipped(self) -> str:
        """Return a sentence naming the skipped files with their reasons (at most MAX_LISTED_SKIPS), or ''."""
        skipped = [note for note in self.notes if note.status in ("skipped", "unreadable")]
        if not skipped:
            return ""
        listed = "; ".join(f"{note.name} ({note.note or note.status})" for note in skipped[:MAX_LISTED_SKIPS])
        more = f"; and {len(skipped) - MAX_LISTED_SKIPS} more" if len(skipped) > MAX_LISTED_SKIPS else ""
        return f" Skipped {len(skipped)} file{'s' if len(skipped) != 1 else ''}: {listed}{more}."

    def find(self, name: str) -> LogFile | None:
        """Return the file whose display name or base name is `name`."""
        for candidate in self.files:
            if candidate.name == name:
                return candidate
        for candidate in self.files:
            if Path(candidate.name).name == name:
                return candidate
        return None


def is_log_name(name: str) -> bool:
    """Return True for the names of files worth scanning: known job logs and transform logs (log.<Step>)."""
    base = Path(name).name
    return (
        base in KNOWN_LOG_NAMES
        or base.startswith("log.")
        and not base.endswith((".tgz", ".tar.gz"))
        or base.endswith(TEXT_SUFFIXES)
    )


def check_allowed(path: Path, roots: list[Path]) -> Path:
    """Return the resolved path if it lies inside one of `roots` or the bundled examples; raise LogSourceError if not."""
    if "\x00" in str(path):
        raise LogSourceError(f"Invalid path {str(path)[:120]!r}: it contains a NUL byte. Check the path.")
    try:
        real = path.expanduser().resolve(strict=True)
    except FileNotFoundError as exc:
        raise LogSourceError(f"No such file or folder: {str(path)!r}. Check the path.") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise LogSourceError(f"Cannot resolve {str(path)!r}: {exc}.") from exc

    allowed = [root.expanduser().resolve() for root in roots] + [EXAMPLES_DIR]
    for root in allowed:
        if real == root or real.is_relative_to(root):
            return real

    configured = ", ".join(str(root) for root in roots) or "none configured"
    raise LogSourceError(
        f"Path {str(path)!r} (resolved to {str(real)!r}) is outside the allowed log folders ({configured}). "
        "Copy the logs into one of them, or add a folder to ASKPANDA_LOG_ROOTS."
    )


def open_local(path: Path, *, roots: list[Path], trusted: bool, work_root: Path) -> LogBundle:
    """Collect the log files at `path`: a file, a folder, an archive or a gzip file.

    With `trusted` (a person at their own terminal) any readable path is accepted. Otherwise the path and every
    file reached through it must lie inside `roots` or the bundled examples.
    """
    real = path.expanduser().resolve() if trusted else check_allowed(path, roots)
    if not real.exists():
        raise LogSourceError(f"No such file or folder: {str(path)!r}. Check the path.")

    bundle = LogBundle(origin=str(path))
    if real.is_dir():
        _collect_folder(real, bundle, roots=None if trusted else roots, work_root=work_root)
        if not bundle.files:
            raise LogSourceError(
                f"Folder {str(path)!r} contains no readable log files (looked for {', '.join(KNOWN_LOG_NAMES[:4])}, "
                f"log.* and text files).{bundle.describe_skipped()} Pass the folder that contains pilotlog.txt or "
                "payload.stdout."
            )
        return bundle

    _add_single_file(real, path.name, bundle, work_root=work_root)
    return bundle


def _add_single_file(real: Path, name: str, bundle: LogBundle, *, work_root: Path) -> None:
    size = real.stat().st_size
    if size == 0:
        raise LogSourceError(f"File {name!r} is empty (0 bytes); there is nothing to analyse.")

    sniffed = sniff_file(real)
    if sniffed.kind in ("gzip", "tar"):
        _unpack(real, name, sniffed.kind, bundle, work_root=work_root)
        if not bundle.files:
            raise LogSourceError(
                f"Archive {name!r} contains no readable log files.{bundle.describe_skipped()}"
            )
        return
    if sniffed.kind in ("binary", "zeros"):
        raise LogSourceError(
            f"File {name!r} is not a text log ({sniffed.reason}). Pass pilotlog.txt, payload.stdout, a JSON "
            "report or the job's .tgz log tarball."
        )
    if size > MAX_FILE_BYTES:
        raise LogSourceError(
            f"File {name!r} is {size / 1024**3:.1f} GB, above the {MAX_FILE_BYTES // 1024**3} GB limit. Cut the end "
            f"off first (for example `tail -c 200M {name} > tail.txt`) or use read_log_lines with a pattern."
        )
    bundle.files.append(LogFile(name, real, size))


def _collect_folder(folder: Path, bundle: LogBundle, *, roots: list[Path] | None, work_root: Path) -> None:
    seen = 0
    for current, dirs, names in os.walk(folder, followlinks=False):
        depth = len(Path(current).relative_to(folder).parts)
        if depth >= MAX_FOLDER_DEPTH:
            dirs.clear()
        dirs.sort()
        for name in sorted(names, key=_name_priority):
            seen += 1
            if seen > MAX_FOLDER_FILES:
                bundle.notes.append(
                    FileNote(
                        name=str(folder),
                        status="skipped",
                        note=f"only the first {MAX_FOLDER_FILES} files were looked at",
                    )
                )
                return
            _add_folder_entry(Path(current) / name, folder, bundle, roots=roots, work_root=work_root)


def _name_priority(name: str) -> tuple[int, str]:
    return (KNOWN_LOG_NAMES.index(name) if name in KNOWN_LOG_NAMES else len(KNOWN_LOG_NAMES), name)


def _add_folder_entry(
    entry: Path, folder: Path, bundle: LogBundle, *, roots: list[Path] | None, work_root: Path
) -> None:
    display = str(entry.relative_to(folder))
    try:
        real = entry.resolve(strict=True)
    except (OSError, RuntimeError):
        bundle.notes.append(FileNote(name=display, status="unreadable", note="broken link or unreadable"))
        return

    if roots is not None:
        try:
            check_allowed(real, roots)
        except LogSourceError:
            bundle.notes.append(
                FileNote(name=display, status="skipped", note="links outside the allowed log folders")
            )
            logger.warning("Skipped %s: it links outside the allowed log folders", entry)
            return

    if not real.is_file():
        return
    size = real.stat().st_size
    if size == 0:
        bundle.notes.append(FileNote(name=display, size=0, status="skipped", note="empty file"))
        return

    sniffed = sniff_file(real)
    if sniffed.kind in ("gzip", "tar") and (display.endswith(ARCHIVE_SUFFIXES) or display.endswith(".gz")):
        try:
            _unpack(real, display, sniffed.kind, bundle, work_root=work_root)
        except LogSourceError as exc:
            bundle.notes.append(FileNote(name=display, size=size, status="unreadable", note=str(exc)))
        return
    reason = _skip_reason(display, sniffed)
    if reason is not None:
        bundle.notes.append(FileNote(name=display, size=size, status="skipped", note=reason))
        logger.debug("Skipped %s: %s", entry, reason)
        return
    bundle.files.append(LogFile(display, real, size, tail_only=size > MAX_FILE_BYTES))


def _skip_reason(name: str, sniffed: Sniffed) -> str | None:
    """Return why a file found in a folder is not scanned, or None when it is a text file with a log name."""
    if sniffed.kind in ("binary", "zeros"):
        return sniffed.reason
    if sniffed.kind in ("gzip", "tar"):
        return f"{sniffed.reason} without a .gz, .tgz or .tar name"
    if not is_log_name(name):
        suffixes = ", ".join(TEXT_SUFFIXES)
        return f"text, but not named like a log (a known job log name, log.* or a name ending in {suffixes})"
    return None


def _work_folder(source: Path, work_root: Path) -> Path:
    stat = source.stat()
    digest = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    _remove_old_work_folders(work_root)
    return work_root / digest


def _remove_old_work_folders(work_root: Path) -> None:
    if not work_root.is_dir():
        return
    cutoff = time.time() - EXTRACT_MAX_AGE_SECONDS
    for child in work_root.iterdir():
        try:
            if child.is_dir() and child.stat().st_mtime < cutoff:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            continue


def _unpack(source: Path, name: str, kind: str, bundle: LogBundle, *, work_root: Path) -> None:
    target = _work_folder(source, work_root)
    target.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "tar" or name.endswith(ARCHIVE_SUFFIXES):
            _unpack_tar(source, name, target, bundle)
        else:
            _unpack_gzip(source, name, target, bundle)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise LogSourceError(
            f"Archive {name!r} is corrupt or truncated ({exc.__class__.__name__}: {exc}). Download it again."
        ) from exc
    except OSError as exc:
        raise LogSourceError(f"Cannot unpack {name!r}: {exc}.") from exc


def _unpack_gzip(source: Path, name: str, target: Path, bundle: LogBundle) -> None:
    inner = name[:-3] if name.endswith(".gz") else name + ".unpacked"
    dest = target / Path(inner).name
    with gzip.open(source, "rb") as stream:
        head = stream.read(SNIFF_BYTES)
        kind = sniff_kind(head)
        if kind == "tar":
            _unpack_tar(source, name, target, bundle)
            return
        if kind == "binary":
            raise LogSourceError(f"{name!r} unpacks to binary data, not a text log.")
        size = _copy_capped(stream, dest, head, name)
    bundle.files.append(LogFile(Path(inner).name, dest, size))


def _unpack_tar(source: Path, name: str, target: Path, bundle: LogBundle) -> None:
    first_new = len(bundle.files)
    _unpack_tar_members(source, name, target, bundle)
    _strip_common_folder(bundle.files[first_new:])


def _strip_common_folder(files: list[LogFile]) -> None:
    # Job log tarballs put everything under one folder (tarball_PandaJob_<pandaid>_<queue>/); names read better without it.
    folders = {log.name.split("/", 1)[0] for log in files if "/" in log.name}
    if len(folders) == 1 and all("/" in log.name for log in files):
        for log in files:
            log.name = log.name.split("/", 1)[1]


def _unpack_tar_members(source: Path, name: str, target: Path, bundle: LogBundle) -> None:
    total = 0
    with tarfile.open(source, mode="r:*") as archive:
        for member in archive:
            if not member.isfile() or not is_log_name(member.name):
                continue
            if total + member.size > MAX_UNPACKED_BYTES:
                bundle.notes.append(
                    FileNote(
                        name=f"{name}:{member.name}",
                        size=member.size,
                        status="skipped",
                        note="unpack limit reached",
                    )
                )
                continue
            stream = archive.extractfile(member)
            if stream is None:
                continue
            # Members get flat names inside the work folder; member paths never become file-system paths.
            flat = member.name.lstrip("./").replace("/", "__") or "member"
            dest = target / flat
            head = stream.read(SNIFF_BYTES)
            kind = sniff_kind(head)
            if kind != "text":
                bundle.notes.append(
                    FileNote(
                        name=member.name, size=member.size, status="skipped", note=_MEMBER_SKIP_REASONS[kind]
                    )
                )
                continue
            size = _copy_capped(stream, dest, head, f"{name}:{member.name}")
            total += size
            display = member.name.lstrip("./")
            if size == 0:
                bundle.notes.append(FileNote(name=display, size=0, status="skipped", note="empty file"))
                continue
            bundle.files.append(LogFile(display, dest, size))


_MEMBER_SKIP_REASONS = {
    "binary": "binary member",
    "zeros": "member starts with only NUL bytes",
    "gzip": "compressed member (gzip)",
    "tar": "nested tar archive",
}


def _copy_capped(stream: IO[bytes], dest: Path, head: bytes, name: str) -> int:
    written = len(head)
    with dest.open("wb") as out:
        out.write(head)
        while True:
            block = stream.read(1024 * 1024)
            if not block:
                break
            written += len(block)
            if written > MAX_UNPACKED_BYTES:
                out.close()
                dest.unlink(missing_ok=True)
                raise LogSourceError(
                    f"{name!r} unpacks to more than {MAX_UNPACKED_BYTES // 1024**3} GB; stopped there. Unpack it "
                    "yourself and pass the files you need."
                )
            out.write(block)
    return written

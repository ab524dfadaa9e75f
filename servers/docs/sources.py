"""Documentation sources: local folders and files, web pages, and tar.gz or zip archives fetched over HTTP.

Archives are read in memory member by member and never extracted, so a member name such as `../x` or a link
cannot write outside a folder. Files that are too large or are not UTF-8 are skipped with a reason that the
index status reports.
"""

from __future__ import annotations

import logging
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from servers.docs.errors import SourceError
from shared.config import Settings

logger = logging.getLogger(__name__)

SUFFIX_KINDS = {
    ".rst": "rst",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
}
MAX_FILE_BYTES = 4 * 1024 * 1024
"""Larger documentation files are skipped: they are generated dumps rather than pages."""

MAX_ARCHIVE_MEMBERS = 50_000
MAX_ARCHIVE_TEXT_BYTES = 512 * 1024 * 1024
"""Upper bound on the documentation text read from one archive, against decompression bombs."""

MAX_LOCATION_CHARS = 4096
"""Maximum length of a source path or URL, in characters (PATH_MAX is 4096 bytes on Linux)."""

_SKIPPED_FOLDERS = {"_build", "build", "node_modules", "__pycache__", "site-packages", "venv", ".venv"}
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


@dataclass(frozen=True)
class SourceSpec:
    """A source as the user names it: a path or URL, with an optional index name and web base URL."""

    location: str
    name: str | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class DocumentFile:
    """One readable document of a source, with its path relative to the source root (POSIX form)."""

    path: str
    kind: str
    text: str
    url: str | None = None


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class SourceContent:
    """Every document of one source, read and decoded, plus the files that were skipped and why."""

    name: str
    location: str
    kind: str
    base_url: str | None
    documents: list[DocumentFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def kind_of(path: str) -> str | None:
    """Return rst, md, txt or html for a documentation file name, None for anything else."""
    return SUFFIX_KINDS.get(PurePosixPath(path.lower()).suffix)


def decode(path: str, data: bytes) -> DocumentFile | SkippedFile:
    """Decode a file's bytes as UTF-8 (an optional BOM is dropped), or return a SkippedFile with the reason."""
    kind = kind_of(path)
    if kind is None:
        return SkippedFile(path, "not a documentation file (expected .rst, .md, .txt or .html)")
    if len(data) > MAX_FILE_BYTES:
        return SkippedFile(path, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB ({len(data)} bytes)")
    if b"\0" in data[:8192]:
        return SkippedFile(path, "binary content (NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return SkippedFile(path, f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})")
    return DocumentFile(path, kind, text.replace("\r\n", "\n").replace("\r", "\n"))


def short_repr(value: str, limit: int = 80) -> str:
    """Return repr(value), cut to `limit` characters plus the length, for error messages about long values."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def _reason(exc: Exception) -> str:
    # str() of an OSError repeats the whole file name, which can be thousands of characters long.
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def check_location(location: str) -> None:
    """Raise SourceError for a source path or URL that is empty, too long or contains NUL bytes."""
    if not location.strip():
        raise SourceError("A source is empty. Pass a folder, a file or an http(s) URL.")
    if len(location) > MAX_LOCATION_CHARS:
        raise SourceError(
            f"Source {short_repr(location)} is longer than {MAX_LOCATION_CHARS} characters. "
            "Pass a folder, a file or an http(s) URL."
        )
    if "\0" in location:
        raise SourceError(f"Source {short_repr(location)} contains a NUL byte. Pass the path or URL without it.")


def is_local(location: str) -> bool:
    """Return True for a location read from the local file system (a path, or a Windows drive path)."""
    return len(urlsplit(location).scheme) <= 1


def check_within_roots(location: str, roots: list[Path]) -> None:
    """Raise SourceError unless the local `location` lies inside one of `roots`, after resolving symbolic links."""
    try:
        resolved = Path(location).expanduser().resolve()
        allowed = [root.expanduser().resolve() for root in roots]
    except (OSError, RuntimeError, ValueError) as exc:
        raise SourceError(f"Invalid source path {short_repr(location)}: {_reason(exc)}") from exc

    if any(resolved.is_relative_to(root) for root in allowed):
        return
    listed = ", ".join(str(root) for root in allowed) or "none set"
    raise SourceError(
        f"Source {short_repr(location)} is outside the folders the index_docs tool may read "
        f"(ASKPANDA_DOCS_ROOTS: {listed}). Add a parent folder to ASKPANDA_DOCS_ROOTS and restart the server, "
        f"or run `askpanda-docs index PATH` in a terminal."
    )


def default_name(location: str) -> str:
    """Return the index name of a source when none is given: the folder, file or repository name."""
    parts = urlsplit(location)
    if parts.scheme in ("http", "https"):
        segments = [segment for segment in parts.path.split("/") if segment]
        host = (parts.hostname or "web").lower()
        # Repository archives: github.com/OWNER/REPO/archive/..., gitlab/GROUP/REPO/-/archive/...,
        # and codeload.github.com/OWNER/REPO/tar.gz/...
        if "archive" in segments:
            before = [segment for segment in segments[: segments.index("archive")] if segment != "-"]
            if before:
                return before[-1]
        if host == "codeload.github.com" and len(segments) >= 2:
            return segments[1]
        if segments:
            last = segments[-1]
            for suffix in (*_ARCHIVE_SUFFIXES, *SUFFIX_KINDS):
                if last.lower().endswith(suffix):
                    last = last[: -len(suffix)]
                    break
            return last or host
        return host

    try:
        path = Path(location).expanduser()
        return path.stem if path.is_file() else path.resolve().name or "docs"
    except (OSError, RuntimeError, ValueError) as exc:
        # For example "File name too long", or a home folder that `~user` does not name.
        raise SourceError(f"Invalid source path {short_repr(location)}: {_reason(exc)}") from exc


def read_folder(root: Path) -> tuple[list[DocumentFile], list[SkippedFile]]:
    """Read every documentation file under `root`, skipping hidden and build folders and outside links."""
    documents: list[DocumentFile] = []
    skipped: list[SkippedFile] = []
    real_root = root.resolve()
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in _SKIPPED_FOLDERS)
        for name in sorted(files):
            if name.startswith(".") or kind_of(name) is None:
                continue
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if not path.resolve().is_relative_to(real_root):
                skipped.append(SkippedFile(relative, "symbolic link to a file outside the source folder"))
                continue
            try:
                size = path.stat().st_size
                if size > MAX_FILE_BYTES:
                    skipped.append(SkippedFile(relative, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB ({size} bytes)"))
                    continue
                result = decode(relative, path.read_bytes())
            except OSError as exc:
                result = SkippedFile(relative, f"unreadable: {exc.strerror or exc}")
            (documents if isinstance(result, DocumentFile) else skipped).append(result)
    documents.sort(key=lambda document: document.path)
    return documents, skipped


def _archive_members(data_path: Path) -> Iterator[tuple[str, bytes | None, int]]:
    """Yield (member name, bytes or None when not read, size) for the regular files of a tar or zip archive."""
    if zipfile.is_zipfile(data_path):
        with zipfile.ZipFile(data_path) as archive:
            for count, info in enumerate(archive.infolist()):
                if count >= MAX_ARCHIVE_MEMBERS:
                    raise SourceError(f"archive has more than {MAX_ARCHIVE_MEMBERS} members")
                if info.is_dir():
                    continue
                readable = kind_of(info.filename) is not None and info.file_size <= MAX_FILE_BYTES
                if not readable:
                    yield info.filename, None, info.file_size
                    continue
                with archive.open(info) as member:
                    # The declared size can lie; never read past the cap.
                    yield info.filename, member.read(MAX_FILE_BYTES + 1), info.file_size
        return

    with tarfile.open(data_path, mode="r:*") as archive:
        for count, member in enumerate(archive):
            if count >= MAX_ARCHIVE_MEMBERS:
                raise SourceError(f"archive has more than {MAX_ARCHIVE_MEMBERS} members")
            if not member.isfile():
                continue
            if kind_of(member.name) is None or member.size > MAX_FILE_BYTES:
                yield member.name, None, member.size
                continue
            handle = archive.extractfile(member)
            yield member.name, handle.read(MAX_FILE_BYTES + 1) if handle else None, member.size


def _safe_member_path(name: str) -> str | None:
    path = PurePosixPath(name.replace("\\", "/"))
    parts = [part for part in path.parts if part not in ("", ".")]
    if path.is_absolute() or any(part == ".." for part in parts) or not parts:
        return None
    return "/".join(parts)


def read_archive(data_path: Path) -> tuple[list[DocumentFile], list[SkippedFile]]:
    """Read the documentation files of a tar(.gz) or zip archive, dropping one common top folder."""
    raw: list[tuple[str, bytes | None, int]] = []
    skipped: list[SkippedFile] = []
    total = 0
    try:
        for name, data, size in _archive_members(data_path):
            safe = _safe_member_path(name)
            if safe is None:
                skipped.append(SkippedFile(name, "unsafe member name (absolute or with ..)"))
                continue
            if data is not None:
                total += len(data)
                if total > MAX_ARCHIVE_TEXT_BYTES:
                    raise SourceError(f"archive contains more than {MAX_ARCHIVE_TEXT_BYTES // (1024 * 1024)} MB of text")
            raw.append((safe, data, size))
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise SourceError(f"damaged or unsupported archive ({exc.__class__.__name__}: {exc})") from exc

    top_folders = {path.split("/", 1)[0] for path, _, _ in raw}
    strip = len(top_folders) == 1 and all("/" in path for path, _, _ in raw)

    documents: list[DocumentFile] = []
    for path, data, size in raw:
        relative = path.split("/", 1)[1] if strip else path
        if kind_of(relative) is None:
            continue
        if data is None:
            skipped.append(SkippedFile(relative, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB ({size} bytes)"))
            continue
        result = decode(relative, data)
        (documents if isinstance(result, DocumentFile) else skipped).append(result)
    documents.sort(key=lambda document: document.path)
    return documents, skipped


_ARCHIVE_MAGIC = (b"\x1f\x8b", b"PK\x03\x04")
"""First bytes of a gzip stream and of a zip archive."""


def _looks_like_archive(url: str, head: bytes, content_type: str) -> bool:
    if urlsplit(url).path.lower().endswith(_ARCHIVE_SUFFIXES):
        return True
    if head.startswith(_ARCHIVE_MAGIC):
        return True
    return any(kind in content_type for kind in ("gzip", "zip", "x-tar"))


def _is_html_instead_of_archive(url: str, head: bytes, content_type: str) -> bool:
    """Return True when a URL that names an archive returned an HTML page, such as a login or error page."""
    if not urlsplit(url).path.lower().endswith(_ARCHIVE_SUFFIXES) or head.startswith(_ARCHIVE_MAGIC):
        return False
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return "html" in content_type or start.startswith((b"<!doctype html", b"<html"))


def _page_kind(url: str, content_type: str) -> str:
    by_suffix = kind_of(urlsplit(url).path)
    if by_suffix:
        return by_suffix
    if "html" in content_type:
        return "html"
    if "markdown" in content_type:
        return "md"
    return "txt"


async def read_url(url: str, settings: Settings) -> tuple[str, list[DocumentFile], list[SkippedFile]]:
    """Download a page or an archive from an allowed host; return ('url-archive' or 'url-page', documents, skipped).

    Raises SourceError for a host that is not allowed, a failed download or a damaged archive.
    """
    # httpx is imported here because importing it also loads rich and click, which start-up does not need.
    from shared.exceptions import AskPandaError
    from shared.http import HttpClient, redact_url

    with tempfile.TemporaryDirectory(prefix="askpanda-docs-") as folder:
        target = Path(folder) / "download"
        try:
            async with HttpClient(settings) as client:
                download = await client.download(url, target)
        except AskPandaError as exc:
            raise SourceError(str(exc)) from exc

        with target.open("rb") as handle:
            head = handle.read(512)
        content_type = download.content_type.lower()
        logger.info("Downloaded %s (%d bytes, %s)", redact_url(url), download.size, content_type or "no type")

        if _is_html_instead_of_archive(url, head, content_type):
            raise SourceError(
                f"{redact_url(url)} returned an HTML page (a login page or an error page) instead of an archive. "
                "Check the URL and that the archive is public, then index it again."
            )
        if _looks_like_archive(url, head, content_type):
            try:
                documents, skipped = read_archive(target)
            except SourceError as exc:
                raise SourceError(f"{redact_url(url)}: {exc}") from exc
            return "url-archive", documents, skipped

        path = urlsplit(download.url).path.strip("/") or "index.html"
        data = target.read_bytes()
        kind = _page_kind(download.url, content_type)
        if kind_of(path) is None:
            path += {"html": ".html", "md": ".md", "rst": ".rst"}.get(kind, ".txt")
        result = decode(path, data)
        if isinstance(result, SkippedFile):
            return "url-page", [], [result]
        return "url-page", [DocumentFile(result.path, result.kind, result.text, url=download.url)], []


async def read_source(spec: SourceSpec, settings: Settings) -> SourceContent:
    """Read one source named by a path or an http(s) URL; raises SourceError when it cannot be read at all."""
    check_location(spec.location)
    name = spec.name or default_name(spec.location)
    scheme = urlsplit(spec.location).scheme
    if scheme in ("http", "https"):
        kind, documents, skipped = await read_url(spec.location, settings)
        return SourceContent(name, spec.location, kind, spec.base_url, documents, skipped)
    if scheme and len(scheme) > 1:
        raise SourceError(f"Unsupported source {short_repr(spec.location)}: give a local path or an http(s) URL.")
    try:
        return _read_local(spec, name)
    except OSError as exc:
        # For example "File name too long" from stat() on a path component longer than 255 bytes.
        raise SourceError(f"Cannot read source {short_repr(spec.location)}: {exc.strerror or exc}") from exc


def _read_local(spec: SourceSpec, name: str) -> SourceContent:
    path = Path(spec.location).expanduser()
    if path.is_dir():
        documents, skipped = read_folder(path)
        return SourceContent(name, str(path.resolve()), "folder", spec.base_url, documents, skipped)
    if path.is_file():
        if path.name.lower().endswith(_ARCHIVE_SUFFIXES):
            documents, skipped = read_archive(path)
            return SourceContent(name, str(path.resolve()), "archive", spec.base_url, documents, skipped)
        result = decode(path.name, path.read_bytes())
        content = SourceContent(name, str(path.resolve()), "file", spec.base_url)
        (content.documents if isinstance(result, DocumentFile) else content.skipped).append(result)
        return content
    raise SourceError(
        f"Source {short_repr(spec.location)} is neither an existing file or folder nor an http(s) URL."
    )

"""CRIC PanDA queue data: loading it from CRIC or a local copy and caching it on disk.

CRIC's `api/atlas/pandaqueue/query/?json` returns `{queue_name: record}` with about 90 fields per queue;
the CVMFS copy `cric_pandaqueues.json` has the same shape. Remote data goes through the shared disk cache
with a TTL. Once a copy exists, callers do not wait long for CRIC: the MCP server refreshes in the
background and terminal commands wait a few seconds for the refresh. While CRIC is down or slow they get
the copy, marked stale with its age and the reason. A local file that disappears or breaks under a
running server is handled the same way: the last good copy is served, marked stale.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import anyio

from servers.sites.table import InvalidCricDataError, QueueTable, build_table, read_table
from shared.cache import CachedFile, DiskCache
from shared.config import DEFAULT_CRIC_URL, Settings
from shared.exceptions import AskPandaError, HtmlInsteadOfJsonError
from shared.http import HttpClient, redact_url

logger = logging.getLogger(__name__)

CVMFS_COPY = "/cvmfs/atlas.cern.ch/repo/sw/local/etc/cric_pandaqueues.json"
SUPPORTED_SCHEMES = ("http", "https", "file")


class CricUnavailableError(Exception):
    """No CRIC queue data could be loaded: the source failed and no cached copy exists."""


@dataclass(frozen=True)
class Provenance:
    """Source and age of the data behind one result."""

    source: str
    fetched_at: float
    stale: bool = False
    stale_reason: str | None = None

    @property
    def age_seconds(self) -> int:
        return max(0, int(time.time() - self.fetched_at))

    @property
    def fetched_at_iso(self) -> str:
        return (
            datetime.fromtimestamp(self.fetched_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        )


@dataclass(frozen=True)
class CricData:
    """The queue table with the provenance of this particular load."""

    table: QueueTable
    provenance: Provenance


def _local_path(url: str) -> Path | None:
    """Return the file path when ASKPANDA_CRIC_URL names a local file (plain path or file:// URL).

    Raise CricUnavailableError for a URL scheme other than http, https and file.
    """
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return None
    if parts.scheme == "file":
        return Path(parts.path).expanduser()
    # A one-letter scheme is a Windows drive letter, as in C:\data\cric.json, so the URL is a path.
    if len(parts.scheme) > 1:
        raise CricUnavailableError(
            f"ASKPANDA_CRIC_URL {url!r} uses the unsupported scheme {parts.scheme}://. Use an http(s) URL "
            f"such as {DEFAULT_CRIC_URL}, or a local file path such as {CVMFS_COPY}."
        )
    return Path(url).expanduser()


class CricLoader:
    """Loads the CRIC queue table from settings.cric_url and keeps it parsed while its file is unchanged.

    With `background_refresh` (the MCP servers), an expired copy is served at once, marked stale, while one
    refresh runs. Without it the refresh runs first. A caller with a cached copy then waits at most
    `refresh_wait` seconds for it (terminal commands), or until the request deadline when that is None.
    """

    def __init__(
        self, settings: Settings, *, background_refresh: bool = True, refresh_wait: float | None = None
    ) -> None:
        if not settings.cric_url.strip():
            # An empty ASKPANDA_CRIC_URL (a placeholder left in a client configuration) means the default.
            settings = settings.model_copy(update={"cric_url": DEFAULT_CRIC_URL})
        self._settings = settings
        self._background_refresh = background_refresh
        self._refresh_wait = refresh_wait
        self._url = settings.cric_url.strip()
        self._url_error: CricUnavailableError | None = None
        try:
            self._path = _local_path(self._url)
        except CricUnavailableError as exc:
            self._path, self._url_error = None, exc
        self._cache = DiskCache(settings.cache_dir, max_bytes=settings.cache_max_mb * 1024 * 1024)
        self._table: QueueTable | None = None
        self._table_key: tuple[str, float, int] | None = None
        self._file_loaded: Provenance | None = None
        self._file_problem: str | None = None
        self._lock = asyncio.Lock()
        self._last_failure: str | None = None

    @property
    def source(self) -> str:
        return str(self._path) if self._path is not None else redact_url(self._url)

    async def load(self) -> CricData:
        """Return the current queue table; raise CricUnavailableError when there is none to give."""
        if self._url_error is not None:
            raise self._url_error
        if self._path is not None:
            return await self._load_file(self._path)
        return await self._load_remote()

    async def _load_file(self, path: Path) -> CricData:
        try:
            stat = path.stat()
        except OSError as exc:
            problem = f"The CRIC file {path} (ASKPANDA_CRIC_URL) cannot be read: {exc.strerror or exc}."
            return self._last_good_file(
                problem,
                f"Point ASKPANDA_CRIC_URL to an existing copy such as {CVMFS_COPY}, or to the CRIC URL.",
                exc,
            )

        try:
            table = await self._table_for(path, (str(path), stat.st_mtime, stat.st_size))
        except (InvalidCricDataError, OSError) as exc:
            return self._last_good_file(f"The CRIC file {path} cannot be used: {exc}", "", exc)

        self._file_loaded = Provenance(source=str(path), fetched_at=stat.st_mtime)
        self._file_problem = None
        return CricData(table, self._file_loaded)

    def _last_good_file(self, problem: str, advice: str, exc: Exception) -> CricData:
        """Return the table loaded from the file before, marked stale; raise CricUnavailableError if none.

        CVMFS and network file systems can drop a file for a moment, so a server that loaded it once keeps
        serving that copy.
        """
        if self._table is None or self._file_loaded is None:
            raise CricUnavailableError(f"{problem} {advice}".strip()) from exc

        if problem != self._file_problem:
            logger.warning("%s Serving the copy loaded before.", problem)
            self._file_problem = problem
        reason = f"{problem} The copy loaded before is served."
        provenance = Provenance(
            self._file_loaded.source, self._file_loaded.fetched_at, stale=True, stale_reason=reason
        )
        return CricData(self._table, provenance)

    async def _load_remote(self) -> CricData:
        try:
            entry = await self._cache_entry()
        except (AskPandaError, OSError) as exc:
            failure = _describe_failure(exc)
            origin = "" if self.source in failure else f" from {self.source}"
            raise CricUnavailableError(
                f"CRIC queue data could not be loaded{origin}: {failure} No cached copy exists yet. To work "
                f"without CRIC, set ASKPANDA_CRIC_URL to a local copy such as {CVMFS_COPY}."
            ) from exc

        try:
            table = await self._table_for(
                entry.path, (str(entry.path), entry.fetched_at, entry.path.stat().st_size)
            )
        except (InvalidCricDataError, OSError) as exc:
            # The cache only stores documents that passed build_table, so this file was removed or damaged
            # later (eviction by another process, a full disk). Without the body the next call fetches anew.
            logger.warning("Cached CRIC copy %s is unusable: %s", entry.path, exc)
            entry.path.unlink(missing_ok=True)
            raise CricUnavailableError(
                f"The cached copy of the CRIC data is unusable ({exc}). Try again; the next call fetches it anew."
            ) from exc
        reason = entry.stale_reason
        if entry.stale and reason == "refresh in progress" and self._last_failure:
            reason = f"refresh in progress; the previous refresh failed: {self._last_failure}"
        provenance = Provenance(self.source, entry.fetched_at, stale=entry.stale, stale_reason=reason)
        if entry.stale:
            logger.info("Serving CRIC data %d s old from the cache: %s", provenance.age_seconds, reason)
        return CricData(table, provenance)

    async def _cache_entry(self) -> CachedFile:
        """Return the cache entry of the CRIC URL, refreshed first unless refreshes run in the background."""
        ttl = self._settings.cric_ttl_seconds
        cached = self._cache.peek(self._url)
        waits_briefly = not self._background_refresh and self._refresh_wait is not None
        if not waits_briefly or cached is None or cached.age_seconds < ttl:
            return await self._cache.get(
                self._url, self._fetch, ttl=ttl, refresh_in_background=self._background_refresh
            )

        with anyio.move_on_after(self._refresh_wait):
            return await self._cache.get(self._url, self._fetch, ttl=ttl)
        reason = f"CRIC did not answer within {self._refresh_wait:g} s, so the cached copy is served"
        logger.info("%s (%s)", reason, self.source)
        return CachedFile(cached.key, cached.path, cached.fetched_at, stale=True, stale_reason=reason)

    async def _table_for(self, path: Path, key: tuple[str, float, int]) -> QueueTable:
        # Parsing a 10 MB dump takes about 0.2 s (benchmarks/sites_bench.py), so it runs once per file
        # version, in a worker thread, and concurrent callers wait for that one parse.
        async with self._lock:
            if self._table is None or self._table_key != key:
                table = await anyio.to_thread.run_sync(lambda: read_table(path, source=self.source))
                logger.info("Loaded %d PanDA queues from %s", len(table), self.source)
                self._table, self._table_key = table, key
            return self._table

    async def _fetch(self, dest: Path) -> None:
        """Download the CRIC document into `dest` after checking its shape.

        A bad response raises before anything is written, so it never replaces a good copy.
        """
        try:
            async with HttpClient(self._settings) as http:
                document = await http.get_json(self._url)
            build_table(document, source=self.source)
            await anyio.to_thread.run_sync(lambda: dest.write_text(json.dumps(document), encoding="utf-8"))
        except (AskPandaError, OSError) as exc:
            self._last_failure = _describe_failure(exc)
            logger.warning("CRIC refresh from %s failed: %s", self.source, self._last_failure)
            raise
        self._last_failure = None


def _describe_failure(exc: BaseException) -> str:
    # The shared HTML message speaks of BigPanDA ids and tokens; for CRIC the useful fact is the page itself.
    if isinstance(exc, HtmlInsteadOfJsonError):
        return "it returned an HTML page (a login or error page) instead of JSON."
    text = str(exc).strip() or exc.__class__.__name__
    return text if text.endswith(".") else text + "."

"""Async client for the BigPanDA pages the logs server reads: the job record, the log file list and log files.

Job records live in an in-memory TTL cache (job_ttl_seconds) backed by the disk cache, so a record fetched
earlier is served, marked stale, while BigPanDA is down. Log files go to the disk cache (log_ttl_seconds).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
from cachetools import TTLCache

from shared.cache import CachedFile, DiskCache
from shared.config import Settings
from shared.exceptions import AskPandaError, HtmlInsteadOfJsonError, NotFoundError, UpstreamError
from shared.http import HttpClient

logger = logging.getLogger(__name__)

MAX_PARALLEL_DOWNLOADS = 4
MEMORY_CACHE_ENTRIES = 256


class JobNotFoundError(AskPandaError):
    """BigPanDA has no usable record for the pandaid (unknown id, empty record, or a login page)."""


class LogsUnavailableError(AskPandaError):
    """BigPanDA cannot list or serve the job's log files (no tarball, tarball too large, file not in it)."""


@dataclass(frozen=True)
class Fetched:
    """A document or file from BigPanDA, with its age when it came from the cache after a failure."""

    value: Any
    stale_reason: str | None = None
    age_seconds: float = 0.0


class BigPandaClient:
    """Reads job records and log files from the monitor named in the settings."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        ttl = max(settings.job_ttl_seconds, 0)
        self._records: TTLCache[str, Any] | None = TTLCache(MEMORY_CACHE_ENTRIES, ttl) if ttl else None
        self._disk = DiskCache(settings.cache_dir / "bigpanda", max_bytes=settings.cache_max_mb * 1024 * 1024)

    @property
    def base(self) -> str:
        return self._settings.monitor_base

    def job_link(self, pandaid: int) -> str:
        """Return the job's BigPanDA page for people."""
        return f"{self.base}/job?pandaid={pandaid}"

    async def get_job(self, pandaid: int) -> Fetched:
        """Return the job response {"job": {...}, "files": [...], "dsfiles": [...]}; raise JobNotFoundError if none."""
        url = f"{self.base}/job?pandaid={pandaid}&json"
        try:
            fetched = await self._json(url, ttl=self._settings.job_ttl_seconds)
        except HtmlInsteadOfJsonError as exc:
            raise JobNotFoundError(
                f"BigPanDA returned an HTML page instead of the record of pandaid {pandaid}: the pandaid is unknown, "
                "or the monitor wants a login (these cannot be told apart). Check the pandaid; if it is right, set "
                "ASKPANDA_TOKEN or ASKPANDA_TOKEN_FILE to an OIDC token."
            ) from exc

        document = fetched.value
        job = document.get("job") if isinstance(document, dict) else None
        if not isinstance(job, dict) or not job:
            raise JobNotFoundError(
                f"BigPanDA returned an empty job record for pandaid {pandaid}; the job may be too old or not exist. "
                "Check the pandaid on the BigPanDA web page."
            )
        return fetched

    async def list_files(self, pandaid: int) -> Fetched:
        """Return the files of the job's log tarball as BigPanDA lists them (dicts with name, size, ...)."""
        url = f"{self.base}/filebrowser/?pandaid={pandaid}&json"
        try:
            fetched = await self._json(url, ttl=self._settings.job_ttl_seconds)
        except HtmlInsteadOfJsonError as exc:
            raise LogsUnavailableError(
                f"BigPanDA returned an HTML page instead of the log file list of pandaid {pandaid} (unknown job or a "
                "login page). Set ASKPANDA_TOKEN if the monitor needs a login."
            ) from exc
        except UpstreamError as exc:
            if exc.status in (400, 404):
                raise LogsUnavailableError(
                    f"BigPanDA has no log files for pandaid {pandaid} (HTTP {exc.status}); the log tarball may not "
                    "have been uploaded. The job record alone is still available through get_job_status."
                ) from exc
            raise

        document = fetched.value
        error = document.get("error") if isinstance(document, dict) else "unexpected answer"
        if error:
            raise LogsUnavailableError(f"BigPanDA cannot show the log files of pandaid {pandaid}: {error}")
        files = document.get("files") if isinstance(document, dict) else None
        return Fetched(
            [entry for entry in files or [] if isinstance(entry, dict)],
            fetched.stale_reason,
            fetched.age_seconds,
        )

    async def fetch_file(self, pandaid: int, name: str, *, max_bytes: int | None = None) -> CachedFile:
        """Download one log file of the job into the disk cache and return the cache entry."""
        url = f"{self.base}/filebrowser/?pandaid={pandaid}&json&filename={quote(name)}"

        async def fetch(dest: Path) -> None:
            async with HttpClient(self._settings) as http:
                await http.download(url, dest, max_bytes=max_bytes)

        try:
            return await self._disk.get(url, fetch, ttl=self._settings.log_ttl_seconds)
        except NotFoundError as exc:
            raise LogsUnavailableError(
                f"File {name!r} is not in the log tarball of pandaid {pandaid}. Call list_job_files({pandaid}) for "
                "the file names."
            ) from exc
        except UpstreamError as exc:
            if exc.status != 400:
                raise
            raise LogsUnavailableError(
                f"BigPanDA has no log files for pandaid {pandaid} (HTTP 400); check the pandaid with get_job_status."
            ) from exc

    async def fetch_files(
        self, pandaid: int, names: list[str], *, max_bytes: int | None = None
    ) -> dict[str, CachedFile | AskPandaError]:
        """Download several files at once; each name maps to its cache entry or to the error it failed with."""
        results: dict[str, CachedFile | AskPandaError] = {}
        limiter = anyio.CapacityLimiter(MAX_PARALLEL_DOWNLOADS)

        async def one(name: str) -> None:
            async with limiter:
                try:
                    results[name] = await self.fetch_file(pandaid, name, max_bytes=max_bytes)
                except AskPandaError as exc:
                    logger.warning("pandaid %d: download of %s failed: %s", pandaid, name, exc)
                    results[name] = exc

        async with anyio.create_task_group() as group:
            for name in names:
                group.start_soon(one, name)
        return results

    async def _json(self, url: str, *, ttl: int) -> Fetched:
        if self._records is not None and url in self._records:
            return Fetched(self._records[url])

        async def fetch(dest: Path) -> None:
            async with HttpClient(self._settings) as http:
                document = await http.get_json(url)
            dest.write_text(json.dumps(document), encoding="utf-8")

        entry = await self._disk.get(url, fetch, ttl=ttl)
        try:
            document = json.loads(entry.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UpstreamError(
                f"The cached copy of {url} is unreadable: {exc}. Try again.", url=url
            ) from exc

        if entry.stale:
            logger.warning("Serving a %.0f s old copy of %s: %s", entry.age_seconds, url, entry.stale_reason)
            return Fetched(document, entry.stale_reason, entry.age_seconds)
        if self._records is not None:
            self._records[url] = document
        return Fetched(document)

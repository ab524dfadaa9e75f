"""Disk cache for large downloads (logs, CRIC dumps): TTL, size cap with LRU eviction, stale-if-error.

Entries are files named by the SHA-256 of their key (usually the URL) with a JSON sidecar that records the
key and when the body was fetched. Writes are atomic: a body is fetched into a temporary file and renamed
into place. Concurrent requests for one key in one process share one download.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from shared.exceptions import AskPandaError

logger = logging.getLogger(__name__)

Fetcher = Callable[[Path], Awaitable[None]]
"""Writes the fresh body to the given path; raises AskPandaError or OSError when the source fails."""


@dataclass(frozen=True)
class CachedFile:
    """A cache entry handed to a caller."""

    key: str
    path: Path
    fetched_at: float
    stale: bool = False
    stale_reason: str | None = None

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.fetched_at)


class DiskCache:
    """Files keyed by string, each reused for `ttl` seconds and served stale when a refresh fails."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._locks: dict[str, asyncio.Lock] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._failures: dict[str, tuple[float, AskPandaError | OSError]] = {}

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        folder = self.root / digest[:2]
        return folder / digest, folder / f"{digest}.meta.json"

    def peek(self, key: str) -> CachedFile | None:
        """Return the stored entry for `key` whatever its age, or None."""
        body, meta = self._paths(key)
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not body.exists() or record.get("key") != key:
            return None
        return CachedFile(key=key, path=body, fetched_at=float(record.get("fetched_at", 0.0)))

    async def get(
        self, key: str, fetch: Fetcher, *, ttl: float, refresh_in_background: bool = False
    ) -> CachedFile:
        """Return a fresh entry for `key`, fetching it when missing or older than `ttl` seconds.

        When the fetch fails and an older copy exists, that copy is returned with `stale=True` and the
        reason. With `refresh_in_background`, an expired copy is returned at once (marked stale) while one
        refresh runs in the background.
        """
        entry = self.peek(key)
        if entry is not None and entry.age_seconds < ttl:
            self._touch(key)
            return entry

        if entry is not None and refresh_in_background:
            self._start_background_refresh(key, fetch)
            return CachedFile(key, entry.path, entry.fetched_at, stale=True, stale_reason="refresh in progress")

        lock = self._locks.setdefault(key, asyncio.Lock())
        waiting_since = time.monotonic()
        async with lock:
            # Another caller may have fetched the entry while this one waited for the lock.
            entry = self.peek(key)
            if entry is not None and entry.age_seconds < ttl:
                self._touch(key)
                return entry

            # A fetch that failed while this caller waited is not repeated: during an outage, N waiting
            # callers would otherwise take N request deadlines one after another.
            failure = self._failures.get(key)
            if failure is not None and failure[0] >= waiting_since:
                return self._stale_or_raise(key, entry, failure[1])

            try:
                fresh = await self._fetch_into_cache(key, fetch)
            except (AskPandaError, OSError) as exc:
                self._failures[key] = (time.monotonic(), exc)
                return self._stale_or_raise(key, entry, exc)
            self._failures.pop(key, None)
            return fresh

    @staticmethod
    def _stale_or_raise(key: str, entry: CachedFile | None, exc: AskPandaError | OSError) -> CachedFile:
        if entry is None:
            raise exc
        logger.warning("Serving stale cache for %s (age %.0f s): %s", key, entry.age_seconds, exc)
        return CachedFile(key, entry.path, entry.fetched_at, stale=True, stale_reason=str(exc))

    def _start_background_refresh(self, key: str, fetch: Fetcher) -> None:
        if key in self._refreshing:
            return

        async def refresh() -> None:
            try:
                async with self._locks.setdefault(key, asyncio.Lock()):
                    await self._fetch_into_cache(key, fetch)
            except (AskPandaError, OSError) as exc:
                logger.warning("Background refresh of %s failed: %s", key, exc)
            finally:
                self._refreshing.pop(key, None)

        self._refreshing[key] = asyncio.get_running_loop().create_task(refresh())

    async def _fetch_into_cache(self, key: str, fetch: Fetcher) -> CachedFile:
        body, meta = self._paths(key)
        body.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(dir=body.parent, prefix=".fetch-")
        os.close(handle)
        tmp = Path(tmp_name)
        try:
            logger.info("Fetching %s into the cache", key)
            await fetch(tmp)
            fetched_at = time.time()
            os.replace(tmp, body)
        finally:
            tmp.unlink(missing_ok=True)

        self._write_meta(meta, {"key": key, "fetched_at": fetched_at, "size": body.stat().st_size})
        self.evict(keep=body)
        return CachedFile(key=key, path=body, fetched_at=fetched_at)

    @staticmethod
    def _write_meta(meta: Path, record: dict[str, object]) -> None:
        handle, tmp_name = tempfile.mkstemp(dir=meta.parent, prefix=".meta-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(tmp_name, meta)

    def _touch(self, key: str) -> None:
        # The sidecar's mtime is the entry's last use, which is what eviction sorts by.
        _, meta = self._paths(key)
        try:
            os.utime(meta)
        except OSError:
            pass

    def evict(self, *, keep: Path | None = None) -> int:
        """Delete least recently used entries until the cache is under its size cap; return how many.

        `keep` is never deleted, so an entry larger than the cap still reaches the caller that fetched it.
        """
        entries: list[tuple[float, int, Path, Path]] = []
        total = 0
        for meta in self.root.glob("*/*.meta.json"):
            body = meta.with_name(meta.name.removesuffix(".meta.json"))
            try:
                size = body.stat().st_size
                used = meta.stat().st_mtime
            except OSError:
                continue
            entries.append((used, size, body, meta))
            total += size

        removed = 0
        for used, size, body, meta in sorted(entries):
            if total <= self.max_bytes:
                break
            if body == keep:
                continue
            body.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            total -= size
            removed += 1
        if removed:
            logger.info("Evicted %d cache entries to stay under %d bytes", removed, self.max_bytes)
        return removed

"""Optional CRIC facts about a PanDA queue for the report: its site and its maxrss.

CRIC is a nice-to-have here: any failure (not configured, unreachable, slow, unknown queue) yields None, and a
failure is remembered for cric_ttl_seconds so later reports do not wait again.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import anyio

from shared.cache import DiskCache
from shared.config import Settings
from shared.exceptions import AskPandaError
from shared.http import HttpClient

logger = logging.getLogger(__name__)

CRIC_WAIT_SECONDS = 8.0
"""Maximum wait for CRIC data during one report, in seconds."""


@dataclass(frozen=True)
class QueueInfo:
    """Fields of a CRIC queue record that the report uses."""

    site: str | None
    maxrss_mb: int | None


class QueueDirectory:
    """Looks up PanDA queues in the CRIC queue dump named by cric_url (an http(s) URL or a local file)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._disk = DiskCache(settings.cache_dir / "cric", max_bytes=settings.cache_max_mb * 1024 * 1024)
        self._queues: dict[str, QueueInfo] | None = None
        self._loaded_at = 0.0
        self._failed_at: float | None = None

    async def lookup(self, queue: str | None) -> QueueInfo | None:
        """Return the site and maxrss of `queue`, or None when CRIC cannot tell within CRIC_WAIT_SECONDS."""
        if not queue:
            return None
        queues = None
        with anyio.move_on_after(CRIC_WAIT_SECONDS):
            queues = await self._load()
        return queues.get(queue) if queues else None

    async def _load(self) -> dict[str, QueueInfo] | None:
        ttl = self._settings.cric_ttl_seconds
        now = time.monotonic()
        if self._failed_at is not None and now - self._failed_at < ttl:
            return None
        if self._queues is not None and now - self._loaded_at < ttl:
            return self._queues

        try:
            path = await self._fetch()
            queues = await anyio.to_thread.run_sync(_read_queues, path)
        except (AskPandaError, OSError, ValueError) as exc:
            logger.info("CRIC queue data unavailable (%s); reports go without it", exc)
            self._failed_at = now
            return None

        self._queues, self._loaded_at, self._failed_at = queues, now, None
        return queues

    async def _fetch(self) -> Path:
        source = self._settings.cric_url
        if not source.startswith(("http://", "https://")):
            return Path(source).expanduser()

        async def fetch(dest: Path) -> None:
            async with HttpClient(self._settings) as http:
                await http.download(source, dest)

        entry = await self._disk.get(
            source, fetch, ttl=self._settings.cric_ttl_seconds, refresh_in_background=True
        )
        return entry.path


def _read_queues(path: Path) -> dict[str, QueueInfo]:
    """Read a CRIC queue dump ({queue: record}) and keep only what the report uses, to spare memory."""
    with path.open("rb") as handle:
        document = json.load(handle)
    if not isinstance(document, dict):
        logger.info("%s is not a CRIC queue dump (expected an object of queue records)", path)
        return {}

    queues: dict[str, QueueInfo] = {}
    for name, record in document.items():
        if not isinstance(record, dict):
            continue
        maxrss = record.get("maxrss")
        site = record.get("atlas_site") or record.get("rc_site") or record.get("site")
        usable_maxrss = int(maxrss) if isinstance(maxrss, (int, float)) and maxrss > 0 else None
        queues[name] = QueueInfo(str(site) if site else None, usable_maxrss)
    return queues

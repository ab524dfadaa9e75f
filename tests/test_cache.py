"""DiskCache: TTL reuse, stale-if-error with age, one download for concurrent callers, LRU size cap."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from shared.cache import DiskCache
from shared.exceptions import UpstreamUnavailableError

pytestmark = pytest.mark.anyio


def _writer(content: bytes, counter: list[int], delay: float = 0.0):
    async def fetch(path: Path) -> None:
        counter.append(1)
        if delay:
            await asyncio.sleep(delay)
        path.write_bytes(content)

    return fetch


async def _failing(path: Path) -> None:
    raise UpstreamUnavailableError("CRIC answered 503", url="http://127.0.0.1/cric")


async def test_fresh_entry_is_reused(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    calls: list[int] = []
    first = await cache.get("k", _writer(b"one", calls), ttl=60)
    second = await cache.get("k", _writer(b"two", calls), ttl=60)
    assert first.path.read_bytes() == b"one"
    assert second.path.read_bytes() == b"one"
    assert len(calls) == 1
    assert not second.stale


async def test_expired_entry_is_refetched(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    calls: list[int] = []
    await cache.get("k", _writer(b"one", calls), ttl=60)
    entry = await cache.get("k", _writer(b"two", calls), ttl=0)
    assert entry.path.read_bytes() == b"two"
    assert len(calls) == 2


async def test_failure_serves_stale_with_reason(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    await cache.get("k", _writer(b"old", []), ttl=60)
    entry = await cache.get("k", _failing, ttl=0)
    assert entry.stale
    assert entry.path.read_bytes() == b"old"
    assert "503" in (entry.stale_reason or "")
    assert entry.age_seconds >= 0


async def test_failure_without_copy_raises(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    with pytest.raises(UpstreamUnavailableError):
        await cache.get("k", _failing, ttl=60)
    assert cache.peek("k") is None


async def test_concurrent_callers_share_download(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    calls: list[int] = []
    fetch = _writer(b"body", calls, delay=0.2)
    entries = await asyncio.gather(*(cache.get("k", fetch, ttl=60) for _ in range(10)))
    assert len(calls) == 1
    assert all(entry.path.read_bytes() == b"body" for entry in entries)


async def test_background_refresh_returns_stale_at_once(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    await cache.get("k", _writer(b"old", []), ttl=60)
    calls: list[int] = []
    entry = await cache.get("k", _writer(b"new", calls, delay=0.2), ttl=0, refresh_in_background=True)
    assert entry.stale
    assert entry.path.read_bytes() == b"old"
    await asyncio.sleep(0.5)
    assert cache.peek("k").path.read_bytes() == b"new"
    assert len(calls) == 1


async def test_size_cap_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=250)
    await cache.get("a", _writer(b"a" * 100, []), ttl=60)
    await cache.get("b", _writer(b"b" * 100, []), ttl=60)
    # Make "a" the older one by use time, then use "b" again.
    _, meta_a = cache._paths("a")
    old = time.time() - 100
    os.utime(meta_a, (old, old))
    await cache.get("b", _writer(b"x", []), ttl=60)
    await cache.get("c", _writer(b"c" * 100, []), ttl=60)
    assert cache.peek("a") is None
    assert cache.peek("b") is not None
    assert cache.peek("c") is not None


async def test_entry_over_cap_still_returned(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10)
    entry = await cache.get("big", _writer(b"z" * 100, []), ttl=60)
    assert entry.path.read_bytes() == b"z" * 100


async def test_failed_fetch_leaves_no_partial_file(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)

    async def half_then_fail(path: Path) -> None:
        path.write_bytes(b"partial")
        raise UpstreamUnavailableError("reset", url="http://127.0.0.1/x")

    with pytest.raises(UpstreamUnavailableError):
        await cache.get("k", half_then_fail, ttl=60)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


async def test_waiting_callers_share_a_failure(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    calls: list[int] = []

    async def slow_failure(path: Path) -> None:
        calls.append(1)
        await asyncio.sleep(0.2)
        raise UpstreamUnavailableError("CRIC answered 503", url="http://127.0.0.1/cric")

    results = await asyncio.gather(*(cache.get("k", slow_failure, ttl=60) for _ in range(10)), return_exceptions=True)
    assert len(calls) == 1
    assert all(isinstance(result, UpstreamUnavailableError) for result in results)


async def test_failure_before_waiting_is_retried(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    with pytest.raises(UpstreamUnavailableError):
        await cache.get("k", _failing, ttl=60)
    entry = await cache.get("k", _writer(b"back", []), ttl=60)
    assert entry.path.read_bytes() == b"back"

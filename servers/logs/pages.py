"""Paged reading of one log file, optionally starting near the first line that contains a search text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from servers.logs.holes import after_last_nul
from servers.logs.models import LogLineOut, LogPage
from servers.logs.sniffing import sniff_file
from servers.logs.sources import LogFile, LogSourceError

MAX_PAGE_LINES = 500
MAX_PAGE_LINE_CHARS = 2000
LINES_BEFORE_MATCH = 10
MAX_PATTERN_CHARS = 200
MAX_READ_BYTES = 1024 * 1024
"""Bytes of one line that are read; the rest of a longer line is skipped, so junk without newlines stays cheap."""


def read_page(log: LogFile, source: str, start_line: int | None, count: int, pattern: str | None) -> LogPage:
    """Return `count` lines of `log` from `start_line` (1-based).

    With `pattern` (case-insensitive text; alternatives separated by '|'), the page starts LINES_BEFORE_MATCH
    lines before the first matching line at or after `start_line`.
    """
    count = max(1, min(count, MAX_PAGE_LINES))
    start = max(1, start_line or 1)
    needles = _needles(pattern)

    sniffed = sniff_file(log.path)
    if sniffed.kind in ("binary", "gzip", "tar"):
        raise LogSourceError(
            f"{log.name!r} is not a text file ({sniffed.reason}); read_log_lines only reads text logs."
        )

    with log.path.open("rb") as handle:
        match_line = None
        if needles:
            match_line = _find(handle, start, needles)
            if match_line is None:
                return LogPage(source=source, filename=log.name, start_line=start, lines=[], end_of_file=True)
            start = max(start, match_line - min(LINES_BEFORE_MATCH, count // 4))
            handle.seek(0)

        lines: list[LogLineOut] = []
        number = 0
        end_of_file = True
        for raw in _iter_lines(handle):
            number += 1
            if number < start:
                continue
            if len(lines) >= count:
                end_of_file = False
                break
            text = after_last_nul(raw).decode("utf-8", "replace").rstrip("\r\n")
            if len(text) > MAX_PAGE_LINE_CHARS:
                text = text[:MAX_PAGE_LINE_CHARS] + f" […] ({len(text)} characters)"
            lines.append(LogLineOut(number=number, text=text))

    return LogPage(
        source=source,
        filename=log.name,
        start_line=start,
        lines=lines,
        match_line=match_line,
        next_start_line=None if end_of_file else start + len(lines),
        end_of_file=end_of_file,
    )


def _needles(pattern: str | None) -> list[bytes]:
    if not pattern or not pattern.strip():
        return []
    if len(pattern) > MAX_PATTERN_CHARS:
        raise LogSourceError(f"pattern is {len(pattern)} characters long; keep it under {MAX_PATTERN_CHARS}.")
    return [part.strip().lower().encode("utf-8") for part in pattern.split("|") if part.strip()]


def _find(handle: BinaryIO, start: int, needles: list[bytes]) -> int | None:
    for number, raw in enumerate(_iter_lines(handle), start=1):
        if number < start:
            continue
        lowered = raw.lower()
        if any(needle in lowered for needle in needles):
            return number
    return None


def _iter_lines(handle: BinaryIO) -> Iterator[bytes]:
    while True:
        raw = handle.readline(MAX_READ_BYTES)
        if not raw:
            return
        if len(raw) == MAX_READ_BYTES and not raw.endswith(b"\n"):
            while True:
                rest = handle.readline(MAX_READ_BYTES)
                if rest and raw.count(0) == len(raw):
                    # The line so far is a hole of a sparse file: keep what follows it instead.
                    raw = rest
                if not rest or rest.endswith(b"\n"):
                    break
        yield raw

"""Holes: runs of NUL bytes where a sparse file has no data, or where a log writer kept its offset after the file
was truncated under it. Such a run is no content, and the text after it is a log line like any other.
"""

from __future__ import annotations

import re

HOLE_MIN_BYTES = 64
"""Shortest NUL run that counts as a hole when content is judged; shorter runs inside text make it binary."""

SKIP_BLOCK_BYTES = 4096
"""Shortest NUL run (one file-system block) that a scan skips without searching it."""

_SKIP_PROBE = bytes(SKIP_BLOCK_BYTES)
_NOT_NUL = re.compile(rb"[^\x00]")


def after_last_nul(raw: bytes) -> bytes:
    """Return the part of one line after its last NUL byte, which is the text written after a hole."""
    return raw[raw.rfind(b"\x00") + 1 :]


def segments_between_holes(buffer: bytearray, end: int) -> list[tuple[int, int]]:
    """Return the (start, end) ranges of buffer[:end] outside NUL runs of at least SKIP_BLOCK_BYTES.

    Skipping holes keeps a 1 GB hole from costing a regular-expression pass, which runs at tens of MB/s for
    patterns without a literal prefix.
    """
    # Most logs have no NUL byte at all; one memchr pass over the buffer settles that case.
    if buffer.find(b"\x00", 0, end) == -1:
        return [(0, end)]

    segments: list[tuple[int, int]] = []
    position = 0
    while position < end:
        hole = buffer.find(_SKIP_PROBE, position, end)
        if hole == -1:
            segments.append((position, end))
            break
        if hole > position:
            segments.append((position, hole))

        # Whole NUL blocks are skipped with a memory compare, so the search for the first data byte covers at
        # most one block.
        position = hole + SKIP_BLOCK_BYTES
        while position + SKIP_BLOCK_BYTES <= end and buffer.startswith(_SKIP_PROBE, position):
            position += SKIP_BLOCK_BYTES
        data = _NOT_NUL.search(buffer, position, end)
        position = data.start() if data else end
    return segments

"""Content sniffing: tell text logs from archives, binary data and zero-filled files by sampling a few windows.

A file is sampled at its start, middle and end (a file of at most three windows is read whole). Runs of NUL
bytes of at least HOLE_MIN_BYTES are holes (a sparse file, or a log whose writer kept its offset after the
file was truncated), not content. So a 1 GB hole followed by one log line is text. A file is binary when the
non-NUL content of any window is not text, because it has NUL bytes inside, too many control characters or
invalid UTF-8.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from servers.logs.holes import HOLE_MIN_BYTES

SNIFF_BYTES = 8192
"""Bytes of one sampled window."""

MAX_CONTROL_SHARE = 0.05
"""Largest share of control characters (other than tab, newline, form feed, carriage return, escape) in text."""

MAX_DATA_PROBES = 4
"""Data regions of a sparse file sampled when the start, middle and end windows contain only NUL bytes."""

Kind = Literal["text", "gzip", "tar", "binary", "zeros"]

_HOLE = re.compile(rb"\x00{%d,}" % HOLE_MIN_BYTES)
_BINARY_CONTROLS = bytes(byte for byte in range(32) if byte not in (9, 10, 12, 13, 27))


@dataclass(frozen=True)
class Sniffed:
    """Kind of content of a file or sample, with a short reason for a skipped-file note."""

    kind: Kind
    reason: str


@dataclass(frozen=True)
class _Window:
    offset: int
    data: bytes
    ends_file: bool


def sniff_kind(head: bytes) -> Kind:
    """Return 'gzip', 'tar', 'binary', 'zeros' or 'text' from the first bytes of a file or stream."""
    return _judge([_Window(0, head, ends_file=False)]).kind


def sniff_file(path: Path) -> Sniffed:
    """Sniff the file at `path` from its start, middle and end windows (SNIFF_BYTES each).

    When all three contain only NUL bytes, the first data regions the file system reports (SEEK_DATA) are sampled
    too, so text between two holes of a sparse file is found without reading the holes.
    """
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        length = size if size <= 3 * SNIFF_BYTES else SNIFF_BYTES
        windows = [_read_window(handle, offset, length, size) for offset in _window_offsets(size)]
        sniffed = _judge(windows)
        if sniffed.kind == "zeros":
            windows += _data_windows(handle, size)
            sniffed = _judge(windows)
    return sniffed


def _window_offsets(size: int) -> list[int]:
    if size <= 3 * SNIFF_BYTES:
        return [0]
    return [0, size // 2 - SNIFF_BYTES // 2, size - SNIFF_BYTES]


def _read_window(handle: BinaryIO, offset: int, length: int, size: int) -> _Window:
    handle.seek(offset)
    data = handle.read(length)
    return _Window(offset, data, ends_file=offset + len(data) >= size)


def _data_windows(handle: BinaryIO, size: int) -> list[_Window]:
    seek_data = getattr(os, "SEEK_DATA", None)
    seek_hole = getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        return []

    windows: list[_Window] = []
    position = 0
    fd = handle.fileno()
    for _ in range(MAX_DATA_PROBES):
        try:
            start = os.lseek(fd, position, seek_data)
            position = os.lseek(fd, start, seek_hole)
        except OSError:
            # ENXIO: no data past `position`. EINVAL: the file system does not report holes.
            break
        # The window stops where the data region ends, because the bytes past it are a hole.
        length = min(SNIFF_BYTES, position - start)
        windows.append(_read_window(handle, start, length, size))
        if position >= size:
            break
    return windows


def _judge(windows: list[_Window]) -> Sniffed:
    first = windows[0].data if windows and windows[0].offset == 0 else b""
    if first.startswith(b"\x1f\x8b"):
        return Sniffed("gzip", "gzip data")
    if len(first) > 262 and first[257:262] == b"ustar":
        return Sniffed("tar", "tar archive")
    if not any(window.data for window in windows):
        return Sniffed("text", "empty")

    segments: list[tuple[int, bytes]] = []
    for window in windows:
        segments += _content_segments(window)
    if not segments:
        return Sniffed(
            "zeros", "only NUL bytes in the sampled start, middle and end: a sparse or zero-filled file"
        )

    for offset, segment in segments:
        nul = segment.find(b"\x00")
        if nul != -1:
            return Sniffed("binary", f"binary data: NUL bytes inside the content near byte {offset + nul}")

    content_bytes = sum(len(segment) for _, segment in segments)
    controls = sum(len(segment) - len(segment.translate(None, _BINARY_CONTROLS)) for _, segment in segments)
    if controls > content_bytes * MAX_CONTROL_SHARE:
        share = 100 * controls / content_bytes
        return Sniffed("binary", f"binary data: {share:.0f}% control characters in the sampled content")

    for offset, segment in segments:
        invalid = _invalid_utf8_at(segment, cut_start=offset > 0)
        if invalid is not None:
            return Sniffed("binary", f"binary data: invalid UTF-8 near byte {offset + invalid}")
    return Sniffed("text", "text")


def _content_segments(window: _Window) -> list[tuple[int, bytes]]:
    """Return the (file offset, bytes) pieces of a window between its holes.

    A NUL run at a window edge inside the file may be part of a longer hole, so it is a hole at any length. At
    the start and the end of the file a run must be HOLE_MIN_BYTES long, as inside the window.
    """
    data = window.data
    start = 0
    end = len(data)
    if window.offset > 0:
        start = end - len(data.lstrip(b"\x00"))
    if not window.ends_file:
        end = len(data.rstrip(b"\x00"))
    if start >= end:
        return []

    segments: list[tuple[int, bytes]] = []
    position = start
    for hole in _HOLE.finditer(data, start, end):
        if hole.start() > position:
            segments.append((window.offset + position, data[position : hole.start()]))
        position = hole.end()
    if position < end:
        segments.append((window.offset + position, data[position:end]))
    return segments


def _invalid_utf8_at(segment: bytes, *, cut_start: bool) -> int | None:
    """Return the index of the first invalid UTF-8 byte, or None. A character cut at either end is valid."""
    skip = 0
    if cut_start:
        while skip < min(3, len(segment)) and 0x80 <= segment[skip] <= 0xBF:
            skip += 1
    try:
        segment[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is fine; invalid bytes earlier are not.
        if exc.start < len(segment) - skip - 4:
            return skip + exc.start
    return None

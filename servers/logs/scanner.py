"""Streaming scan of one log file: candidate lines with their blocks, repeats counted, head and tail kept.

The file is read in large chunks and never held whole. Candidate lines are found with one regular expression
per chunk (for the pilot layouts a literal-prefixed search of the level column, which runs at about the speed of
reading), and only those lines are decoded and parsed. Line numbers come from counting newlines once. Later
steps read short windows around chosen lines with `read_window`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import BinaryIO

from servers.logs.holes import after_last_nul, segments_between_holes
from servers.logs.lineformat import PILOT_HEADER_START, Layout, LogLine, detect_layout, parse_line
from servers.logs.noise import normalized_message
from servers.logs.sources import LogFile

logger = logging.getLogger(__name__)

CHUNK_BYTES = 4 * 1024 * 1024
HEAD_BYTES = 256 * 1024
TAIL_BYTES = 256 * 1024
TAIL_SCAN_BYTES = 256 * 1024 * 1024
"""How much of a file marked tail-only is scanned (its last bytes)."""

MAX_LINE_BYTES = 4000
MAX_BLOCK_LINES = 80
MAX_BLOCK_BYTES = 16 * 1024
MAX_HITS_PER_FILE = 4000
MAX_BLOCK_BYTES_PER_FILE = 4 * 1024 * 1024

# NOTE: in pilot logs only WARNING and higher lines are candidates, plus the few INFO lines in
# PILOT_INFO_MARKERS. Other INFO lines that show a cause (such as "proxy verification failed") are found in the
# window read around the decisive line, so an INFO-only cause far from every warning is missed.
_PILOT_CANDIDATE = re.compile(rb"\| (?:WARNING|ERROR|CRITICAL|FATAL) ")
PILOT_INFO_MARKERS = (b"tobekilled", b"signal to kill job")
"""Texts of INFO pilot lines that show a kill decided by the PanDA server.

Both contain KILL_PROBE: one bytes.find pass for it, then a check of the few lines found, keeps the scan of
a pilot log close to the speed of the level-column search.
"""
KILL_PROBE = b"kill"
KILL_TAIL_BYTES = 64 * 1024 * 1024
"""Only the last 64 MB of a pilot log are searched for KILL_PROBE.

A kill ordered by the PanDA server ends the job, so its lines sit near the end of the log, followed only by
the pilot's clean-up and the log stage-out. Searching the rest would cost a second pass over every chunk.
"""
_OTHER_CANDIDATE = re.compile(
    rb"FATAL|CRITICAL|ERROR|Error|WARNING|Warning|Traceback|[Ss]egmentation|[Ss]ignal|Killed|[Ee]xception|"
    rb"No space|exit code|bad_alloc|[Ff]ailed|successful|[Aa]bort|[Cc]ore dump|!!FAILED!!|!!WARNING!!"
)
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
_STACK_START = re.compile(
    r"Caught signal \d+|Producing stack trace|stack trace:|\*\*\* Break \*\*\*", re.IGNORECASE
)
_FRAME_LINE = re.compile(rb"^(?:\S+ \d\d:\d\d:\d\d )?\s*#\d+\s")


@dataclass
class Hit:
    """A candidate line of a file, with the lines that belong to it and how often its message repeated."""

    file: str
    line: LogLine
    offset: int
    block: list[str] = field(default_factory=list)
    count: int = 1
    last_line: int = 0

    @property
    def end_line(self) -> int:
        return self.line.number + len(self.block)


_EXTRACTS_START = re.compile(
    r"detected the following tail of warning/fatal messages|\[begin log extracts\]|add_timing_and_extracts"
)


class ExtractFilter:
    """Recognises the pilot's copies of its own earlier lines ("log extracts"), which must not count twice.

    After the pilot announces its extracts, it prints earlier lines with their original, older time stamps.
    So a header line older than the announcement is such a copy.
    """

    def __init__(self) -> None:
        self._announced_at: str | None = None

    def is_copy(self, line: LogLine) -> bool:
        """Return True when `line` is a copied line; update the state with every header line seen."""
        if line.continuation or line.time is None:
            return False
        if self._announced_at is not None and line.time < self._announced_at:
            return True
        self._announced_at = line.time if _EXTRACTS_START.search(line.message) else None
        return False


@dataclass
class FileScan:
    """Candidates, head, tail and line count from the scan of one file."""

    file: LogFile
    layout: Layout
    hits: list[Hit] = field(default_factory=list)
    head: list[LogLine] = field(default_factory=list)
    tail: list[LogLine] = field(default_factory=list)
    total_lines: int = 0
    scanned_from_line: int = 1
    truncated_hits: bool = False
    extracts: ExtractFilter = field(default_factory=lambda: ExtractFilter())


def scan_file(log: LogFile) -> FileScan:
    """Scan `log` from start to end (or its last TAIL_SCAN_BYTES when it is tail-only) and return the candidates."""
    with log.path.open("rb") as handle:
        head_bytes = handle.read(HEAD_BYTES)
        layout = detect_layout(head_bytes)
        scan = FileScan(log, layout)
        scan.head = _parse_lines(head_bytes, 1, layout, drop_partial_last=len(head_bytes) == HEAD_BYTES)

        start_line = 1
        start_offset = 0
        if log.tail_only and log.size > TAIL_SCAN_BYTES:
            start_offset, start_line = _skip_to_tail(handle, log.size - TAIL_SCAN_BYTES)
        handle.seek(start_offset)
        scan.scanned_from_line = start_line
        scan.total_lines = _scan_chunks(handle, scan, start_offset, start_line)

        handle.seek(max(0, log.size - TAIL_BYTES))
        tail_bytes = handle.read(TAIL_BYTES)
    scan.tail = _number_tail(tail_bytes, scan.total_lines, layout, partial_first=log.size > TAIL_BYTES)
    logger.debug(
        "Scanned %s: %d lines, %d candidates, layout %s",
        log.name,
        scan.total_lines,
        len(scan.hits),
        layout.value,
    )
    return scan


def _skip_to_tail(handle: BinaryIO, offset: int) -> tuple[int, int]:
    # Count the newlines before `offset` so the tail keeps its real line numbers.
    handle.seek(0)
    lines = 0
    position = 0
    while position < offset:
        block = handle.read(min(CHUNK_BYTES, offset - position))
        if not block:
            break
        lines += block.count(b"\n")
        position += len(block)
    handle.seek(position)
    rest = handle.readline()
    return position + len(rest), lines + 2


def _scan_chunks(handle: BinaryIO, scan: FileScan, offset: int, first_line: int) -> int:
    """Scan from the handle's position to the end; return the number of the last line.

    One buffer is reused for the whole file: each read fills it behind the unfinished last line of the previous
    read, and the regular expression and the newline count work on index ranges of it, so no chunk is copied.
    """
    pattern = _PILOT_CANDIDATE if scan.layout in (Layout.PILOT3, Layout.PILOT2) else _OTHER_CANDIDATE
    seen: dict[str, Hit] = {}
    block_budget = [MAX_BLOCK_BYTES_PER_FILE]
    buffer = bytearray(2 * CHUNK_BYTES)
    view = memoryview(buffer)
    filled = 0
    line_base = first_line
    buffer_offset = offset
    ends_with_newline = True

    while True:
        count = handle.readinto(view[filled : filled + CHUNK_BYTES])
        end = filled + count
        if count:
            cut = buffer.rfind(b"\n", 0, end) + 1
            if cut == 0 and end < len(buffer):
                filled = end
                continue
            # A line longer than the buffer is cut where the buffer ends.
            cut = cut or end
        else:
            cut = end
        if cut:
            line_base += _scan_range(buffer, cut, buffer_offset, line_base, pattern, scan, seen, block_budget)
            ends_with_newline = buffer[cut - 1] == 0x0A
        rest = end - cut
        buffer[:rest] = buffer[cut:end]
        buffer_offset += cut
        filled = rest
        if not count:
            break

    total = line_base - 1
    if buffer_offset > offset and not ends_with_newline:
        total += 1
    return total


def _scan_range(
    chunk: bytearray,
    end: int,
    chunk_offset: int,
    line_base: int,
    pattern: re.Pattern[bytes],
    scan: FileScan,
    seen: dict[str, Hit],
    block_budget: list[int],
) -> int:
    """Record the candidates in chunk[:end] (whole lines) and return how many newlines it contains."""
    counted_pos = 0
    counted_lines = 0
    skip_until = 0

    probe_kills = chunk_offset + end >= scan.file.size - KILL_TAIL_BYTES
    for start, match_end in _candidate_spans(chunk, end, pattern, scan.layout, probe_kills=probe_kills):
        if start < skip_until:
            continue
        line_start = chunk.rfind(b"\n", 0, start) + 1
        # Text written after a hole (NUL bytes of a sparse file) starts after the last NUL byte of its line.
        line_start = chunk.rfind(b"\x00", line_start, start) + 1 or line_start
        line_end = chunk.find(b"\n", match_end, end)
        line_end = end if line_end == -1 else line_end
        counted_lines += chunk.count(b"\n", counted_pos, line_start)
        counted_pos = line_start
        number = line_base + counted_lines

        raw = bytes(chunk[line_start : min(line_end, line_start + MAX_LINE_BYTES)])
        parsed = parse_line(number, raw.decode("utf-8", "replace").rstrip("\r"), scan.layout)
        block, block_end = _capture_block(chunk, line_end, end, parsed, scan.layout, block_budget)
        skip_until = max(line_end, block_end)
        if scan.extracts.is_copy(parsed):
            continue
        _record_hit(
            scan, seen, Hit(scan.file.name, parsed, chunk_offset + line_start, block, last_line=number)
        )

    return counted_lines + chunk.count(b"\n", counted_pos, end)


def _candidate_spans(
    chunk: bytearray, end: int, pattern: re.Pattern[bytes], layout: Layout, *, probe_kills: bool = True
) -> list[tuple[int, int]]:
    """Return the (start, end) positions of candidate matches in chunk[:end], in file order."""
    spans = [
        (match.start(), match.end())
        for segment_start, segment_end in segments_between_holes(chunk, end)
        for match in pattern.finditer(chunk, segment_start, segment_end)
    ]
    if layout not in (Layout.PILOT3, Layout.PILOT2) or not probe_kills:
        return spans
    extra = []
    position = chunk.find(KILL_PROBE, 0, end)
    while position != -1:
        line_start = chunk.rfind(b"\n", 0, position) + 1
        line_end = chunk.find(b"\n", position, end)
        line_end = end if line_end == -1 else line_end
        line = chunk[line_start:line_end]
        if any(marker in line for marker in PILOT_INFO_MARKERS):
            extra.append((position, position + len(KILL_PROBE)))
        position = chunk.find(KILL_PROBE, line_end, end)
    if not extra:
        return spans
    return sorted(spans + extra)


def _record_hit(scan: FileScan, seen: dict[str, Hit], hit: Hit) -> None:
    key = normalized_message(hit.line)
    previous = seen.get(key)
    if previous is not None:
        previous.count += 1
        previous.last_line = hit.line.number
        return
    if len(scan.hits) >= MAX_HITS_PER_FILE:
        scan.truncated_hits = True
        return
    seen[key] = hit
    scan.hits.append(hit)


def _capture_block(
    chunk: bytearray, line_end: int, end: int, parsed: LogLine, layout: Layout, block_budget: list[int]
) -> tuple[list[str], int]:
    """Return the lines after a hit that belong to it, and the chunk position where they end."""
    if block_budget[0] <= 0:
        return [], line_end

    if layout in (Layout.PILOT3, Layout.PILOT2, Layout.PILOT1):

        def belongs(raw: bytes) -> bool:
            return not PILOT_HEADER_START.match(raw)
    elif _TRACEBACK.search(parsed.text):

        def belongs(raw: bytes) -> bool:
            return raw[:1] in (b" ", b"\t") or _is_exception_line(raw)
    elif _STACK_START.search(parsed.text):
        prefix = _line_prefix(parsed.text)

        def belongs(raw: bytes) -> bool:
            return (prefix != b"" and raw.startswith(prefix)) or bool(_FRAME_LINE.match(raw))
    else:
        return [], line_end

    lines: list[str] = []
    position = line_end + 1
    used = 0
    while position < end and len(lines) < MAX_BLOCK_LINES and used < MAX_BLOCK_BYTES:
        next_end = chunk.find(b"\n", position, end)
        next_end = end if next_end == -1 else next_end
        raw = bytes(chunk[position:next_end])
        if not belongs(raw):
            break
        lines.append(raw[:MAX_LINE_BYTES].decode("utf-8", "replace").rstrip("\r"))
        used += len(raw)
        position = next_end + 1
        if _TRACEBACK.search(parsed.text) and _is_exception_line(raw):
            break

    block_budget[0] -= used
    return lines, min(position, end)


_EXCEPTION_LINE = re.compile(rb"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)(: |$)")


def _is_exception_line(raw: bytes) -> bool:
    return bool(_EXCEPTION_LINE.match(raw))


def _line_prefix(text: str) -> bytes:
    # Athena lines inside a transform log start with the step name and a time, e.g. "EVNTtoHITS 11:03:54 ".
    match = re.match(r"(\w+ \d\d:\d\d:\d\d )", text)
    return match.group(1).encode() if match else b""


def _line_text(raw: bytes) -> str:
    return after_last_nul(raw)[:MAX_LINE_BYTES].decode("utf-8", "replace").rstrip("\r")


def _parse_lines(data: bytes, first_number: int, layout: Layout, *, drop_partial_last: bool) -> list[LogLine]:
    raw_lines = data.split(b"\n")
    if drop_partial_last or (raw_lines and raw_lines[-1] == b""):
        raw_lines = raw_lines[:-1]
    return [parse_line(first_number + index, _line_text(raw), layout) for index, raw in enumerate(raw_lines)]


def _number_tail(data: bytes, total_lines: int, layout: Layout, *, partial_first: bool) -> list[LogLine]:
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines = raw_lines[:-1]
    # The first line is cut by the window unless a hole precedes its text, because text after a hole starts a
    # line.
    if partial_first and raw_lines and b"\x00" not in raw_lines[0]:
        raw_lines = raw_lines[1:]
    first = total_lines - len(raw_lines) + 1
    return (
        _parse_lines(b"\n".join(raw_lines) + b"\n", first, layout, drop_partial_last=False)
        if raw_lines
        else []
    )


def read_window(
    log: LogFile, layout: Layout, anchor: Hit, *, before: int = 512 * 1024, after: int = 64 * 1024
) -> list[LogLine]:
    """Return the parsed lines around `anchor`: up to `before` bytes ahead of it and `after` bytes past it."""
    start = max(0, anchor.offset - before)
    with log.path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(anchor.offset - start + after)

    split_at = anchor.offset - start
    ahead = data[:split_at]
    rest = data[split_at:]
    ahead_lines = ahead.split(b"\n")[:-1]
    if start > 0 and ahead_lines:
        ahead_lines = ahead_lines[1:]
    rest_lines = rest.split(b"\n")
    if len(data) == anchor.offset - start + after:
        rest_lines = rest_lines[:-1]

    first = anchor.line.number - len(ahead_lines)
    lines = ahead_lines + rest_lines
    return [parse_line(first + index, _line_text(raw), layout) for index, raw in enumerate(lines)]

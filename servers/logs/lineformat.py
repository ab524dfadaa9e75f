"""Line layouts of the logs a PanDA job leaves behind, and a parser that splits a line into its fields.

Layouts recognised:

- Pilot 3: ``2025-10-03 14:07:02,120 | INFO     | pilot.util.https        | send_update     | message``
- Pilot 2: the same with a thread column before the logger.
- Pilot 1: ``2018-05-15 22:01:08|25261|Monitor.py  | message`` (no level column).
- PyJobTransforms: ``PyJobTransforms.trfExe.validate 2025-10-03 11:04:11,566 ERROR message``
- Athena / Gaudi: ``EVNTtoHITS 11:03:54 PoolSvc    WARNING message`` (step and time optional).
- Anything else: a level word near the start of the line (ERROR, FATAL, ...) or ROOT's ``Error in <...>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Layout(Enum):
    """The line layout of a whole file, judged from its first lines."""

    PILOT3 = "pilot3"
    PILOT2 = "pilot2"
    PILOT1 = "pilot1"
    OTHER = "other"


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "FATAL")
SEVERITY = {"DEBUG": 0, "VERBOSE": 0, "INFO": 0, "WARNING": 1, "ERROR": 2, "CRITICAL": 3, "FATAL": 3}

_PILOT_TIME = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"
_PILOT_LEVEL = r" \| (DEBUG|INFO|WARNING|ERROR|CRITICAL|FATAL) *\|"
# Columns are matched greedily up to the next "|" and stripped afterwards; no pattern overlaps another, so
# matching stays linear in the line length.
_COLUMN = r"([^|]*)\|"
PILOT3_LINE = re.compile(_PILOT_TIME + _PILOT_LEVEL + _COLUMN + _COLUMN + r" ?(.*)\Z", re.DOTALL)
PILOT2_LINE = re.compile(_PILOT_TIME + _PILOT_LEVEL + _COLUMN + _COLUMN + _COLUMN + r" ?(.*)\Z", re.DOTALL)
PILOT1_LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\|(\d+)\|([^|]*)\| ?(.*)\Z", re.DOTALL)
TRANSFORM_LINE = re.compile(
    r"([\w.<>]+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (DEBUG|INFO|WARNING|ERROR|CRITICAL|FATAL) (.*)\Z",
    re.DOTALL,
)
ATHENA_LINE = re.compile(
    r"(?:(\w+) )?(?:(\d\d:\d\d:\d\d) )?([\w:.\-<>/\[\]]+)\s+(VERBOSE|DEBUG|INFO|WARNING|ERROR|FATAL)\s+(.*)\Z",
    re.DOTALL,
)
TIMESTAMP_START = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")
LEVEL_WORD = re.compile(r"\b(FATAL|CRITICAL|ERROR|WARNING|WARN)\b")
ROOT_MESSAGE = re.compile(r"(Fatal|Error|Warning|SysError) in <")
PILOT1_FAILED = re.compile(r"!!(FAILED|WARNING)!!")
_PILOT_LOGGER = re.compile(r"(pilot(\.[\w.]+)?|__main__|root|py\.warnings|[\w.]+\.\d+)\Z")

# A header line of the pilot layouts starts with this; anything else in a pilot log continues the previous record.
PILOT_HEADER_START = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@dataclass(slots=True)
class LogLine:
    """One line of a log file with the fields its layout defines."""

    number: int
    text: str
    level: str | None = None
    logger: str | None = None
    function: str | None = None
    message: str = ""
    time: str | None = None
    continuation: bool = False

    @property
    def severity(self) -> int:
        return SEVERITY.get(self.level or "", 0)


def detect_layout(head: bytes) -> Layout:
    """Return the layout of a file from its first bytes, by counting header lines of each pilot layout."""
    counts = {Layout.PILOT3: 0, Layout.PILOT2: 0, Layout.PILOT1: 0}
    for raw in head.splitlines()[:400]:
        text = raw.decode("utf-8", "replace")
        if PILOT2_LINE.match(text) and _looks_like_pilot2(text):
            counts[Layout.PILOT2] += 1
        elif PILOT3_LINE.match(text):
            counts[Layout.PILOT3] += 1
        elif PILOT1_LINE.match(text):
            counts[Layout.PILOT1] += 1

    layout, best = max(counts.items(), key=lambda item: item[1])
    return layout if best >= 2 else Layout.OTHER


def _looks_like_pilot2(text: str) -> bool:
    # Pilot 2 puts the thread name in column 3 and the logger in column 4; Pilot 3 has the logger in column 3.
    parts = [part.strip() for part in text.split("|")]
    return len(parts) >= 6 and not _PILOT_LOGGER.match(parts[2]) and bool(_PILOT_LOGGER.match(parts[3]))


def parse_line(number: int, text: str, layout: Layout) -> LogLine:
    """Split one line into its fields according to the file's layout."""
    if layout is Layout.PILOT3:
        match = PILOT3_LINE.match(text)
        if match:
            time, level, logger, function, message = match.groups()
            return LogLine(number, text, level, logger.strip(), function.strip(), message, time)
        return LogLine(number, text, message=text, continuation=True)

    if layout is Layout.PILOT2:
        match = PILOT2_LINE.match(text)
        if match:
            time, level, _thread, logger, function, message = match.groups()
            return LogLine(number, text, level, logger.strip(), function.strip(), message, time)
        return LogLine(number, text, message=text, continuation=True)

    if layout is Layout.PILOT1:
        match = PILOT1_LINE.match(text)
        if match:
            time, _pid, module, message = match.groups()
            flagged = PILOT1_FAILED.search(message)
            level = None
            if flagged:
                level = "ERROR" if flagged.group(1) == "FAILED" else "WARNING"
            return LogLine(number, text, level, module.strip(), None, message, time)
        return LogLine(number, text, message=text, continuation=True)

    return _parse_other(number, text)


def _parse_other(number: int, text: str) -> LogLine:
    match = TRANSFORM_LINE.match(text)
    if match:
        logger, time, level, message = match.groups()
        return LogLine(number, text, level, logger, None, message, time)

    match = ATHENA_LINE.match(text)
    if match:
        _step, time, component, level, message = match.groups()
        return LogLine(number, text, "WARNING" if level == "WARN" else level, component, None, message, time)

    level = None
    head = text[:120]
    word = LEVEL_WORD.search(head)
    if word:
        level = "WARNING" if word.group(1) in ("WARN", "WARNING") else word.group(1)
    else:
        root = ROOT_MESSAGE.match(text.lstrip())
        if root:
            level = {"Fatal": "FATAL", "Error": "ERROR", "SysError": "ERROR", "Warning": "WARNING"}[
                root.group(1)
            ]
    time = text[:19] if TIMESTAMP_START.match(text) else None
    return LogLine(number, text, level, None, None, text, time)


def compact_pilot_header(line: LogLine) -> str:
    """Return the line with the padding of the pilot's fixed-width columns removed; other lines unchanged."""
    if line.continuation or line.function is None or line.time is None or line.logger is None:
        return line.text
    if not line.text.startswith(line.time) or " | " not in line.text[:40]:
        return line.text
    return f"{line.time} | {line.level} | {line.logger} | {line.function} | {line.message}"

"""Process listings in pilot logs (`ps -o ...,stat,...`): rows of processes stuck in the kernel or defunct.

When the pilot kills a looping job it dumps the process table. A payload process in state D (uninterruptible
sleep, usually waiting for I/O on a hung file system) or Z (zombie) shows why the payload stopped progressing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from servers.logs.lineformat import LogLine

_HEADER = re.compile(r"(?:^|\s)PID\s+.*\bSTAT\b")
_STUCK_STATES = {"D": "uninterruptible sleep (usually stuck I/O)", "Z": "defunct (zombie)", "T": "stopped"}


@dataclass
class StuckProcesses:
    """A process table with the rows of processes in a stuck state."""

    header: LogLine
    rows: list[LogLine]
    states: list[str]


def find_stuck_processes(lines: list[LogLine]) -> list[StuckProcesses]:
    """Return each process table among `lines` that lists a process in state D, Z or T."""
    found: list[StuckProcesses] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        header_text = line.text if line.continuation else line.message
        match = _HEADER.search(header_text)
        if not match:
            index += 1
            continue

        columns = header_text[match.start() :].split()
        stat_column = columns.index("STAT")
        rows: list[LogLine] = []
        states: list[str] = []
        index += 1
        while index < len(lines) and lines[index].continuation:
            fields = lines[index].text.split(None, len(columns) - 1)
            if len(fields) > stat_column:
                state = fields[stat_column][:1]
                if state in _STUCK_STATES:
                    rows.append(lines[index])
                    states.append(_STUCK_STATES[state])
            index += 1
        if rows:
            found.append(StuckProcesses(line, rows, states))
    return found

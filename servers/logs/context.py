"""The lines around the decisive line: what led up to it, which operation was running, what the pilot did next."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from servers.logs.lineformat import LogLine
from servers.logs.noise import ROUTINE_FUNCTIONS, is_noise, normalized_message
from servers.logs.pilotfacts import job_state_at
from servers.logs.processes import StuckProcesses, find_stuck_processes
from servers.logs.ranking import Scored
from servers.logs.scanner import ExtractFilter, FileScan, Hit, read_window
from servers.logs.signatures import SIGNATURES, match_signatures

LEAD_UP_LINES = 3
LEAD_UP_SECONDS = 120
"""Lines written longer than this before the decisive line are not shown as its lead-up."""
MAX_BURST_LINES = 40
"""How far back the burst of error lines before a decisive payload line is followed."""
AFTERMATH_LINES = 3
AFTERMATH_SEARCH_LINES = 150
PROCESS_SEARCH_LINES = 400


@dataclass
class AnchorContext:
    """Lines found around one anchor line of a file."""

    lead_up: list[LogLine] = field(default_factory=list)
    operation: LogLine | None = None
    aftermath: list[LogLine] = field(default_factory=list)
    stuck: list[StuckProcesses] = field(default_factory=list)
    state: str | None = None


def window_for(scan: FileScan, anchor: Scored) -> list[LogLine]:
    """Return the parsed lines around `anchor` in its file, without the pilot's copies of earlier lines."""
    if anchor.offset is not None:
        lines = read_window(
            scan.file, scan.layout, Hit(anchor.file, anchor.line, anchor.offset, anchor.block)
        )
    else:
        lines = scan.head + scan.tail
    extracts = ExtractFilter()
    originals = [line for line in lines if not extracts.is_copy(line)]
    return _merge_blank_headers(originals)


def _merge_blank_headers(lines: list[LogLine]) -> list[LogLine]:
    """Give a pilot line with an empty message the first non-empty line of its record as message.

    The pilot prints some results on the lines after an empty header (e.g. "finished pid=... exit_code=...").
    """
    for index, line in enumerate(lines):
        if line.continuation or line.message.strip():
            continue
        for follower in lines[index + 1 : index + 6]:
            if not follower.continuation:
                break
            if follower.text.strip():
                line.message = follower.text.strip()
                line.text = f"{line.text.rstrip()} {line.message}"
                break
    return lines


def _seconds_between(earlier: str | None, later: str | None) -> float:
    # Lines without a full time stamp (payload output) count as close.
    if not earlier or not later or len(earlier) < 19 or len(later) < 19:
        return 0.0
    try:
        start = datetime.fromisoformat(earlier[:19].replace(" ", "T"))
        end = datetime.fromisoformat(later[:19].replace(" ", "T"))
    except ValueError:
        return 0.0
    return (end - start).total_seconds()


_OPERATIONS = [signature for signature in SIGNATURES if signature.kind == "operation"]


def _is_operation(line: LogLine, phase: str | None) -> bool:
    # Only the few operation patterns are tried here, since this runs on every line back to the window start.
    return any(
        signature.pattern.search(line.message) and (phase is None or signature.phase in (None, phase))
        for signature in _OPERATIONS
    )


def _is_lead_up(line: LogLine, anchor: LogLine) -> bool:
    seconds = _seconds_between(line.time, anchor.time)
    if seconds > LEAD_UP_SECONDS:
        return False
    signatures = match_signatures(line.message)
    if any(s.kind in ("benign", "consequence") for s in signatures):
        return False
    # A plain INFO line (a monitoring check, a command) does not show the failure.
    return line.severity >= 1 or any(
        s.kind in ("cause", "operation", "action", "incident") for s in signatures
    )


def _pick_lead_up(lines: list[LogLine], *, payload: bool) -> list[LogLine]:
    """Return the lead-up lines in file order from `lines` (nearest first).

    In a payload file the first errors of the burst before the decisive line are its cause (athena reports one
    failure, then every component that depended on it), so the earliest lines are kept with the nearest one.
    In the pilot log the nearest lines show what the pilot was doing.
    """
    if not payload or len(lines) <= LEAD_UP_LINES:
        return list(reversed(lines[:LEAD_UP_LINES]))
    earliest = list(reversed(lines))[: LEAD_UP_LINES - 1]
    return earliest + [lines[0]]


def build_context(
    window: list[LogLine],
    anchor: Scored,
    phase: str | None,
    *,
    pilot_killed_payload: bool,
    code: re.Pattern[str] | None = None,
) -> AnchorContext:
    """Collect lead-up lines, the running operation, the pilot's reaction and stuck processes around `anchor`.

    `code` finds mentions of the decisive error code; such lines are preferred as aftermath.
    """
    context = AnchorContext()
    index = next((i for i, line in enumerate(window) if line.number == anchor.line.number), None)
    if index is None:
        return context

    anchor_key = normalized_message(anchor.line)
    context.state = job_state_at(window, anchor.line.number)

    lead_up: list[LogLine] = []
    for line in reversed(window[:index]):
        if line.continuation or is_noise(line) or normalized_message(line) == anchor_key:
            continue
        if context.operation is None and _is_operation(line, phase):
            context.operation = line
        if _is_lead_up(line, anchor.line):
            lead_up.append(line)
        elif anchor.line.function is None and lead_up and line.severity == 0:
            break
        if (
            context.operation is not None
            and len(lead_up) >= LEAD_UP_LINES
            and anchor.line.function is not None
        ):
            break
        if len(lead_up) >= MAX_BURST_LINES:
            break
    context.lead_up = _pick_lead_up(lead_up, payload=anchor.line.function is None)
    if context.operation in context.lead_up:
        context.operation = None

    found: list[tuple[int, LogLine]] = []
    seen: set[str] = {anchor_key}
    for line in window[index + 1 : index + 1 + AFTERMATH_SEARCH_LINES]:
        key = normalized_message(line)
        if line.continuation or key in seen:
            continue
        mentions_code = code is not None and bool(code.search(line.message))
        if line.function in ROUTINE_FUNCTIONS or line.message.lstrip().startswith("data"):
            mentions_code = False
        if is_noise(line) and not mentions_code:
            continue
        signatures = match_signatures(line.message)
        unwanted = {"benign", "summary"} | ({"consequence"} if pilot_killed_payload else set())
        if any(s.kind in unwanted for s in signatures) or line.function == "make_job_report":
            continue
        if mentions_code:
            found.append((0, line))
        elif any(s.kind in ("cause", "action") for s in signatures):
            found.append((1, line))
        elif line.severity >= 1:
            found.append((2, line))
        else:
            continue
        seen.add(key)
    chosen = sorted(found, key=lambda pair: (pair[0], pair[1].number))[:AFTERMATH_LINES]
    context.aftermath = sorted((line for _, line in chosen), key=lambda line: line.number)

    context.stuck = find_stuck_processes(window[index : index + PROCESS_SEARCH_LINES])
    return context

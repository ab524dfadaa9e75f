"""The lines around the decisive line: what led up to it, which operation was running, what the pilot did next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from servers.logs.lineformat import LogLine
from servers.logs.noise import is_noise, normalized_message
from servers.logs.pilotfacts import job_state_at
from servers.logs.processes import StuckProcesses, find_stuck_processes
from servers.logs.ranking import Scored
from servers.logs.scanner import ExtractFilter, FileScan, Hit, read_window
from servers.logs.signatures import SIGNATURES, match_signatures

LEAD_UP_LINES = 3
LEAD_UP_SECONDS = 120
"""Lines written longer than this before the decisive line are not shown as its lead-up."""
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
    if _seconds_between(line.time, anchor.time) > LEAD_UP_SECONDS:
        return False
    return not any(s.kind in ("benign", "consequence") for s in match_signatures(line.message))


def build_context(
    window: list[LogLine], anchor: Scored, phase: str | None, *, pilot_killed_payload: bool
) -> AnchorContext:
    """Collect lead-up lines, the running operation, the pilot's reaction and stuck processes around `anchor`."""
    context = AnchorContext()
    index = next((i for i, line in enumerate(window) if line.number == anchor.line.number), None)
    if index is None:
        return context

    anchor_key = normalized_message(anchor.line)
    context.state = job_state_at(window, anchor.line.number)

    for line in reversed(window[:index]):
        if line.continuation or is_noise(line) or normalized_message(line) == anchor_key:
            continue
        if context.operation is None and _is_operation(line, phase):
            context.operation = line
        if len(context.lead_up) < LEAD_UP_LINES and _is_lead_up(line, anchor.line):
            context.lead_up.append(line)
        if context.operation is not None and len(context.lead_up) >= LEAD_UP_LINES:
            break
    context.lead_up.reverse()
    if context.operation in context.lead_up:
        context.operation = None

    for line in window[index + 1 : index + 1 + AFTERMATH_SEARCH_LINES]:
        if len(context.aftermath) >= AFTERMATH_LINES:
            break
        if line.continuation or is_noise(line) or normalized_message(line) == anchor_key:
            continue
        signatures = match_signatures(line.message)
        unwanted = {"benign", "summary"} | ({"consequence"} if pilot_killed_payload else set())
        if any(s.kind in unwanted for s in signatures) or line.function == "make_job_report":
            continue
        if line.severity >= 1 or any(s.kind in ("cause", "action") for s in signatures):
            context.aftermath.append(line)

    context.stuck = find_stuck_processes(window[index : index + PROCESS_SEARCH_LINES])
    return context

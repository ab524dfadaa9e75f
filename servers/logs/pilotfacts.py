"""Facts the pilot writes about a job: error codes, final state, queue limits, pilot version, job definition.

They let a local analysis (no BigPanDA record) rebuild the error fields the pilot sent to the server. Texts
follow pilot/util/https.py (add_error_codes), pilot/control/job.py (make_job_report, send_state) and
pilot/info/queuedata.py (the queuedata dump).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from servers.logs.lineformat import LogLine

_CODES = re.compile(r"pilotErrorCodes = \[([\d, ]*)\]")
_DIAGS = re.compile(r"pilotErrorDiags = (\[.*\])")
_ALREADY_SET = re.compile(r"an error has already been set: \[([\d, ]*)\]")
_MONITOR_RETURNED = re.compile(r"job_monitor_tasks returned (\d{4}), (.*)")
_EXCEPTION_CODE = re.compile(r"error code: (\d{4}), message: (.*)")
_REPORT_FIELD = re.compile(
    r"^(pilot error code|pilot error diag|transexitcode|exeerrorcode|exeerrordiag|pilot state|PanDA job id|task id|nevents): ?(.*)$"
)
_FINAL_STATE = re.compile(
    r"has (finished|failed) - sending final server update|setting job as completed \(state=(\w+)\)|this job has now completed \(state=(\w+)\)"
)
_PILOT_VERSION = re.compile(r"PanDA Pilot version ([\d.]+)")
_QUEUE_ARG = re.compile(r"\bqueue='([^']+)'")
_QUEUEDATA_FIELD = re.compile(r"^ ?(maxrss|name|site|corecount|resource_type|pilot_rss_grace)=(.*)$")
_JOBDEF_FIELD = re.compile(
    r"'(PandaID|taskID|transformation|swRelease|homepackage|attemptNr|maxAttempt|prodSourceLabel|coreCount)': '?([^',}]*)'?"
)
_MEMORY_LIMIT = re.compile(
    r"memory limit (?:\d+ kB > )?.*?= ([\d.]+) kB|exceeded the memory limit (\d+) kB > (\d+) kB"
)
_JOB_STATE = re.compile(r"is in state '(\w+)'|has state '(\w+)'")
_PAYLOAD_EXIT = re.compile(r"finished pid=\d+ exit_code=(-?\d+)")


@dataclass
class PilotFacts:
    """Facts the pilot log records about the job."""

    error_codes: list[int] = field(default_factory=list)
    error_diags: list[str] = field(default_factory=list)
    report: dict[str, str] = field(default_factory=dict)
    final_state: str | None = None
    pilot_version: str | None = None
    queue: str | None = None
    queuedata: dict[str, str] = field(default_factory=dict)
    job_definition: dict[str, str] = field(default_factory=dict)
    memory_limit_kb: int | None = None
    payload_exit_code: int | None = None
    ended_cleanly: bool = False

    def job_record(self) -> dict[str, object]:
        """Return the error fields of a BigPanDA job record rebuilt from these facts (only the known ones)."""
        record: dict[str, object] = {}
        code = self.error_codes[0] if self.error_codes else _int(self.report.get("pilot error code"))
        if code:
            record["piloterrorcode"] = code
            diag = self.error_diags[0] if self.error_diags else self.report.get("pilot error diag", "")
            record["piloterrordiag"] = diag
        for name in ("exeerrorcode", "transexitcode"):
            value = _int(self.report.get(name))
            if value is not None:
                record[name] = value if name == "exeerrorcode" else str(value)
        if self.report.get("exeerrordiag"):
            record["exeerrordiag"] = self.report["exeerrordiag"]
        state = self.final_state or self.report.get("pilot state")
        if state:
            record["jobstatus"] = state.strip()
        return record


def collect_facts(lines: Iterable[LogLine]) -> PilotFacts:
    """Read the facts from pilot log lines (head, candidates, windows and tail; in any order, repeats allowed)."""
    facts = PilotFacts()
    fallback_codes: list[int] = []
    for line in lines:
        _read_line(line, facts, fallback_codes)
    if not facts.error_codes and fallback_codes:
        facts.error_codes = fallback_codes
    return facts


def _read_line(line: LogLine, facts: PilotFacts, fallback_codes: list[int]) -> None:
    message = line.message if not line.continuation else line.text

    if (match := _CODES.search(message)) is not None:
        facts.error_codes = [int(code) for code in re.findall(r"\d+", match.group(1))]
    elif (match := _DIAGS.search(message)) is not None:
        facts.error_diags = _literal_list(match.group(1))
    elif (match := _ALREADY_SET.search(message)) is not None and not fallback_codes:
        fallback_codes.extend(int(code) for code in re.findall(r"\d+", match.group(1)))
    elif (
        (match := _MONITOR_RETURNED.search(message)) is not None
        and not fallback_codes
        or (match := _EXCEPTION_CODE.search(message)) is not None
        and not fallback_codes
    ):
        fallback_codes.append(int(match.group(1)))

    if line.function == "make_job_report" and (match := _REPORT_FIELD.match(message.strip())) is not None:
        facts.report.setdefault(match.group(1), match.group(2).strip())
    if (match := _FINAL_STATE.search(message)) is not None:
        facts.final_state = next(group for group in match.groups() if group)
    if "pilot has finished" in message or "job summary report" in message:
        facts.ended_cleanly = True
    if facts.pilot_version is None and (match := _PILOT_VERSION.search(message)) is not None:
        facts.pilot_version = match.group(1)
    if facts.queue is None and line.function == "main" and (match := _QUEUE_ARG.search(message)) is not None:
        facts.queue = match.group(1)
    if line.continuation and (match := _QUEUEDATA_FIELD.match(line.text)) is not None:
        facts.queuedata.setdefault(match.group(1), match.group(2).strip())
    if line.function == "dump_job_definition" or "job definition = {" in message:
        for key, value in _JOBDEF_FIELD.findall(message):
            facts.job_definition.setdefault(key, value)
    if (match := _MEMORY_LIMIT.search(message)) is not None:
        limit = match.group(1) or match.group(3)
        facts.memory_limit_kb = int(float(limit))
    if (match := _PAYLOAD_EXIT.search(line.text)) is not None:
        facts.payload_exit_code = int(match.group(1))


def job_state_at(lines: Iterable[LogLine], number: int) -> str | None:
    """Return the last job state the pilot logged at or before line `number` ('starting', 'running', 'stageout')."""
    state = None
    for line in lines:
        if line.number > number:
            break
        match = _JOB_STATE.search(line.message)
        if match:
            state = match.group(1) or match.group(2)
    return state


def _literal_list(text: str) -> list[str]:
    # The pilot prints a Python list of strings; a diag cut by the log line limit is read up to the first string.
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        first = re.match(r"\[\s*(['\"])(.*?)\1", text)
        return [first.group(2)] if first else []
    return [str(item) for item in value] if isinstance(value, list) else []


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.lstrip("-").isdigit() else None

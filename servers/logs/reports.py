"""Readers of the JSON files a job leaves: jobReport.json, payload_error_report.json, the prmon summary and output.

Each reader returns plain facts plus the lines of the file that hold them, so the excerpt can quote the file
with line numbers. Files larger than MAX_JSON_BYTES are not parsed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servers.logs.lineformat import LogLine
from servers.logs.sources import LogFile

logger = logging.getLogger(__name__)

MAX_JSON_BYTES = 50 * 1024 * 1024


@dataclass
class QuotedLine:
    """A line of a JSON file worth quoting, with the reason."""

    file: str
    line: LogLine
    reason: str
    weight: int


@dataclass
class ReportFacts:
    """Facts read from the JSON reports of one job."""

    trf_exit_code: int | None = None
    trf_exit_acronym: str | None = None
    trf_exit_msg: str | None = None
    trf_name: str | None = None
    nevents: int | None = None
    error_report_code: int | None = None
    error_report_diag: str | None = None
    max_pss_kb: int | None = None
    max_rss_kb: int | None = None
    avg_pss_kb: int | None = None
    job_record: dict[str, Any] | None = None
    quoted: list[QuotedLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_reports(files: list[LogFile]) -> ReportFacts:
    """Read every JSON report among `files`; unreadable ones are noted in `problems`, never raised."""
    facts = ReportFacts()
    for log in files:
        base = Path(log.name).name
        reader = _READERS.get(base)
        if reader is None:
            continue
        document = _load(log, facts)
        if document is None:
            continue
        try:
            reader(log, document, facts)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            # A report with unexpected shapes (a list where an object belongs) is noted, not fatal.
            facts.problems.append(f"{log.name} has an unexpected layout ({exc.__class__.__name__}: {exc})")
            logger.info("Cannot read %s: %s", log.name, exc)
    return facts


def _load(log: LogFile, facts: ReportFacts) -> Any:
    if log.size > MAX_JSON_BYTES:
        facts.problems.append(f"{log.name} is larger than {MAX_JSON_BYTES // 1024**2} MB and was not parsed")
        return None
    try:
        return json.loads(log.path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        facts.problems.append(f"{log.name} is not valid JSON ({exc.__class__.__name__})")
        logger.info("Cannot parse %s: %s", log.name, exc)
        return None


def find_line(log: LogFile, needle: str, *, after: int = 0) -> LogLine | None:
    """Return the first line of the file at or after line `after` that contains `needle`."""
    try:
        with log.path.open("r", encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if number >= after and needle in text:
                    return LogLine(number, text.rstrip("\n")[:4000], message=text.strip())
    except OSError:
        return None
    return None


def _quote(log: LogFile, facts: ReportFacts, needle: str, reason: str, weight: int) -> None:
    line = find_line(log, needle)
    if line is not None:
        facts.quoted.append(QuotedLine(log.name, line, reason, weight))


def _read_job_report(log: LogFile, report: Any, facts: ReportFacts) -> None:
    if not isinstance(report, dict):
        facts.problems.append(f"{log.name} is not a transform job report")
        return

    facts.trf_exit_code = _as_int(report.get("exitCode"))
    facts.trf_exit_acronym = report.get("exitAcronym") if isinstance(report.get("exitAcronym"), str) else None
    facts.trf_exit_msg = report.get("exitMsg") if isinstance(report.get("exitMsg"), str) else None
    facts.trf_name = report.get("name") if isinstance(report.get("name"), str) else None
    facts.nevents = _events(report)

    if facts.trf_exit_code not in (None, 0):
        _quote(
            log, facts, '"exitMsg"', f"transform exit {facts.trf_exit_code} ({facts.trf_exit_acronym})", 45
        )
        for executor in report.get("executor") or []:
            if isinstance(executor, dict) and executor.get("errMsg"):
                _quote(log, facts, '"errMsg"', f"substep {executor.get('name')} failed", 30)
                break
        _quote_logfile_details(log, report, facts)
    elif facts.trf_exit_code == 0:
        _quote(log, facts, '"exitCode"', "the transform reported success", 20)


def _quote_logfile_details(log: LogFile, report: dict[str, Any], facts: ReportFacts) -> None:
    # logfileReport.details lists the FATAL/ERROR messages the transform found in log.<Step>, with line numbers.
    for executor in report.get("executor") or []:
        if not isinstance(executor, dict):
            continue
        details = (executor.get("logfileReport") or {}).get("details") or {}
        if not isinstance(details, dict):
            continue
        for level in ("CATASTROPHE", "FATAL", "CRITICAL", "ERROR"):
            for entry in details.get(level) or []:
                message = entry.get("message") if isinstance(entry, dict) else None
                if not isinstance(message, str) or not message.strip():
                    continue
                needle = json.dumps(message[:60])[1:-1]
                line = find_line(log, needle)
                if line is not None:
                    where = (
                        f"log.{executor.get('name')} line {entry.get('firstLine')}"
                        if entry.get("firstLine")
                        else f"log.{executor.get('name')}"
                    )
                    facts.quoted.append(
                        QuotedLine(log.name, line, f"{level} in {where} (count {entry.get('count', 1)})", 35)
                    )


def _events(report: dict[str, Any]) -> int | None:
    try:
        return _as_int(report["resource"]["executor"][next(iter(report["resource"]["executor"]))]["nevents"])
    except (KeyError, TypeError, StopIteration):
        return None


def _read_error_report(log: LogFile, report: Any, facts: ReportFacts) -> None:
    if not isinstance(report, dict):
        facts.problems.append(f"{log.name} is not a worker-node error report")
        return
    facts.error_report_code = _as_int(report.get("error_code"))
    diag = report.get("error_diag")
    facts.error_report_diag = diag if isinstance(diag, str) else None
    if facts.error_report_code:
        _quote(log, facts, '"error_code"', f"worker-node script error {facts.error_report_code}", 45)
        _quote(log, facts, '"error_diag"', "worker-node script diagnostic", 40)


def _read_memory_summary(log: LogFile, summary: Any, facts: ReportFacts) -> None:
    if not isinstance(summary, dict):
        return
    maximum = summary.get("Max") if isinstance(summary.get("Max"), dict) else {}
    average = summary.get("Avg") if isinstance(summary.get("Avg"), dict) else {}
    facts.max_pss_kb = _as_int(maximum.get("pss"))
    facts.max_rss_kb = _as_int(maximum.get("rss"))
    facts.avg_pss_kb = _as_int(average.get("pss"))


def _read_job_record(log: LogFile, document: Any, facts: ReportFacts) -> None:
    # A BigPanDA job record saved next to the logs ({"job": {...}, "files": [...]}).
    if isinstance(document, dict) and isinstance(document.get("job"), dict) and document["job"]:
        facts.job_record = document


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


_READERS = {
    "jobReport.json": _read_job_report,
    "payload_error_report.json": _read_error_report,
    "memory_monitor_summary.json": _read_memory_summary,
    "job.json": _read_job_record,
}


def read_prmon_max(log: LogFile, *, max_bytes: int = 20 * 1024 * 1024) -> tuple[int | None, int | None]:
    """Return the largest PSS and RSS (kB) in a MemoryMonitor or prmon time series (tab-separated columns)."""
    if log.size > max_bytes:
        return None, None
    try:
        rows = log.path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None, None
    if not rows:
        return None, None

    header = [name.strip().lower() for name in rows[0].split("\t") if name.strip()]
    try:
        pss_index, rss_index = header.index("pss"), header.index("rss")
    except ValueError:
        return None, None

    max_pss = max_rss = None
    for row in rows[1:]:
        values = [value for value in row.split("\t") if value.strip()]
        if len(values) != len(header):
            continue
        pss, rss = _as_int(values[pss_index]), _as_int(values[rss_index])
        if pss is not None:
            max_pss = pss if max_pss is None else max(max_pss, pss)
        if rss is not None:
            max_rss = rss if max_rss is None else max(max_rss, rss)
    return max_pss, max_rss

"""Scan of all log files of one job: the text logs scanned for candidates, the JSON reports read, the pilot log's
facts and the prmon maxima, gathered once for the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from servers.logs.lineformat import Layout, LogLine
from servers.logs.pilotfacts import PilotFacts, collect_facts
from servers.logs.reports import ReportFacts, read_prmon_max, read_reports
from servers.logs.scanner import FileScan, scan_file
from servers.logs.sources import LogBundle, LogFile


@dataclass
class JobScan:
    """The scans and facts of all log files of one job."""

    scans: list[FileScan]
    reports: ReportFacts
    facts: PilotFacts
    pilot: FileScan | None
    prmon: tuple[int | None, int | None]


def scan_job_logs(bundle: LogBundle | None) -> JobScan:
    """Scan the text logs of `bundle` (pilot log first) and read its JSON reports and prmon output."""
    files = bundle.files if bundle else []
    reports = read_reports(files)
    text_files = [log for log in files if _is_scannable(log)]
    text_files.sort(key=lambda log: (Path(log.name).name != "pilotlog.txt", log.name))
    scans = [scan_file(log) for log in text_files]

    pilot = next(
        (scan for scan in scans if scan.layout in (Layout.PILOT3, Layout.PILOT2, Layout.PILOT1)), None
    )
    lines: list[LogLine] = []
    if pilot is not None:
        lines = pilot.head + [hit.line for hit in pilot.hits] + pilot.tail
    facts = collect_facts(lines)

    prmon: tuple[int | None, int | None] = (None, None)
    for log in files:
        if Path(log.name).name == "memory_monitor_output.txt":
            prmon = read_prmon_max(log)
    return JobScan(scans, reports, facts, pilot, prmon)


def _is_scannable(log: LogFile) -> bool:
    base = Path(log.name).name
    return not base.endswith(".json") and base != "memory_monitor_output.txt"

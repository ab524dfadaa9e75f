"""Job facts for the report: the summary from a BigPanDA job record, or one rebuilt from the logs; memory use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servers.logs.models import JobSummary, MemoryFacts
from servers.logs.pilotfacts import PilotFacts
from servers.logs.reports import ReportFacts

_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f")


def parse_time(value: Any) -> datetime | None:
    """Return a BigPanDA time stamp (either 'YYYY-MM-DD hh:mm:ss' or with a 'T') as an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().removesuffix("Z")
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _iso(value: Any) -> str | None:
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def as_int(value: Any) -> int | None:
    """Return an int from a job-record value that may be an int, a numeric string, '', or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else None


def summary_from_record(
    job: dict[str, Any], *, link: str | None, site: str | None, pilot_version: str | None
) -> JobSummary:
    """Return the summary of a BigPanDA job record (lower-case keys, as /job?pandaid=N&json returns them)."""
    start, end = parse_time(job.get("starttime")), parse_time(job.get("endtime"))
    duration = as_int(job.get("durationsec"))
    if duration is None and start and end:
        duration = int((end - start).total_seconds())

    pilotid = job.get("pilotid")
    if pilot_version is None and isinstance(pilotid, str) and "|" in pilotid:
        pilot_version = pilotid.rsplit("|", 1)[-1] or None

    return JobSummary(
        pandaid=as_int(job.get("pandaid")),
        jeditaskid=as_int(job.get("jeditaskid")) or as_int(job.get("taskid")),
        status=_text(job.get("jobstatus")),
        substatus=_text(job.get("jobsubstatus")),
        queue=_text(job.get("computingsite")),
        site=site,
        attempt=as_int(job.get("attemptnr")),
        max_attempts=as_int(job.get("maxattempt")),
        transformation=_text(job.get("transformation")),
        release=_text(job.get("atlasrelease")) or _text(job.get("homepackage")),
        prodsourcelabel=_text(job.get("prodsourcelabel")),
        start=_iso(job.get("starttime")),
        end=_iso(job.get("endtime")),
        duration_seconds=duration,
        cpu_seconds=as_int(job.get("cpuconsumptiontime")),
        corecount=as_int(job.get("actualcorecount")) or as_int(job.get("corecount")),
        nevents=as_int(job.get("nevents")),
        pilot_version=pilot_version,
        command_to_pilot=_text(job.get("commandtopilot")),
        link=link,
    )


def summary_from_logs(facts: PilotFacts, reports: ReportFacts, record: dict[str, Any]) -> JobSummary:
    """Return the summary that the pilot log and the JSON reports allow when there is no job record."""
    definition = facts.job_definition
    return JobSummary(
        pandaid=as_int(definition.get("PandaID")) or as_int(facts.report.get("PanDA job id")),
        jeditaskid=as_int(definition.get("taskID")) or as_int(facts.report.get("task id")),
        status=_text(record.get("jobstatus")),
        queue=facts.queue or facts.queuedata.get("name"),
        site=facts.queuedata.get("site"),
        attempt=as_int(definition.get("attemptNr")),
        transformation=definition.get("transformation") or reports.trf_name,
        release=definition.get("swRelease") or definition.get("homepackage"),
        prodsourcelabel=definition.get("prodSourceLabel"),
        corecount=as_int(facts.queuedata.get("corecount")),
        nevents=reports.nevents,
        pilot_version=facts.pilot_version,
    )


def record_from_logs(facts: PilotFacts, reports: ReportFacts) -> dict[str, Any]:
    """Return the error fields of a job record rebuilt from the pilot log and the JSON reports."""
    record: dict[str, Any] = dict(facts.job_record())
    if "exeerrorcode" not in record or not record.get("exeerrorcode"):
        if reports.error_report_code:
            record["exeerrorcode"] = reports.error_report_code
            record["exeerrordiag"] = reports.error_report_diag or ""
        elif reports.trf_exit_code:
            record["exeerrorcode"] = reports.trf_exit_code
            record["exeerrordiag"] = reports.trf_exit_msg or ""
    if "transexitcode" not in record and reports.trf_exit_code is not None:
        record["transexitcode"] = str(reports.trf_exit_code)
    if facts.job_definition.get("transformation"):
        record["transformation"] = facts.job_definition["transformation"]
    if "jobstatus" not in record:
        codes = [record.get(name) for name in ("piloterrorcode", "exeerrorcode")]
        if any(as_int(code) for code in codes):
            record["jobstatus"] = "failed"
        elif reports.trf_exit_code == 0 or facts.payload_exit_code == 0:
            record["jobstatus"] = "finished"
    return record


def memory_facts(
    job: dict[str, Any],
    facts: PilotFacts,
    reports: ReportFacts,
    *,
    queue_maxrss_mb: int | None,
    prmon: tuple[int | None, int | None],
) -> MemoryFacts | None:
    """Return memory use and limits from every source at hand, or None when nothing is known."""
    queue_source = "CRIC" if queue_maxrss_mb is not None else None
    if queue_maxrss_mb is None and as_int(facts.queuedata.get("maxrss")):
        queue_maxrss_mb = as_int(facts.queuedata.get("maxrss"))
        queue_source = "pilot log (queuedata)"

    memory = MemoryFacts(
        max_rss_kb=as_int(job.get("maxrss")) or reports.max_rss_kb or prmon[1],
        max_pss_kb=as_int(job.get("maxpss")) or reports.max_pss_kb or prmon[0],
        avg_pss_kb=as_int(job.get("avgpss")) or reports.avg_pss_kb,
        pilot_limit_kb=facts.memory_limit_kb,
        queue_maxrss_mb=queue_maxrss_mb,
        queue_maxrss_source=queue_source,
        corecount=as_int(job.get("actualcorecount"))
        or as_int(job.get("corecount"))
        or as_int(facts.queuedata.get("corecount")),
    )
    return memory if memory.model_dump(exclude_none=True) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None

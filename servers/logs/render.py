"""Markdown rendering of a failure report, for the terminal command `askpanda-logs analyze`."""

from __future__ import annotations

from servers.logs.models import DecodedError, FailureReport, JobSummary, MemoryFacts


def _fence(text: str) -> str:
    # A fence longer than any backtick run inside keeps quoted log text from closing it.
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}text\n{text}\n{ticks}"


def _duration(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


def _job_lines(job: JobSummary) -> list[str]:
    rows = [
        ("pandaid", job.pandaid),
        ("jeditaskid", job.jeditaskid),
        ("status", " / ".join(part for part in (job.status, job.substatus) if part) or None),
        ("PanDA queue", job.queue),
        ("site", job.site),
        (
            "attempt",
            f"{job.attempt} of {job.max_attempts}" if job.attempt and job.max_attempts else job.attempt,
        ),
        ("transformation", job.transformation),
        ("release", job.release),
        ("start", job.start),
        ("end", job.end),
        ("duration", _duration(job.duration_seconds)),
        ("pilot", job.pilot_version),
        ("BigPanDA", job.link),
    ]
    return [f"- **{name}**: {value}" for name, value in rows if value not in (None, "")]


def _error_line(error: DecodedError, *, decisive: bool = False) -> str:
    name = " ".join(part for part in (error.component, str(error.code), error.acronym) if part)
    text = f"- `{error.field}` = {error.code}: {name}"
    if error.message:
        text += f" — {error.message}"
    if decisive:
        text += " **(decisive)**"
    if error.diag and error.diag != error.message:
        text += f"\n  - diag: {error.diag[:300]}"
    return text


def _memory_lines(memory: MemoryFacts) -> list[str]:
    lines = []
    if memory.max_pss_kb or memory.max_rss_kb:
        lines.append(f"- max PSS {_mb(memory.max_pss_kb)}, max RSS {_mb(memory.max_rss_kb)}")
    if memory.pilot_limit_kb:
        lines.append(f"- pilot memory limit {_mb(memory.pilot_limit_kb)}")
    if memory.queue_maxrss_mb:
        lines.append(f"- queue maxrss {memory.queue_maxrss_mb} MB ({memory.queue_maxrss_source})")
    return lines


def _mb(kilobytes: int | None) -> str:
    return "unknown" if kilobytes is None else f"{kilobytes / 1024:.0f} MB"


def render_report(report: FailureReport) -> str:
    """Return the report as Markdown: outcome, job, errors, phase, retry advice and the quoted evidence."""
    parts = [f"# Job failure report: {report.source}", "", f"**{report.outcome}**", ""]

    if report.job is not None:
        parts += ["## Job", *_job_lines(report.job), ""]

    if report.primary_error is not None:
        parts += ["## Errors", _error_line(report.primary_error, decisive=True)]
        parts += [_error_line(error) for error in report.other_errors]
        parts.append("")
        if report.primary_error.user_explanation:
            parts += [report.primary_error.user_explanation, ""]

    if report.phase:
        parts += [f"**Phase:** {report.phase} — {report.phase_reason or ''}".rstrip(" —"), ""]
    parts += [f"**Retry:** {report.retry.advice} — {report.retry.reason}", ""]

    if report.memory is not None and _memory_lines(report.memory):
        parts += ["## Memory", *_memory_lines(report.memory), ""]

    if report.evidence:
        parts += ["## Evidence", "", f"_{report.untrusted_notice}_", ""]
        for item in report.evidence:
            where = f"{item.file}:{item.line}" + (f"-{item.end_line}" if item.end_line else "")
            repeated = f", repeated {item.repeated}×" if item.repeated else ""
            flags = f" ⚠ {', '.join(item.flags)}" if item.flags else ""
            parts += [
                f"{item.rank}. **{item.kind}** `{where}` — {item.reason}{repeated}{flags}",
                "",
                _fence(item.text),
                "",
            ]

    if report.notes or report.next_step:
        parts.append("## Notes")
        parts += [f"- {note}" for note in report.notes]
        if report.next_step:
            parts.append(f"- {report.next_step}")
        parts.append("")

    if report.skipped_files:
        parts.append("## Skipped files")
        parts += [f"- {skipped.name}: {skipped.reason}" for skipped in report.skipped_files]
        parts.append("")

    listed = {skipped.name for skipped in report.skipped_files}
    partial = [note for note in report.files if note.status != "scanned" and note.name not in listed]
    if partial:
        parts.append("## Files not fully read")
        parts += [
            f"- {note.name}: {note.status}" + (f" ({note.note})" if note.note else "") for note in partial
        ]
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"

"""Failure analysis of one job: scan its logs, take or rebuild its error fields, triage them, find the phase
and the evidence, and assemble the report. Synchronous and free of MCP; servers run it in a worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servers.logs.codelinks import linked_signatures, payload_was_killed
from servers.logs.context import AnchorContext, build_context, window_for
from servers.logs.diags import record_diags
from servers.logs.evidence import assemble_items
from servers.logs.excerpt import Item, fit_budget
from servers.logs.jobinfo import (
    memory_facts,
    record_from_logs,
    summary_from_logs,
    summary_from_record,
)
from servers.logs.jobscan import JobScan, scan_job_logs
from servers.logs.models import FailureReport, FileNote, SkippedFile
from servers.logs.noise import is_noise, normalized_message
from servers.logs.phases import phase_from_code
from servers.logs.ranking import (
    MIN_CAUSE_SCORE,
    ErrorContext,
    Scored,
    code_pattern,
    diag_fragments,
    mark_first_errors,
    rank,
    score_line,
)
from servers.logs.reports import find_line
from servers.logs.signatures import match_signatures
from servers.logs.sources import LogBundle
from servers.logs.triage import Triage, triage_record
from servers.logs.verdict import failure_phase, job_failed, outcome_sentence, retry_verdict

logger = logging.getLogger(__name__)

DEFAULT_BUDGET = 6000
MIN_BUDGET = 1000
MAX_BUDGET = 40000
MAX_SKIPPED_LISTED = 20
"""Skipped files listed in skipped_files. The rest are only in files, and a note gives their count."""


@dataclass
class JobInput:
    """Everything known about one job before the analysis."""

    source: str
    bundle: LogBundle | None = None
    record: dict[str, Any] | None = None
    link: str | None = None
    budget: int = DEFAULT_BUDGET
    read_source: str | None = None
    notes: list[str] = field(default_factory=list)
    file_notes: list[FileNote] = field(default_factory=list)
    site: str | None = None
    queue_maxrss_mb: int | None = None


def analyze(job_input: JobInput) -> FailureReport:
    """Return the failure report of one job from its record (if any) and its logs (if any)."""
    scanned = scan_job_logs(job_input.bundle)
    job = _job_record(job_input, scanned)
    triage = triage_record(job)
    failed = job_failed(job, triage)

    context = _error_context(triage, failed)
    candidates = _candidates(scanned, context)
    ranked = rank(candidates)
    anchor = _anchor(ranked, failed)

    phase, phase_reason = failure_phase(triage, failed, anchor, scanned)
    if phase != context.phase:
        context.phase = phase
        ranked = rank(
            [score_line(c.file, c.line, c.block, context, count=c.count, offset=c.offset) for c in ranked]
        )
        anchor = _anchor(ranked, failed)

    contexts = _anchor_contexts(ranked, anchor, scanned, phase, context)
    items = assemble_items(
        ranked,
        anchor,
        contexts,
        scanned.facts,
        scanned.pilot,
        failed=failed,
        phase=phase,
        record_item=_record_item(job_input, scanned, triage, job),
    )
    keep = code_pattern(context.code, context.error_field) if context.code else None
    evidence, used, omitted = fit_budget(items, job_input.budget, keep)

    return _report(
        job_input, job, triage, failed, phase, phase_reason, scanned, evidence, used, omitted, anchor
    )


def _job_record(job_input: JobInput, scanned: JobScan) -> dict[str, Any]:
    for document in (job_input.record, scanned.reports.job_record):
        if isinstance(document, dict):
            job = document.get("job") if isinstance(document.get("job"), dict) else document
            if job:
                return {str(key).lower(): value for key, value in job.items()}
    return record_from_logs(scanned.facts, scanned.reports)


def _record_item(job_input: JobInput, scanned: JobScan, triage: Triage, job: dict[str, Any]) -> Item | None:
    """Quote the diags of the job record (BigPanDA's or a job.json next to the logs), the decisive one first.

    Other diags and the server's command to the pilot are added: for a job killed while running, the server
    writes who killed it only into taskbuffererrordiag and leaves taskbuffererrorcode at 0.
    """
    primary = triage.primary
    if not (job_input.record or scanned.reports.job_record):
        return None
    primary_field, lines = record_diags(job, primary)
    if not lines:
        return None

    text = "\n".join(lines)
    reason = f"the {primary.field} diag recorded by PanDA" if primary_field else "the diags recorded by PanDA"
    if job_input.record is not None:
        return Item("summary", "BigPanDA job record", 0, text, reason)

    job_json = (
        next((log for log in job_input.bundle.files if Path(log.name).name == "job.json"), None)
        if job_input.bundle
        else None
    )
    line = find_line(job_json, f'"{primary_field or "jobstatus"}"') if job_json else None
    return Item(
        "summary", job_json.name if job_json else "job.json", line.number if line else 0, text, reason
    )


def _error_context(triage: Triage, failed: bool | None) -> ErrorContext:
    primary = triage.primary
    if primary is None:
        return ErrorContext(failed=failed)
    return ErrorContext(
        failed=failed,
        code=primary.code,
        error_field=primary.field,
        message=primary.message,
        diag_fragments=diag_fragments(primary.diag),
        phase=phase_from_code(primary.field, primary.code, primary.component),
        pilot_killed_payload=payload_was_killed(primary.field, primary.code),
        payload_primary=primary.field in ("exeerrorcode", "transexitcode"),
        linked=linked_signatures(
            primary.field, primary.code, phase_from_code(primary.field, primary.code, primary.component)
        ),
    )


def _candidates(scanned: JobScan, context: ErrorContext) -> list[Scored]:
    candidates: list[Scored] = []
    for scan in scanned.scans:
        seen = {normalized_message(hit.line) for hit in scan.hits}
        for hit in scan.hits:
            candidates.append(
                score_line(scan.file.name, hit.line, hit.block, context, count=hit.count, offset=hit.offset)
            )
        # INFO lines of the head and tail that report success or sum up the errors. Causes on INFO lines are
        # taken from the windows around the decisive line instead, so a long log ranks like a short one.
        for line in scan.head + scan.tail:
            if line.continuation or is_noise(line) or normalized_message(line) in seen:
                continue
            seen.add(normalized_message(line))
            if any(s.kind in ("success", "summary") for s in match_signatures(line.message)):
                candidates.append(score_line(scan.file.name, line, [], context))

    candidates = _drop_pilot_copies(candidates)
    mark_first_errors(candidates, context)
    for quoted in scanned.reports.quoted:
        # JSON reports restate what the logs show; they are summaries, ranked by their own weight.
        candidates.append(
            Scored(
                quoted.file, quoted.line, [], float(quoted.weight), [quoted.reason], [], report_summary=True
            )
        )
    return candidates


def _drop_pilot_copies(candidates: list[Scored]) -> list[Scored]:
    """Drop the pilot's quotes of payload lines ("found CRITICAL errors in payload.stdout") when the original is at hand."""
    originals = {item.line.text.strip() for item in candidates if not item.has_kind("benign")}
    return [
        item
        for item in candidates
        if not (item.block and item.has_kind("benign") and item.block[0].strip() in originals)
    ]


def _anchor(ranked: list[Scored], failed: bool | None) -> Scored | None:
    if failed is False:
        return next((item for item in ranked if item.has_kind("success")), None)
    return next(
        (
            item
            for item in ranked
            if item.is_cause and item.score >= MIN_CAUSE_SCORE and not item.has_kind("summary")
        ),
        None,
    )


def _anchor_contexts(
    ranked: list[Scored], anchor: Scored | None, scanned: JobScan, phase: str | None, context: ErrorContext
) -> list[tuple[Scored, AnchorContext]]:
    anchors = [anchor] if anchor is not None else []
    # When the decisive line is in a payload file, the pilot log still shows what the pilot saw and did.
    if anchor is not None and scanned.pilot is not None and anchor.file != scanned.pilot.file.name:
        pilot_anchor = next(
            (
                item
                for item in ranked
                if item.file == scanned.pilot.file.name
                and item.is_cause
                and item.score >= MIN_CAUSE_SCORE
                and not item.has_kind("summary")
            ),
            None,
        )
        if pilot_anchor is not None:
            anchors.append(pilot_anchor)

    contexts = []
    for item in anchors:
        scan = next((s for s in scanned.scans if s.file.name == item.file), None)
        if scan is None:
            continue
        window = window_for(scan, item)
        contexts.append(
            (
                item,
                build_context(
                    window,
                    item,
                    phase,
                    pilot_killed_payload=context.pilot_killed_payload,
                    code=code_pattern(context.code, context.error_field) if context.code else None,
                ),
            )
        )
    return contexts


def _report(
    job_input: JobInput,
    job: dict[str, Any],
    triage: Triage,
    failed: bool | None,
    phase: str | None,
    phase_reason: str | None,
    scanned: JobScan,
    evidence: list,
    used: int,
    omitted: int,
    anchor: Scored | None,
) -> FailureReport:
    if job_input.record or scanned.reports.job_record:
        summary = summary_from_record(
            job,
            link=job_input.link,
            site=job_input.site or scanned.facts.queuedata.get("site"),
            pilot_version=scanned.facts.pilot_version,
        )
    else:
        summary = summary_from_logs(scanned.facts, scanned.reports, job)

    notes = list(job_input.notes) + triage.warnings + triage.notes + scanned.reports.problems
    files = list(job_input.file_notes) + _file_notes(job_input.bundle, scanned)
    if failed and anchor is None:
        notes.append(
            "No log line clearly shows the cause; the explanation rests on the error codes and diags."
        )
    if job_input.bundle is None or not job_input.bundle.files:
        notes.append("No log files were read; the report rests on the job record only.")
    skipped = _skipped_files(files)
    if len(skipped) > MAX_SKIPPED_LISTED:
        notes.append(
            f"{len(skipped)} files were skipped. skipped_files lists the first {MAX_SKIPPED_LISTED}, and files "
            "lists all of them."
        )

    primary = triage.primary
    return FailureReport(
        source=job_input.source,
        failed=failed,
        outcome=outcome_sentence(failed, phase, primary, summary.status, job),
        job=summary if summary.model_dump(exclude_none=True) else None,
        primary_error=primary,
        other_errors=triage.others,
        phase=phase,
        phase_reason=phase_reason,
        category=primary.category if primary else None,
        retry=retry_verdict(triage, failed, summary.attempt, summary.max_attempts),
        memory=memory_facts(
            job,
            scanned.facts,
            scanned.reports,
            queue_maxrss_mb=job_input.queue_maxrss_mb,
            prmon=scanned.prmon,
        ),
        evidence=evidence,
        files=files,
        skipped_files=skipped[:MAX_SKIPPED_LISTED],
        notes=notes,
        budget_chars=job_input.budget,
        used_chars=used,
        omitted_items=omitted,
        next_step=_next_step(job_input, omitted, anchor),
    )


def _file_notes(bundle: LogBundle | None, scanned: JobScan) -> list[FileNote]:
    if bundle is None:
        return []
    notes = list(bundle.notes)
    scanned_names = {scan.file.name for scan in scanned.scans}
    for log in bundle.files:
        status = "tail-scanned" if log.tail_only else "scanned"
        note = None
        scan = next((s for s in scanned.scans if s.file.name == log.name), None)
        if log.name not in scanned_names:
            note = "read as a report"
        elif scan is not None and scan.truncated_hits:
            note = "very many distinct warnings; only the first ones were ranked"
        notes.append(FileNote(name=log.name, size=log.size, status=status, note=note))
    return notes


def _skipped_files(files: list[FileNote]) -> list[SkippedFile]:
    skipped = []
    for note in files:
        if note.status not in ("skipped", "unreadable", "missing"):
            continue
        reason = note.note or note.status
        if note.status != "skipped" and note.note:
            reason = f"{note.status}: {note.note}"
        skipped.append(SkippedFile(name=note.name, reason=reason))
    return skipped


def _next_step(job_input: JobInput, omitted: int, anchor: Scored | None) -> str | None:
    if omitted == 0:
        return None
    step = f"{omitted} evidence items did not fit into budget_chars={job_input.budget}."
    if job_input.budget < MAX_BUDGET:
        step += f" Call again with budget_chars={min(job_input.budget * 2, MAX_BUDGET)}"
    if anchor is not None and job_input.read_source:
        step += (
            f", or read_log_lines(source={job_input.read_source!r}, filename={anchor.file!r}, "
            f"start_line={max(anchor.line.number - 40, 1)}) to read around the decisive line"
        )
    return step + "."

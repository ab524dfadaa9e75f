"""The verdict on one job: whether it failed, in which phase, the outcome sentence and the retry advice."""

from __future__ import annotations

from typing import Any

from servers.logs.context import build_context, window_for
from servers.logs.diags import stopped_by
from servers.logs.jobscan import JobScan
from servers.logs.models import Retry
from servers.logs.phases import phase_from_code, phase_from_line, phase_from_state
from servers.logs.ranking import Scored
from servers.logs.triage import Triage

FAILED_STATES = frozenset({"failed", "closed", "cancelled", "subfinished"})


def job_failed(job: dict[str, Any], triage: Triage) -> bool | None:
    """Return True for a set error field or a failed state, False for another status, else None."""
    if triage.primary is not None:
        return True
    status = str(job.get("jobstatus") or "").lower()
    if status in FAILED_STATES:
        return True
    if status:
        return False
    return None


def failure_phase(
    triage: Triage, failed: bool | None, anchor: Scored | None, scanned: JobScan
) -> tuple[str | None, str | None]:
    """Return the failing phase and the reason: from the decisive code, else from the decisive line."""
    if not failed:
        return None, None
    primary = triage.primary
    if primary is not None:
        phase = phase_from_code(primary.field, primary.code, primary.component)
        if phase:
            return (
                phase,
                f"{primary.field} {primary.code} ({primary.acronym or primary.component}) is set in this phase",
            )

    if anchor is not None:
        phases = {s.phase for s in anchor.signatures if s.phase and s.kind == "cause"}
        if len(phases) == 1:
            phase = phases.pop()
            return phase, f"the decisive line ({anchor.file}:{anchor.line.number}) reports a {phase} failure"
        line_phase = phase_from_line(anchor.file, anchor.line)
        if line_phase:
            return (
                line_phase,
                f"the decisive line ({anchor.file}:{anchor.line.number}) comes from the {line_phase} step",
            )
        scan = next((s for s in scanned.scans if s.file.name == anchor.file), None)
        if scan is not None:
            state = build_context(window_for(scan, anchor), anchor, None, pilot_killed_payload=False).state
            if phase_from_state(state):
                return phase_from_state(
                    state
                ), f"the job was in state '{state}' when the decisive line was written"

    if primary is not None and primary.field in ("exeerrorcode", "transexitcode"):
        return "payload", "the decisive code is the payload's exit code"
    return None, None


def outcome_sentence(
    failed: bool | None, phase: str | None, primary: Any, status: str | None, job: dict[str, Any]
) -> str:
    """Return the headline of the report: who stopped the job, or whether and how it failed."""
    stopped = stopped_by(job)
    if stopped:
        code = (
            f" Decisive code: {primary.field} {primary.code} ({primary.acronym or primary.component})."
            if primary
            else ""
        )
        return stopped + code
    if failed is False:
        return f"The job did not fail (status {status or 'unknown'}); no error field is set."
    if failed is None:
        return "Whether the job failed is unknown: neither a job record nor a final pilot report was found."
    if primary is None:
        return f"The job failed (status {status}) but no error code is set."
    name = primary.acronym or primary.component or "unknown"
    where = f" in the {phase} phase" if phase else ""
    return (
        f"The job failed{where}: {primary.field} {primary.code} {name} ({primary.message or 'no message'})."
    )


def retry_verdict(
    triage: Triage, failed: bool | None, attempt: int | None, max_attempts: int | None
) -> Retry:
    """Return the retry advice of the triage, noting when no automatic attempt is left."""
    left = max(max_attempts - attempt, 0) if attempt is not None and max_attempts is not None else None
    reason = triage.retry_reason
    if failed and left == 0:
        reason += f" This was attempt {attempt} of {max_attempts}: PanDA will not retry it automatically."
    advice = triage.retry_advice if failed is not None else "unclear"
    return Retry(advice=advice, reason=reason, attempt=attempt, max_attempts=max_attempts, attempts_left=left)

"""Triage of one job's error fields: which code decided the outcome, which ones follow from it, and retry advice.

How codes reach the job record (Pilot 3 and the PanDA server): the pilot reports only the first code
of its list as pilotErrorCode. For any non-zero payload exit it reports the generic 1305 and puts the
transform's exit code (or the worker-node script's 5000+ code) in exeErrorCode and transExitCode.
When the pilot itself kills the payload (memory, looping, time limit) the payload's signal exit code
is a consequence of that kill. Server fields record decisions of the PanDA server and JEDI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errorcodes.attempts import AttemptStatus, attempt_status
from shared.errorcodes.catalogue import Catalogue, get_catalogue
from shared.errorcodes.decode import JOB_FIELD_DIAGS, signals_in_text
from shared.errorcodes.jobrecord import as_code, read_job_record
from shared.errorcodes.models import DecodedError, ErrorEntry, RetryAdvice, TriageResult
from shared.errorcodes.negative import negative_code_meanings

# Pilot codes that only report "the payload failed". The payload's own code is the specific one.
PILOT_WRAPPER_CODES = frozenset({1305, 1220, 1315})

# Job states in which nothing failed, and states in which the server ended the job on purpose.
NOT_FAILED_STATES = frozenset(
    {
        "finished",
        "done",
        "merging",
        "transferring",
        "running",
        "starting",
        "sent",
        "activated",
        "assigned",
        "defined",
        "pending",
        "waiting",
        "holding",
    }
)
SERVER_ENDED_STATES = frozenset({"closed", "cancelled"})

SERVER_FIELDS = frozenset(
    {"ddmerrorcode", "taskbuffererrorcode", "jobdispatchererrorcode", "superrorcode", "brokerageerrorcode"}
)
PAYLOAD_FIELDS = frozenset({"exeerrorcode", "transexitcode"})

# Order in which the fields are read; it breaks ties between errors of the same rank.
FIELD_ORDER = tuple(name.lower() for name in JOB_FIELD_DIAGS)
_FIELD_COMPONENT = {
    "piloterrorcode": "pilot",
    "ddmerrorcode": "dataservice",
    "taskbuffererrorcode": "taskbuffer",
    "jobdispatchererrorcode": "jobdispatcher",
    "superrorcode": "supervisor",
    "brokerageerrorcode": "brokerage",
}


@dataclass(frozen=True)
class _Candidate:
    field: str
    code: int
    diag: str
    entry: ErrorEntry | None


@dataclass(frozen=True)
class _Job:
    status: str
    fields: Mapping[str, Any]
    attempts: AttemptStatus | None = None


@dataclass(frozen=True)
class RankRule:
    """One row of the ranking table: the first rule that applies gives an error its rank."""

    name: str
    applies: Callable[[_Candidate, _Job], bool]
    reason: str


# Lower position = more decisive. The table is read top-down for each error.
RANK_RULES: tuple[RankRule, ...] = (
    RankRule(
        "server-ended-job",
        lambda c, job: job.status in SERVER_ENDED_STATES and c.field in SERVER_FIELDS,
        # A closed or cancelled job was ended by the server or JEDI; that decision is the outcome.
        "the PanDA server or JEDI ended this job, so its decision is the outcome",
    ),
    RankRule(
        "specific-pilot-code",
        lambda c, job: c.field == "piloterrorcode" and abs(c.code) not in PILOT_WRAPPER_CODES,
        # The pilot found the cause itself (stage-in, memory, looping, proxy). A payload signal code
        # such as 143 recorded with it is the result of the pilot's own kill.
        "the pilot identified this failure itself; payload codes recorded with it follow from it",
    ),
    RankRule(
        "payload-code",
        lambda c, job: c.field in PAYLOAD_FIELDS and c.entry is not None,
        # The transform or worker-node script code names the failure the pilot reported as generic.
        "the payload's own exit code is more specific than the pilot's generic payload-failure code",
    ),
    RankRule(
        "server-code",
        lambda c, job: c.field in SERVER_FIELDS,
        "a server-side code recorded with the failure; it usually follows from the errors above",
    ),
    RankRule(
        "pilot-wrapper-code",
        lambda c, job: c.field == "piloterrorcode",
        # 1305/1220/1315 only report that the payload failed, so they are primary only when nothing else is set.
        "the pilot's generic code for a failed payload; the specific cause is in the payload code",
    ),
    RankRule(
        "unknown-code",
        lambda c, job: True,
        "a code not in the catalogue",
    ),
)


@dataclass(frozen=True)
class AdviceOverride:
    """Retry advice that depends on the diag, not only on the code."""

    component: str
    code: int
    diag: re.Pattern[str]
    advice: RetryAdvice
    reason: str
    # Advice when the job's input has no attempts left, if that changes it.
    exhausted: tuple[RetryAdvice, str] | None = None


MAX_DIAG_CHARS = 2000
"""Maximum diag length kept per field. The PanDA server itself stores at most 500 characters of pilotErrorDiag."""

# The diags JobComplexModule.killJob and archiveJob (panda-server) write with taskbuffer 100 EC_Kill.
ADVICE_OVERRIDES: tuple[AdviceOverride, ...] = (
    AdviceOverride(
        "taskbuffer",
        100,
        re.compile(r"reassign", re.IGNORECASE),
        "not-a-failure",
        "Nothing failed: JEDI closed this job so that a new job, with its own pandaid, processes its input "
        "(after a task reassignment, a rebrokerage or a throttled task).",
        exhausted=(
            "retry-elsewhere-likely-helps",
            (
                "Nothing failed in this job: JEDI closed it to process its input elsewhere, but the input has no "
                "attempts left, so no new job follows. Retrying the task gives the input new attempts."
            ),
        ),
    ),
    AdviceOverride(
        "taskbuffer",
        100,
        re.compile(r"task is \(?almost\)? done", re.IGNORECASE),
        "not-a-failure",
        "JEDI closed this job because its task already had enough finished jobs; nothing failed.",
    ),
    AdviceOverride(
        "taskbuffer",
        100,
        re.compile(r"closed by the pilot", re.IGNORECASE),
        "not-a-failure",
        "The pilot ended this job before it did any work, for example because no events were left.",
    ),
    AdviceOverride(
        "taskbuffer",
        100,
        re.compile(r"\bby\s+(?:the\s+)?(?:user|owner)\b|\buser\s+kill", re.IGNORECASE),
        "not-a-failure",
        "The job was killed on request of its owner, not by an error.",
    ),
    AdviceOverride(
        "taskbuffer",
        100,
        # killJob writes "killed by <DN of the requester>": the owner or a production manager asked for it.
        re.compile(r"\bkilled\s+by\s+/(?:DC|C|O|CN)=", re.IGNORECASE),
        "not-a-failure",
        "The job was killed on request of the person whose certificate DN the diag names, not by an error.",
    ),
    AdviceOverride(
        "taskbuffer",
        100,
        re.compile(r"upstream job failed", re.IGNORECASE),
        "unclear",
        "The server cancelled this job because the build job of its jobset failed; that job's error decides "
        "whether a retry helps.",
    ),
)


def _resolve(catalogue: Catalogue, field: str, code: int, record: Mapping[str, Any]) -> ErrorEntry | None:
    """Return the catalogue entry a field's code stands for, or None when the catalogue lacks it."""
    if code < 0:
        # -n in a payload field is a kill by signal n (or the pilot's -1); a negative pilotErrorCode is a
        # pilot code marked recoverable.
        canonical = next(name for name in JOB_FIELD_DIAGS if name.lower() == field)
        for meaning in negative_code_meanings(code):
            entries = catalogue.get(meaning.component, meaning.code)
            if canonical in meaning.job_fields and entries:
                return entries[0]
        return None

    if field in PAYLOAD_FIELDS:
        entries = catalogue.lookup_payload(code, field, record.get("transformation"))
        return entries[0] if entries else None

    component = _FIELD_COMPONENT[field]
    entries = catalogue.get(component, code)
    return entries[0] if entries else None


def _candidates(catalogue: Catalogue, record: Mapping[str, Any]) -> list[_Candidate]:
    """Return one candidate per non-zero error field, dropping a transExitCode that repeats exeErrorCode."""
    candidates: list[_Candidate] = []
    for field in FIELD_ORDER:
        code = as_code(record.get(field))
        if not code:
            continue
        diag_field = JOB_FIELD_DIAGS[next(name for name in JOB_FIELD_DIAGS if name.lower() == field)]
        diag = str(record.get(diag_field.lower()) or "") if diag_field else ""
        if len(diag) > MAX_DIAG_CHARS:
            diag = diag[:MAX_DIAG_CHARS] + f"... (cut, {len(diag)} characters)"
        entry = _resolve(catalogue, field, code, record)
        if field == "transexitcode" and any(
            c.field == "exeerrorcode" and (c.code == code or (entry is not None and c.entry == entry))
            for c in candidates
        ):
            continue
        candidates.append(_Candidate(field=field, code=code, diag=diag, entry=entry))
    return candidates


def _rank(candidate: _Candidate, job: _Job) -> tuple[int, RankRule]:
    for position, rule in enumerate(RANK_RULES):
        if rule.applies(candidate, job):
            return position, rule
    raise AssertionError("the last rank rule applies to every error")


def _advice(candidate: _Candidate, job: _Job) -> tuple[RetryAdvice, str]:
    entry = candidate.entry
    if entry is None:
        return "unclear", f"Code {candidate.code} in {candidate.field} is not in the catalogue."
    for override in ADVICE_OVERRIDES:
        if (
            entry.component == override.component
            and entry.code == override.code
            and override.diag.search(candidate.diag)
        ):
            attempts = job.attempts
            if (
                override.exhausted
                and attempts is not None
                and attempts.per_file
                and not attempts.attempts_left
            ):
                return override.exhausted
            return override.advice, override.reason
    return entry.retry_advice, entry.retry_reason


def _decoded(candidate: _Candidate, rule: RankRule, job: _Job) -> DecodedError:
    entry = candidate.entry
    advice, reason = _advice(candidate, job)
    return DecodedError(
        field=candidate.field,
        code=candidate.code,
        component=entry.component if entry else None,
        acronym=entry.acronym if entry else None,
        message=entry.message if entry else None,
        category=entry.category if entry else None,
        diag=candidate.diag,
        retry_advice=advice,
        retry_reason=reason,
        user_explanation=entry.user_explanation if entry else None,
        expert_explanation=entry.expert_explanation if entry else None,
        rank_reason=rule.reason,
    )


def _notes(decoded: list[DecodedError], attempts: AttemptStatus | None) -> list[str]:
    notes: list[str] = []
    if attempts is not None:
        notes.append(attempts.note)
    for error in decoded:
        if error.code < 0 and error.component is not None:
            reason = next(
                (
                    meaning.reason
                    for meaning in negative_code_meanings(error.code)
                    if meaning.component == error.component
                ),
                "",
            )
            notes.append(
                f"{error.field} {error.code} is read as {error.component} {error.acronym}. {reason}".strip()
            )
        signals = signals_in_text(error.diag)
        if signals and error.acronym and not any(signal in error.acronym for signal in signals):
            notes.append(f"The {error.field} diag mentions {', '.join(signals)}.")
    return notes


def _result_without_errors(status: str, notes: list[str], warnings: list[str]) -> TriageResult:
    """Return the result for a job with no decodable error code."""
    if warnings:
        advice: RetryAdvice = "unclear"
        reason = "An error code of this job could not be read (see warnings); read the job's logs."
    elif status in ("failed", *SERVER_ENDED_STATES):
        advice, reason = "unclear", f"The job is {status} but no error code is set; read its logs."
    elif not status:
        advice = "unclear"
        reason = (
            "No error code is set, and without jobstatus the record does not show whether the job failed."
        )
    else:
        advice, reason = "unclear", f"The job is {status} and no error code is set."
    return TriageResult(
        primary=None,
        others=[],
        retry_advice=advice,
        retry_reason=reason,
        jobstatus=status or None,
        notes=notes,
        warnings=warnings,
    )


def triage_job_errors(fields: Mapping[str, Any], catalogue: Catalogue | None = None) -> TriageResult:
    """Rank the error fields of one BigPanDA job record and return the decisive error and the retry advice.

    `fields` is a job record (lower-case keys as the API returns them, or camelCase as users paste
    them) or a whole `/job?pandaid=N&json` response. A job that did not fail gets no primary error;
    input that is not a job record gets advice `unclear` and the reason.
    """
    catalogue = catalogue or get_catalogue()
    job_record = read_job_record(fields)
    if job_record.problem is not None:
        return TriageResult(
            primary=None,
            retry_advice="unclear",
            retry_reason=job_record.problem,
            warnings=job_record.warnings,
        )

    record = job_record.fields
    status = str(record.get("jobstatus") or "").strip().lower()
    job = _Job(status=status, fields=record, attempts=attempt_status(record, job_record.files))

    ranked = sorted(
        (
            (_rank(candidate, job), index, candidate)
            for index, candidate in enumerate(_candidates(catalogue, record))
        ),
        key=lambda item: (item[0][0], item[1]),
    )
    decoded = [_decoded(candidate, rule, job) for (_, rule), _, candidate in ranked]
    notes = _notes(decoded, job.attempts)

    if status in NOT_FAILED_STATES:
        if decoded:
            notes.append(f"The job is {status}; the codes listed did not make it fail.")
        return TriageResult(
            primary=None,
            others=decoded,
            retry_advice="not-a-failure",
            retry_reason=f"The job is {status}, not failed.",
            jobstatus=status,
            notes=notes,
            warnings=job_record.warnings,
        )

    if not decoded:
        return _result_without_errors(status, notes, job_record.warnings)

    primary = decoded[0]
    return TriageResult(
        primary=primary,
        others=decoded[1:],
        retry_advice=primary.retry_advice,
        retry_reason=primary.retry_reason,
        jobstatus=status or None,
        notes=notes,
        warnings=job_record.warnings,
    )

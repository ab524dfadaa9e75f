"""Reading a pasted or downloaded job record: unwrapping, lower-case keys, error codes as numbers.

BigPanDA's `/job?pandaid=N&json` returns `{"job": {...}, "files": [...]}` with lower-case keys, the
Elasticsearch jobs archive wraps the same keys in `_source`, and people paste camelCase names. A
dispatcher job definition (what the pilot gets from getJob) looks similar but has no status or error
fields, so it is recognised and rejected with a pointer to the record that has them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errorcodes.decode import JOB_FIELD_DIAGS

ERROR_CODE_FIELDS = tuple(name.lower() for name in JOB_FIELD_DIAGS)
# Keys that only a dispatcher job definition (getJob) has, not a BigPanDA job record.
JOB_DEFINITION_KEYS = frozenset({"jobpars", "infiles", "outfiles", "statuscode"})
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass
class JobRecord:
    """A job record with lower-case keys, its files if the response had them, and what could not be read."""

    fields: dict[str, Any]
    files: list[Mapping[str, Any]] = field(default_factory=list)
    problem: str | None = None  # why the input is not a job record, if it is not
    warnings: list[str] = field(default_factory=list)


def as_code(value: Any) -> int | None:
    """Return an error-code value as int; they come as int, numeric string, '' or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    return None


def _unwrap(fields: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[Mapping[str, Any]]]:
    """Return the job mapping inside a BigPanDA response, an archive document or a {pandaid: job} map."""
    for key in ("job", "_source"):
        inner = fields.get(key)
        if isinstance(inner, Mapping):
            files = fields.get("files")
            return inner, [item for item in files if isinstance(item, Mapping)] if isinstance(
                files, list
            ) else []
    if len(fields) == 1:
        key, inner = next(iter(fields.items()))
        if str(key).isdigit() and isinstance(inner, Mapping):
            return inner, []
    return fields, []


def _problem(record: Mapping[str, Any], raw: Mapping[str, Any]) -> str | None:
    """Return why `record` is not a BigPanDA job record, or None if it is one."""
    if "jobstatus" in record or any(name in record for name in ERROR_CODE_FIELDS):
        return None

    pandaid = record.get("pandaid")
    target = f"/job?pandaid={pandaid}&json" if pandaid else "/job?pandaid=N&json"
    jobs = raw.get("jobs")
    if isinstance(jobs, list):
        return f"This is a list of {len(jobs)} jobs, not one job record; pass one element of it."
    if JOB_DEFINITION_KEYS & set(record):
        return (
            "This looks like a job definition from the dispatcher (getJob), which has no jobstatus and no "
            f"error fields. Triage needs the BigPanDA job record ({target})."
        )
    keys = ", ".join(sorted(record)[:8]) or "none"
    return (
        "This does not look like a BigPanDA job record (no jobstatus and no error fields; keys: "
        f"{keys}). Pass fields such as jobstatus, piloterrorcode and piloterrordiag, or the whole {target} response."
    )


def read_job_record(fields: Mapping[str, Any]) -> JobRecord:
    """Return the job record in `fields` with lower-case keys, noting error codes that are not numbers."""
    inner, files = _unwrap(fields)
    record = {str(key).lower(): value for key, value in inner.items()}
    result = JobRecord(fields=record, files=files, problem=_problem(record, fields))

    for name in ERROR_CODE_FIELDS:
        value = record.get(name)
        if value in (None, "") or as_code(value) is not None:
            continue
        quoted = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        result.warnings.append(f"{name} {quoted} is not a number, so it was not decoded.")
    return result

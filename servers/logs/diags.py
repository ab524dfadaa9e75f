"""The diags of a job record as the report quotes them, and headlines for jobs that were stopped, not failed."""

from __future__ import annotations

from typing import Any

from servers.logs.models import DecodedError

DIAG_FIELDS = (
    "piloterrordiag",
    "exeerrordiag",
    "taskbuffererrordiag",
    "jobdispatchererrordiag",
    "superrordiag",
    "ddmerrordiag",
    "brokerageerrordiag",
)
_EMPTY_VALUES = frozenset({"", "OK", "NULL", "NONE"})
MAX_DIAG_CHARS = 300


def record_diags(job: dict[str, Any], primary: DecodedError | None) -> tuple[str | None, list[str]]:
    """Return the diag field of the decisive error and the "field: text" lines of every set diag, it first.

    The server's command to the pilot comes last: for a job killed while running, the server writes who killed
    it only into taskbuffererrordiag and commandtopilot and leaves taskbuffererrorcode at 0.
    """
    lines: list[str] = []
    primary_field = None
    if primary is not None and primary.diag:
        primary_field = (
            "exeerrordiag"
            if primary.field == "transexitcode"
            else primary.field.replace("errorcode", "errordiag")
        )
        lines.append(f"{primary_field}: {primary.diag[:MAX_DIAG_CHARS]}")
    for name in DIAG_FIELDS:
        value = " ".join(str(job.get(name) or "").split())
        if name != primary_field and value.upper() not in _EMPTY_VALUES:
            lines.append(f"{name}: {value[:MAX_DIAG_CHARS]}")
    command = str(job.get("commandtopilot") or "").strip()
    if command.upper() not in _EMPTY_VALUES:
        lines.append(f"commandtopilot: {command}")
    return primary_field, lines


def stopped_by(job: dict[str, Any]) -> str | None:
    """Return a headline for a job that was cancelled or closed rather than failed, else None."""
    status = str(job.get("jobstatus") or "").lower()
    diag = " ".join(str(job.get("taskbuffererrordiag") or "").split())
    if status == "cancelled":
        if diag.lower().startswith("killed by /"):
            return f"The job was cancelled by its owner ({diag[:200]})."
        return f"The job was cancelled ({diag[:200] or 'no reason recorded'})."
    if status == "closed":
        substatus = str(job.get("jobsubstatus") or "").strip()
        detail = ", ".join(part for part in (substatus, diag[:200]) if part)
        return f"The job was closed by JEDI ({detail or 'no reason recorded'}); nothing needs fixing."
    return None

"""Markdown views of error entries, search results and triage results, shared by prompts, resources and the terminal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from shared.errorcodes import ErrorEntry, SearchResult, TriageResult
from shared.errorcodes.explain import Explanation

Audience = Literal["user", "expert", "full"]


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _title(entry: ErrorEntry) -> str:
    name = f" {entry.acronym}" if entry.acronym else ""
    script = f" ({entry.script})" if entry.script else ""
    retired = " (historical: removed from the current sources)" if entry.historical else ""
    return f"{entry.component} {entry.code}{name}{script}{retired}"


def entry_markdown(entry: ErrorEntry, audience: Audience = "full") -> str:
    """Return one entry as Markdown: both explanations for `full`, one of them otherwise."""
    lines = [f"### {_title(entry)}", ""]
    if entry.message:
        lines += [f'Official message: "{entry.message}"', ""]
    field = entry.job_field or "not stored in the job record"
    lines += [f"Job field: {field} · Category: {entry.category}", ""]

    if audience in ("user", "full"):
        lines += [f"**What happened:** {entry.user_explanation}", ""]
    if audience in ("expert", "full"):
        lines += [f"**For experts:** {entry.expert_explanation}", ""]

    lines += ["**Likely causes:**", _bullets(entry.likely_causes), ""]
    lines += ["**What to do:**", _bullets(entry.suggested_actions), ""]
    lines.append(f"**Retry:** `{entry.retry_advice}`: {entry.retry_reason}")
    if entry.pilot_error_code is not None:
        lines.append(f"\nThis pilot exit status stands for pilot error code {entry.pilot_error_code}.")
    if entry.note:
        lines.append(f"\nNote: {entry.note}")
    return "\n".join(lines)


def explanation_markdown(explanation: Explanation, audience: Audience = "full") -> str:
    """Return every candidate of an explanation as Markdown, the most likely first."""
    count = len(explanation.candidates) + len(explanation.more_candidates)
    header = f"## Error code {explanation.code}"
    if count > 1:
        header += f": {count} possible meanings, most likely first"
    parts = [header]
    if explanation.decoded:
        parts.append(_bullets(explanation.decoded))
    parts += [entry_markdown(entry, audience) for entry in explanation.candidates]
    if explanation.more_candidates:
        parts.append(
            "Less likely: "
            + "; ".join(
                f"{s.component} {s.code} {s.acronym} ({s.message})" for s in explanation.more_candidates
            )
        )
    if explanation.related:
        parts.append(
            "Related: "
            + "; ".join(f"{s.component} {s.code} {s.acronym}: {s.message}" for s in explanation.related)
        )
    return "\n\n".join(parts)


def search_markdown(result: SearchResult) -> str:
    """Return search hits as a Markdown table."""
    if not result.hits:
        return (
            f"No error code matches {result.query!r}. Try fewer or other words, or list codes by component."
        )
    rows = ["| # | component | code | acronym | message | retry | matched |", "|---|---|---|---|---|---|---|"]
    for position, hit in enumerate(result.hits, start=1):
        code = f"{hit.code}" + (f" ({hit.script})" if hit.script else "")
        matched = "; ".join(hit.matched)
        rows.append(
            f"| {position} | {hit.component} | {code} | {hit.acronym} | {hit.message} | {hit.retry_advice} | {matched} |"
        )
    return "\n".join(rows)


def triage_markdown(result: TriageResult) -> str:
    """Return a triage result as Markdown: the decisive error, then the others, then the retry advice."""
    lines = []
    status = f" (job status: {result.jobstatus})" if result.jobstatus else ""
    if result.primary is None and result.retry_advice == "not-a-failure":
        lines.append(f"**No failure to explain**{status}.")
    elif result.primary is None:
        lines.append(f"**No error code to rank**{status}.")
    else:
        primary = result.primary
        lines += [
            f"## Primary error: {primary.field} = {primary.code}"
            + (
                f" ({primary.component} {primary.acronym})"
                if primary.component
                else " (not in the catalogue)"
            ),
            "",
        ]
        if primary.message:
            lines += [f'Official message: "{primary.message}"', ""]
        if primary.diag:
            lines.append(f"Diag: `{primary.diag}`")
        if primary.user_explanation:
            lines += ["", f"**What happened:** {primary.user_explanation}"]
        if primary.expert_explanation:
            lines += ["", f"**For experts:** {primary.expert_explanation}"]
        lines += ["", f"Why primary: {primary.rank_reason}."]

    if result.others:
        lines += ["", "## Other errors, in order"]
        for error in result.others:
            name = f"{error.component} {error.acronym}" if error.component else "not in the catalogue"
            lines.append(f"- {error.field} = {error.code} ({name}): {error.rank_reason}")

    lines += ["", f"**Retry:** `{result.retry_advice}`: {result.retry_reason}"]
    if result.notes:
        lines += ["", _bullets(result.notes)]
    if result.warnings:
        lines += ["", "**Warnings:**", _bullets(result.warnings)]
    return "\n".join(lines)

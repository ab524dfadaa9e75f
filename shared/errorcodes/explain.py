"""Explanation of one code: every entry it can mean, plus what the number itself decodes to."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.errorcodes.catalogue import Catalogue, UnknownComponentError
from shared.errorcodes.decode import (
    decode_wnscripts,
    normalize_component,
    normalize_job_field,
    signal_of_exit_code,
)
from shared.errorcodes.models import ErrorEntry, ErrorSummary
from shared.exceptions import AskPandaError

MAX_FULL_CANDIDATES = 5


class CodeNotFoundError(AskPandaError, LookupError):
    """No entry of the catalogue has the requested code (in the requested component)."""


class Explanation(BaseModel):
    """The entries a code can mean, best first, with facts decoded from the number itself."""

    code: int
    component: str | None = Field(None, description="The component asked for, if any.")
    job_field: str | None = Field(None, description="The job field the code was ranked for, if any.")
    candidates: list[ErrorEntry] = Field(description="Full entries, most likely first.")
    more_candidates: list[ErrorSummary] = Field(
        default_factory=list, description="Further, less likely entries in summary form."
    )
    decoded: list[str] = Field(
        default_factory=list, description="What the number decodes to, e.g. 128 + signal."
    )
    related: list[ErrorSummary] = Field(
        default_factory=list,
        description="Entries the candidates point to, e.g. the pilot code of an exit status.",
    )


def _decoded_facts(code: int, catalogue: Catalogue) -> list[str]:
    """Return the facts the number carries by construction: wnscripts parts and signal exit codes."""
    facts: list[str] = []
    wnscript = decode_wnscripts(code, catalogue.wnscript_offsets)
    if wnscript is not None:
        base = catalogue.get("wnscripts", code)
        name = f" ({base[0].acronym})" if base else " (not a defined base code)"
        facts.append(
            f"{code} = 5000 + {wnscript.offset} ({wnscript.script}) + base code {wnscript.base_code}{name}; "
            f"the script exits with status {wnscript.base_code}."
        )

    signal = signal_of_exit_code(code)
    if signal is not None and code > 0:
        facts.append(
            f"{code} = 128 + {code - 128}: a process killed by {signal} exits with this status (Linux)."
        )
    elif signal is not None:
        facts.append(
            f"A negative exit code {code} means the payload was killed by {signal} (the transform reports {128 - code})."
        )
    return facts


def _related(candidates: list[ErrorEntry], catalogue: Catalogue) -> list[ErrorSummary]:
    related: list[ErrorSummary] = []
    for entry in candidates:
        if entry.pilot_error_code is not None:
            related.extend(
                ErrorSummary.of(target) for target in catalogue.get("pilot", entry.pilot_error_code)
            )
    return related


def explain_code(catalogue: Catalogue, code: int, component: str | None = None) -> Explanation:
    """Return every entry `code` can mean; `component` is a code table or a job field such as exeErrorCode.

    Raises UnknownComponentError for an unknown component and CodeNotFoundError when nothing matches.
    """
    job_field = normalize_job_field(component) if component else None
    table = None
    if component and job_field is None:
        table = normalize_component(component)
        if table is None:
            raise UnknownComponentError(f"unknown component {component!r}")

    lookup_code = 128 - code if code < 0 else code
    if table is not None:
        candidates = catalogue.lookup(lookup_code, component=table)
    else:
        candidates = catalogue.lookup(lookup_code, job_field=job_field)

    if not candidates:
        elsewhere = catalogue.lookup(lookup_code) if table is not None else []
        if elsewhere:
            places = ", ".join(
                f"{entry.component} ({entry.acronym or entry.message})" for entry in elsewhere[:5]
            )
            raise CodeNotFoundError(f"Code {code} is not a {table} code; it exists as: {places}.")
        facts = " ".join(_decoded_facts(lookup_code, catalogue))
        raise CodeNotFoundError(f"Code {code} is not in any component of the catalogue. {facts}".strip())

    return Explanation(
        code=code,
        component=table,
        job_field=job_field,
        candidates=candidates[:MAX_FULL_CANDIDATES],
        more_candidates=[ErrorSummary.of(entry) for entry in candidates[MAX_FULL_CANDIDATES:]],
        decoded=_decoded_facts(lookup_code, catalogue) if code >= 0 else _decoded_facts(code, catalogue),
        related=_related(candidates, catalogue),
    )

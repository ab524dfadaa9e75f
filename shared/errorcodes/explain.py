"""Explanation of one code: every entry it can mean, plus what the number itself decodes to."""

from __future__ import annotations

from pydantic import Field

from shared.errorcodes.catalogue import Catalogue, UnknownComponentError
from shared.errorcodes.decode import (
    WNSCRIPT_BASE,
    components_for_field,
    decode_wnscripts,
    normalize_component,
    normalize_job_field,
    signal_of_exit_code,
)
from shared.errorcodes.models import COMPONENTS, JOB_FIELDS, CompactModel, ErrorEntry, ErrorSummary
from shared.errorcodes.negative import (
    PAYLOAD_EXECUTION_FAILURE,
    PILOT_CODE_MIN,
    negative_code_facts,
    negative_code_meanings,
)
from shared.exceptions import AskPandaError

MAX_FULL_CANDIDATES = 5
MAX_NAMED_MEANINGS = 6
# Pilot error codes are four-digit numbers from 1000; Pilot 3 defines 1008 and 1098-1386.
PILOT_CODE_MAX = 1999


class CodeNotFoundError(AskPandaError, LookupError):
    """No entry of the catalogue has the requested code in the requested component or job field.

    `known` lists what the code means elsewhere, so a caller can name those meanings and suggest
    dropping the component.
    """

    def __init__(self, code: int, scope: str | None, known: list[ErrorSummary], facts: list[str]) -> None:
        # scope names what was asked, e.g. "transform code" or "pilotErrorCode value"; None for no filter.
        self.code = code
        self.scope = scope
        self.known = known
        self.facts = facts
        super().__init__(self._message())

    def _message(self) -> str:
        if self.scope is not None and self.known:
            meanings = ", ".join(summary_label(summary) for summary in self.known[:MAX_NAMED_MEANINGS])
            return f"{self.code} is not a known {self.scope}; known meanings of {self.code}: {meanings}."
        facts = " ".join(self.facts)
        where = f"a known {self.scope}" if self.scope else "in any component of the catalogue"
        return f"Code {self.code} is not {where}. {facts}".strip()


class Explanation(CompactModel):
    """The entries a code can mean, best first, with facts decoded from the number itself."""

    code: int
    component: str | None = Field(None, description="The code table asked for, if any.")
    job_field: str | None = Field(None, description="The job field asked for, if any.")
    candidates: list[ErrorEntry] = Field(description="Full entries, most likely first.")
    more_candidates: list[ErrorSummary] = Field(
        default_factory=list,
        description="Further entries in summary form: less likely meanings, and the other scripts of a "
        "wnscripts base code shown in full above.",
    )
    decoded: list[str] = Field(
        default_factory=list, description="What the number decodes to, e.g. 128 + signal."
    )
    related: list[ErrorSummary] = Field(
        default_factory=list,
        description="Entries the candidates point to, e.g. the pilot code of an exit status.",
    )


def summary_label(summary: ErrorSummary) -> str:
    """Return a short name of an entry such as `pilot 1152 STAGEOUTTIMEOUT` or `wnscripts 5406 (runAthena)`."""
    label = f"{summary.component} {summary.code}"
    if summary.acronym:
        label += f" {summary.acronym}"
    elif summary.message:
        label += f" ({summary.message})"
    if summary.script:
        label += f" ({summary.script})"
    return label


def unknown_component_message(name: str) -> str:
    """Return the message for an unknown component, listing the code tables and the job fields."""
    return (
        f"Unknown component {name!r}. Use a code table ({', '.join(COMPONENTS)}) or the job field the code "
        f"came from ({', '.join(JOB_FIELDS)})."
    )


def resolve_scope(component: str | None) -> tuple[str | None, str | None]:
    """Return (code table, job field) named by `component`; raise UnknownComponentError for other names."""
    if not component or not component.strip():
        return None, None
    job_field = normalize_job_field(component)
    if job_field is not None:
        return None, job_field
    table = normalize_component(component)
    if table is None:
        raise UnknownComponentError(unknown_component_message(component))
    return table, None


def all_meanings(catalogue: Catalogue, code: int) -> list[ErrorEntry]:
    """Return every entry `code` can mean, best first; negative codes resolve through their readings.

    A small code is also the exit status of the worker-node scripts that set that base code.
    """
    if code >= 0:
        return catalogue.lookup(code) + _wnscripts_base_entries(catalogue, code)
    entries: list[ErrorEntry] = []
    for meaning in negative_code_meanings(code):
        entries.extend(catalogue.get(meaning.component, meaning.code))
    return entries


def field_meanings(catalogue: Catalogue, code: int, job_field: str) -> list[ErrorEntry]:
    """Return the entries `code` can mean when it was read from `job_field`, best first.

    Only components that write that field count: pilot exit statuses never reach the job record, and
    ddmErrorCode 100 is dataservice 100, not taskbuffer 100. A small transExitCode can also be the exit
    status of a worker-node script, whose full code then is in exeErrorCode.
    """
    if code < 0:
        entries: list[ErrorEntry] = []
        for meaning in negative_code_meanings(code):
            if job_field in meaning.job_fields:
                entries.extend(catalogue.get(meaning.component, meaning.code))
        return entries

    writers = components_for_field(job_field, code)
    entries = [entry for entry in catalogue.lookup(code, job_field=job_field) if entry.component in writers]
    if job_field == "transExitCode":
        entries.extend(_wnscripts_base_entries(catalogue, code))
    return entries


def _scoped_meanings(
    catalogue: Catalogue, code: int, table: str | None, job_field: str | None
) -> list[ErrorEntry]:
    if job_field is not None:
        return field_meanings(catalogue, code, job_field)
    meanings = all_meanings(catalogue, code)
    if table is not None:
        meanings = [entry for entry in meanings if entry.component == table]
    return meanings


def _decoded_facts(code: int, catalogue: Catalogue, job_field: str | None) -> list[str]:
    """Return the facts the number carries by construction: wnscripts parts, signals, negative codes."""
    if code < 0:
        return negative_code_facts(code)

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
    if signal is not None:
        facts.append(
            f"{code} = 128 + {code - 128}: a process killed by {signal} exits with this status (Linux)."
        )

    base_entries = _wnscripts_base_entries(catalogue, code)
    if base_entries and job_field in (None, "transExitCode"):
        example = base_entries[0]
        facts.append(
            f"In a user job, status {code} is also the exit status of a worker-node script for base code {code} "
            f"({example.acronym}); exeErrorCode then contains 5000 + script offset + {code}, "
            f"e.g. {example.code} for {example.script}."
        )
    return facts


def _wnscripts_base_entries(catalogue: Catalogue, code: int) -> list[ErrorEntry]:
    """Return the wnscripts entries whose base code is `code` and whose script sets it."""
    if not 0 < code < 100:
        return []
    return [
        entry
        for offset in catalogue.wnscript_offsets.values()
        for entry in catalogue.get("wnscripts", WNSCRIPT_BASE + offset + code)
        if entry.set_by_script
    ]


def _not_found_facts(code: int, catalogue: Catalogue) -> list[str]:
    facts = _decoded_facts(code, catalogue, None)
    if PILOT_CODE_MIN <= code <= PILOT_CODE_MAX and not catalogue.get("pilot", code):
        facts.append(
            f"{code} lies in the pilot error code range but Pilot 3 does not define it, so it is probably a "
            "Pilot 1 or Pilot 2 code from an old job."
        )
    return facts


def _related(
    code: int, candidates: list[ErrorEntry], catalogue: Catalogue, job_field: str | None
) -> list[ErrorSummary]:
    related: list[ErrorEntry] = []
    for entry in candidates:
        if entry.pilot_error_code is not None:
            related.extend(catalogue.get("pilot", entry.pilot_error_code))
    if code < -1 and -code < PILOT_CODE_MIN:
        related.extend(catalogue.get("pilot", PAYLOAD_EXECUTION_FAILURE))
    unique: list[ErrorEntry] = []
    for entry in related:
        if entry not in unique and entry not in candidates:
            unique.append(entry)
    return [ErrorSummary.of(entry) for entry in unique]


def _split_candidates(candidates: list[ErrorEntry]) -> tuple[list[ErrorEntry], list[ErrorEntry]]:
    """Return (entries shown in full, entries shown as summaries).

    The per-script variants of one wnscripts base code share their text, so only the first is shown in full.
    """
    full: list[ErrorEntry] = []
    more: list[ErrorEntry] = []
    bases: set[int] = set()
    for entry in candidates:
        base = entry.base_code if entry.component == "wnscripts" else None
        if (base is not None and base in bases) or len(full) >= MAX_FULL_CANDIDATES:
            more.append(entry)
        else:
            full.append(entry)
        if base is not None:
            bases.add(base)
    return full, more


def explain_code(catalogue: Catalogue, code: int, component: str | None = None) -> Explanation:
    """Return every entry `code` can mean; `component` is a code table or a job field such as exeErrorCode.

    A job field keeps only the entries that can appear in that field. Raises UnknownComponentError for
    an unknown component and CodeNotFoundError when nothing matches.
    """
    table, job_field = resolve_scope(component)
    candidates = _scoped_meanings(catalogue, code, table, job_field)

    if not candidates:
        scope = None
        if job_field is not None:
            scope = f"{job_field} value"
        elif table is not None:
            scope = f"{table} code"
        known = [ErrorSummary.of(entry) for entry in all_meanings(catalogue, code)] if scope else []
        raise CodeNotFoundError(code, scope, known, _not_found_facts(code, catalogue))

    full, more = _split_candidates(candidates)
    return Explanation(
        code=code,
        component=table,
        job_field=job_field,
        candidates=full,
        more_candidates=[ErrorSummary.of(entry) for entry in more],
        decoded=_decoded_facts(code, catalogue, job_field),
        related=_related(code, candidates, catalogue, job_field),
    )

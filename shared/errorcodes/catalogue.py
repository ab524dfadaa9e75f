"""The error catalogue: every data file loaded and validated once, indexed by component and code."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import ValidationError

from shared.errorcodes.decode import (
    DEFAULT_WNSCRIPT_OFFSETS,
    WNSCRIPT_BASE,
    components_for_field,
    normalize_component,
    normalize_job_field,
    script_of_transformation,
)
from shared.errorcodes.models import COMPONENTS, DataFile, ErrorEntry, RawEntry
from shared.exceptions import AskPandaError

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"

# The job field of each component, for entries whose file does not name one.
DEFAULT_JOB_FIELDS: dict[str, str | None] = {
    "pilot": "pilotErrorCode",
    "pilot-exit": None,
    "transform": "transExitCode",
    "wnscripts": "exeErrorCode",
    "wnscripts-legacy": "transExitCode",
    "taskbuffer": "taskBufferErrorCode",
    "dataservice": "ddmErrorCode",
    "jobdispatcher": "jobDispatcherErrorCode",
    "supervisor": "supErrorCode",
    "brokerage": "brokerageErrorCode",
}

# Order of candidates for a bare number of unknown component. Current codes that reach the job record
# come first, then exit statuses of the pilot process, then retired codes.
DEFAULT_COMPONENT_ORDER: tuple[str, ...] = (
    "pilot",
    "transform",
    "wnscripts",
    "taskbuffer",
    "dataservice",
    "jobdispatcher",
    "supervisor",
    "pilot-exit",
    "wnscripts-legacy",
    "brokerage",
)


class CatalogueError(AskPandaError):
    """A data file of the error catalogue is missing, unreadable or invalid."""


class UnknownComponentError(AskPandaError, ValueError):
    """A component or job field name that the catalogue does not know."""


class Catalogue:
    """All error entries, looked up by code, by component and code, or filtered by component and category."""

    def __init__(
        self, entries: Iterable[ErrorEntry], *, wnscript_offsets: dict[str, int] | None = None
    ) -> None:
        self.entries: tuple[ErrorEntry, ...] = tuple(entries)
        self.wnscript_offsets = dict(wnscript_offsets or DEFAULT_WNSCRIPT_OFFSETS)
        self._by_key: dict[tuple[str, int], list[ErrorEntry]] = {}
        self._by_code: dict[int, list[ErrorEntry]] = {}
        for entry in self.entries:
            self._by_key.setdefault((entry.component, entry.code), []).append(entry)
            self._by_code.setdefault(entry.code, []).append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def component_counts(self) -> dict[str, int]:
        """Return the number of entries per component, in the default component order."""
        counts = Counter(entry.component for entry in self.entries)
        return {name: counts[name] for name in DEFAULT_COMPONENT_ORDER if counts[name]}

    def get(self, component: str, code: int) -> list[ErrorEntry]:
        """Return the entries of exactly (component, code); several where a code has variants."""
        return list(self._by_key.get((component, code), ()))

    def lookup(
        self, code: int, component: str | None = None, job_field: str | None = None
    ) -> list[ErrorEntry]:
        """Return every entry that code `code` can mean, best first.

        `component` limits the candidates to one code table. `job_field` (any spelling of a BigPanDA
        field, e.g. exeErrorCode) only ranks them: entries of the components that field carries come
        first, the rest follow. Raises UnknownComponentError for an unknown component or field.
        """
        if component is not None:
            resolved = normalize_component(component)
            if resolved is None:
                raise UnknownComponentError(
                    f"unknown component {component!r}; known components: {', '.join(COMPONENTS)}"
                )
            return self.get(resolved, code)

        order = list(DEFAULT_COMPONENT_ORDER)
        if job_field is not None:
            if normalize_job_field(job_field) is None:
                raise UnknownJobFieldError.for_name(job_field)
            preferred = components_for_field(job_field, code)
            order = preferred + [name for name in order if name not in preferred]

        rank = {name: position for position, name in enumerate(order)}
        candidates = self._by_code.get(code, [])
        return sorted(candidates, key=lambda entry: (rank.get(entry.component, len(rank)), entry.historical))

    def lookup_payload(self, code: int, field: str, transformation: str | None = None) -> list[ErrorEntry]:
        """Return the entries of a payload code (exeErrorCode or transExitCode) of one job, best first.

        A user job's worker-node script exits with its base code, so a small transExitCode of a
        runGen job is looked up as that script's wnscripts code first.
        """
        script = script_of_transformation(transformation)
        entries: list[ErrorEntry] = []
        if script in self.wnscript_offsets and 0 < code < 100:
            full_code = WNSCRIPT_BASE + self.wnscript_offsets[script] + code
            entries.extend(self.get("wnscripts", full_code))

        # Only the components that write payload codes count; a pilot exit status never lands here.
        writers = components_for_field(field, code, wnscript=script)
        for entry in self.lookup(code, job_field=field):
            if entry.component in writers and entry not in entries:
                entries.append(entry)
        return entries

    def select(self, component: str | None = None, category: str | None = None) -> list[ErrorEntry]:
        """Return the entries of one component and/or category, in catalogue order."""
        return [
            entry
            for entry in self.entries
            if (component is None or entry.component == component)
            and (category is None or entry.category == category)
        ]


class UnknownJobFieldError(UnknownComponentError):
    """A job field name that is not one of the BigPanDA error-code fields."""

    @classmethod
    def for_name(cls, name: str) -> UnknownJobFieldError:
        """Return the error for field `name`, listing the valid fields."""
        from shared.errorcodes.models import JOB_FIELDS

        return cls(f"unknown job field {name!r}; error-code fields: {', '.join(JOB_FIELDS)}")


def _entry_from_raw(raw: RawEntry, data_file: DataFile, path: Path) -> ErrorEntry:
    """Return the catalogue entry of one stored entry, filling component and job field from the file."""
    component = raw.component or normalize_component(data_file.component)
    if component is None:
        raise CatalogueError(
            f"{path.name}: entry {raw.code} has no known component ({data_file.component!r})"
        )

    job_field = raw.job_field or data_file.job_field
    if job_field is None and raw.component is not None:
        job_field = DEFAULT_JOB_FIELDS.get(component)
    if component == "pilot-exit":
        job_field = None

    fields = raw.model_dump(exclude={"component", "job_field", "used_by"})
    return ErrorEntry(component=component, job_field=job_field, **fields)


def _expand_wnscripts(raw: RawEntry, data_file: DataFile, path: Path) -> list[ErrorEntry]:
    """Return the full codes of one wnscripts base code, one per script (5000 + offset + base)."""
    if raw.script is not None:
        # Rows of scripts outside the shared scheme (runcontainer) are stored with their real code.
        return [_entry_from_raw(raw, data_file, path)]

    entries = []
    for script, offset in (data_file.scripts or {}).items():
        full_code = WNSCRIPT_BASE + offset + raw.code
        used = script in raw.used_by

        entries.append(
            ErrorEntry(
                component="wnscripts",
                code=full_code,
                acronym=raw.acronym,
                message=raw.message,
                job_field=raw.job_field or data_file.job_field or "exeErrorCode",
                category=raw.category,
                user_explanation=f"{raw.user_explanation} (Reported by {script}, the script that ran the job.)",
                expert_explanation=f"{_code_origin(script, offset, raw.code, used)} {raw.expert_explanation}",
                likely_causes=raw.likely_causes,
                suggested_actions=raw.suggested_actions,
                retry_advice=raw.retry_advice,
                retry_reason=raw.retry_reason,
                keywords=raw.keywords,
                historical=raw.historical,
                note=raw.note,
                script=script,
                base_code=raw.code,
                set_by_script=used,
            )
        )
    return entries


def _code_origin(script: str, offset: int, base_code: int, used: bool) -> str:
    """Return a sentence stating how a full wnscripts code is built and whether the script sets it."""
    full_code = WNSCRIPT_BASE + offset + base_code
    parts = f"{full_code} = 5000 + {offset} ({script}) + base code {base_code}"
    if used:
        return f"{script} writes {parts} to payload_error_report.json and exits with status {base_code}."
    return (
        f"{parts}. The code is defined for every script, but {script} at panda-wnscript master (2026-08-18) does "
        "not set it, so a job that reports it ran another version of the script; the base meaning applies."
    )


def _load_file(path: Path) -> tuple[DataFile, list[ErrorEntry]]:
    """Read and validate one data file; raise CatalogueError naming the file and the invalid field."""
    try:
        data_file = DataFile.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise CatalogueError(f"cannot read error catalogue file {path}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CatalogueError(f"invalid error catalogue file {path.name} at {where}: {first['msg']}") from exc

    if data_file.scripts is not None:
        entries = [entry for raw in data_file.entries for entry in _expand_wnscripts(raw, data_file, path)]
    else:
        entries = [_entry_from_raw(raw, data_file, path) for raw in data_file.entries]
    return data_file, entries


def load_catalogue(data_dir: Path | None = None) -> Catalogue:
    """Load every `*.json` file of `data_dir` (the package's data folder by default) into a Catalogue."""
    folder = data_dir or DATA_DIR
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise CatalogueError(f"no error catalogue files (*.json) in {folder}")

    entries: list[ErrorEntry] = []
    offsets: dict[str, int] | None = None
    for path in paths:
        data_file, file_entries = _load_file(path)
        if data_file.scripts is not None:
            offsets = dict(data_file.scripts)
        entries.extend(file_entries)

    entries.sort(key=lambda entry: (DEFAULT_COMPONENT_ORDER.index(entry.component), entry.code))
    logger.debug("loaded %d error catalogue entries from %d files in %s", len(entries), len(paths), folder)
    return Catalogue(entries, wnscript_offsets=offsets)


@functools.lru_cache(maxsize=1)
def get_catalogue() -> Catalogue:
    """Return the catalogue of the package's data files, loaded on first use."""
    return load_catalogue()


def find_duplicates(entries: Sequence[ErrorEntry]) -> list[tuple[str, int, str, str, str]]:
    """Return the identities that occur more than once; an empty list means every entry is unique."""
    counts = Counter(entry.identity for entry in entries)
    return [identity for identity, count in counts.items() if count > 1]

"""The indexed table of PanDA queue records from one CRIC dump, and the normalisation of each record."""

from __future__ import annotations

import functools
import json
import logging
from collections import Counter
from collections.abc import Callable, Hashable
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar, cast

from servers.sites.fields import HOURS_FIELDS, catalog, hours, leaves, reaches, split_path, value_at
from shared.exceptions import InvalidResponseError

logger = logging.getLogger(__name__)

Derived = TypeVar("Derived")

MAX_CACHED_COLUMNS = 64
NUMERIC_UNITS_SKIPPED = {"h"}
"""Units of derived fields, which are computed here and need no string-to-number cleaning."""


class InvalidCricDataError(InvalidResponseError):
    """The document is JSON but not CRIC's `{queue_name: record}` mapping."""


class QueueTable:
    """All PanDA queue records of one CRIC dump, normalised, with lazily built indexes."""

    def __init__(self, queues: dict[str, dict[str, Any]]) -> None:
        self.queues = queues
        self._by_folded_name = {name.casefold(): name for name in queues}
        self._distinct: dict[str, Counter[Any]] = {}
        self._columns: dict[str, list[tuple[Any, ...]]] = {}
        self._paths_found: dict[str, bool] = {}
        self._derived: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.queues)

    def lookup(self, name: str) -> str | None:
        """Return the queue name matching `name` exactly, else ignoring case, else None."""
        name = name.strip()
        if name in self.queues:
            return name
        return self._by_folded_name.get(name.casefold())

    @cached_property
    def field_names(self) -> set[str]:
        """Top-level fields present in at least one record."""
        names: set[str] = set()
        for record in self.queues.values():
            names.update(record)
        return names

    @cached_property
    def sites(self) -> dict[str, list[str]]:
        """PanDA site name -> its queue names, sorted."""
        by_site: dict[str, list[str]] = {}
        for name, record in self.queues.items():
            site = record.get("site") or record.get("panda_site")
            if isinstance(site, str) and site:
                by_site.setdefault(site, []).append(name)
        return {site: sorted(names, key=str.casefold) for site, names in by_site.items()}

    @cached_property
    def record_list_paths(self) -> dict[str, str]:
        """Key -> dotted path for the keys of records inside list fields (ce_flavour -> queues.ce_flavour)."""
        paths: dict[str, str] = {}
        for name in sorted(self.field_names):
            if any(
                isinstance(record.get(name), list) and any(isinstance(item, dict) for item in record[name])
                for record in self.queues.values()
            ):
                for key in self.subfields(name):
                    paths.setdefault(key, f"{name}.{key}")
        return paths

    def column(self, path: str) -> list[tuple[Any, ...]]:
        """Return the filter values (see fields.leaves) at `path` of every queue, in the table's order.

        Columns are kept, so a path costs one walk over the records however often it is filtered on. At most
        MAX_CACHED_COLUMNS are kept; the cache starts over when a query needs one more.
        """
        cached = self._columns.get(path)
        if cached is None:
            if len(self._columns) >= MAX_CACHED_COLUMNS:
                self._columns.clear()
            cached = [tuple(leaves(value_at(record, path))) for record in self.queues.values()]
            self._columns[path] = cached
        return cached

    def derived(self, key: str, build: Callable[[], Derived]) -> Derived:
        """Return build(), computed once per table under `key`: every queue's copytools for one activity."""
        if key not in self._derived:
            self._derived[key] = build()
        return cast(Derived, self._derived[key])

    def distinct(self, path: str) -> Counter[Any]:
        """Return how many queues have each value at `path` (list elements and dict keys count singly)."""
        if path not in self._distinct:
            counts: Counter[Any] = Counter()
            for values in self.column(path):
                counts.update({value for value in values if isinstance(value, Hashable)})
            self._distinct[path] = counts
        return self._distinct[path]

    def path_exists(self, path: str) -> bool:
        """Return whether `path` reaches a value (null included) in at least one record.

        A path through a list counts only where it found something, so queues.no_such_key does not exist
        even though it gives an empty list on every record.
        """
        if path not in self._paths_found:
            parts = split_path(path)
            self._paths_found[path] = any(
                path in record or reaches(record, parts) for record in self.queues.values()
            )
        return self._paths_found[path]

    def subfields(self, path: str) -> list[str]:
        """Return the keys found one level below `path` (in objects, or in the objects of a list)."""
        keys: set[str] = set()
        for record in self.queues.values():
            value = value_at(record, path) if path else record
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):
                    keys.update(str(key) for key in item)
        return sorted(keys, key=str.casefold)


def _to_number(value: Any) -> Any:
    # Live CRIC has returned numbers as strings in some fields; "" means unset there.
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return value


@functools.lru_cache(maxsize=1)
def _numeric_fields() -> frozenset[str]:
    return frozenset(
        info.name
        for info in catalog().fields.values()
        if info.unit and info.unit not in NUMERIC_UNITS_SKIPPED
    )


def normalise_record(name: str, record: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of one queue record with numeric fields as numbers and the derived fields added.

    Derived fields: `queue` (the key) and `maxtime_hours`/`mintime_hours` right after their field in seconds.
    """
    numeric = _numeric_fields()
    result: dict[str, Any] = {"queue": name} if "queue" not in record else {}
    for key, value in record.items():
        result[key] = _to_number(value) if key in numeric else value
        if key in HOURS_FIELDS:
            result[HOURS_FIELDS[key]] = hours(result[key])
    return result


def build_table(document: Any, *, source: str) -> QueueTable:
    """Return the queue table of a decoded CRIC document; raise InvalidCricDataError for any other shape."""
    if not isinstance(document, dict):
        raise InvalidCricDataError(
            f"{source} did not return CRIC PanDA queue data: expected a JSON object keyed by queue name, "
            f"got a JSON {type(document).__name__}. Check ASKPANDA_CRIC_URL.",
            url=source,
        )

    queues = {
        name: normalise_record(name, record) for name, record in document.items() if isinstance(record, dict)
    }
    skipped = len(document) - len(queues)
    if not queues:
        raise InvalidCricDataError(
            f"{source} returned a JSON object without any queue record ({len(document)} keys, none an object). "
            "Check ASKPANDA_CRIC_URL.",
            url=source,
        )
    if skipped:
        logger.warning("Skipped %d entries of %s that are not queue records", skipped, source)
    return QueueTable(queues)


def read_table(path: Path, *, source: str) -> QueueTable:
    """Read and index a CRIC dump file; raise InvalidCricDataError when it is not valid CRIC JSON."""
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidCricDataError(f"{source} is not valid JSON ({exc}).", url=source) from exc
    return build_table(document, source=source)

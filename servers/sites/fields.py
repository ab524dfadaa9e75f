"""CRIC PanDA queue fields: what each means, its unit, and how a dotted path reaches values in a record."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

MISSING: Any = object()
"""Marks a path that does not exist in a record, as opposed to one whose value is null."""

HOURS_FIELDS = {"maxtime": "maxtime_hours", "mintime": "mintime_hours"}
"""Fields in seconds that get a companion field in hours."""


@dataclass(frozen=True)
class FieldInfo:
    """Catalogue entry of one field."""

    name: str
    description: str
    unit: str | None = None
    derived: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldCatalog:
    """The field descriptions and transfer activities shipped in servers/sites/data/fields.json."""

    fields: dict[str, FieldInfo]
    activities: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> FieldInfo | None:
        return self.fields.get(name)

    def unit(self, path: str) -> str | None:
        """Return the unit of a field or dotted path, None when it has none."""
        info = self.fields.get(path)
        return info.unit if info is not None else None

    def alias_targets(self, name: str) -> list[str]:
        """Return the fields that list `name` among their aliases (for "did you mean" hints)."""
        wanted = name.casefold().replace("-", "_")
        return [info.name for info in self.fields.values() if wanted in info.aliases]


@functools.lru_cache(maxsize=1)
def catalog() -> FieldCatalog:
    """Return the field catalogue, read once from the package data."""
    text = resources.files("servers.sites").joinpath("data/fields.json").read_text(encoding="utf-8")
    document = json.loads(text)
    fields = {
        name: FieldInfo(
            name=name,
            description=entry["description"],
            unit=entry.get("unit"),
            derived=bool(entry.get("derived", False)),
            aliases=tuple(alias.casefold() for alias in entry.get("aliases", [])),
        )
        for name, entry in document["fields"].items()
    }
    return FieldCatalog(fields=fields, activities=dict(document.get("activities", {})))


def split_path(path: str) -> list[str]:
    return [part for part in path.strip().split(".") if part]


def resolve(value: Any, parts: list[str]) -> Any:
    """Return the value at `parts` below `value`, MISSING when absent.

    A dict key may itself contain dots (CRIC's params has keys such as "resource_type_limits.SCORE"), so
    the longest key that matches the next parts wins. Through a list the path applies to every element,
    which gives the distinct values found in their first order (queues.ce_flavour gives each CE flavour
    once). A `*` part is every value of an object or every element of a list, at any depth. So astorages.*
    gives the RSE lists of all activities, and queues.*.ce_flavour equals queues.ce_flavour.
    """
    if not parts:
        return value

    if parts[0] == "*" and isinstance(value, (dict, list)):
        items = value.values() if isinstance(value, dict) else value
        return _distinct_found(resolve(item, parts[1:]) for item in items)

    if isinstance(value, dict):
        for end in range(len(parts), 0, -1):
            key = ".".join(parts[:end])
            if key in value:
                return resolve(value[key], parts[end:])
        return MISSING

    if isinstance(value, list):
        return _distinct_found(resolve(item, parts) for item in value)

    return MISSING


def reaches(value: Any, parts: list[str]) -> bool:
    """Return whether `parts` leads to at least one value (null included) below `value`, as resolve walks."""
    if not parts:
        return True

    if parts[0] == "*" and isinstance(value, (dict, list)):
        items = value.values() if isinstance(value, dict) else value
        return any(reaches(item, parts[1:]) for item in items)

    if isinstance(value, dict):
        for end in range(len(parts), 0, -1):
            key = ".".join(parts[:end])
            if key in value:
                return reaches(value[key], parts[end:])
        return False

    if isinstance(value, list):
        return any(reaches(item, parts) for item in value)

    return False


def _distinct_found(found: Iterable[Any]) -> list[Any]:
    # The JSON text is the identity, because lists and objects are unhashable and 1 == True == 1.0 in Python.
    distinct: dict[str, Any] = {}
    for item in found:
        if item is not MISSING:
            distinct.setdefault(json.dumps(item, sort_keys=True, default=str), item)
    return list(distinct.values())


def value_at(record: dict[str, Any], path: str) -> Any:
    """Return the value of a field or dotted path in one queue record, MISSING when absent."""
    if path in record:
        return record[path]
    return resolve(record, split_path(path))


def leaves(value: Any) -> list[Any]:
    """Return the values a filter compares with: list elements, dict keys, or the scalar itself.

    Nested lists are flattened, so a path through the CE list compares with every CE's value.
    """
    if value is MISSING:
        return []
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, list):
        flat: list[Any] = []
        for item in value:
            flat.extend(leaves(item) if isinstance(item, list) else [item])
        return flat
    return [value]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def hours(seconds: Any) -> float | None:
    """Return seconds as hours rounded to 4 decimals, None for a missing or non-numeric value."""
    if not is_number(seconds):
        return None
    value = round(seconds / 3600, 4)
    return int(value) if float(value).is_integer() else value

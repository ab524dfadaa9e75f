"""Queries over PanDA queues: one queue, a filtered and sorted list, a comparison, and a site's queues."""

from __future__ import annotations

from typing import Any

from servers.sites.conditions import Condition, copytool_source, select, selection_notes
from servers.sites.cric import CricData
from servers.sites.errors import QueryError, argument, call, choices_hint, close_matches, echo, tool
from servers.sites.fields import HOURS_FIELDS, MISSING, catalog, is_number, leaves, value_at
from servers.sites.filters import FilterCompiler, QueueFilters
from servers.sites.models import (
    DataSource,
    QueueComparison,
    QueueDetail,
    QueueList,
    QueueRow,
    SiteDetail,
    SiteQueue,
)
from servers.sites.paging import check_limit, next_cursor, offset_from, query_key
from servers.sites.table import QueueTable

DEFAULT_LIST_FIELDS = ("site", "cloud", "status")
MAX_COMPARED = 10
IDENTITY_FIELDS = {"queue", "name", "nickname", "siteid", "panda_resource", "id"}
"""Fields that contain the queue's own name or id; they always differ, so a default comparison skips them."""
MAX_LISTED_STORAGES = 12
"""RSEs shown per activity in get_site; CERN queues list about 30, and get_queue gives the full list."""
SITE_ALIAS_FIELDS = ("atlas_site", "rc_site", "gocname", "gstat", "panda_site")
"""Fields whose value may be what a person calls the site, looked up when no PanDA site has the name."""


def resolve_queue(table: QueueTable, name: str) -> str:
    """Return the queue called `name`, ignoring case; raise QueryError with close matches if there is none."""
    found = table.lookup(name)
    if found is not None:
        return found

    message = f"No PanDA queue named {echo(name.strip())}."
    try:
        site, note = resolve_site(table, name)
    except QueryError:
        site, note = None, None
    if site is not None:
        listed = ", ".join(table.sites[site][:10])
        about = note or f"{site} is a PanDA site."
        message += f" {about} Queues of {site}: {listed}. {call('get_site')} for the site."
    else:
        matches = close_matches(name, table.queues, limit=5)
        if matches:
            message += f" Close matches: {', '.join(matches)}."
    raise QueryError(f"{message} {call('find_queues')} to list queues by site, cloud or any field.")


def _lookup_site(table: QueueTable, name: str) -> str | None:
    name = name.strip()
    if name in table.sites:
        return name
    folded = name.casefold()
    return next((site for site in table.sites if site.casefold() == folded), None)


def output_fields(compiler: FilterCompiler, fields: list[str] | None, defaults: list[str]) -> list[str]:
    """Return the checked fields to show (`fields` or `defaults`) without repeats, time fields with their hours."""
    chosen = (
        list(defaults) if fields is None else [compiler.check_path(path, source="fields") for path in fields]
    )
    result: list[str] = []
    for path in chosen:
        if path == "queue" or path in result:
            continue
        result.append(path)
        companion = HOURS_FIELDS.get(path)
        if companion and companion not in chosen and companion in compiler.table.field_names:
            result.append(companion)
    return result


def units_of(paths: list[str]) -> dict[str, str]:
    units = {}
    for path in paths:
        unit = catalog().unit(path)
        if unit:
            units[path] = unit
    return units


def _shown(value: Any) -> Any:
    return None if value is MISSING else value


def _filter_fields(conditions: list[Condition]) -> list[str]:
    """Return the fields the conditions test, so a list shows the values that made each queue match."""
    paths = []
    for condition in conditions:
        for path in condition.paths:
            if "*" not in path and len(condition.paths) == 1 and path not in paths:
                paths.append(path)
    return paths


def find_queues(
    data: CricData,
    filters: QueueFilters,
    *,
    fields: list[str] | None = None,
    sort: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> QueueList:
    """Return one page of the queues that pass every filter, with the chosen fields, sorted."""
    table = data.table
    compiler = FilterCompiler(table)
    conditions = compiler.compile(filters)
    sort_path, descending = parse_sort(compiler, sort)

    defaults = list(DEFAULT_LIST_FIELDS) + _filter_fields(conditions)
    if sort_path and sort_path not in defaults:
        defaults.append(sort_path)
    shown = output_fields(compiler, fields, defaults)

    limit = check_limit(limit, minimum=0, unit="queues")
    key = query_key("find_queues", filters.model_dump(), sort_path, descending)
    offset = offset_from(cursor, key, tool="find_queues")
    names = sort_queues(table, select(table, conditions), sort_path, descending)
    page = names[offset : offset + limit]

    rows = [_row(table, name, shown, conditions) for name in page]
    return QueueList(
        total=len(names),
        returned=len(rows),
        queues=rows,
        next_cursor=next_cursor(offset, len(rows), len(names), key, tool="find_queues"),
        filters=[condition.describe() for condition in conditions],
        notes=selection_notes(table, conditions, names),
        units=units_of(shown),
        data=DataSource.of(data.provenance, len(table)),
    )


def _row(table: QueueTable, name: str, shown: list[str], conditions: list[Condition]) -> QueueRow:
    values = {path: _shown(value_at(table.queues[name], path)) for path in shown}
    source = copytool_source(table, conditions, name)
    if source is not None:
        values["copytool_source"] = source
    return QueueRow(queue=name, **values)


def parse_sort(compiler: FilterCompiler, sort: str | None) -> tuple[str | None, bool]:
    """Return (field, descending) from "field", "-field" or "field desc"; (None, False) sorts by name."""
    if not sort or not sort.strip():
        return None, False

    text = sort.strip()
    descending = text.startswith("-")
    text = text.lstrip("-+").strip()
    words = text.split()
    if len(words) == 2 and words[1].casefold() in ("asc", "desc"):
        descending = words[1].casefold() == "desc"
        text = words[0]
    if text in ("queue", "name"):
        return None, descending
    return compiler.check_path(text, source="sort"), descending


def _sort_value(value: Any) -> tuple[int, Any] | None:
    values = leaves(value)
    first = values[0] if values else None
    if first is None:
        return None
    if is_number(first):
        return (0, first)
    return (1, str(first).casefold())


def sort_queues(table: QueueTable, names: list[str], path: str | None, descending: bool) -> list[str]:
    """Return `names` sorted by the value at `path` (queues without a value last), then by name."""
    by_name = sorted(names, key=str.casefold, reverse=descending and path is None)
    if path is None:
        return by_name

    keyed = [(name, _sort_value(value_at(table.queues[name], path))) for name in by_name]
    present = [(name, key) for name, key in keyed if key is not None]
    absent = [name for name, key in keyed if key is None]
    present.sort(key=lambda item: item[1], reverse=descending)
    return [name for name, _ in present] + absent


def get_queue(data: CricData, name: str, *, fields: list[str] | None = None) -> QueueDetail:
    """Return the fields of one queue: every field, or the chosen ones."""
    table = data.table
    queue = resolve_queue(table, name)
    record = table.queues[queue]

    if fields is None:
        values = dict(record)
    else:
        shown = output_fields(FilterCompiler(table), fields, [])
        values = {path: _shown(value_at(record, path)) for path in shown}

    note = None
    if queue != name.strip():
        note = f"{echo(name.strip())} matched the queue {queue} (names compare ignoring case)."
    return QueueDetail(
        queue=queue,
        site=record.get("site"),
        values=values,
        units=units_of(list(values)),
        note=note,
        data=DataSource.of(data.provenance, len(table)),
    )


def compare_queues(data: CricData, names: list[str], *, fields: list[str] | None = None) -> QueueComparison:
    """Return the chosen fields of 2 to 10 queues side by side; without `fields`, every field that differs."""
    table = data.table
    given = [name.strip() for name in names if name.strip()]
    unknown = list(dict.fromkeys(name for name in given if table.lookup(name) is None))
    if unknown:
        described = "; ".join(_unknown_queue(table, name) for name in unknown)
        raise QueryError(f"{described}. {call('find_queues')} to list queues by site, cloud or any field.")

    # Names that differ only in case resolve to one queue, so repeats are dropped after the lookup.
    queues = list(dict.fromkeys(table.lookup(name) or name for name in given))
    if not 2 <= len(queues) <= MAX_COMPARED:
        repeated = f" ({len(given)} given, some naming the same queue)" if len(given) != len(queues) else ""
        raise QueryError(
            f"{tool('compare_queues')} takes 2 to {MAX_COMPARED} different queue names; got "
            f"{len(queues)}{repeated}."
        )

    if fields is None:
        keys = {key for queue in queues for key in table.queues[queue]} - IDENTITY_FIELDS
        paths = sorted(keys, key=str.casefold)
    else:
        paths = output_fields(FilterCompiler(table), fields, [])

    values: dict[str, dict[str, Any]] = {}
    identical: list[str] = []
    for path in paths:
        per_queue = {queue: _shown(value_at(table.queues[queue], path)) for queue in queues}
        first = per_queue[queues[0]]
        same = all(value == first for value in per_queue.values())
        if same:
            identical.append(path)
        if not same or fields is not None:
            values[path] = per_queue

    return QueueComparison(
        queues=queues,
        values=values,
        identical=identical,
        units=units_of(list(values)),
        data=DataSource.of(data.provenance, len(table)),
    )


def _unknown_queue(table: QueueTable, name: str) -> str:
    matches = close_matches(name, table.queues, limit=3)
    found = f"close matches: {', '.join(matches)}" if matches else "no close match"
    return f"No PanDA queue named {echo(name)} ({found})"


def resolve_site(table: QueueTable, name: str) -> tuple[str, str | None]:
    """Return (PanDA site, note) for a site, queue or ATLAS/GOCDB site name; raise QueryError if none matches."""
    site = _lookup_site(table, name)
    if site is not None:
        return site, None if site == name.strip() else f"{echo(name.strip())} matched the PanDA site {site}."

    queue = table.lookup(name)
    if queue is not None and table.queues[queue].get("site") in table.sites:
        site = table.queues[queue]["site"]
        return site, f"{queue} is a PanDA queue; this is its PanDA site {site}."

    folded = name.strip().casefold()
    for path in SITE_ALIAS_FIELDS:
        matching = sorted(
            {
                record["site"]
                for record in table.queues.values()
                if isinstance(record.get(path), str)
                and record[path].casefold() == folded
                and record.get("site") in table.sites
            },
            key=str.casefold,
        )
        if len(matching) == 1:
            return matching[0], f"{echo(name.strip())} is the {path} of the PanDA site {matching[0]}."
        if matching:
            raise QueryError(
                f"{echo(name.strip())} is the {path} of several PanDA sites: {', '.join(matching)}. "
                f"{call('get_site')} with one of them."
            )

    hint = choices_hint(name, table.sites, what="PanDA sites")
    raise QueryError(
        f"No PanDA site named {echo(name.strip())}. {hint} {call('find_queues')} with {argument('where')} to "
        "search other fields."
    )


def get_site(data: CricData, site: str, *, fields: list[str] | None = None) -> SiteDetail:
    """Return a PanDA site's queues with status, copytools and storages per activity, and chosen fields."""
    table = data.table
    found, note = resolve_site(table, site)
    names = table.sites[found]
    extra = output_fields(FilterCompiler(table), fields, []) if fields else []

    queues = [_site_queue(table.queues[name], name, extra) for name in names]
    records = [table.queues[name] for name in names]
    notes = [note] if note else []
    fallback = [row.queue for row in queues if not row.acopytools and row.copytools]
    if fallback:
        notes.append(
            f"{', '.join(fallback)} define no copytools per activity (acopytools is empty); the pilot then uses "
            "the queue's copytools for every activity."
        )

    seen_activities = {
        activity for row in queues for key in (*row.acopytools, *row.astorages) for activity in key.split(",")
    }
    meanings = catalog().activities
    return SiteDetail(
        site=found,
        queue_count=len(names),
        cloud=_distinct_text(records, "cloud"),
        tier=_distinct_text(records, "tier"),
        atlas_site=_distinct_text(records, "atlas_site"),
        country=_distinct_text(records, "country"),
        queues=queues,
        activities={name: meanings[name] for name in sorted(seen_activities) if name in meanings},
        units=units_of(extra),
        notes=notes,
        data=DataSource.of(data.provenance, len(table)),
    )


def _site_queue(record: dict[str, Any], name: str, extra: list[str]) -> SiteQueue:
    storages = _merge_activities(record.get("astorages"))
    left_out = {
        activity: len(rses) - MAX_LISTED_STORAGES
        for activity, rses in storages.items()
        if len(rses) > MAX_LISTED_STORAGES
    }
    return SiteQueue(
        queue=name,
        status=record.get("status"),
        type=record.get("type"),
        resource_type=record.get("resource_type"),
        copytools=sorted(record.get("copytools") or {}),
        acopytools=_merge_activities(record.get("acopytools")),
        astorages={activity: rses[:MAX_LISTED_STORAGES] for activity, rses in storages.items()},
        astorages_left_out=left_out,
        values={path: _shown(value_at(record, path)) for path in extra},
    )


def _merge_activities(value: Any) -> dict[str, list[str]]:
    """Return activity -> list, with activities that share one list joined by commas ("pr,read_lan")."""
    if not isinstance(value, dict):
        return {}
    grouped: dict[tuple[str, ...], list[str]] = {}
    for activity, items in value.items():
        if isinstance(items, list):
            grouped.setdefault(tuple(str(item) for item in items), []).append(str(activity))
    return {",".join(activities): list(items) for items, activities in grouped.items()}


def _distinct_text(records: list[dict[str, Any]], field: str) -> list[str]:
    return sorted(
        {record[field] for record in records if isinstance(record.get(field), str) and record[field]}
    )

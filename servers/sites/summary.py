"""Aggregates over the queue table: counts per value of a field, and what one field means and holds."""

from __future__ import annotations

from collections import Counter
from typing import Any

from servers.sites.conditions import select, selection_notes
from servers.sites.cric import CricData
from servers.sites.errors import QueryError, argument, echo, tool
from servers.sites.fields import MISSING, catalog, is_number, leaves, value_at
from servers.sites.filters import FilterCompiler, QueueFilters, field_hint
from servers.sites.models import (
    DataSource,
    FieldBrief,
    FieldDetail,
    FieldReport,
    GroupStats,
    QueueSummary,
    ValueCount,
)
from servers.sites.paging import check_limit, next_cursor, offset_from, query_key
from servers.sites.queues import units_of

NO_VALUE = "(none)"
"""Group of the queues that have no value at the grouped path (absent, or an empty list or object)."""
TOP_VALUES = 15


def group_label(value: Any) -> str:
    """Return the text key of a group: JSON spelling for null and booleans, plain text otherwise."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def summarize_queues(
    data: CricData,
    group_by: str,
    filters: QueueFilters,
    *,
    stats: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> QueueSummary:
    """Count the queues that pass the filters per value of `group_by`, with stats of a numeric field."""
    table = data.table
    compiler = FilterCompiler(table)
    conditions = compiler.compile(filters)
    path = compiler.check_path(group_by, source="group_by", positional=True)
    stats_path = compiler.check_path(stats, source="stats") if stats and stats.strip() else None
    if stats_path and not any(is_number(value) for value in table.distinct(stats_path)):
        raise QueryError(
            f"{argument('stats')} needs a numeric field, but {echo(stats_path)} has no numeric values."
        )
    limit = check_limit(limit, minimum=1, unit="groups")
    key = query_key("summarize_queues", filters.model_dump(), path)
    offset = offset_from(cursor, key, tool="summarize_queues")

    names = select(table, conditions)
    counts: Counter[str] = Counter()
    members: dict[str, list[str]] = {}
    multi_valued = False
    for name in names:
        values = {
            group_label(value)
            for value in leaves(value_at(table.queues[name], path))
            if not isinstance(value, (dict, list))
        }
        multi_valued = multi_valued or len(values) > 1
        for label in values or {NO_VALUE}:
            counts[label] += 1
            members.setdefault(label, []).append(name)

    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))
    page = ordered[offset : offset + limit]

    group_stats = None
    if stats_path:
        group_stats = {label: _stats(data, members[label], stats_path) for label, _ in page}

    notes = selection_notes(table, conditions, names)
    if multi_valued:
        notes.append(
            f"{path} has several values on some queues; such a queue counts once under each value, so the "
            "counts add up to more than total_queues."
        )
    return QueueSummary(
        group_by=path,
        total_queues=len(names),
        group_count=len(ordered),
        counts=dict(page),
        stats_field=stats_path,
        stats=group_stats,
        next_cursor=next_cursor(offset, len(page), len(ordered), key, tool="summarize_queues"),
        filters=[condition.describe() for condition in conditions],
        units=units_of([path] + ([stats_path] if stats_path else [])),
        notes=notes,
        data=DataSource.of(data.provenance, len(table)),
    )


def _stats(data: CricData, names: list[str], path: str) -> GroupStats:
    numbers = [
        value
        for name in names
        for value in leaves(value_at(data.table.queues[name], path))
        if is_number(value)
    ]
    if not numbers:
        return GroupStats(count=0, min=None, max=None, mean=None, sum=None)
    total = sum(numbers)
    return GroupStats(
        count=len(numbers),
        min=min(numbers),
        max=max(numbers),
        mean=round(total / len(numbers), 4),
        sum=round(total, 4),
    )


def describe_field(data: CricData, field: str | None) -> FieldReport:
    """Return one field's meaning, unit and common values, or a line for every field when `field` is empty."""
    table = data.table
    source = DataSource.of(data.provenance, len(table))
    if not field or not field.strip():
        return FieldReport(fields=_all_fields(data), data=source)

    name = field.strip()
    if name not in table.field_names and name.split(".")[0] not in table.field_names:
        raise QueryError(f"Unknown CRIC queue field {echo(name)}. {field_hint(table, name)}")
    path = FilterCompiler(table).check_path(name, source="field", positional=True)
    return FieldReport(detail=_detail(data, path), data=source)


def _all_fields(data: CricData) -> list[FieldBrief]:
    known = catalog().fields
    undescribed = f"Not described; see its values with {tool('describe_queue_field')}."
    briefs = []
    for name in sorted(data.table.field_names, key=str.casefold):
        info = known.get(name)
        summary = info.description.split(". ")[0].rstrip(".") if info else undescribed
        briefs.append(FieldBrief(name=name, unit=info.unit if info else None, summary=summary))
    return briefs


def _detail(data: CricData, path: str) -> FieldDetail:
    table = data.table
    info = catalog().get(path)
    types: Counter[str] = Counter()
    numbers: list[float] = []
    for record in table.queues.values():
        value = value_at(record, path)
        types[_type_name(value)] += 1
        numbers.extend(item for item in leaves(value) if is_number(item))

    distinct = table.distinct(path)
    top = [ValueCount(value=value, queues=count) for value, count in distinct.most_common(TOP_VALUES)]
    root = path.split(".")[0]
    return FieldDetail(
        name=path,
        description=info.description
        if info
        else "Not described in the field catalogue; top_values shows what it contains.",
        unit=info.unit if info else None,
        derived=bool(info and info.derived),
        types=dict(types.most_common()),
        distinct_values=len(distinct),
        top_values=top,
        min=min(numbers) if numbers else None,
        max=max(numbers) if numbers else None,
        subfields=table.subfields(path),
        activities=catalog().activities if root in ("acopytools", "astorages") and path == root else None,
    )


def _type_name(value: Any) -> str:
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"

"""Terminal tables for the sites results, with the same content as the tools' structured results."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from servers.sites.models import (
    DataSource,
    FieldReport,
    QueueComparison,
    QueueDetail,
    QueueList,
    QueueSummary,
    SiteDetail,
    SiteQueue,
)

MIN_COLUMN_WIDTH = 14
"""Narrowest a value column may get before a queue list is printed as a list of fields per queue."""


def cell(value: Any) -> str:
    """Return a value as table text: '-' for null, compact JSON for lists and objects."""
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _heading(path: str, units: dict[str, str]) -> str:
    return f"{path} ({units[path]})" if path in units else path


def _footer(console: Console, data: DataSource, *, next_cursor: str | None = None) -> None:
    freshness = f"stale: {data.stale_reason}" if data.stale else "fresh"
    console.print(
        f"[dim]CRIC data: {data.source}, fetched {data.fetched_at} ({data.age_seconds} s ago, {freshness}), "
        f"{data.queue_count} queues[/dim]"
    )
    if next_cursor:
        console.print(f"[dim]More results: repeat with --cursor {next_cursor}[/dim]")


def _longest(names: Iterable[str]) -> int:
    return max((len(name) for name in names), default=5)


def _notes(console: Console, notes: list[str]) -> None:
    for note in notes:
        console.print(f"Note: {note}")


def render_queue_list(result: QueueList, console: Console) -> None:
    columns = [key for key in (result.queues[0].model_dump() if result.queues else {}) if key != "queue"]
    title = f"{result.total} queues" + (f" ({'; '.join(result.filters)})" if result.filters else "")
    rows = [(row.queue, [cell(row.model_dump().get(column)) for column in columns]) for row in result.queues]
    headings = [_heading(column, result.units) for column in columns]

    if _fits_as_table(console.width, headings, rows):
        table = Table(title=title)
        table.add_column("queue", style="bold", no_wrap=True, min_width=_longest(name for name, _ in rows))
        for heading in headings:
            table.add_column(heading, overflow="fold")
        for name, cells in rows:
            table.add_row(name, *cells)
        console.print(table)
    else:
        console.print(f"[bold]{title}[/bold]")
        for name, cells in rows:
            console.print(f"[bold]{name}[/bold]")
            for heading, text in zip(headings, cells, strict=True):
                console.print(f"  {heading}: {text}", soft_wrap=False, overflow="fold")

    if result.returned < result.total:
        console.print(f"Shown: {result.returned} of {result.total}.")
    _notes(console, result.notes)
    _footer(console, result.data, next_cursor=result.next_cursor)


def _fits_as_table(width: int, headings: list[str], rows: list[tuple[str, list[str]]]) -> bool:
    """Return whether a table leaves each value column at least MIN_COLUMN_WIDTH, or its widest text."""
    if not headings:
        return True
    names = _longest(name for name, _ in rows)
    # Each column costs its text plus 3 characters of border and padding.
    left = width - (names + 4) - 3 * len(headings)
    needed = 0
    for index, heading in enumerate(headings):
        widest = max([len(heading)] + [len(cells[index]) for _, cells in rows])
        needed += min(widest, MIN_COLUMN_WIDTH)
    return left >= needed


def render_queue_detail(result: QueueDetail, console: Console) -> None:
    table = Table(title=f"PanDA queue {result.queue} (site {result.site or '-'})")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for path, value in result.values.items():
        table.add_row(_heading(path, result.units), cell(value))
    console.print(table)
    if result.note:
        console.print(result.note)
    _footer(console, result.data)


def render_site(result: SiteDetail, console: Console) -> None:
    console.print(
        f"[bold]PanDA site {result.site}[/bold]: {result.queue_count} queues; cloud {', '.join(result.cloud) or '-'}; "
        f"tier {', '.join(result.tier) or '-'}; ATLAS site {', '.join(result.atlas_site) or '-'}; "
        f"{', '.join(result.country) or '-'}"
    )
    extra = list(result.queues[0].values) if result.queues else []
    name_width = _longest(queue.queue for queue in result.queues)
    queues = Table(title="Queues")
    queues.add_column("queue", no_wrap=True, min_width=name_width)
    for column in (
        "status",
        "type",
        "resource_type",
        "copytools",
        *(_heading(c, result.units) for c in extra),
    ):
        queues.add_column(column, overflow="fold")
    for queue in result.queues:
        queues.add_row(
            queue.queue,
            cell(queue.status),
            cell(queue.type),
            cell(queue.resource_type),
            ", ".join(queue.copytools),
            *(cell(queue.values.get(column)) for column in extra),
        )
    console.print(queues)

    transfers = Table(title="Copytools and storages per activity")
    transfers.add_column("queue", no_wrap=True, min_width=name_width)
    for column in ("activity", "copytools", "storages (RSEs)"):
        transfers.add_column(column, overflow="fold")
    for queue in result.queues:
        for activity, copytools, storages in _transfer_rows(queue):
            transfers.add_row(queue.queue, activity, copytools, storages)
    console.print(transfers)

    _notes(console, result.notes)
    _footer(console, result.data)


def _transfer_rows(queue: SiteQueue) -> list[tuple[str, str, str]]:
    """Return (activity, copytools, storages) rows, one per activity, from the comma-joined groups."""
    copytools = {activity: items for key, items in queue.acopytools.items() for activity in key.split(",")}
    storages = {}
    for key, items in queue.astorages.items():
        shown = ", ".join(items)
        if key in queue.astorages_left_out:
            shown += f", ... {queue.astorages_left_out[key]} more"
        for activity in key.split(","):
            storages[activity] = shown
    activities = sorted(set(copytools) | set(storages))
    return [
        (activity, ", ".join(copytools.get(activity, [])) or "-", storages.get(activity, "-"))
        for activity in activities
    ]


def render_comparison(result: QueueComparison, console: Console) -> None:
    table = Table(title=f"Comparison of {', '.join(result.queues)}")
    table.add_column("field", style="bold")
    for queue in result.queues:
        table.add_column(queue, overflow="fold")
    for path, per_queue in result.values.items():
        table.add_row(_heading(path, result.units), *(cell(per_queue.get(queue)) for queue in result.queues))
    console.print(table)
    if result.identical:
        console.print(f"Identical: {', '.join(result.identical)}")
    _footer(console, result.data)


def render_summary(result: QueueSummary, console: Console) -> None:
    title = f"{result.total_queues} queues by {_heading(result.group_by, result.units)}"
    if result.filters:
        title += f" ({'; '.join(result.filters)})"
    table = Table(title=title)
    table.add_column(result.group_by, style="bold")
    table.add_column("queues", justify="right")
    stat_names = ("count", "min", "max", "mean", "sum")
    if result.stats is not None:
        for name in stat_names:
            table.add_column(f"{name} of {_heading(result.stats_field or '', result.units)}", justify="right")

    for label, count in result.counts.items():
        stats = result.stats.get(label) if result.stats else None
        numbers = [cell(getattr(stats, name)) for name in stat_names] if stats else []
        table.add_row(label, str(count), *numbers)
    console.print(table)
    _notes(console, result.notes)
    _footer(console, result.data, next_cursor=result.next_cursor)


def render_fields(result: FieldReport, console: Console) -> None:
    if result.detail is None:
        table = Table(title=f"{len(result.fields)} CRIC queue fields")
        table.add_column("field", style="bold")
        table.add_column("unit")
        table.add_column("meaning", overflow="fold")
        for brief in result.fields:
            table.add_row(brief.name, brief.unit or "", brief.summary)
        console.print(table)
        _footer(console, result.data)
        return

    detail = result.detail
    console.print(
        f"[bold]{detail.name}[/bold]"
        + (f" ({detail.unit})" if detail.unit else "")
        + f": {detail.description}"
    )
    console.print(
        f"Types: {', '.join(f'{name} {count}' for name, count in detail.types.items())}; "
        f"{detail.distinct_values} distinct values"
    )
    if detail.min is not None:
        console.print(f"Range: {cell(detail.min)} to {cell(detail.max)}")
    if detail.subfields:
        console.print(f"Keys below: {', '.join(detail.subfields)}")
    table = Table(title="Most common values")
    table.add_column("value", overflow="fold")
    table.add_column("queues", justify="right")
    for item in detail.top_values:
        table.add_row(cell(item.value), str(item.queues))
    console.print(table)
    for activity, meaning in (detail.activities or {}).items():
        console.print(f"  {activity}: {meaning}")
    _footer(console, result.data)

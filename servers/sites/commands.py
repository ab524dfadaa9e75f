"""Terminal subcommands of askpanda-sites: the same queries as the tools, printed as tables or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from servers.sites.filters import NAMED_FILTERS, QueueFilters


def add_commands(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register queue, find, summary, site, compare and field."""
    queue = subcommands.add_parser("queue", help="show one PanDA queue's CRIC record")
    queue.add_argument("name", help="queue name (case-insensitive), e.g. BNL")
    _add_output_options(queue)
    queue.set_defaults(handler=_run_queue)

    find = subcommands.add_parser("find", help="list PanDA queues that pass the filters")
    _add_filter_options(find)
    find.add_argument("--sort", help="field to sort by; '--sort=-field' or 'field desc' for descending")
    find.add_argument("--limit", type=int, default=500, help="queues per page (default: 500, the maximum)")
    find.add_argument("--cursor", help="cursor printed by the previous page")
    _add_output_options(find)
    find.set_defaults(handler=_run_find)

    summary = subcommands.add_parser("summary", help="count PanDA queues per value of a field")
    summary.add_argument("group_by", help="field or dotted path to count by, e.g. cloud")
    _add_filter_options(summary)
    summary.add_argument("--stats", help="numeric field to give min/max/mean/sum of per group")
    summary.add_argument("--limit", type=int, default=500, help="groups per page (default: 500)")
    summary.add_argument("--cursor", help="cursor printed by the previous page")
    summary.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    summary.set_defaults(handler=_run_summary)

    site = subcommands.add_parser("site", help="show a PanDA site's queues, copytools and storages")
    site.add_argument("site", help="PanDA site, e.g. BNL (a queue or ATLAS site name also works)")
    _add_output_options(site)
    site.set_defaults(handler=_run_site)

    compare = subcommands.add_parser("compare", help="compare 2 to 10 PanDA queues")
    compare.add_argument("names", nargs="+", help="queue names")
    _add_output_options(compare)
    compare.set_defaults(handler=_run_compare)

    field = subcommands.add_parser("field", help="explain a CRIC queue field, or list all fields")
    field.add_argument("name", nargs="?", help="field or dotted path; omit to list every field")
    field.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    field.set_defaults(handler=_run_field)


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fields", help="comma-separated fields or dotted paths to show, e.g. maxrss,acopytools.pw"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    for name in NAMED_FILTERS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"{name} value ('a,b' for any of)")
    parser.add_argument("--copytool", help="copytool, e.g. rucio (for --activity when given)")
    parser.add_argument("--activity", help="transfer activity, e.g. pw (stage-out) or pr (stage-in)")
    parser.add_argument("--storage", help="RSE in astorages (for --activity when given)")
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="other field condition; VALUE may start with >, >=, <, <=, != or ~ (repeatable)",
    )
    parser.add_argument(
        "--min", action="append", default=[], metavar="FIELD=NUMBER", help="inclusive lower bound"
    )
    parser.add_argument(
        "--max", action="append", default=[], metavar="FIELD=NUMBER", help="inclusive upper bound"
    )


def _pairs(items: list[str], option: str, convert: Callable[[str], Any]) -> dict[str, Any] | None:
    pairs: dict[str, Any] = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise SystemExit(f"askpanda-sites: {option} expects FIELD=VALUE, got {item!r}")
        try:
            pairs[key.strip()] = convert(value.strip())
        except ValueError as exc:
            raise SystemExit(f"askpanda-sites: {option} {item!r}: {exc}") from exc
    return pairs or None


def _literal(text: str) -> Any:
    """Return numbers, true/false and null as JSON values, anything else as the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _filters(args: argparse.Namespace) -> QueueFilters:
    named = {name: getattr(args, name) for name in NAMED_FILTERS}
    return QueueFilters(
        **named,
        copytool=args.copytool,
        activity=args.activity,
        storage=args.storage,
        where=_pairs(args.where, "--where", _literal),
        min=_pairs(args.min, "--min", float),
        max=_pairs(args.max, "--max", float),
    )


def _fields(args: argparse.Namespace) -> list[str] | None:
    if not getattr(args, "fields", None):
        return None
    return [part.strip() for part in args.fields.split(",") if part.strip()]


def _execute(args: argparse.Namespace, query: Callable[[Any], BaseModel], render: str) -> int:
    """Load the CRIC data, run `query` on it and print the result; return the exit status."""
    import anyio

    from servers.sites.cric import CricLoader, CricUnavailableError
    from servers.sites.errors import QueryError
    from shared.config import get_settings

    async def load_and_query() -> BaseModel:
        data = await CricLoader(get_settings(), background_refresh=False).load()
        return query(data)

    try:
        result = anyio.run(load_and_query)
    except (QueryError, CricUnavailableError) as exc:
        print(f"askpanda-sites: {exc}", file=sys.stderr)
        return 1

    if args.json:
        print(result.model_dump_json(indent=2))
        return 0

    from rich.console import Console

    from servers.sites import render as tables

    getattr(tables, render)(result, Console())
    return 0


def _run_queue(args: argparse.Namespace) -> int:
    from servers.sites.queues import get_queue

    return _execute(
        args, lambda data: get_queue(data, args.name, fields=_fields(args)), "render_queue_detail"
    )


def _run_find(args: argparse.Namespace) -> int:
    from servers.sites.queues import find_queues

    filters = _filters(args)
    return _execute(
        args,
        lambda data: find_queues(
            data, filters, fields=_fields(args), sort=args.sort, limit=args.limit, cursor=args.cursor
        ),
        "render_queue_list",
    )


def _run_summary(args: argparse.Namespace) -> int:
    from servers.sites.summary import summarize_queues

    filters = _filters(args)
    return _execute(
        args,
        lambda data: summarize_queues(
            data, args.group_by, filters, stats=args.stats, limit=args.limit, cursor=args.cursor
        ),
        "render_summary",
    )


def _run_site(args: argparse.Namespace) -> int:
    from servers.sites.queues import get_site

    return _execute(args, lambda data: get_site(data, args.site, fields=_fields(args)), "render_site")


def _run_compare(args: argparse.Namespace) -> int:
    from servers.sites.queues import compare_queues

    return _execute(
        args, lambda data: compare_queues(data, args.names, fields=_fields(args)), "render_comparison"
    )


def _run_field(args: argparse.Namespace) -> int:
    from servers.sites.summary import describe_field

    return _execute(args, lambda data: describe_field(data, args.name), "render_fields")

"""Terminal subcommands of askpanda-sites: the same queries as the tools, printed as tables or JSON."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from servers.sites.filters import NAMED_FILTERS, QueueFilters

TERMINAL_REFRESH_WAIT = 10.0
"""Seconds a command waits for CRIC when an expired cached copy exists, before it prints that copy."""

WHERE_ITEM = re.compile(r"^\s*(?P<field>[^=<>!~]+?)\s*(?P<op>>=|<=|!=|!~|=|>|<|~)(?P<value>.*)$", re.DOTALL)
"""FIELD=VALUE or FIELD followed by an operator: maxrss=>64000, maxrss>64000, status!=online, comment~hc."""


Query = Callable[[Any], BaseModel]
"""A query over the loaded CRIC data, returning the result to print."""


class CommandLineError(ValueError):
    """An option value that cannot be read, such as --min maxrss=abc."""


def add_commands(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register queue, find, summary, site, compare and field."""
    queue = subcommands.add_parser("queue", help="show one PanDA queue's CRIC record")
    queue.add_argument("name", help="queue name (case-insensitive), e.g. BNL")
    _add_output_options(queue)
    queue.set_defaults(handler=_run_queue)

    find = subcommands.add_parser("find", help="list PanDA queues that pass the filters")
    _add_filter_options(find)
    find.add_argument("--sort", help="field to sort by; '--sort=-field' or 'field desc' for descending")
    find.add_argument("--limit", type=int, default=500, help="queues per page, 0 to 500 (default: 500)")
    find.add_argument("--cursor", help="cursor printed by the previous page")
    _add_output_options(find)
    find.set_defaults(handler=_run_find)

    summary = subcommands.add_parser("summary", help="count PanDA queues per value of a field")
    summary.add_argument("group_by", metavar="GROUP_BY", help="field or dotted path to count by, e.g. cloud")
    _add_filter_options(summary)
    summary.add_argument("--stats", help="numeric field to give min/max/mean/sum of per group")
    summary.add_argument("--limit", type=int, default=500, help="groups per page, 1 to 500 (default: 500)")
    summary.add_argument("--cursor", help="cursor printed by the previous page")
    _add_output_options(summary, fields=False)
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
    _add_output_options(field, fields=False)
    field.set_defaults(handler=_run_field)


def _add_output_options(parser: argparse.ArgumentParser, *, fields: bool = True) -> None:
    if fields:
        parser.add_argument(
            "--fields", help="comma-separated fields or dotted paths to show, e.g. maxrss,acopytools.pw"
        )
    parser.add_argument(
        "--json", action="store_true", help="print the result, or the error, as JSON instead of a table"
    )
    parser.add_argument(
        "--refresh-wait",
        type=float,
        default=TERMINAL_REFRESH_WAIT,
        metavar="SECONDS",
        help="when the cached CRIC copy is expired, wait this long for CRIC before printing the cached copy "
        f"marked stale (default: {TERMINAL_REFRESH_WAIT:g})",
    )


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    for name in NAMED_FILTERS:
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            action="append",
            help=f"{name} value; 'a,b' or a repeated option for any of, '!=x' to exclude",
        )
    parser.add_argument(
        "--copytool", action="append", help="copytool, e.g. rucio (the pilot's copytools for --activity)"
    )
    parser.add_argument(
        "--activity", help="transfer activity, e.g. write_lan (stage-out) or read_lan (stage-in)"
    )
    parser.add_argument("--storage", action="append", help="RSE in astorages (for --activity when given)")
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="CONDITION",
        help="condition on any field: FIELD=VALUE, or FIELD with >, >=, <, <=, !=, ~ (contains), !~ as in "
        "'maxrss>64000'; repeated conditions with operators must all hold, plain values mean any of",
    )
    parser.add_argument(
        "--min",
        action="append",
        default=[],
        metavar="FIELD=NUMBER",
        help="inclusive lower bound (repeatable)",
    )
    parser.add_argument(
        "--max",
        action="append",
        default=[],
        metavar="FIELD=NUMBER",
        help="inclusive upper bound (repeatable)",
    )


def _collect(pairs: list[tuple[str, Any]]) -> dict[str, Any] | None:
    """Return {field: value}, or {field: [values]} for a field given more than once."""
    collected: dict[str, list[Any]] = {}
    for key, value in pairs:
        collected.setdefault(key, []).append(value)
    if not collected:
        return None
    return {key: values[0] if len(values) == 1 else values for key, values in collected.items()}


def _where(items: list[str]) -> dict[str, Any] | None:
    pairs = []
    for item in items:
        match = WHERE_ITEM.match(item)
        if match is None:
            raise CommandLineError(
                f"--where expects FIELD=VALUE or FIELD>VALUE (also >=, <, <=, !=, ~, !~), got {item!r}."
            )
        op, value = match.group("op"), match.group("value").strip()
        pairs.append((match.group("field").strip(), _literal(value) if op == "=" else op + value))
    return _collect(pairs)


def _bounds(items: list[str], option: str) -> dict[str, Any] | None:
    pairs = []
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise CommandLineError(f"{option} expects FIELD=NUMBER, got {item!r}.")
        try:
            pairs.append((key.strip(), float(value)))
        except ValueError as exc:
            raise CommandLineError(f"{option} {item!r}: {value.strip()!r} is not a number.") from exc
    return _collect(pairs)


def _literal(text: str) -> Any:
    """Return numbers, true/false and null as JSON values, anything else as the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _named(values: list[str] | None) -> str | list[str] | None:
    # One option stays a string, so "a,b" still means any of; a repeated option becomes a list.
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def _filters(args: argparse.Namespace) -> QueueFilters:
    named = {name: _named(getattr(args, name)) for name in NAMED_FILTERS}
    return QueueFilters(
        **named,
        copytool=_named(args.copytool),
        activity=args.activity,
        storage=_named(args.storage),
        where=_where(args.where),
        min=_bounds(args.min, "--min"),
        max=_bounds(args.max, "--max"),
    )


def _fields(args: argparse.Namespace) -> list[str] | None:
    if not getattr(args, "fields", None):
        return None
    return [part.strip() for part in args.fields.split(",") if part.strip()]


def _execute(args: argparse.Namespace, make_query: Callable[[], Query], render: str) -> int:
    """Read the options with `make_query`, load the CRIC data, run the query and print its result or error.

    Return the exit status: 0, or 1 when the options, the query or the CRIC data fail.
    """
    import anyio

    from servers.sites.cric import CricLoader, CricUnavailableError
    from servers.sites.errors import QueryError, front_end
    from shared.config import get_settings

    async def load_and_query(query: Query) -> BaseModel:
        loader = CricLoader(
            get_settings(), background_refresh=False, refresh_wait=max(0.0, args.refresh_wait)
        )
        return query(await loader.load())

    # Progress lines (data loaded, cache fetches) are for -v; warnings and errors still reach stderr.
    root = logging.getLogger()
    level = root.level
    if not args.verbose:
        root.setLevel(logging.WARNING)
    try:
        with front_end("terminal"):
            result = anyio.run(load_and_query, make_query())
    except (QueryError, CricUnavailableError, CommandLineError) as exc:
        _print_error(str(exc), as_json=args.json)
        return 1
    finally:
        root.setLevel(level)

    try:
        _print_result(result, render, as_json=args.json)
    except BrokenPipeError:
        # The reader (head, less) closed the pipe; later writes at exit would raise again, so stdout goes
        # to /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _print_result(result: BaseModel, render: str, *, as_json: bool) -> None:
    if as_json:
        print(result.model_dump_json(indent=2))
        return

    from rich.console import Console

    from servers.sites import render as tables

    getattr(tables, render)(result, Console())


def _ready(query: Query) -> Callable[[], Query]:
    """Return the make_query of _execute for a query whose options need no reading."""
    return lambda: query


def _print_error(message: str, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": message}, indent=2))
    else:
        print(f"askpanda-sites: {message}", file=sys.stderr)


def _run_queue(args: argparse.Namespace) -> int:
    from servers.sites.queues import get_queue

    return _execute(
        args, _ready(lambda data: get_queue(data, args.name, fields=_fields(args))), "render_queue_detail"
    )


def _run_find(args: argparse.Namespace) -> int:
    from servers.sites.queues import find_queues

    def make_query() -> Query:
        filters = _filters(args)
        return lambda data: find_queues(
            data, filters, fields=_fields(args), sort=args.sort, limit=args.limit, cursor=args.cursor
        )

    return _execute(args, make_query, "render_queue_list")


def _run_summary(args: argparse.Namespace) -> int:
    from servers.sites.summary import summarize_queues

    def make_query() -> Query:
        filters = _filters(args)
        return lambda data: summarize_queues(
            data, args.group_by, filters, stats=args.stats, limit=args.limit, cursor=args.cursor
        )

    return _execute(args, make_query, "render_summary")


def _run_site(args: argparse.Namespace) -> int:
    from servers.sites.queues import get_site

    return _execute(args, _ready(lambda data: get_site(data, args.site, fields=_fields(args))), "render_site")


def _run_compare(args: argparse.Namespace) -> int:
    from servers.sites.queues import compare_queues

    return _execute(
        args, _ready(lambda data: compare_queues(data, args.names, fields=_fields(args))), "render_comparison"
    )


def _run_field(args: argparse.Namespace) -> int:
    from servers.sites.summary import describe_field

    return _execute(args, _ready(lambda data: describe_field(data, args.name)), "render_fields")

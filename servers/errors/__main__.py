"""Entry point of askpanda-errors: serve MCP over stdio, or run a terminal subcommand (explain, search, list, triage)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from servers.common.cli import exit_with, run_cli
from servers.errors.server import NAME, build_server

logger = logging.getLogger(__name__)


def _console() -> Any:
    # rich is imported only for terminal commands, so serving MCP does not pay for it.
    from rich.console import Console

    return Console()


def _print_markdown(text: str) -> None:
    from rich.markdown import Markdown

    # Markdown would drop "<substep>"-style placeholders as HTML tags, so escape "<" outside code spans.
    parts = text.split("`")
    escaped = "`".join(
        part.replace("<", "\\<") if index % 2 == 0 else part for index, part in enumerate(parts)
    )
    _console().print(Markdown(escaped))


def _print_json(model: Any) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")


def _reporting_catalogue_errors(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Wrap a subcommand so that a broken or missing catalogue prints one line and exits with status 2."""

    def run(args: argparse.Namespace) -> int:
        from shared.errorcodes import CatalogueError

        try:
            return handler(args)
        except CatalogueError as exc:
            logger.error("error catalogue not loaded: %s", exc)
            print(f"{NAME}: the error catalogue could not be loaded: {exc}", file=sys.stderr)
            return 2

    return run


def _explain(args: argparse.Namespace) -> int:
    from servers.errors import render
    from shared.errorcodes import UnknownComponentError, get_catalogue
    from shared.errorcodes.explain import CodeNotFoundError, explain_code

    try:
        explanation = explain_code(get_catalogue(), args.code, args.component)
    except (UnknownComponentError, CodeNotFoundError) as exc:
        print(f'{NAME}: {exc} Try: {NAME} search "<diag text>"', file=sys.stderr)
        return 1
    if args.json:
        _print_json(explanation)
    else:
        _print_markdown(render.explanation_markdown(explanation, args.audience))
    return 0


def _search(args: argparse.Namespace) -> int:
    from shared.errorcodes import search_errors

    result = search_errors(" ".join(args.text), limit=args.limit)
    if args.json:
        _print_json(result)
        return 0
    if not result.hits:
        print(f"No error code matches {result.query!r}. Try fewer or other words.", file=sys.stderr)
        return 1

    from rich.table import Table

    table = Table(title=f"Error codes for {result.query!r}", show_lines=False)
    for column in ("#", "component", "code", "acronym", "message", "category", "retry", "matched"):
        table.add_column(column, overflow="fold")
    for position, hit in enumerate(result.hits, start=1):
        code = f"{hit.code}" + (f" ({hit.script})" if hit.script else "")
        table.add_row(
            str(position),
            hit.component,
            code,
            hit.acronym,
            hit.message,
            hit.category,
            hit.retry_advice,
            "; ".join(hit.matched),
        )
    _console().print(table)
    return 0


def _list(args: argparse.Namespace) -> int:
    from shared.errorcodes import CATEGORIES, COMPONENTS, get_catalogue
    from shared.errorcodes.decode import normalize_component

    component = normalize_component(args.component) if args.component else None
    if args.component and component is None:
        print(
            f"{NAME}: unknown component {args.component!r}; components: {', '.join(COMPONENTS)}",
            file=sys.stderr,
        )
        return 2
    category = next(
        (name for name in CATEGORIES if args.category and name.lower().startswith(args.category.lower())),
        None,
    )
    if args.category and category is None:
        print(
            f"{NAME}: unknown category {args.category!r}; categories: {'; '.join(CATEGORIES)}",
            file=sys.stderr,
        )
        return 2

    from rich.table import Table

    table = Table(title="PanDA error codes")
    for column in ("component", "code", "acronym", "message", "category", "retry"):
        table.add_column(column, overflow="fold")
    for entry in get_catalogue().select(component=component, category=category):
        code = f"{entry.code}" + (f" ({entry.script})" if entry.script else "")
        table.add_row(entry.component, code, entry.acronym, entry.message, entry.category, entry.retry_advice)
    _console().print(table)
    return 0


def _triage(args: argparse.Namespace) -> int:
    from servers.errors import render
    from shared.errorcodes import triage_job_errors

    path = Path(args.job_file)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{NAME}: cannot read job record {path}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(record, dict):
        print(
            f"{NAME}: {path} does not contain a JSON object; expected a BigPanDA job record", file=sys.stderr
        )
        return 2

    result = triage_job_errors(record)
    if args.json:
        _print_json(result)
    else:
        _print_markdown(render.triage_markdown(result))
    return 0


def add_commands(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the terminal subcommands; they print what the MCP tools return."""
    explain = subcommands.add_parser("explain", help="explain one error code")
    explain.add_argument("code", type=int, help="the error code, e.g. 1152")
    explain.add_argument("--component", help="code table or job field, e.g. transform or exeErrorCode")
    explain.add_argument(
        "--audience", choices=("user", "expert", "full"), default="full", help="which explanation"
    )
    explain.add_argument(
        "--json", action="store_true", help="print the tool's JSON result instead of Markdown"
    )
    explain.set_defaults(handler=_reporting_catalogue_errors(_explain))

    search = subcommands.add_parser("search", help="find error codes for diag text or plain words")
    search.add_argument("text", nargs="+", help='the diag text or words, e.g. "md5sum mismatch"')
    search.add_argument(
        "--limit", type=int, default=5, choices=range(1, 21), metavar="N", help="hits (1-20, default 5)"
    )
    search.add_argument("--json", action="store_true", help="print the tool's JSON result instead of a table")
    search.set_defaults(handler=_reporting_catalogue_errors(_search))

    listing = subcommands.add_parser("list", help="list error codes, optionally of one component or category")
    listing.add_argument("--component", help="code table, e.g. pilot")
    listing.add_argument("--category", help="category or its first words, e.g. 'File and Storage'")
    listing.set_defaults(handler=_reporting_catalogue_errors(_list))

    triage = subcommands.add_parser(
        "triage", help="rank the error fields of a BigPanDA job record (JSON file)"
    )
    triage.add_argument("job_file", help="a /job?pandaid=N&json response or a bare job record")
    triage.add_argument(
        "--json", action="store_true", help="print the tool's JSON result instead of Markdown"
    )
    triage.set_defaults(handler=_reporting_catalogue_errors(_triage))


def main(argv: list[str] | None = None) -> None:
    exit_with(
        run_cli(
            prog=NAME,
            description="PanDA error codes: explanations, categories and retry advice, offline.",
            build_server=build_server,
            add_commands=add_commands,
            argv=argv,
        )
    )


if __name__ == "__main__":
    main()

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
    from servers.errors import render, terminal
    from shared.errorcodes import UnknownComponentError, get_catalogue
    from shared.errorcodes.explain import CodeNotFoundError, explain_code

    try:
        explanation = explain_code(get_catalogue(), args.code, args.component)
    except UnknownComponentError as exc:
        print(f"{NAME}: {exc}", file=sys.stderr)
        return 2
    except CodeNotFoundError as exc:
        next_step = (
            "Run it without --component to see all meanings."
            if exc.known
            else f'Try: {NAME} search "<diag text>"'
        )
        print(f"{NAME}: {exc} {next_step}", file=sys.stderr)
        return 1

    if args.json:
        _print_json(explanation)
    else:
        terminal.print_markdown(render.explanation_markdown(explanation, args.audience))
    return 0


def _search(args: argparse.Namespace) -> int:
    from servers.errors import terminal
    from shared.errorcodes import search_errors
    from shared.errorcodes.searchresult import MAX_QUERY_CHARS, shorten

    text = " ".join(args.text)
    if not text.strip():
        print(
            f'{NAME}: the search text is empty; pass diag text or a few words, e.g. "md5sum mismatch"',
            file=sys.stderr,
        )
        return 2
    if len(text) > MAX_QUERY_CHARS:
        print(
            f"{NAME}: the search text has {len(text)} characters, more than {MAX_QUERY_CHARS} "
            f"({shorten(text)!r}); pass the diag line or the error message only",
            file=sys.stderr,
        )
        return 2

    result = search_errors(text, limit=args.limit)
    if args.json:
        _print_json(result)
        return 0
    if not result.hits:
        print(f"No error code matches {result.query!r}. Try fewer or other words.", file=sys.stderr)
        return 1
    terminal.print_search(result)
    return 0


def _list(args: argparse.Namespace) -> int:
    from servers.errors import terminal
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

    terminal.print_listing(get_catalogue().select(component=component, category=category))
    return 0


def _triage(args: argparse.Namespace) -> int:
    from servers.errors import render, terminal
    from shared.errorcodes import triage_job_errors
    from shared.errorcodes.jobrecord import read_job_record

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
        terminal.print_markdown(render.triage_markdown(result))
    # Input that is not a job record still prints its verdict, but a script can tell from the status.
    return 1 if read_job_record(record).problem else 0


def add_commands(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the terminal subcommands; they print what the MCP tools return."""
    explain = subcommands.add_parser("explain", help="explain one error code")
    explain.add_argument("code", type=int, help="the error code, e.g. 1152 or -15")
    explain.add_argument(
        "--component",
        help="code table (e.g. transform) or the job field the code came from (e.g. exeErrorCode), "
        "which keeps only the meanings that field can hold",
    )
    explain.add_argument(
        "--audience",
        choices=("user", "expert", "full"),
        default="full",
        help="which explanation to print: for a grid user, for an expert, or both (default: %(default)s)",
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

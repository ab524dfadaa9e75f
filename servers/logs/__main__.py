"""Entry point of askpanda-logs: serve MCP over stdio, or run a terminal subcommand."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

from servers.common.cli import exit_with, run_cli
from servers.logs.analysis import DEFAULT_BUDGET
from servers.logs.server import NAME, build_server
from servers.logs.service import InvalidInputError, LogsService, is_pandaid
from servers.logs.sources import LogSourceError
from shared.config import get_settings
from shared.exceptions import AskPandaError


def add_commands(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `analyze`, which prints a failure report in the terminal."""
    analyze = subcommands.add_parser(
        "analyze",
        help="print the failure report of a pandaid or of local logs",
        description="Print the failure report of a PanDA job (a pandaid, read from BigPanDA) or of logs on disk "
        "(a file, a folder or a .tgz log tarball; any path you can read).",
    )
    analyze.add_argument("target", help="a pandaid, or a log file, folder or .tgz archive")
    analyze.add_argument(
        "--budget",
        type=int,
        default=DEFAULT_BUDGET,
        help="characters of quoted evidence (default: %(default)s)",
    )
    analyze.add_argument("--json", action="store_true", help="print the report as JSON instead of Markdown")
    analyze.set_defaults(handler=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    """Print the report for `args.target`; return 2 with a message on stderr when it cannot be made."""
    # A person at their own terminal may read any path they can read, so log_roots does not apply here.
    service = LogsService(get_settings(), trusted_paths=True)
    target = args.target.strip()
    try:
        if is_pandaid(target) and not Path(target).exists():
            report = anyio.run(service.analyze_job, target, args.budget)
        else:
            report = anyio.run(service.analyze_local, target, None, args.budget)
    except (InvalidInputError, LogSourceError, AskPandaError, OSError) as exc:
        print(f"{NAME}: {exc}", file=sys.stderr)
        return 2

    if args.json:
        print(report.model_dump_json(indent=2, exclude_none=True))
        return 0

    from servers.logs.render import render_report

    markdown = render_report(report)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(markdown))
    else:
        print(markdown)
    return 0


def main(argv: list[str] | None = None) -> None:
    exit_with(
        run_cli(
            prog=NAME,
            description="Failure reports for PanDA jobs from BigPanDA or from local logs.",
            build_server=build_server,
            add_commands=add_commands,
            argv=argv,
        )
    )


if __name__ == "__main__":
    main()

"""Entry point of askpanda-logs: serve MCP over stdio, or run a terminal subcommand."""

from __future__ import annotations

from servers.common.cli import exit_with, run_cli
from servers.logs.server import NAME, build_server


def main(argv: list[str] | None = None) -> None:
    exit_with(run_cli(prog=NAME, description="Failure reports for PanDA jobs from BigPanDA or from local logs.", build_server=build_server, argv=argv))


if __name__ == "__main__":
    main()

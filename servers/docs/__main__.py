"""Entry point of askpanda-docs: serve MCP over stdio, or run a terminal subcommand."""

from __future__ import annotations

from servers.common.cli import exit_with, run_cli
from servers.docs.server import NAME, build_server


def main(argv: list[str] | None = None) -> None:
    exit_with(run_cli(prog=NAME, description="Search over PanDA documentation.", build_server=build_server, argv=argv))


if __name__ == "__main__":
    main()

"""Entry point of askpanda-sites: serve MCP over stdio, or run a terminal subcommand."""

from __future__ import annotations

from servers.common.cli import exit_with, run_cli
from servers.sites.commands import add_commands
from servers.sites.server import NAME, build_server


def main(argv: list[str] | None = None) -> None:
    exit_with(
        run_cli(
            prog=NAME,
            description="CRIC PanDA queue data: find, filter and compare queues and sites.",
            build_server=build_server,
            add_commands=add_commands,
            argv=argv,
        )
    )


if __name__ == "__main__":
    main()

"""Entry point of askpanda-docs: serve MCP over stdio, or run a terminal subcommand (index, search, show, status)."""

from __future__ import annotations

from servers.common.cli import exit_with, run_cli
from servers.docs.cli import add_commands
from servers.docs.server import NAME, build_server


def main(argv: list[str] | None = None) -> None:
    exit_with(
        run_cli(
            prog=NAME,
            description="Search PanDA documentation with citations (hybrid dense and BM25 retrieval).",
            build_server=build_server,
            add_commands=add_commands,
            argv=argv,
        )
    )


if __name__ == "__main__":
    main()

"""Command line shared by the servers: serve MCP (stdio or streamable HTTP) or run a terminal subcommand."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared import __version__
from shared.logsetup import configure_logging

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

logger = logging.getLogger(__name__)

AddCommands = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
"""Registers a server's terminal subcommands; each sets `handler` to a callable taking the parsed args."""

STDOUT_CLOSED_STATUS = 1
"""Exit status when the reader of stdout closed it early, the same status as an uncaught BrokenPipeError."""


def build_parser(prog: str, description: str, add_commands: AddCommands | None) -> argparse.ArgumentParser:
    """Return the parser with the serving options and the server's subcommands."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level to stderr")
    parser.add_argument(
        "--transport",
        choices=("stdio", "streamable-http"),
        default="stdio",
        help="how to serve MCP when no subcommand is given (default: stdio)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address for streamable-http (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port for streamable-http (default: 8000)")
    if add_commands is not None:
        subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
        add_commands(subcommands)
    return parser


def run_cli(
    *,
    prog: str,
    description: str,
    build_server: Callable[[], MCPServer[Any]],
    add_commands: AddCommands | None = None,
    argv: list[str] | None = None,
) -> int:
    """Parse `argv`; run a subcommand and return its exit status, or serve MCP until the client disconnects."""
    parser = build_parser(prog, description, add_commands)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    configure_logging(args.verbose, quiet=handler is not None)
    if handler is not None:
        return _run_handler(handler, args)

    server = build_server()
    logger.info("%s %s starting on %s", prog, __version__, args.transport)
    try:
        if args.transport == "stdio":
            server.run("stdio")
        else:
            server.run("streamable-http", host=args.host, port=args.port)
    except KeyboardInterrupt:
        pass
    logger.info("%s stopped", prog)
    return 0


def _run_handler(handler: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> int:
    """Run a subcommand and flush its output. A reader that closed stdout early ends it without a traceback."""
    try:
        status = int(handler(args) or 0)
    except BrokenPipeError as exc:
        # `askpanda-docs search jobset | head -3`: head exits, and the next write to stdout fails with EPIPE.
        logger.debug("stdout was closed by its reader, so the rest of the output is dropped: %s", exc)
        _discard_stdout()
        return STDOUT_CLOSED_STATUS
    return status if _flush_stdout() else STDOUT_CLOSED_STATUS


def _flush_stdout() -> bool:
    """Flush stdout. Return False, with stdout pointed at the null device, when its reader has closed it."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return False
    return True


def _discard_stdout() -> None:
    """Point stdout's file descriptor at the null device.

    The output that failed stays in sys.stdout's buffer, and Python flushes that buffer again at exit.
    With the pipe still behind the descriptor, that flush would print "Exception ignored ... BrokenPipeError".
    """
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):
        # A replaced sys.stdout (a test's capture buffer) has no descriptor and flushes without error.
        return
    null_device = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null_device, descriptor)
    finally:
        os.close(null_device)


def exit_with(status: int) -> None:
    """Flush stdout and exit with `status`; used by the console-script entry points."""
    raise SystemExit(status if _flush_stdout() else STDOUT_CLOSED_STATUS)

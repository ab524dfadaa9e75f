"""Logging for servers and terminal commands: always to stderr, because stdout carries JSON-RPC."""

from __future__ import annotations

import logging
import sys


def configure_logging(verbose: bool = False, *, quiet: bool = False) -> None:
    """Send log records to stderr: DEBUG with `verbose`, else WARNING with `quiet`, else INFO.

    Terminal commands run quiet, so their output is the result and real problems only. Servers log at INFO.
    """
    if verbose:
        level = logging.DEBUG
    elif quiet:
        level = logging.WARNING
    else:
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)

    # httpx logs every request at INFO, including URLs with query strings; keep that for -v only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)

"""Terminal output of askpanda-errors: Markdown, search hits and code listings, sized to the terminal.

rich is imported inside the functions, and this module only by terminal commands, so serving MCP does
not pay for it. Piped output gets the Markdown source and a list layout with one line per field.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING

from shared.errorcodes import ErrorEntry, SearchResult
from shared.errorcodes.searchresult import shorten

if TYPE_CHECKING:
    from rich.console import Console

# Below this width a table squeezes its columns until words break, so results print as a list.
MIN_TABLE_WIDTH = 140
INDENT = "   "


def console() -> Console:
    """Return a console on stdout; rich takes its width from the terminal, or 80 columns when piped."""
    from rich.console import Console

    return Console()


def print_markdown(text: str) -> None:
    """Print Markdown: rendered on a terminal, as the Markdown source when stdout is piped or redirected."""
    if not sys.stdout.isatty():
        sys.stdout.write(text.rstrip("\n") + "\n")
        return

    from rich.markdown import Markdown

    # Markdown would drop "<substep>"-style placeholders as HTML tags, so escape "<" outside code spans.
    parts = text.split("`")
    escaped = "`".join(
        part.replace("<", "\\<") if index % 2 == 0 else part for index, part in enumerate(parts)
    )
    out = console()
    with out.capture() as captured:
        out.print(Markdown(escaped))
    # rich pads every line to the terminal width; the padding is plain spaces after the last style.
    sys.stdout.write("\n".join(line.rstrip(" ") for line in captured.get().split("\n")))


def _wide(out: Console) -> bool:
    return out.width >= MIN_TABLE_WIDTH


def _code_label(code: int, script: str | None) -> str:
    return f"{code} ({script})" if script else str(code)


def _write_block(heading: str, details: list[str], width: int) -> None:
    """Write a heading and its indented detail lines; on a terminal the details wrap between words only."""
    lines = [heading]
    for detail in details:
        if sys.stdout.isatty():
            lines += textwrap.wrap(
                detail,
                width=max(40, width),
                initial_indent=INDENT,
                subsequent_indent=INDENT,
                break_long_words=False,
                break_on_hyphens=False,
            )
        else:
            lines.append(INDENT + detail)
    sys.stdout.write("\n".join(lines) + "\n")


def print_search(result: SearchResult) -> None:
    """Print search hits as a table on a wide terminal, otherwise as a numbered list."""
    out = console()
    title = f"Error codes for {shorten(result.query)!r}"
    if _wide(out):
        from rich.table import Table

        table = Table(title=title)
        for name in ("#", "component", "code", "retry"):
            table.add_column(name, no_wrap=True)
        table.add_column("acronym", overflow="fold")
        table.add_column("message", ratio=3)
        table.add_column("category", ratio=1)
        table.add_column("matched", ratio=2)
        for position, hit in enumerate(result.hits, start=1):
            table.add_row(
                str(position),
                hit.component,
                _code_label(hit.code, hit.script),
                hit.retry_advice,
                hit.acronym,
                hit.message,
                hit.category,
                "; ".join(hit.matched),
            )
        out.print(table)
        return

    sys.stdout.write(title + "\n")
    for position, hit in enumerate(result.hits, start=1):
        details = [hit.message, f"{hit.category} · retry: {hit.retry_advice}"]
        if hit.matched:
            details.append("matched: " + "; ".join(hit.matched))
        heading = f"{position}. {hit.component} {_code_label(hit.code, hit.script)} {hit.acronym}".rstrip()
        sys.stdout.write("\n")
        _write_block(heading, [detail for detail in details if detail], out.width)


def print_listing(entries: Iterable[ErrorEntry]) -> None:
    """Print code summaries as a table on a wide terminal, otherwise one indented block per code."""
    out = console()
    if _wide(out):
        from rich.table import Table

        table = Table(title="PanDA error codes")
        for name in ("component", "code", "retry"):
            table.add_column(name, no_wrap=True)
        table.add_column("acronym", overflow="fold")
        table.add_column("message", ratio=3)
        table.add_column("category", ratio=1)
        for entry in entries:
            table.add_row(
                entry.component,
                _code_label(entry.code, entry.script),
                entry.retry_advice,
                entry.acronym,
                entry.message,
                entry.category,
            )
        out.print(table)
        return

    for entry in entries:
        heading = f"{entry.component} {_code_label(entry.code, entry.script)} {entry.acronym}".rstrip()
        details = [entry.message, f"{entry.category} · retry: {entry.retry_advice}"]
        _write_block(heading, [detail for detail in details if detail], out.width)

"""Terminal commands of askpanda-docs: index, search, show and status.

Results go to stdout; progress bars, logs and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from typing import Any

from servers.docs.arguments import check_source_name
from servers.docs.errorcatalog import CATALOGUE_SOURCE
from servers.docs.errors import DocsError
from servers.docs.indexer import PROJECT_SOURCE
from servers.docs.models import IndexResult, SkippedDocument
from servers.docs.service import (
    DEFAULT_K,
    DEFAULT_MAX_CHARS,
    K_RANGE,
    MAX_CHARS_RANGE,
    SECTION_PAGE_CHARS,
    SECTION_PAGE_RANGE,
    DocsService,
)
from servers.docs.sources import SourceSpec
from shared.config import get_settings

logger = logging.getLogger(__name__)

MAX_LISTED_SKIPPED = 10
"""Maximum number of skipped files that `index` prints per source. `status` prints more of them."""

COMMANDS = {
    "search_docs": "search",
    "get_doc_section": "show",
    "list_doc_sources": "status",
    "index_status": "status",
    "index_docs": "index",
}
"""Terminal subcommand for each MCP tool, used to reword the service's hints."""

TERMINAL_HINTS = (
    ("Call search_docs once to build", "Run `askpanda-docs search QUERY` once to build"),
    (
        "Pass the source value of a search_docs passage",
        "Pass a document id as `askpanda-docs search` prints it in each citation",
    ),
    ("call list_doc_sources to browse documents", "run `askpanda-docs status` to list the indexed sources"),
    (
        "Pass a source name, a document id, or omit source.",
        "Pass a source name or a document id to --source, or omit it.",
    ),
    ("Pass one of these ids as source.", "Pass one of these ids as SOURCE."),
    (
        "Pass 0 or the next_offset of the previous page.",
        "Pass --offset 0, or the offset that the previous page printed.",
    ),
    (
        "later queries are faster.",
        "the MCP server keeps it loaded between queries, but each terminal command loads it again.",
    ),
)
"""Pairs of a hint as the service words it for the MCP tools and the same hint for the terminal.

terminal_wording replaces any tool name left after these with its command.
"""

_TOOL_CALL = re.compile(r"\b(Call|call) (" + "|".join(COMMANDS) + r")\b")
_TOOL_NAME = re.compile(r"\b(" + "|".join(COMMANDS) + r")\b")


def terminal_wording(message: str) -> str:
    """Return a service message with its MCP tool hints reworded as `askpanda-docs` commands and options."""
    for tool_hint, terminal_hint in TERMINAL_HINTS:
        message = message.replace(tool_hint, terminal_hint)

    def run(match: re.Match[str]) -> str:
        verb = "Run" if match.group(1) == "Call" else "run"
        return f"{verb} `askpanda-docs {COMMANDS[match.group(2)]}`"

    message = _TOOL_CALL.sub(run, message)
    return _TOOL_NAME.sub(lambda match: f"`askpanda-docs {COMMANDS[match.group(1)]}`", message)


class BoundedInt:
    """argparse type: an integer between `minimum` and `maximum` (None for no upper bound)."""

    def __init__(self, minimum: int, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def describe(self) -> str:
        """Return the accepted range in words: "1 to 10" or "0 or more"."""
        return f"{self.minimum} to {self.maximum}" if self.maximum is not None else f"{self.minimum} or more"

    def __call__(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer. Pass {self.describe()}.") from None
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            raise argparse.ArgumentTypeError(f"{value} is out of range. Pass {self.describe()}.")
        return value


def count(number: int, noun: str) -> str:
    """Return `number` and `noun`, with an "s" added unless `number` is 1: "1 source", "2 sources"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _bounded_help(text: str, bounds: BoundedInt, default: int) -> str:
    return f"{text} ({bounds.describe()}, default: {default})"


def add_commands(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the docs subcommands on the shared parser."""
    index = subcommands.add_parser(
        "index",
        help="index documentation sources (folders, files, page or archive URLs)",
        description="Index documentation into the docs index. Without SOURCE, refresh every source indexed before. "
        "This project's docs and the error catalogue are always included unless --no-defaults is given.",
    )
    index.add_argument("sources", nargs="*", metavar="SOURCE", help="folder, file, or http(s) URL of a page, tar.gz or zip")
    index.add_argument("--name", help="index name of the source (default: folder, file or repository name)")
    index.add_argument("--base-url", help="web address the source is published at, for links in citations")
    index.add_argument("--remove", action="append", default=[], metavar="NAME", help="drop an indexed source")
    index.add_argument("--rebuild", action="store_true", help="start from an empty index and embed everything again")
    index.add_argument("--no-defaults", action="store_true", help="leave out this project's docs and the error catalogue")
    index.add_argument("--json", action="store_true", help="print the result as JSON")
    index.set_defaults(handler=_index)

    search = subcommands.add_parser(
        "search",
        help="search the docs index",
        description="Search the docs index.",
    )
    search.add_argument("query", nargs="+", help="question or keywords")
    passages = BoundedInt(*K_RANGE)
    search.add_argument(
        "-k", type=passages, default=DEFAULT_K, help=_bounded_help("number of passages, one per section", passages, DEFAULT_K)
    )
    search.add_argument("--source", help="only this source name or document id")
    characters = BoundedInt(*MAX_CHARS_RANGE)
    search.add_argument(
        "--max-chars",
        type=characters,
        default=DEFAULT_MAX_CHARS,
        help=_bounded_help("maximum total characters of the passages", characters, DEFAULT_MAX_CHARS),
    )
    search.add_argument("--json", action="store_true", help="print the result as JSON")
    search.set_defaults(handler=_search)

    show = subcommands.add_parser(
        "show",
        help="print a whole section",
        description="Print a section of a document.",
    )
    show.add_argument("source", help="document id as search prints it, e.g. panda-docs:docs/source/client/pbook.rst")
    show.add_argument("section", nargs="?", help="section title or title path (default: the whole document)")
    offsets = BoundedInt(0)
    show.add_argument(
        "--offset",
        type=offsets,
        default=0,
        help=_bounded_help("character offset to start from, as printed after the previous page", offsets, 0),
    )
    page = BoundedInt(*SECTION_PAGE_RANGE)
    show.add_argument(
        "--max-chars", type=page, default=SECTION_PAGE_CHARS, help=_bounded_help("characters per page", page, SECTION_PAGE_CHARS)
    )
    show.add_argument("--json", action="store_true", help="print the section as JSON")
    show.set_defaults(handler=_show)

    status = subcommands.add_parser("status", help="describe the docs index", description="Describe the docs index.")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=_status)


def _service() -> DocsService:
    return DocsService(get_settings())


def _fail(exc: Exception) -> int:
    print(f"askpanda-docs: {terminal_wording(str(exc))}", file=sys.stderr)
    return 1


def _print_json(model: Any) -> None:
    print(json.dumps(model.model_dump(mode="json"), indent=2, ensure_ascii=False))


def _index(args: argparse.Namespace) -> int:
    import anyio
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if (args.name or args.base_url) and len(args.sources) != 1:
        return _fail(ValueError("--name and --base-url need exactly one SOURCE."))
    if args.name is not None:
        try:
            check_source_name(args.name)
        except DocsError as exc:
            return _fail(exc)

    service = _service()
    specs = [SourceSpec(location, args.name, args.base_url) for location in args.sources]
    if not specs and not args.remove:
        try:
            specs = service.known_specs()
        except DocsError as exc:
            service.close()
            return _fail(exc)
        names = [spec.name or spec.location for spec in specs]
        if not args.no_defaults:
            names += [PROJECT_SOURCE, CATALOGUE_SOURCE]
        if names:
            verb = "Refreshing" if specs else "Indexing"
            print(f"{verb} {count(len(names), 'source')}: {', '.join(names)}", file=sys.stderr)

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        try:
            result = anyio.run(
                lambda: service.index(
                    specs,
                    remove=args.remove,
                    rebuild=args.rebuild,
                    include_defaults=not args.no_defaults,
                    progress=progress,
                )
            )
            skipped = _skipped_files(service, result) if not args.json else {}
        except DocsError as exc:
            return _fail(exc)
        finally:
            service.close()

    if args.json:
        _print_json(result)
        return 0
    for source in result.sources:
        print(
            f"{source.name}: {count(source.documents, 'document')}, {count(source.chunks, 'chunk')} "
            f"({source.added} new, {source.removed} removed, {count(source.skipped, 'file')} skipped)"
        )
        listed = skipped.get(source.name, [])[:MAX_LISTED_SKIPPED]
        for item in listed:
            print(f"  skipped {item.path}: {item.reason}")
        if source.skipped > len(listed):
            more = source.skipped - len(listed)
            print(f"  and {more} more skipped; run `askpanda-docs status` to list them")
    for name in result.removed_sources:
        print(f"{name}: removed")
    print(
        f"{count(result.total_chunks, 'chunk')} in {result.location}; "
        f"{result.embedded} embedded in {result.seconds:.0f} s"
    )
    return 0


def _search(args: argparse.Namespace) -> int:
    service = _service()
    try:
        result = service.search(" ".join(args.query), k=args.k, source=args.source, max_chars=args.max_chars)
    except DocsError as exc:
        return _fail(exc)
    finally:
        service.close()

    if result.note:
        result.note = terminal_wording(result.note)
    if args.json:
        _print_json(result)
        return 0
    if result.note:
        print(f"Note: {result.note}\n", file=sys.stderr)
    for passage in result.passages:
        print(f"[{passage.rank}] {passage.citation}  (score {passage.score:.2f})")
        print(passage.text)
        print()
    return 0


def _show(args: argparse.Namespace) -> int:
    service = _service()
    try:
        section = service.get_section(args.source, args.section, offset=args.offset, max_chars=args.max_chars)
    except DocsError as exc:
        return _fail(exc)
    finally:
        service.close()

    if args.json:
        _print_json(section)
        return 0
    print(section.citation)
    print()
    print(section.text)
    if section.next_offset is not None:
        print(f"\n(more: --offset {section.next_offset})", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    service = _service()
    try:
        status = service.status()
        sources = service.list_sources().sources if status.state == "ready" else []
    except DocsError as exc:
        return _fail(exc)
    finally:
        service.close()

    if status.message:
        status.message = terminal_wording(status.message)
    if args.json:
        # IndexStatus.sources is a count, so the per-source details that the text lists get their own key.
        details = [source.model_dump(mode="json") for source in sources]
        output = {**status.model_dump(mode="json"), "source_details": details}
        print(json.dumps(output, indent=2, ensure_ascii=False))
        return 0 if status.state == "ready" else 1
    print(f"state: {status.state}")
    print(f"location: {status.location}")
    if status.message:
        print(f"message: {status.message}")
    if status.state == "ready":
        print(f"generation: {status.generation}, updated {status.updated_at}")
        print(
            f"{count(status.sources, 'source')}, {count(status.documents, 'document')}, "
            f"{count(status.chunks, 'chunk')}"
        )
        for source in sources:
            print(
                f"  {source.name}: {count(source.documents, 'document')}, {count(source.chunks, 'chunk')} "
                f"from {source.location}"
            )
            if source.base_url:
                print(f"    base URL: {source.base_url}")
        for item in status.skipped:
            print(f"skipped {item.source}:{item.path}: {item.reason}")
    return 0 if status.state == "ready" else 1


def _skipped_files(service: DocsService, result: IndexResult) -> dict[str, list[SkippedDocument]]:
    """Return the skipped files that the index records for each source of `result` that skipped any.

    The index status keeps only the first skipped files of all sources together, so a list can be shorter
    than the source's count.
    """
    if not any(source.skipped for source in result.sources):
        return {}

    by_source: dict[str, list[SkippedDocument]] = {}
    for item in service.status().skipped:
        by_source.setdefault(item.source, []).append(item)
    return by_source

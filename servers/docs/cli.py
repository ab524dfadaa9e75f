"""Terminal commands of askpanda-docs: index, search, show and status.

Results go to stdout; progress bars, logs and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from servers.docs.arguments import check_source_name
from servers.docs.errors import DocsError
from servers.docs.service import DEFAULT_K, DEFAULT_MAX_CHARS, SECTION_PAGE_CHARS, DocsService
from servers.docs.sources import SourceSpec
from shared.config import get_settings

logger = logging.getLogger(__name__)


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

    search = subcommands.add_parser("search", help="search the docs index", description="Search the docs index.")
    search.add_argument("query", nargs="+", help="question or keywords")
    search.add_argument("-k", type=int, default=DEFAULT_K, help=f"number of passages (default: {DEFAULT_K})")
    search.add_argument("--source", help="only this source name or document id")
    search.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="total passage characters")
    search.add_argument("--json", action="store_true", help="print the result as JSON")
    search.set_defaults(handler=_search)

    show = subcommands.add_parser("show", help="print a whole section", description="Print a section of a document.")
    show.add_argument("source", help="document id as search prints it, e.g. panda-docs:docs/source/client/pbook.rst")
    show.add_argument("section", nargs="?", help="section title or title path (default: the whole document)")
    show.add_argument("--offset", type=int, default=0, help="character offset to start from")
    show.add_argument("--max-chars", type=int, default=SECTION_PAGE_CHARS, help="characters per page")
    show.set_defaults(handler=_show)

    status = subcommands.add_parser("status", help="describe the docs index", description="Describe the docs index.")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=_status)


def _service() -> DocsService:
    return DocsService(get_settings())


def _fail(exc: Exception) -> int:
    print(f"askpanda-docs: {exc}", file=sys.stderr)
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
        specs = service.known_specs()
        if specs:
            print(f"Refreshing {len(specs)} source(s): {', '.join(spec.name or '' for spec in specs)}", file=sys.stderr)

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
        except DocsError as exc:
            return _fail(exc)
        finally:
            service.close()

    if args.json:
        _print_json(result)
        return 0
    for source in result.sources:
        print(
            f"{source.name}: {source.documents} documents, {source.chunks} chunks "
            f"({source.added} new, {source.removed} removed, {source.skipped} files skipped)"
        )
    for name in result.removed_sources:
        print(f"{name}: removed")
    print(f"{result.total_chunks} chunks in {result.location}; {result.embedded} embedded in {result.seconds:.0f} s")
    return 0


def _search(args: argparse.Namespace) -> int:
    service = _service()
    try:
        result = service.search(" ".join(args.query), k=args.k, source=args.source, max_chars=args.max_chars)
    except DocsError as exc:
        return _fail(exc)
    finally:
        service.close()

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

    if args.json:
        _print_json(status)
        return 0 if status.state == "ready" else 1
    print(f"state: {status.state}")
    print(f"location: {status.location}")
    if status.message:
        print(f"message: {status.message}")
    if status.state == "ready":
        print(f"generation: {status.generation}, updated {status.updated_at}")
        print(f"{status.sources} sources, {status.documents} documents, {status.chunks} chunks")
        for source in sources:
            print(f"  {source.name}: {source.documents} documents, {source.chunks} chunks from {source.location}")
        for item in status.skipped:
            print(f"skipped {item.source}:{item.path}: {item.reason}")
    return 0 if status.state == "ready" else 1

"""MCP wiring of askpanda-docs: search, read and index PanDA documentation, with citations.

Nothing heavy is imported here: the embedding model, torch, Chroma and bm25s load on the first tool call, so
`initialize` returns at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

import anyio
import anyio.from_thread
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from servers.common.base import AskPandaServer
from servers.common.tooling import READ_ONLY, decode_cursor, encode_cursor
from servers.docs.arguments import check_index_arguments, clean_query, replace_lone_surrogates
from servers.docs.errors import DocsError
from servers.docs.models import DocSection, DocSourcesResult, IndexResult, IndexStatus, SearchResult
from servers.docs.service import (
    DEFAULT_K,
    DEFAULT_MAX_CHARS,
    K_RANGE,
    MAX_CHARS_RANGE,
    MAX_QUERY_CHARS,
    SECTION_PAGE_CHARS,
    SECTION_PAGE_RANGE,
    DocsService,
)
from servers.docs.sources import SourceSpec
from shared import __version__
from shared.config import get_settings

NAME = "askpanda-docs"
INSTRUCTIONS = (
    "Search PanDA documentation (and this project's docs and error catalogue) with citations. Call search_docs "
    "with the user's question; quote passages with their citation; call get_doc_section to read a whole section."
)

INDEXING = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True, openWorldHint=True)
"""index_docs writes only the local docs index and may download the sources it is given."""

logger = logging.getLogger(__name__)


def _progress_reporter(ctx: Context) -> Callable[[str, int, int], None]:
    """Return a progress callback for worker threads that forwards to MCP progress notifications."""

    def report(stage: str, done: int, total: int) -> None:
        try:
            anyio.from_thread.run(ctx.report_progress, done, max(total, 1), stage)
        except (RuntimeError, ValueError) as exc:  # no running request or client gone: progress is optional
            logger.debug("Progress notification dropped: %s", exc)

    return report


def build_server(service: DocsService | None = None) -> AskPandaServer:
    """Return a new server; `service` replaces the one built from the settings (tests pass their own)."""
    server = AskPandaServer(NAME, version=__version__, instructions=INSTRUCTIONS)
    holder: dict[str, DocsService] = {}

    def docs() -> DocsService:
        # Built on the first call so that reading settings and opening the index never slow down initialize.
        if "service" not in holder:
            holder["service"] = service or DocsService(get_settings())
        return holder["service"]

    async def call(function: Callable[[], Any]) -> Any:
        try:
            return await anyio.to_thread.run_sync(function)
        except DocsError as exc:
            # ToolError text reaches the model; DocsError messages name the value and the next step.
            logger.info("docs tool failed: %s", exc)
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=READ_ONLY)
    async def search_docs(
        query: Annotated[
            str,
            Field(description=f"Question or keywords, at most {MAX_QUERY_CHARS} characters, e.g. 'how do I retry failed jobs'."),
        ],
        ctx: Context,
        k: Annotated[int, Field(ge=K_RANGE[0], le=K_RANGE[1], description="Number of passages, one per section.")] = DEFAULT_K,
        source: Annotated[
            str | None, Field(description="Only this source name (see list_doc_sources) or document id.")
        ] = None,
        max_chars: Annotated[
            int,
            Field(ge=MAX_CHARS_RANGE[0], le=MAX_CHARS_RANGE[1], description="Upper bound on the passages' total characters."),
        ] = DEFAULT_MAX_CHARS,
    ) -> SearchResult:
        """Search the indexed PanDA documentation and return passages with section, score and citation, best first."""
        # The result repeats the query and the source, so text that cannot be encoded as UTF-8 is replaced first.
        query = clean_query(query)
        source = replace_lone_surrogates(source) if source is not None else None
        # Checked here rather than in the schema, so the model gets a sentence instead of a validation dump.
        if not query.strip():
            raise ToolError("query is empty. Pass the user's question or a few keywords.")
        if len(query) > MAX_QUERY_CHARS:
            raise ToolError(
                f"query has {len(query)} characters, more than {MAX_QUERY_CHARS}. Pass a short question or the key "
                "terms only."
            )
        report = _progress_reporter(ctx)
        return await call(lambda: docs().search(query, k=k, source=source, max_chars=max_chars, progress=report))

    @server.tool(annotations=READ_ONLY)
    async def get_doc_section(
        source: Annotated[str, Field(description="Document id from a passage, e.g. panda-docs:docs/source/client/pbook.rst.")],
        section: Annotated[
            str | None, Field(description="Section title or title path from a passage; omit for the whole document.")
        ] = None,
        offset: Annotated[int, Field(ge=0, description="next_offset of the previous page; 0 to start.")] = 0,
        max_chars: Annotated[
            int, Field(ge=SECTION_PAGE_RANGE[0], le=SECTION_PAGE_RANGE[1], description="Characters per page.")
        ] = SECTION_PAGE_CHARS,
    ) -> DocSection:
        """Read a whole section with its subsections, one page at a time."""
        source = replace_lone_surrogates(source)
        section = replace_lone_surrogates(section) if section is not None else None
        return await call(lambda: docs().get_section(source, section, offset=offset, max_chars=max_chars))

    @server.tool(annotations=READ_ONLY)
    async def list_doc_sources(
        source: Annotated[str | None, Field(description="A source name to list its documents instead.")] = None,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page; omit for the first.")] = None,
    ) -> DocSourcesResult:
        """List the indexed documentation sources, or the documents of one source (50 per page)."""
        source = replace_lone_surrogates(source) if source is not None else None
        state = decode_cursor(cursor, tool="list_doc_sources")
        if state and state.get("source") != source:
            raise ToolError("This cursor belongs to another source. Repeat the same source, or omit cursor.")
        offset = int(state.get("offset", 0))
        result: DocSourcesResult = await call(lambda: docs().list_sources(source, offset=offset))
        if result.next_cursor is not None:
            result.next_cursor = encode_cursor({"source": source, "offset": int(result.next_cursor)})
        return result

    @server.tool(annotations=READ_ONLY)
    async def index_status() -> IndexStatus:
        """Describe the docs index: state, location, sources, chunk counts and skipped files."""
        return await call(lambda: docs().status())

    @server.tool(annotations=INDEXING)
    async def index_docs(
        sources: Annotated[
            list[str],
            Field(
                max_length=20,
                description="Folders or files under ASKPANDA_DOCS_ROOTS, or http(s) URLs of pages, tar.gz or zip "
                "archives (allowed hosts only). Empty: refresh every source indexed before.",
            ),
        ],
        ctx: Context,
        name: Annotated[
            str | None, Field(description="Index name for a single source: 1-64 letters, digits, '.', '_', '-'.")
        ] = None,
        base_url: Annotated[str | None, Field(description="Web address a single source is published at.")] = None,
    ) -> IndexResult:
        """Index documentation sources into the docs index; unchanged chunks are not embedded again."""
        if (name or base_url) and len(sources) != 1:
            raise ToolError("name and base_url apply to exactly one source; pass one source or omit them.")
        service = docs()
        try:
            check_index_arguments(sources, name, base_url, roots=service.settings.docs_roots)
        except DocsError as exc:
            logger.info("index_docs rejected its arguments: %s", exc)
            raise ToolError(str(exc)) from exc

        specs = [SourceSpec(location, name, base_url) for location in sources]
        if not specs:
            # NOTE: a refresh also re-reads local folders outside ASKPANDA_DOCS_ROOTS that the terminal command
            # indexed before. This is allowed because a user chose those folders, and the model cannot add new ones.
            specs = await call(service.known_specs)
        # The tool has no --no-defaults switch, so an index built without the defaults stays without them.
        include_defaults = await call(service.defaults_indexed)
        try:
            return await service.index(specs, include_defaults=include_defaults, progress=_progress_reporter(ctx))
        except DocsError as exc:
            logger.info("index_docs failed: %s", exc)
            raise ToolError(str(exc)) from exc

    return server

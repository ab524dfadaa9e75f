"""MCP wiring of askpanda-errors: tools, resources and prompts over the error catalogue in shared.errorcodes."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from pydantic import Field

from servers.common.base import AskPandaServer
from servers.common.tooling import READ_ONLY, decode_cursor, encode_cursor
from servers.errors import render
from shared import __version__
from shared.errorcodes import (
    CATEGORIES,
    COMPONENTS,
    Catalogue,
    CatalogueError,
    ErrorSummary,
    SearchResult,
    TriageResult,
    UnknownComponentError,
    get_catalogue,
    get_search_index,
    triage_job_errors,
)
from shared.errorcodes.decode import normalize_component
from shared.errorcodes.explain import CodeNotFoundError, Explanation, explain_code
from shared.errorcodes.jobrecord import read_job_record
from shared.errorcodes.models import CompactModel
from shared.errorcodes.searchresult import MAX_QUERY_CHARS, shorten

NAME = "askpanda-errors"
INSTRUCTIONS = (
    "Offline catalogue of PanDA error codes (pilot, transform, worker-node scripts, server) with explanations "
    "and retry advice. Use explain_error_code for a number, search_error_codes for diag text or words, "
    "triage_job_errors for a job's error fields."
)
PAGE_SIZE = 50

PromptCode = Annotated[str, Field(description="The error code, e.g. 1152, 65, 5406 or -15.")]
PromptComponent = Annotated[
    str | None,
    Field(description="Optional code table (e.g. pilot, transform) or job field (e.g. exeErrorCode)."),
]

logger = logging.getLogger(__name__)


class ErrorCodePage(CompactModel):
    """One page of error-code summaries."""

    items: list[ErrorSummary]
    total: int = Field(description="Number of codes that match the filters.")
    next_cursor: str | None = Field(
        None, description="Pass as cursor to get the next page; None on the last page."
    )


def _resolve_category(category: str) -> str:
    """Return the category that `category` names (case-insensitive, a unique prefix is enough)."""
    folded = category.strip().lower()
    matches = [name for name in CATEGORIES if name.lower() == folded]
    matches = matches or [name for name in CATEGORIES if name.lower().startswith(folded) and folded]
    if len(matches) != 1:
        raise ToolError(f"Unknown category {category!r}. Categories: {'; '.join(CATEGORIES)}.")
    return matches[0]


def _parse_error_fields(errors: dict[str, Any] | str) -> dict[str, Any]:
    """Return the job's error fields; a JSON object pasted as a string is parsed."""
    if isinstance(errors, dict):
        return errors
    try:
        parsed = json.loads(errors)
    except ValueError as exc:
        raise ToolError(
            f'errors is not a JSON object ({exc}). Pass the fields as an object, e.g. {{"piloterrorcode": 1099}}.'
        ) from exc
    if not isinstance(parsed, dict):
        raise ToolError('errors must be a JSON object of job fields, e.g. {"piloterrorcode": 1099}.')
    return parsed


def _resolve_component(component: str) -> str:
    resolved = normalize_component(component)
    if resolved is None:
        raise ToolError(f"Unknown component {component!r}. Components: {', '.join(COMPONENTS)}.")
    return resolved


def build_server(catalogue: Catalogue | None = None) -> AskPandaServer:
    """Return a new server; `catalogue` replaces the package catalogue (tests pass a fixture catalogue)."""
    server = AskPandaServer(NAME, version=__version__, instructions=INSTRUCTIONS)

    def current_catalogue() -> Catalogue:
        # Loaded on the first call, not at start-up, so initialize stays fast.
        try:
            return catalogue or get_catalogue()
        except CatalogueError as exc:
            logger.error("error catalogue not loaded: %s", exc)
            raise ToolError(
                f"The error catalogue could not be loaded: {exc}. Reinstall askpanda-mcp."
            ) from exc

    @server.tool(annotations=READ_ONLY)
    def explain_error_code(
        code: Annotated[int, Field(description="The error code, e.g. 1152, 65, 5406, 139 or -15.")],
        component: Annotated[
            str | None,
            Field(
                description="Code table (pilot, pilot-exit, transform, wnscripts, wnscripts-legacy, taskbuffer, "
                "dataservice, jobdispatcher, supervisor, brokerage) or the job field it came from "
                "(pilotErrorCode, exeErrorCode, transExitCode, ...), which keeps only the meanings that field "
                "can hold. Omit to get every meaning, best first."
            ),
        ] = None,
    ) -> Explanation:
        """Explain a PanDA error code: meaning for users and experts, causes, actions and retry advice."""
        try:
            return explain_code(current_catalogue(), code, component)
        except UnknownComponentError as exc:
            # ToolError text reaches the model, so it names the valid values.
            raise ToolError(str(exc)) from exc
        except CodeNotFoundError as exc:
            next_step = (
                "Omit component to see all meanings."
                if exc.known
                else "Call search_error_codes with the diag text, or list_error_codes to browse a component."
            )
            raise ToolError(f"{exc} {next_step}") from exc

    @server.tool(annotations=READ_ONLY)
    def search_error_codes(
        text: Annotated[
            str,
            Field(
                description="Diag text, a log line or plain words (up to 20000 characters), e.g. 'md5 mismatch' "
                "or 'PilotException: error code: 1368, ...'.",
            ),
        ],
        limit: Annotated[int, Field(ge=1, le=20, description="Number of hits to return.")] = 5,
    ) -> SearchResult:
        """Find the error codes that match a pasted diag or a description of the failure, best first."""
        # Checked here, not by the schema, so that the model gets a sentence instead of a validation dump.
        if not text.strip():
            raise ToolError(
                f"text is empty ({text!r}). Pass the diag text or a few words that describe the failure."
            )
        if len(text) > MAX_QUERY_CHARS:
            raise ToolError(
                f"text has {len(text)} characters, more than {MAX_QUERY_CHARS}: {shorten(text)!r}. Pass the "
                "diag line or the error message only."
            )
        return get_search_index(current_catalogue()).search(text, limit=limit)

    @server.tool(annotations=READ_ONLY)
    def list_error_codes(
        component: Annotated[
            str | None, Field(description="Only this code table, e.g. pilot or transform.")
        ] = None,
        category: Annotated[
            str | None,
            Field(description="Only this category, e.g. 'File and Storage Issues' (a prefix is enough)."),
        ] = None,
        cursor: Annotated[
            str | None, Field(description="next_cursor of the previous page; omit for the first.")
        ] = None,
    ) -> ErrorCodePage:
        """List error codes as one-line summaries, 50 per page, optionally by component and category."""
        table = _resolve_component(component) if component else None
        category_filter = _resolve_category(category) if category else None
        state = decode_cursor(cursor, tool="list_error_codes")
        if state and (state.get("component") != table or state.get("category") != category_filter):
            raise ToolError(
                "This cursor belongs to a listing with other filters. Repeat the same component and category, "
                "or omit cursor to start again."
            )

        entries = current_catalogue().select(component=table, category=category_filter)
        offset = int(state.get("offset", 0))
        page = entries[offset : offset + PAGE_SIZE]
        more = offset + PAGE_SIZE < len(entries)
        return ErrorCodePage(
            items=[ErrorSummary.of(entry) for entry in page],
            total=len(entries),
            next_cursor=encode_cursor(
                {"offset": offset + PAGE_SIZE, "component": table, "category": category_filter}
            )
            if more
            else None,
        )

    # Named apart from the domain function triage_job_errors, which this module imports.
    @server.tool(name="triage_job_errors", annotations=READ_ONLY)
    def triage_job_errors_tool(
        errors: Annotated[
            dict[str, Any] | str,
            Field(
                description='The job\'s error fields as BigPanDA names them, e.g. {"piloterrorcode": 1305, '
                '"piloterrordiag": "...", "exeerrorcode": 65, "transexitcode": "65", '
                '"jobstatus": "failed"}; camelCase names work too.'
            ),
        ],
    ) -> TriageResult:
        """Rank a job's error codes: the primary error, the others in order, and whether a retry can help."""
        fields = _parse_error_fields(errors)
        if not fields:
            raise ToolError(
                "errors is empty. Pass the job's error fields, e.g. piloterrorcode and piloterrordiag."
            )
        problem = read_job_record(fields).problem
        if problem is not None:
            raise ToolError(problem)
        return triage_job_errors(fields, current_catalogue())

    @server.resource("panda-error://{component}/{code}", mime_type="text/markdown")
    def error_resource(component: str, code: str) -> str:
        """Return one error code as Markdown, e.g. panda-error://pilot/1152 or panda-error://exeErrorCode/65."""
        try:
            number = int(code)
        except ValueError as exc:
            raise ResourceNotFoundError(
                f"{code!r} is not an error code; use a whole number, e.g. panda-error://pilot/1152."
            ) from exc
        try:
            explanation = explain_code(current_catalogue(), number, component)
        except (UnknownComponentError, CodeNotFoundError) as exc:
            raise ResourceNotFoundError(str(exc)) from exc
        return "\n\n".join(render.entry_markdown(entry) for entry in explanation.candidates)

    @server.prompt("explain-error-for-user")
    def explain_for_user(code: PromptCode, component: PromptComponent = None) -> str:
        """Explain an error code to a grid user in plain words."""
        return _prompt_text(code, component, "user")

    @server.prompt("explain-error-for-expert")
    def explain_for_expert(code: PromptCode, component: PromptComponent = None) -> str:
        """Explain an error code to a shift operator or site expert."""
        return _prompt_text(code, component, "expert")

    def _prompt_text(code: str, component: str | None, audience: render.Audience) -> str:
        reader = (
            "a physicist who runs jobs on the grid and does not know PanDA internals; use plain words, say what "
            "happened and what they can do"
            if audience == "user"
            else "a shift operator or site expert; be precise about the component, the job field, the likely "
            "causes and whether a retry elsewhere can help"
        )
        try:
            number = int(code.strip())
        except ValueError:
            logger.info("prompt for %s readers: code %r is not a number", audience, code)
            return (
                f"{code!r} is not an error code: PanDA error codes are whole numbers such as 1152, 65 or -15. Ask "
                "the user for the number, or for the diag text and call search_error_codes with it."
            )
        try:
            explanation = explain_code(current_catalogue(), number, component or None)
        except (UnknownComponentError, CodeNotFoundError) as exc:
            logger.info("prompt for %s readers: code %d not looked up: %s", audience, number, exc)
            return (
                f"Error code {number} could not be looked up: {exc} Ask the user for the diag text instead."
            )
        return (
            f"Explain PanDA error code {number} to {reader}. Base the answer only on the catalogue entry below; "
            f"if several meanings are listed, say which one fits and why.\n\n"
            + render.explanation_markdown(explanation, audience)
        )

    return server

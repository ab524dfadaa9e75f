"""Hostile arguments through an in-memory MCP client: 10 MB strings, and NUL bytes and odd Unicode in ids
(pandaid, PanDA queue names, error codes and components, docs ids).

Each call must come back as a ToolError the model can act on (not the bare "Error executing tool", at most
MAX_ERROR_CHARS long) or as a bounded result, and the server must stay usable. Over stdio the 10 MB case is in
test_e2e_stdio.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from tests.e2e_support import (
    FakeServices,
    build_in_memory,
    check_tool_error,
    fake_services,
    point_settings_at,
    result_text,
)

pytestmark = pytest.mark.anyio

BIG = "A" * 10_000_000
MAX_RESULT_CHARS = 200_000
"""A successful result longer than this is not bounded output. The logs budget tops out at 40 000 characters."""

HANG_GUARD_SECONDS = 30.0

Arguments = Callable[[FakeServices], dict[str, Any]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServices]:
    with fake_services(tmp_path_factory.mktemp("arguments")) as started:
        yield started


@pytest.fixture
def services(world: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeServices:
    world.http.clear_faults()
    world.http.requests.clear()
    point_settings_at(world, monkeypatch, tmp_path, ASKPANDA_MAX_RETRIES="0")
    return world


def check_bounded(tool: str, result: Any) -> None:
    """Assert the result is a usable ToolError or a bounded success."""
    if result.is_error:
        check_tool_error(tool, result)
    else:
        assert len(result_text(result)) <= MAX_RESULT_CHARS, (
            f"{tool}: result has {len(result_text(result))} characters"
        )


async def call_then_recover(
    server: str, tool: str, arguments: dict[str, Any], recovery: tuple[str, dict[str, Any]]
) -> tuple[Any, Any, float]:
    """Make the hostile call and then a valid call on the same session, and return both results and the first's seconds."""
    async with Client(await build_in_memory(server), mode="legacy") as client:
        started = time.perf_counter()
        result = await client.call_tool(tool, arguments)
        elapsed = time.perf_counter() - started
        after = await client.call_tool(*recovery)
    return result, after, elapsed


RECOVERY: dict[str, tuple[str, dict[str, Any]]] = {
    "errors": ("explain_error_code", {"code": 1152}),
    "logs": ("analyze_log", {"text": "ERROR pilot: error code: 1152, message: stage-out timed out"}),
    "sites": ("get_queue", {"name": "EXAMPLE-T1", "fields": ["maxrss"]}),
    "docs": ("list_doc_sources", {}),
}


HUGE_CASES: list[Any] = [
    pytest.param(
        "errors",
        "explain_error_code",
        lambda s: {"code": 1152, "component": BIG},
        id="errors-explain-component",
    ),
    pytest.param("errors", "search_error_codes", lambda s: {"text": BIG}, id="errors-search-text"),
    pytest.param(
        "errors",
        "list_error_codes",
        lambda s: {"component": BIG},
        id="errors-list-component",
    ),
    pytest.param(
        "errors",
        "list_error_codes",
        lambda s: {"category": BIG},
        id="errors-list-category",
    ),
    pytest.param("errors", "list_error_codes", lambda s: {"cursor": BIG}, id="errors-list-cursor"),
    pytest.param(
        "errors",
        "triage_job_errors",
        lambda s: {"errors": {BIG: 1}},
        id="errors-triage-key",
    ),
    pytest.param(
        "errors", "triage_job_errors", lambda s: {"errors": {"piloterrorcode": BIG}}, id="errors-triage-code"
    ),
    pytest.param(
        "errors",
        "triage_job_errors",
        lambda s: {"errors": {"piloterrorcode": 1152, "piloterrordiag": BIG}},
        id="errors-triage-diag",
    ),
    pytest.param("logs", "analyze_job_failure", lambda s: {"pandaid": BIG}, id="logs-analyze-pandaid"),
    pytest.param(
        "logs",
        "analyze_log",
        lambda s: {"path": BIG},
        id="logs-analyze-path",
    ),
    pytest.param("logs", "analyze_log", lambda s: {"text": BIG}, id="logs-analyze-text"),
    pytest.param(
        "logs",
        "read_log_lines",
        lambda s: {"source": BIG},
        id="logs-read-source",
    ),
    pytest.param(
        "logs",
        "read_log_lines",
        lambda s: {"source": str(s.log_dir), "filename": BIG},
        id="logs-read-filename",
    ),
    pytest.param(
        "logs",
        "read_log_lines",
        lambda s: {"source": str(s.pandaid), "filename": BIG},
        id="logs-read-remote-filename",
    ),
    pytest.param(
        "logs",
        "read_log_lines",
        lambda s: {"source": str(s.log_dir), "filename": "pilotlog.txt", "pattern": BIG},
        id="logs-read-pattern",
    ),
    pytest.param("sites", "get_queue", lambda s: {"name": BIG}, id="sites-get-queue"),
    pytest.param(
        "sites", "get_queue", lambda s: {"name": "EXAMPLE-T1", "fields": [BIG]}, id="sites-get-queue-field"
    ),
    pytest.param("sites", "find_queues", lambda s: {"status": BIG}, id="sites-find-status"),
    pytest.param("sites", "find_queues", lambda s: {"where": {BIG: 1}}, id="sites-find-where-key"),
    pytest.param("sites", "find_queues", lambda s: {"where": {"comment": BIG}}, id="sites-find-where-value"),
    pytest.param("sites", "find_queues", lambda s: {"sort": BIG}, id="sites-find-sort"),
    pytest.param("sites", "find_queues", lambda s: {"cursor": BIG}, id="sites-find-cursor"),
    pytest.param("sites", "summarize_queues", lambda s: {"group_by": BIG}, id="sites-summarize-group-by"),
    pytest.param("sites", "get_site", lambda s: {"site": BIG}, id="sites-get-site"),
    pytest.param("sites", "compare_queues", lambda s: {"names": [BIG, BIG + "B"]}, id="sites-compare"),
    pytest.param("sites", "describe_queue_field", lambda s: {"field": BIG}, id="sites-describe-field"),
    pytest.param("docs", "search_docs", lambda s: {"query": BIG}, id="docs-search-query"),
    pytest.param(
        "docs",
        "search_docs",
        lambda s: {"query": "pbook", "source": BIG},
        id="docs-search-source",
    ),
    pytest.param(
        "docs",
        "get_doc_section",
        lambda s: {"source": BIG},
        id="docs-section-source",
    ),
    pytest.param(
        "docs",
        "get_doc_section",
        lambda s: {"source": "fixture-site:notes/faq.md", "section": BIG},
        id="docs-section-title",
    ),
    pytest.param(
        "docs",
        "list_doc_sources",
        lambda s: {"source": BIG},
        id="docs-list-source",
    ),
    pytest.param(
        "docs",
        "index_docs",
        lambda s: {"sources": [BIG]},
        id="docs-index-source",
    ),
    pytest.param(
        "docs",
        "index_docs",
        lambda s: {"sources": [str(s.log_dir)], "name": BIG},
        id="docs-index-name",
    ),
]


@pytest.mark.parametrize(("server", "tool", "arguments_of"), HUGE_CASES)
async def test_ten_megabyte_argument(
    services: FakeServices, server: str, tool: str, arguments_of: Arguments
) -> None:
    result, after, elapsed = await call_then_recover(server, tool, arguments_of(services), RECOVERY[server])

    check_bounded(tool, result)
    assert not after.is_error, f"{server} unusable after the 10 MB call: {result_text(after)[:300]}"
    assert elapsed < HANG_GUARD_SECONDS


ODD_TEXTS = {
    "nul": "\x00",
    "rtl-override": "\u202e",
    "zero-width-space": "\u200b",
    "byte-order-mark": "\ufeff",
    "lone-surrogate": "\ud800",
    "combining-accent": "\u0301",
    "escape-sequence": "\x1b[31m",
}


@pytest.mark.parametrize("odd", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
@pytest.mark.parametrize("tool", ["analyze_job_failure", "get_job_status", "list_job_files"])
async def test_pandaid_with_odd_characters(services: FakeServices, tool: str, odd: str) -> None:
    for pandaid in (f"{services.pandaid}{odd}", f"{odd}{services.pandaid}"):
        result, after, _ = await call_then_recover("logs", tool, {"pandaid": pandaid}, RECOVERY["logs"])

        check_tool_error(tool, result, ("Invalid pandaid",))
        assert not after.is_error
    assert services.http.requests_to("/job") == []


@pytest.mark.parametrize(
    "digits",
    [
        "\uff17\uff11\uff10\uff10\uff10\uff10\uff10\uff11\uff10\uff11",
        "\u0667\u0661\u0660\u0660\u0660\u0660\u0660\u0661\u0660\u0661",
    ],
    ids=["fullwidth", "arabic-indic"],
)
async def test_non_ascii_digits_never_reach_monitor(services: FakeServices, digits: str) -> None:
    result, _, _ = await call_then_recover("logs", "get_job_status", {"pandaid": digits}, RECOVERY["logs"])

    check_bounded("get_job_status", result)
    for request in services.http.requests_to("/job"):
        assert all(re.fullmatch(r"[0-9]+", value) for value in request.query.get("pandaid", [])), (
            request.query
        )


@pytest.mark.parametrize("odd", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
@pytest.mark.parametrize(
    ("tool", "arguments_of"),
    [
        ("get_queue", lambda odd: {"name": f"EXAMPLE-T1{odd}"}),
        ("get_site", lambda odd: {"site": f"{odd}EXAMPLE-T1"}),
        ("compare_queues", lambda odd: {"names": ["EXAMPLE-T1", f"EXAMPLE{odd}-T1_TEST"]}),
        ("find_queues", lambda odd: {"where": {f"maxrss{odd}": 1}}),
    ],
    ids=["get_queue", "get_site", "compare_queues", "find_queues-where"],
)
async def test_queue_name_with_odd_characters(
    services: FakeServices, tool: str, arguments_of: Callable[[str], dict[str, Any]], odd: str
) -> None:
    if tool == "find_queues" and odd == ODD_TEXTS["lone-surrogate"]:
        pytest.skip(
            "the MCP Python client cannot encode a lone surrogate in a dict key, so it never reaches the server"
        )
    result, after, _ = await call_then_recover("sites", tool, arguments_of(odd), RECOVERY["sites"])

    check_tool_error(tool, result)
    assert not after.is_error


@pytest.mark.parametrize("odd", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
async def test_error_code_with_odd_characters(services: FakeServices, odd: str) -> None:
    component, _, _ = await call_then_recover(
        "errors", "explain_error_code", {"code": 1152, "component": f"pilot{odd}"}, RECOVERY["errors"]
    )
    triage, after, _ = await call_then_recover(
        "errors",
        "triage_job_errors",
        {"errors": {"piloterrorcode": f"1152{odd}", "jobstatus": "failed"}},
        RECOVERY["errors"],
    )

    check_tool_error("explain_error_code", component, ("Unknown component",))
    check_bounded("triage_job_errors", triage)
    if not triage.is_error:
        # The code cannot be read, so the result must report that instead of quietly calling the job a success.
        content = triage.structured_content
        assert content["retry_advice"] != "not-a-failure"
        assert any("piloterrorcode" in warning for warning in content.get("warnings", [])), content
    assert not after.is_error


@pytest.mark.parametrize("odd", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
async def test_docs_ids_with_odd_characters(services: FakeServices, odd: str) -> None:
    section, _, _ = await call_then_recover(
        "docs", "get_doc_section", {"source": f"fixture-site:notes/faq.md{odd}"}, RECOVERY["docs"]
    )
    search, after, _ = await call_then_recover(
        "docs", "search_docs", {"query": f"pbook{odd} kill"}, RECOVERY["docs"]
    )

    check_tool_error("get_doc_section", section)
    check_bounded("search_docs", search)
    assert not after.is_error


@pytest.mark.parametrize(
    "odd",
    [pytest.param(value, id=name) for name, value in ODD_TEXTS.items()],
)
async def test_pasted_log_with_odd_characters(services: FakeServices, odd: str) -> None:
    text = f"2026-03-02 08:15:01 | ERROR | pilot | stage-in failed{odd}: error code: 1331, message: missing input{odd}\n"

    result, after, _ = await call_then_recover("logs", "analyze_log", {"text": text}, RECOVERY["logs"])

    assert not result.is_error, result_text(result)[:300]
    assert len(result_text(result)) <= MAX_RESULT_CHARS
    assert not after.is_error

"""The CRIC question set answered through a real MCP client, with CRIC serving the 227-queue snapshot.

Each question maps to the one or two tool calls a model is expected to make. The answer is read from the
structured results and checked by the question's rule: equal, set-equal, or numbers rounded to 2 decimals.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client

from servers.sites.server import build_server
from shared.config import Settings
from tests.fakeserver import FakeHTTPServer, Fault
from tests.sites_support import CRIC_PATH, call, loopback_cric_settings

pytestmark = pytest.mark.reference


@pytest.fixture
def snapshot(reference_data: Path) -> Path:
    return reference_data / "cric" / "cric_pandaqueues.json"


@pytest.fixture
def settings(fake_http: FakeHTTPServer, snapshot: Path, tmp_path: Path) -> Settings:
    fake_http.route(CRIC_PATH, snapshot.read_bytes())
    return loopback_cric_settings(fake_http, tmp_path / "cache")


async def all_rows(client: Client, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the rows of every find_queues page."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await call(client, "find_queues", {**arguments, **({"cursor": cursor} if cursor else {})})
        rows.extend(page["queues"])
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


async def queue_value(client: Client, name: str, field: str) -> Any:
    return (await call(client, "get_queue", {"name": name, "fields": [field]}))["values"][field]


async def queue_names(client: Client, arguments: dict[str, Any]) -> list[str]:
    return [row["queue"] for row in await all_rows(client, {**arguments, "fields": []})]


Answer = Callable[[Client], Awaitable[Any]]

ANSWERS: dict[str, Answer] = {
    "c01": lambda client: queue_value(client, "AGLT2", "container_type"),
    "c02": lambda client: _counts(client, "cloud"),
    "c03": lambda client: queue_value(client, "BNL", "maxtime_hours"),
    "c04": lambda client: queue_value(client, "ANALY_BNL_VP", "site"),
    "c05": lambda client: queue_names(client, {"status": "online", "where": {"maxrss": ">64000"}}),
    "c06": lambda client: queue_names(client, {"cloud": "DE", "status": "test"}),
    "c07": lambda client: queue_value(client, "BNL", "acopytools.pw"),
    "c08": lambda client: _per_queue(client, {"site": "BNL"}, "corepower"),
    "c09": lambda client: queue_names(client, {"cloud": "CERN", "status": "brokeroff"}),
    "c10": lambda client: queue_value(client, "swt2_cpb", "maxrss"),
}


async def _counts(client: Client, group_by: str) -> dict[str, int]:
    return (await call(client, "summarize_queues", {"group_by": group_by}))["counts"]


async def _per_queue(client: Client, filters: dict[str, Any], field: str) -> dict[str, Any]:
    return {row["queue"]: row[field] for row in await all_rows(client, {**filters, "fields": [field]})}


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return round(float(expected), 2) == round(float(got), 2)
    return bool(expected == got)


def check(question: dict[str, Any], got: Any) -> None:
    expected = question["answer"]
    if question["check"] == "set-equal":
        assert sorted(got) == sorted(expected)
    elif isinstance(expected, dict):
        for key, value in expected.items():
            assert key in got, key
            assert _same(value, got[key]), (key, value, got[key])
    else:
        assert _same(expected, got), (expected, got)


def questions(reference_data: Path) -> list[dict[str, Any]]:
    lines = (reference_data / "eval" / "cric-questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_question_has_an_answer(reference_data: Path) -> None:
    assert {question["id"] for question in questions(reference_data)} <= set(ANSWERS)


@pytest.mark.anyio
async def test_questions_answered_exactly(settings: Settings, reference_data: Path) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        for question in questions(reference_data):
            got = await ANSWERS[question["id"]](client)
            check(question, got)


@pytest.mark.anyio
async def test_snapshot_units_and_counts(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        status = await call(client, "summarize_queues", {"group_by": "status"})
        resource = await call(client, "summarize_queues", {"group_by": "resource_type"})
        bnl = await call(
            client, "get_queue", {"name": "BNL", "fields": ["maxrss", "maxwdir", "maxtime", "corepower"]}
        )
    assert status["counts"] == {"online": 160, "test": 29, "brokeroff": 25, "offline": 13}
    assert resource["counts"] == {
        "GRID": 159,
        "hpc": 29,
        "cloud": 16,
        "gpu": 11,
        "hpc_special": 10,
        "cloud_special": 2,
    }
    assert bnl["units"] == {
        "maxrss": "MB",
        "maxwdir": "MB",
        "maxtime": "s",
        "maxtime_hours": "h",
        "corepower": "HS06 per core",
    }


@pytest.mark.anyio
async def test_snapshot_copytool_questions(settings: Settings) -> None:
    async with Client(build_server(settings), mode="legacy") as client:
        rucio_out = await call(client, "find_queues", {"copytool": "rucio", "activity": "pw", "limit": 0})
        mv_any = await call(client, "find_queues", {"copytool": "mv", "limit": 0})
        mv_out = await call(client, "find_queues", {"copytool": "mv", "activity": "pw", "limit": 0})
        site = await call(client, "get_site", {"site": "BNL"})
    assert rucio_out["total"] == 186
    assert mv_any["total"] == 35
    # 12 queues list mv for pw in acopytools; 23 ARC and HPC queues have an empty acopytools and copytools mv.
    assert mv_out["total"] == 35
    assert mv_out["notes"][0].startswith("23 matching queue(s) have an empty acopytools")
    assert site["queue_count"] == 7
    assert {queue["queue"]: queue["status"] for queue in site["queues"]}["BNL_Test"] == "brokeroff"


@pytest.mark.anyio
async def test_snapshot_cric_down_stale(settings: Settings, fake_http: FakeHTTPServer) -> None:
    async with Client(
        build_server(settings.model_copy(update={"cric_ttl_seconds": 0})), mode="legacy"
    ) as client:
        await call(client, "get_queue", {"name": "BNL", "fields": ["status"]})
        fake_http.add_fault(CRIC_PATH, Fault(kind="reset"), times=50)
        result = await call(client, "find_queues", {"site": "BNL", "limit": 0})
        with anyio.fail_after(10):
            while "previous refresh failed" not in (result["data"]["stale_reason"] or ""):
                await anyio.sleep(0.1)
                result = await call(client, "find_queues", {"site": "BNL", "limit": 0})
    assert result["total"] == 7
    assert result["data"]["stale"] is True
    assert result["data"]["age_seconds"] >= 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "expected"), [(Fault(kind="html"), "HTML page"), (Fault(kind="delay", seconds=2.0), "")]
)
async def test_snapshot_faults_without_cache(
    settings: Settings, fake_http: FakeHTTPServer, fault: Fault, expected: str
) -> None:
    fake_http.add_fault(CRIC_PATH, fault)
    async with Client(build_server(settings), mode="legacy") as client:
        with anyio.fail_after(10):
            result = await client.call_tool("get_queue", {"name": "BNL"})
    assert result.is_error
    text = result.content[0].text
    assert expected in text
    assert "No cached copy exists yet" in text

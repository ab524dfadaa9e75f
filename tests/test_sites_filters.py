"""Filter semantics of the sites server without MCP: operand checks, several conditions on one field,
`*` paths, copytools per activity as the pilot resolves them, and notes that explain a selection.

Most tests use the invented fixture tests/fixtures/sites/cric_small.json (see test_sites_queries.py);
the copytool tests build small tables inline, so each case has exactly the queues it needs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from servers.sites.cric import CricData, Provenance
from servers.sites.errors import QueryError
from servers.sites.filters import QueueFilters
from servers.sites.queues import compare_queues, find_queues, get_queue
from servers.sites.summary import summarize_queues
from servers.sites.table import build_table, read_table
from servers.sites.transfers import FROM_COPYTOOLS

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sites" / "cric_small.json"


@pytest.fixture(scope="module")
def data() -> CricData:
    return CricData(read_table(FIXTURE, source=str(FIXTURE)), Provenance(str(FIXTURE), time.time() - 30))


def table_data(queues: dict[str, dict[str, Any]]) -> CricData:
    return CricData(build_table(queues, source="inline"), Provenance("inline", time.time()))


def find(data: CricData, **kwargs: Any) -> list[str]:
    return [row.queue for row in find_queues(data, QueueFilters(**kwargs), limit=500).queues]


def error_of(data: CricData, **kwargs: Any) -> str:
    with pytest.raises(QueryError) as raised:
        find_queues(data, QueueFilters(**kwargs), limit=500)
    return str(raised.value)


# --- operands that cannot match ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "operand"),
    [(">abc", "abc"), (">NaN", "NaN"), (">=1e999", "1e999"), ("<inf", "inf"), ("> twelve", "twelve")],
)
def test_order_operand_not_number(data: CricData, value: str, operand: str) -> None:
    message = error_of(data, where={"maxrss": value})
    assert "maxrss has numeric values in MB" in message
    assert f"compares it with {operand!r}, which is not a finite number" in message
    assert "['>64000', '<100000']" in message


@pytest.mark.parametrize("value", [">", ">=", "<  ", "!="])
def test_operator_without_value(data: CricData, value: str) -> None:
    message = error_of(data, where={"maxrss": value})
    assert "maxrss" in message
    assert "Missing value" in message or "not a number" in message


def test_empty_string_on_numeric_field(data: CricData) -> None:
    message = error_of(data, where={"maxrss": ""})
    assert "maxrss has numeric values" in message
    assert "''" in message


def test_empty_string_on_text_field(data: CricData) -> None:
    message = error_of(data, where={"cloud": ""})
    assert "Empty value for cloud" in message


def test_word_on_numeric_field(data: CricData) -> None:
    message = error_of(data, where={"corecount": "eight"})
    assert "corecount has numeric values" in message
    assert "'eight'" in message


def test_number_on_text_field(data: CricData) -> None:
    message = error_of(data, where={"cloud": ">5"})
    assert "cloud has no numeric values" in message
    assert "maxrss" in message


def test_infinite_number_rejected(data: CricData) -> None:
    assert "finite" in error_of(data, where={"maxrss": float("inf")})
    assert "finite" in error_of(data, min={"maxrss": float("inf")})


def test_bound_not_number(data: CricData) -> None:
    message = error_of(data, min={"maxrss": "abc"})
    assert "min needs a finite number for maxrss" in message
    assert "'abc'" in message


def test_null_matches_null_and_notes_empty(data: CricData) -> None:
    assert find(data, where={"corecount": None}) == ["DEMO-HPC_GPU"]
    result = find_queues(data, QueueFilters(where={"maxrss": None}))
    assert result.total == 0
    assert result.filters == ["maxrss = null"]
    assert result.notes == ["No queue passes maxrss = null even on its own."]


def test_contradicting_filters_noted(data: CricData) -> None:
    result = find_queues(data, QueueFilters(cloud="YY", where={"maxtime_hours": ">=72"}))
    assert result.total == 0
    assert result.notes == ["Each filter matches some queues, but no queue passes all of them together."]


def test_text_order_still_compares_text(data: CricData) -> None:
    assert find(data, where={"status": ">p"}) == ["EXAMPLE-T1_TEST"]


def test_negated_typo_rejected(data: CricData) -> None:
    message = error_of(data, status="!=onlin")
    assert "'onlin'" in message
    assert "online" in message


# --- several conditions on one field -----------------------------------------------------------------


def test_operator_list_is_range(data: CricData) -> None:
    result = find_queues(data, QueueFilters(where={"maxrss": [">16000", "<64000"]}))
    assert [row.queue for row in result.queues] == ["EXAMPLE-T1", "EXAMPLE-T1_TEST", "SAMPLE_T2"]
    assert result.filters == ["maxrss > 16000", "maxrss < 64000"]


def test_plain_list_is_any_of(data: CricData) -> None:
    assert find(data, where={"maxrss": [4000, 16000]}) == ["ANALY_EXAMPLE-T1", "TRIAL_CLOUD"]


def test_plain_and_operator_list_mixed(data: CricData) -> None:
    assert find(data, status=["online", "test", "!=test"]) == [
        "DEMO-HPC",
        "EXAMPLE-T1",
        "SAMPLE_T2",
        "SAMPLE_T2_HIMEM",
        "TRIAL_CLOUD",
    ]


def test_named_filter_list(data: CricData) -> None:
    assert find(data, status=["test", "brokeroff"]) == find(data, status="test,brokeroff")
    assert find(data, status=["!=online", "!=offline"]) == ["ANALY_EXAMPLE-T1", "EXAMPLE-T1_TEST"]


def test_repeated_bounds(data: CricData) -> None:
    result = find_queues(data, QueueFilters(min={"maxrss": [16000, 40000]}))
    assert result.filters == ["maxrss >= 16000", "maxrss >= 40000"]
    assert [row.queue for row in result.queues] == [
        "DEMO-HPC",
        "DEMO-HPC_GPU",
        "EXAMPLE-T1",
        "EXAMPLE-T1_TEST",
        "SAMPLE_T2_HIMEM",
    ]


def test_list_shapes_rejected(data: CricData) -> None:
    assert "Empty list for maxrss" in error_of(data, where={"maxrss": []})
    assert "a list contains plain values" in error_of(data, where={"maxrss": [[1, 2]]})


def test_empty_named_filters_ignored(data: CricData) -> None:
    assert len(find(data, cloud="", status=" ", site=[])) == 8


# --- paths with * ------------------------------------------------------------------------------------


def test_star_through_list(data: CricData) -> None:
    assert find(data, where={"queues.*.ce_flavour": "ARC-CE"}) == ["SAMPLE_T2", "SAMPLE_T2_HIMEM"]
    assert find(data, where={"queues.*.ce_flavour": "ARC-CE"}) == find(
        data, where={"queues.ce_flavour": "ARC-CE"}
    )


def test_star_through_object(data: CricData) -> None:
    assert find(data, where={"astorages.*": "SAMPLE_DATADISK"}) == [
        "DEMO-HPC",
        "SAMPLE_T2",
        "SAMPLE_T2_HIMEM",
    ]


def test_star_path_unknown_key(data: CricData) -> None:
    message = error_of(data, where={"queues.*.flavour": "ARC-CE"})
    assert "'queues.*.flavour'" in message
    assert "ce_flavour" in message


def test_star_first_rejected(data: CricData) -> None:
    message = error_of(data, where={"*.ce_flavour": "ARC-CE"})
    assert "starts with '*'" in message
    assert "queues.*.ce_flavour" in message


def test_values_through_list_distinct(data: CricData) -> None:
    values = get_queue(data, "SAMPLE_T2", fields=["queues.ce_flavour", "queues.*.ce_flavour"]).values
    assert values == {"queues.ce_flavour": ["ARC-CE"], "queues.*.ce_flavour": ["ARC-CE"]}


# --- copytools per activity --------------------------------------------------------------------------

TRANSFER_QUEUES: dict[str, dict[str, Any]] = {
    "LISTED": {"site": "A", "copytools": {"mv": {}}, "acopytools": {"pw": ["mv"], "pr": ["rucio"]}},
    "FALLBACK": {"site": "B", "copytools": {"mv": {}, "rucio": {}}, "acopytools": {}},
    "NO_PW": {"site": "C", "copytools": {"mv": {}}, "acopytools": {"pr": ["mv"]}},
    "NOTHING": {"site": "D", "copytools": {}, "acopytools": {}},
    "RUCIO_ONLY": {"site": "E", "copytools": {"rucio": {}}, "acopytools": {}},
}


def test_copytool_falls_back_to_copytools() -> None:
    data = table_data(TRANSFER_QUEUES)
    result = find_queues(data, QueueFilters(copytool="mv", activity="pw"))
    rows = {row.queue: row.model_dump() for row in result.queues}
    assert list(rows) == ["FALLBACK", "LISTED"]
    assert rows["FALLBACK"]["copytool_source"] == FROM_COPYTOOLS
    assert "copytool_source" not in rows["LISTED"]
    assert rows["LISTED"]["acopytools.pw"] == ["mv"]
    assert result.filters == ["copytool for pw = mv"]


def test_copytool_fallback_notes() -> None:
    data = table_data(TRANSFER_QUEUES)
    notes = find_queues(data, QueueFilters(copytool="mv", activity="pw")).notes
    assert len(notes) == 3
    assert notes[0].startswith("1 matching queue(s) have an empty acopytools")
    assert notes[1].startswith("1 queue(s) that pass the other filters define acopytools without pw")
    assert notes[2].startswith("1 queue(s) that pass the other filters define neither")


def test_copytool_notes_count_other_filters() -> None:
    data = table_data(TRANSFER_QUEUES)
    result = find_queues(data, QueueFilters(copytool="rucio", activity="pw", site="B,E"))
    assert [row.queue for row in result.queues] == ["FALLBACK", "RUCIO_ONLY"]
    expected = (
        "2 matching queue(s) have an empty acopytools, so the pilot uses their copytools for pw as for every "
        "activity; copytool_source marks them."
    )
    assert result.notes == [expected]


def test_copytool_negated_per_activity() -> None:
    data = table_data(TRANSFER_QUEUES)
    assert find(data, copytool="!=mv", activity="pw") == ["RUCIO_ONLY"]


def test_copytool_without_activity_unchanged(data: CricData) -> None:
    assert find(data, copytool="mv") == ["DEMO-HPC", "DEMO-HPC_GPU"]


def test_copytool_fallback_on_fixture(data: CricData) -> None:
    assert find(data, copytool="mv", activity="pw") == ["DEMO-HPC", "DEMO-HPC_GPU"]
    assert find(data, copytool="rucio", activity="pw") == [
        "ANALY_EXAMPLE-T1",
        "EXAMPLE-T1",
        "EXAMPLE-T1_TEST",
        "SAMPLE_T2",
        "SAMPLE_T2_HIMEM",
        "TRIAL_CLOUD",
    ]


def test_copytool_unknown_for_activity_lists_known(data: CricData) -> None:
    message = error_of(data, copytool="gfal", activity="pw")
    assert "'gfal'" in message
    assert "mv, objectstore, rucio, xrdcp" in message


def test_summary_notes_copytool_fallback(data: CricData) -> None:
    result = summarize_queues(data, "site", QueueFilters(copytool="mv", activity="pw"))
    assert result.counts == {"DEMO-HPC": 2}
    assert any("empty acopytools" in note for note in result.notes)


# --- echoed values -----------------------------------------------------------------------------------


def test_long_values_cut_in_errors_and_filters(data: CricData) -> None:
    long_name = "Q" * 5000
    with pytest.raises(QueryError) as raised:
        get_queue(data, long_name)
    assert len(str(raised.value)) < 400
    assert "(5000 characters)" in str(raised.value)

    result = find_queues(data, QueueFilters(where={"comment": "~" + "x" * 900}))
    assert len(result.filters[0]) < 120
    assert result.filters[0].endswith("... (910 characters)")


def test_long_field_name_cut(data: CricData) -> None:
    message = error_of(data, where={"f" * 3000: 1})
    assert len(message) < 400


# --- compare_queues ----------------------------------------------------------------------------------


def test_compare_same_queue_twice(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        compare_queues(data, ["SAMPLE_T2", "sample_t2"])
    message = str(raised.value)
    assert "2 to 10 different queue names; got 1" in message
    assert "2 given" in message


def test_compare_case_repeats_dropped(data: CricData) -> None:
    result = compare_queues(data, ["SAMPLE_T2", "sample_t2", "TRIAL_CLOUD"], fields=["cloud"])
    assert result.queues == ["SAMPLE_T2", "TRIAL_CLOUD"]


def test_compare_unknown_names_worded(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        compare_queues(data, ["SAMPLE_T2", "ZZZZZZZZ", "TRIAL"])
    message = str(raised.value)
    assert "No PanDA queue named 'ZZZZZZZZ' (no close match)" in message
    assert "No PanDA queue named 'TRIAL' (close matches: TRIAL_CLOUD" in message
    assert "Close matches: 'ZZZZZZZZ'" not in message
    assert message.endswith("Call find_queues to list queues by site, cloud or any field.")


# --- limits and cursors ------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [-1, 501, 100000])
def test_find_limit_out_of_range(data: CricData, limit: int) -> None:
    with pytest.raises(QueryError) as raised:
        find_queues(data, QueueFilters(), limit=limit)
    assert f"limit must be 0 to 500 queues per page; got {limit}" in str(raised.value)


def test_summary_limit_zero(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        summarize_queues(data, "cloud", QueueFilters(), limit=0)
    assert "limit must be 1 to 500 groups per page; got 0" in str(raised.value)


def test_cursor_of_other_tool(data: CricData) -> None:
    cursor = find_queues(data, QueueFilters(), limit=1).next_cursor
    with pytest.raises(QueryError) as raised:
        summarize_queues(data, "cloud", QueueFilters(), cursor=cursor)
    message = str(raised.value)
    assert "comes from find_queues, not summarize_queues" in message
    assert "belongs to a summarize_queues call" not in message


def test_comma_list_with_operators(data: CricData) -> None:
    assert find(data, status="!=online,!=offline") == ["ANALY_EXAMPLE-T1", "EXAMPLE-T1_TEST"]
    assert find(data, status="test, brokeroff") == ["ANALY_EXAMPLE-T1", "EXAMPLE-T1_TEST"]

"""Queries of the sites server on the invented CRIC fixture, without MCP.

tests/fixtures/sites/cric_small.json contains 8 invented queues in CRIC's shape: sites EXAMPLE-T1 (3 queues,
cloud ZZ), SAMPLE (2, cloud YY), DEMO-HPC (2, copytool mv and no acopytools) and TRIAL (1, cloud ZZ).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from servers.sites.cric import CricData, Provenance
from servers.sites.errors import QueryError
from servers.sites.filters import QueueFilters
from servers.sites.queues import compare_queues, find_queues, get_queue, get_site
from servers.sites.summary import describe_field, summarize_queues
from servers.sites.table import read_table
from servers.sites.values import parse_value, values_equal

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sites" / "cric_small.json"


@pytest.fixture(scope="module")
def data() -> CricData:
    return CricData(read_table(FIXTURE, source=str(FIXTURE)), Provenance(str(FIXTURE), time.time() - 30))


def names(result) -> list[str]:
    return [row.queue for row in result.queues]


def find(data: CricData, **kwargs) -> list[str]:
    return names(find_queues(data, QueueFilters(**kwargs), limit=500))


# --- normalisation -----------------------------------------------------------------------------------


def test_record_normalised(data: CricData) -> None:
    record = data.table.queues["ANALY_EXAMPLE-T1"]
    assert record["queue"] == "ANALY_EXAMPLE-T1"
    assert record["maxrss"] == 4000
    assert record["maxtime"] == 86400
    assert record["maxtime_hours"] == 24
    assert list(record).index("maxtime_hours") == list(record).index("maxtime") + 1


# --- get_queue ---------------------------------------------------------------------------------------


def test_get_queue_ignores_case(data: CricData) -> None:
    result = get_queue(data, "example-t1", fields=["maxtime", "corepower"])
    assert result.queue == "EXAMPLE-T1"
    assert result.values == {"maxtime": 345600, "maxtime_hours": 96, "corepower": 14.25}
    assert result.units == {"maxtime": "s", "maxtime_hours": "h", "corepower": "HS06 per core"}
    assert result.note is not None and "example-t1" in result.note


def test_get_queue_all_fields(data: CricData) -> None:
    result = get_queue(data, "SAMPLE_T2")
    assert result.note is None
    assert result.values["container_type"] == "apptainer:pilot;container:middleware"
    assert result.units["maxrss"] == "MB"
    assert len(result.values) == len(data.table.queues["SAMPLE_T2"])


def test_get_queue_dotted_fields(data: CricData) -> None:
    result = get_queue(
        data, "EXAMPLE-T1", fields=["acopytools.pw", "queues.ce_flavour", "params.resource_type_limits.SCORE"]
    )
    assert result.values["acopytools.pw"] == ["rucio"]
    assert result.values["queues.ce_flavour"] == ["HTCONDOR-CE"]
    assert result.values["params.resource_type_limits.SCORE"] == 2000


def test_get_queue_unknown_lists_close_matches(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        get_queue(data, "SAMPLE_T2_HIMEN")
    message = str(raised.value)
    assert "'SAMPLE_T2_HIMEN'" in message
    assert "SAMPLE_T2_HIMEM" in message
    assert "find_queues" in message


def test_get_queue_site_name_points_to_site(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        get_queue(data, "SAMPLE")
    assert "SAMPLE is a PanDA site" in str(raised.value)
    assert "SAMPLE_T2, SAMPLE_T2_HIMEM" in str(raised.value)
    assert "get_site" in str(raised.value)


def test_get_queue_unknown_field(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        get_queue(data, "SAMPLE_T2", fields=["walltime"])
    assert "'walltime'" in str(raised.value)
    assert "maxtime" in str(raised.value)


# --- find_queues: named filters ----------------------------------------------------------------------


def test_find_by_cloud_and_status(data: CricData) -> None:
    assert find(data, cloud="zz", status="online") == ["EXAMPLE-T1", "TRIAL_CLOUD"]


def test_find_any_of_and_negation(data: CricData) -> None:
    assert find(data, status="test,brokeroff") == ["ANALY_EXAMPLE-T1", "EXAMPLE-T1_TEST"]
    assert find(data, site="DEMO-HPC", status="!=online") == ["DEMO-HPC_GPU"]


def test_find_default_fields_show_filters(data: CricData) -> None:
    result = find_queues(data, QueueFilters(tier="T2D", where={"maxrss": ">32000"}))
    assert [row.model_dump() for row in result.queues] == [
        {
            "queue": "SAMPLE_T2_HIMEM",
            "site": "SAMPLE",
            "cloud": "YY",
            "status": "online",
            "tier": "T2D",
            "maxrss": 96000,
        }
    ]
    assert result.filters == ["tier = T2D", "maxrss > 32000"]
    assert result.units == {"maxrss": "MB"}


def test_find_names_only(data: CricData) -> None:
    result = find_queues(data, QueueFilters(site="SAMPLE"), fields=[])
    assert [row.model_dump() for row in result.queues] == [
        {"queue": "SAMPLE_T2"},
        {"queue": "SAMPLE_T2_HIMEM"},
    ]


def test_find_container_type_exact_or_contains(data: CricData) -> None:
    assert find(data, container_type="singularity:pilot") == [
        "ANALY_EXAMPLE-T1",
        "DEMO-HPC_GPU",
        "EXAMPLE-T1",
        "EXAMPLE-T1_TEST",
        "SAMPLE_T2_HIMEM",
    ]
    assert find(data, container_type="~apptainer") == ["SAMPLE_T2"]


def test_find_invalid_status_lists_values(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        find(data, status="brokenoff")
    assert "'brokenoff'" in str(raised.value)
    assert "brokeroff, offline, online, test" in str(raised.value)


def test_find_value_of_other_field(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        find(data, cloud="Erewhon")
    assert "YY, ZZ" in str(raised.value)
    assert "is a value of country" in str(raised.value)


# --- find_queues: transfers --------------------------------------------------------------------------


def test_find_copytool_any_activity(data: CricData) -> None:
    assert find(data, copytool="mv") == ["DEMO-HPC", "DEMO-HPC_GPU"]
    assert find(data, copytool="xrdcp") == ["EXAMPLE-T1_TEST"]


def test_find_copytool_per_activity(data: CricData) -> None:
    assert find(data, copytool="xrdcp", activity="pl") == ["EXAMPLE-T1_TEST"]
    assert find(data, copytool="objectstore", activity="es_events") == ["TRIAL_CLOUD"]
    assert "DEMO-HPC" not in find(data, copytool="rucio", activity="pw")


def test_find_activity_alone(data: CricData) -> None:
    assert find(data, activity="write_lan_analysis") == ["EXAMPLE-T1"]


def test_find_storage(data: CricData) -> None:
    assert find(data, storage="sample_datadisk") == ["DEMO-HPC", "SAMPLE_T2", "SAMPLE_T2_HIMEM"]
    assert find(data, storage="EXAMPLE-T1_SCRATCHDISK", activity="pw") == [
        "ANALY_EXAMPLE-T1",
        "EXAMPLE-T1_TEST",
    ]


def test_find_unknown_copytool_and_activity(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        find(data, copytool="gfal")
    assert "mv, objectstore, rucio, xrdcp" in str(raised.value)

    with pytest.raises(QueryError) as raised:
        find(data, copytool="rucio", activity="stage-out")
    assert "pw (stage-out of output files" in str(raised.value)


# --- find_queues: where, min, max --------------------------------------------------------------------


def test_where_dotted_path_into_list(data: CricData) -> None:
    assert find(data, where={"queues.ce_flavour": "ARC-CE"}) == ["SAMPLE_T2", "SAMPLE_T2_HIMEM"]
    assert find(data, where={"queues.ce_queue_maxwctime": "<1440"}) == ["EXAMPLE-T1_TEST"]


def test_where_list_membership_and_keys(data: CricData) -> None:
    assert find(data, where={"hc_suite": "AFT"}) == ["ANALY_EXAMPLE-T1", "EXAMPLE-T1"]
    assert find(data, where={"params": "pilot_rss_grace"}) == ["EXAMPLE-T1"]
    assert find(data, where={"hc_suite": ["GPU", "AFT"]}) == [
        "ANALY_EXAMPLE-T1",
        "DEMO-HPC_GPU",
        "EXAMPLE-T1",
    ]


def test_where_null_bool_and_number(data: CricData) -> None:
    assert find(data, where={"corecount": None}) == ["DEMO-HPC_GPU"]
    assert find(data, where={"parent": "!=null"}) == ["SAMPLE_T2_HIMEM"]
    assert find(data, where={"is_default": True, "cloud": "YY"}) == ["DEMO-HPC"]
    assert find(data, where={"corecount": 64}) == ["DEMO-HPC"]
    assert find(data, where={"corecount": 3}) == []


def test_where_text_operators(data: CricData) -> None:
    assert find(data, where={"comment": "~hc.blacklist"}) == ["EXAMPLE-T1_TEST"]
    assert find(data, where={"maxtime_hours": ">=72"}) == ["EXAMPLE-T1", "EXAMPLE-T1_TEST", "TRIAL_CLOUD"]


def test_where_operator_object(data: CricData) -> None:
    assert find(data, where={"maxrss": {"gt": 64000}}) == ["SAMPLE_T2_HIMEM"]
    assert find(data, where={"corepower": {"$gte": 12.5, "$lt": 14}}) == ["ANALY_EXAMPLE-T1"]
    assert find(data, where={"status": {"!=": "online"}, "cloud": "ZZ"}) == [
        "ANALY_EXAMPLE-T1",
        "EXAMPLE-T1_TEST",
    ]
    with pytest.raises(QueryError) as raised:
        find(data, where={"maxrss": {"between": [1, 2]}})
    assert "'>64000'" in str(raised.value)


def test_min_max_inclusive(data: CricData) -> None:
    assert find(data, min={"maxrss": 64000}) == ["DEMO-HPC", "DEMO-HPC_GPU", "SAMPLE_T2_HIMEM"]
    assert find(data, where={"maxrss": ">64000"}) == ["SAMPLE_T2_HIMEM"]
    assert find(data, min={"corepower": 10}, max={"corepower": 12.5}) == [
        "ANALY_EXAMPLE-T1",
        "SAMPLE_T2",
        "SAMPLE_T2_HIMEM",
    ]


def test_where_unknown_paths(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        find(data, where={"queues.flavour": "ARC-CE"})
    assert "ce_flavour" in str(raised.value)

    with pytest.raises(QueryError) as raised:
        find(data, where={"memory": 4000})
    assert "maxrss" in str(raised.value)


def test_min_on_text_field(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        find(data, min={"cloud": 1})
    assert "numeric" in str(raised.value)
    assert "maxrss" in str(raised.value)


# --- find_queues: sort and pages ---------------------------------------------------------------------


def test_sort_descending_missing_last(data: CricData) -> None:
    result = find_queues(data, QueueFilters(), sort="-corecount", fields=["corecount"], limit=500)
    assert names(result)[0] == "DEMO-HPC"
    assert names(result)[-1] == "DEMO-HPC_GPU"


def test_pages_cover_every_queue(data: CricData) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = find_queues(data, QueueFilters(), fields=[], limit=3, cursor=cursor)
        assert page.total == 8
        seen.extend(names(page))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(data.table.queues, key=str.casefold)


def test_cursor_of_other_query(data: CricData) -> None:
    page = find_queues(data, QueueFilters(cloud="ZZ"), limit=1)
    assert page.next_cursor is not None
    with pytest.raises(QueryError) as raised:
        find_queues(data, QueueFilters(cloud="YY"), limit=1, cursor=page.next_cursor)
    assert "other filters" in str(raised.value)

    with pytest.raises(QueryError):
        find_queues(data, QueueFilters(), cursor="not a cursor!")


# --- summarize_queues --------------------------------------------------------------------------------


def test_summary_counts_by_cloud(data: CricData) -> None:
    result = summarize_queues(data, "cloud", QueueFilters())
    assert result.counts == {"ZZ": 4, "YY": 4}
    assert result.total_queues == 8
    assert result.notes == []


def test_summary_multi_valued_and_none(data: CricData) -> None:
    result = summarize_queues(data, "hc_suite", QueueFilters())
    assert result.counts == {"PFT": 5, "AFT": 2, "(none)": 1, "GPU": 1}
    assert len(result.notes) == 1
    assert "more than total_queues" in result.notes[0]


def test_summary_stats_with_filters(data: CricData) -> None:
    result = summarize_queues(data, "site", QueueFilters(cloud="ZZ"), stats="corepower")
    assert result.counts == {"EXAMPLE-T1": 3, "TRIAL": 1}
    assert result.stats is not None
    assert result.stats["EXAMPLE-T1"].model_dump() == {
        "count": 3,
        "min": 12.5,
        "max": 14.25,
        "mean": 13.6667,
        "sum": 41.0,
    }
    assert result.units == {"corepower": "HS06 per core"}


def test_summary_pages(data: CricData) -> None:
    first = summarize_queues(data, "queue", QueueFilters(), limit=5)
    assert len(first.counts) == 5
    second = summarize_queues(data, "queue", QueueFilters(), limit=5, cursor=first.next_cursor)
    assert len(second.counts) == 3
    assert second.next_cursor is None


# --- get_site ----------------------------------------------------------------------------------------


def test_site_queues_and_transfers(data: CricData) -> None:
    result = get_site(data, "EXAMPLE-T1")
    assert [queue.queue for queue in result.queues] == ["ANALY_EXAMPLE-T1", "EXAMPLE-T1", "EXAMPLE-T1_TEST"]
    test_queue = result.queues[2]
    assert test_queue.acopytools == {"pr,pw,read_lan,write_lan": ["rucio"], "pl": ["xrdcp"]}
    assert test_queue.copytools == ["rucio", "xrdcp"]
    assert result.atlas_site == ["EXAMPLE-T1-GRID"]
    assert "pl" in result.activities


def test_site_long_storage_list_cut(data: CricData) -> None:
    queue = get_site(data, "EXAMPLE-T1").queues[1]
    assert len(queue.astorages["pr,read_lan"]) == 12
    assert queue.astorages_left_out == {"pr,read_lan": 3}


def test_site_by_queue_or_atlas_site(data: CricData) -> None:
    by_queue = get_site(data, "sample_t2_himem")
    assert by_queue.site == "SAMPLE"
    assert "is a PanDA queue" in by_queue.notes[0]

    by_atlas_site = get_site(data, "EXAMPLE-T1-GRID")
    assert by_atlas_site.site == "EXAMPLE-T1"
    assert "atlas_site" in by_atlas_site.notes[0]


def test_site_notes_copytool_fallback(data: CricData) -> None:
    result = get_site(data, "DEMO-HPC", fields=["corecount"])
    assert any("acopytools is empty" in note for note in result.notes)
    assert result.queues[0].values == {"corecount": 64}


def test_site_unknown(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        get_site(data, "EXAMPLE")
    assert "No PanDA site named 'EXAMPLE'" in str(raised.value)
    assert "EXAMPLE-T1" in str(raised.value)


# --- compare_queues ----------------------------------------------------------------------------------


def test_compare_differences_only(data: CricData) -> None:
    result = compare_queues(data, ["SAMPLE_T2", "sample_t2_himem"])
    assert result.queues == ["SAMPLE_T2", "SAMPLE_T2_HIMEM"]
    assert result.values["maxrss"] == {"SAMPLE_T2": 32000, "SAMPLE_T2_HIMEM": 96000}
    assert "name" not in result.values
    assert "corepower" in result.identical
    assert "corepower" not in result.values


def test_compare_chosen_fields(data: CricData) -> None:
    result = compare_queues(data, ["EXAMPLE-T1", "TRIAL_CLOUD"], fields=["cloud", "maxtime"])
    assert result.values["cloud"] == {"EXAMPLE-T1": "ZZ", "TRIAL_CLOUD": "ZZ"}
    assert result.values["maxtime_hours"] == {"EXAMPLE-T1": 96, "TRIAL_CLOUD": 72}
    assert result.identical == ["cloud"]


def test_compare_rejects_bad_names(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        compare_queues(data, ["SAMPLE_T2"])
    assert "2 to 10" in str(raised.value)

    with pytest.raises(QueryError) as raised:
        compare_queues(data, ["SAMPLE_T2", "TRIAL"])
    assert "'TRIAL'" in str(raised.value)
    assert "TRIAL_CLOUD" in str(raised.value)


# --- describe_queue_field ----------------------------------------------------------------------------


def test_field_list(data: CricData) -> None:
    report = describe_field(data, None)
    listed = {brief.name: brief for brief in report.fields}
    assert report.detail is None
    assert listed["maxrss"].unit == "MB"
    assert "maxtime_hours" in listed


def test_field_detail(data: CricData) -> None:
    detail = describe_field(data, "maxrss").detail
    assert detail is not None
    assert detail.unit == "MB"
    assert detail.min == 4000
    assert detail.max == 96000
    assert detail.top_values[0].model_dump() == {"value": 48000, "queues": 2}


def test_field_detail_activities(data: CricData) -> None:
    detail = describe_field(data, "acopytools").detail
    assert detail is not None
    assert detail.activities is not None and "write_lan" in detail.activities
    assert "pl" in detail.subfields


def test_field_unknown(data: CricData) -> None:
    with pytest.raises(QueryError) as raised:
        describe_field(data, "ce_flavor")
    assert "queues.ce_flavour" in str(raised.value)


# --- value comparison --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        ("online", "ONLINE", True),
        ("online", "onlin", False),
        (48000, "48000", True),
        (48000, 48000.0, True),
        ("3", 3, True),
        (True, "true", True),
        (False, "yes", False),
        (True, 1, False),
        (None, None, True),
        (None, "null", True),
        ("", None, False),
        ("True", True, True),
    ],
)
def test_values_equal(actual: object, expected: object, equal: bool) -> None:
    assert values_equal(actual, expected) is equal


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (">64000", ("gt", 64000)),
        (">= 1.5", ("ge", 1.5)),
        ("<2024-01-01", ("lt", "2024-01-01")),
        ("!=null", ("ne", None)),
        ("~apptainer", ("contains", "apptainer")),
        ("!~test", ("not_contains", "test")),
        (["a", "b"], ("in", ["a", "b"])),
        ("plain", ("eq", "plain")),
        (5, ("eq", 5)),
    ],
)
def test_parse_value(raw: object, parsed: tuple[str, object]) -> None:
    assert parse_value(raw) == parsed

"""Search of error codes by pasted diags and plain words, on the fixture catalogue and on the shipped one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.errorcodes import SearchIndex, SearchResult
from tests.errors_support import fixture_catalogue, package_catalogue

OWN_QUERIES = Path(__file__).resolve().parent / "fixtures" / "errors" / "search-queries.jsonl"


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(fixture_catalogue())


def _keys(result: SearchResult) -> list[str]:
    return [f"{hit.component}:{hit.code}" for hit in result.hits]


def test_pilot_exception_text(index: SearchIndex) -> None:
    result = index.search("PilotException: error code: 1368, message: Remote file open timed out")
    assert _keys(result)[0] == "pilot:1368"
    assert "pilot 1368 (pilot error code)" in result.codes_in_text


def test_standard_message_with_diag(index: SearchIndex) -> None:
    text = (
        "File transfer timed out during stage-out: mc23_13p6TeV:HITS.46886971._004521.pool.root.1 to "
        "RAL-LCG2-ECHO_DATADISK, copy command timed out: TimeoutException: Timeout reached, timeout=1758 seconds"
    )
    result = index.search(text)
    assert _keys(result)[0] == "pilot:1152"
    assert "official message in text" in result.hits[0].matched


def test_traceback_ending_in_exception(index: SearchIndex) -> None:
    text = (
        'Traceback (most recent call last):\n  File "/srv/pilot3/pilot/control/data.py", line 348, in _stage_in\n'
        "pilot.common.exception.StageInFailure: error code: 1099, message: Failed to stage-in file\n"
        "details: failed to transfer files using copytools=['rucio']"
    )
    assert _keys(index.search(text))[0] == "pilot:1099"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("md5 mismatch", "pilot:1145"),
        ("MD5SUM MISMATCH!!! on input", "pilot:1145"),
        ("no space left", "pilot:1098"),
        ("remote file open timed out", "pilot:1368"),
        ("proxy expired", "pilot:1373"),
        ("job ran out of memory, RSS too high", "pilot:1235"),
        ("seg fault", "pilot:1203"),
        ("transform got SIGTERM", "transform:143"),
        ("Validation failure in transform substep executor", "transform:66"),
    ],
)
def test_plain_words(index: SearchIndex, text: str, expected: str) -> None:
    assert expected in _keys(index.search(text))[:3]


@pytest.mark.parametrize(
    "text",
    [
        "job killed because it stopped writing output",
        "the payload stopped producing output and was killed",
        "no output written for two hours",
        "no file activity for 3 hours",
    ],
)
def test_stopped_output_means_looping(index: SearchIndex, text: str) -> None:
    assert _keys(index.search(text))[0] == "pilot:1150"


def test_signal_name_prefers_payload_crash(index: SearchIndex) -> None:
    result = index.search("SIGSEGV")
    keys = _keys(result)
    assert keys.index("pilot:1328") < keys.index("pilot:1203")
    pilot_hit = result.hits[keys.index("pilot:1203")]
    assert not any("exit status" in reason for reason in pilot_hit.matched)
    assert "SIGSEGV named in text (139 = 128 + 11)" in result.hits[keys.index("transform:139")].matched


def test_exit_status_number_lifts_pilot_code(index: SearchIndex) -> None:
    result = index.search("the pilot exited with exit status 137")
    keys = _keys(result)
    assert keys.index("pilot:1200") < keys.index("pilot-exit:137")
    assert "pilot exit status 137 stands for this code" in result.hits[keys.index("pilot:1200")].matched


def test_matched_words_as_written(index: SearchIndex) -> None:
    hit = index.search("files were killed and no space left")
    words = [reason for hit in hit.hits for reason in hit.matched if reason.startswith("words:")]
    assert any("killed" in reason for reason in words)
    assert not any(" kill," in reason or reason.endswith(" kill") for reason in words)
    nospace = index.search("No space left on the scratch disk").hits[0]
    assert any("No space left" in reason for reason in nospace.matched)


def test_long_query_shortened(index: SearchIndex) -> None:
    result = index.search("Remote file open timed out " * 200)
    assert len(result.query) <= 80
    assert result.query.endswith("…")


def test_hosts_paths_and_numbers_ignored(index: SearchIndex) -> None:
    text = "Remote file open timed out for root://xrootd.example.org:1094//atlas/rucio/data23/AOD.123456._000001.pool.root.1"
    assert _keys(index.search(text))[0] == "pilot:1368"


def test_typo_tolerated(index: SearchIndex) -> None:
    assert _keys(index.search("certficate has expried"))[0] == "pilot:1373"


def test_wnscripts_variants_folded(index: SearchIndex) -> None:
    result = index.search("runAthena: Athena Failure")
    first = result.hits[0]
    assert (first.component, first.code, first.script) == ("wnscripts", 5406, "runAthena")
    assert 5106 in first.other_codes
    assert (
        len([hit for hit in result.hits if hit.component == "wnscripts" and hit.acronym == "ATHENA_FAILURE"])
        == 1
    )


def test_limit_respected(index: SearchIndex) -> None:
    assert len(index.search("file", limit=2).hits) <= 2


def test_nothing_matches(index: SearchIndex) -> None:
    assert index.search("zzzz qqqq").hits == []


def _top3_accuracy(catalogue_index: SearchIndex, queries: list[dict[str, object]]) -> tuple[float, list[str]]:
    misses = []
    for query in queries:
        keys = _keys(catalogue_index.search(str(query["text"]), limit=3))
        if not set(keys) & set(query["accept"]):  # type: ignore[arg-type]
            misses.append(f"{query['text']!r}: got {keys}, want {query['accept']}")
    return 1 - len(misses) / len(queries), misses


@pytest.fixture(scope="module")
def package_index() -> SearchIndex:
    return SearchIndex(package_catalogue())


@pytest.mark.reference
def test_reference_diag_queries_top3(reference_data: Path, package_index: SearchIndex) -> None:
    lines = (reference_data / "eval" / "diag-queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line) for line in lines if line.strip()]
    accuracy, misses = _top3_accuracy(package_index, queries)
    assert accuracy >= 0.95, misses


def test_own_queries_top3(package_index: SearchIndex) -> None:
    queries = [
        json.loads(line) for line in OWN_QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    accuracy, misses = _top3_accuracy(package_index, queries)
    assert accuracy >= 0.9, misses

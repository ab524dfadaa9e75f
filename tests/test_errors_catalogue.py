"""Error catalogue: loading, validation, invariants of the shipped data, and completeness against the sources."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from shared.errorcodes import (
    CATEGORIES,
    RETRY_ADVICE,
    Catalogue,
    CatalogueError,
    UnknownComponentError,
    load_catalogue,
)
from shared.errorcodes.catalogue import find_duplicates
from tests.errors_support import FIXTURE_DATA, fixture_catalogue, package_catalogue

TEXT_FIELDS = ("user_explanation", "expert_explanation", "retry_reason")
LIST_FIELDS = ("likely_causes", "suggested_actions")


def _check_invariants(catalogue: Catalogue) -> None:
    assert len(catalogue) > 0
    assert find_duplicates(catalogue.entries) == []
    for entry in catalogue.entries:
        where = f"{entry.key} {entry.script or ''} {entry.acronym}"
        for name in TEXT_FIELDS:
            assert getattr(entry, name).strip(), f"{where}: empty {name}"
        for name in LIST_FIELDS:
            items = getattr(entry, name)
            assert items, f"{where}: empty {name}"
            assert all(item.strip() for item in items), f"{where}: blank item in {name}"
        assert all(keyword.strip() for keyword in entry.keywords), f"{where}: blank keyword"
        assert entry.category in CATEGORIES, where
        assert entry.retry_advice in RETRY_ADVICE, where
        if entry.component != "pilot-exit":
            assert entry.job_field is not None, f"{where}: no job field"
        if entry.component == "pilot-exit":
            assert entry.pilot_error_code is not None, f"{where}: exit status without its pilot code"


def test_fixture_catalogue_invariants() -> None:
    _check_invariants(fixture_catalogue())


def test_package_catalogue_invariants() -> None:
    _check_invariants(package_catalogue())


def test_package_catalogue_messages_present() -> None:
    # Only the supervisor codes and the legacy per-script codes have no official message in the sources.
    for entry in package_catalogue().entries:
        if entry.component not in ("supervisor", "wnscripts-legacy"):
            assert entry.message.strip(), f"{entry.key}: empty message"


def test_wnscripts_expanded_per_script() -> None:
    catalogue = fixture_catalogue()
    codes = {entry.code for entry in catalogue.select(component="wnscripts") if entry.base_code == 6}
    assert codes == {5106, 5206, 5306, 5406, 5506, 5606, 5706}

    entry = catalogue.get("wnscripts", 5406)[0]
    assert entry.script == "runAthena"
    assert entry.base_code == 6
    assert entry.set_by_script is True
    assert "runAthena" in entry.user_explanation
    assert catalogue.get("wnscripts", 5106)[0].set_by_script is False


def test_runcontainer_rows_kept_as_stored() -> None:
    entries = fixture_catalogue().get("wnscripts", 1163)
    assert [entry.script for entry in entries] == ["runcontainer", "runcontainer"]
    assert entries[0].message != entries[1].message


def test_removed_codes_are_historical() -> None:
    catalogue = fixture_catalogue()
    brokerage = catalogue.get("brokerage", 100)
    assert brokerage and brokerage[0].historical
    assert brokerage[0].job_field == "brokerageErrorCode"
    assert catalogue.get("taskbuffer", 110)[0].historical


def test_lookup_ranks_by_job_field() -> None:
    catalogue = fixture_catalogue()
    assert [entry.component for entry in catalogue.lookup(100)][:3] == [
        "taskbuffer",
        "dataservice",
        "jobdispatcher",
    ]
    assert catalogue.lookup(100, job_field="jobDispatcherErrorCode")[0].component == "jobdispatcher"
    assert catalogue.lookup(100, job_field="ddmerrorcode")[0].component == "dataservice"
    assert catalogue.lookup(139, job_field="transExitCode")[0].component == "transform"
    assert {entry.component for entry in catalogue.lookup(100)} == {
        "taskbuffer",
        "dataservice",
        "jobdispatcher",
        "brokerage",
    }


def test_lookup_by_component_alias() -> None:
    catalogue = fixture_catalogue()
    assert [entry.acronym for entry in catalogue.lookup(251, component="trf")] == [
        "TRF_EXTERNAL",
        "TRF_UNEXPECTED_OTHER_EXCEPTION",
    ]
    with pytest.raises(UnknownComponentError):
        catalogue.lookup(1, component="nonsense")
    with pytest.raises(ValueError):
        catalogue.lookup(1, job_field="nonsenseErrorCode")


def test_lookup_payload_of_user_job() -> None:
    catalogue = fixture_catalogue()
    entries = catalogue.lookup_payload(
        6, "transexitcode", "http://pandaserver.cern.ch:25085/trf/user/runAthena-00-00-12"
    )
    assert entries[0].code == 5406


def test_invalid_file_names_file_and_field(tmp_path: Path) -> None:
    data = json.loads((FIXTURE_DATA / "pilot.json").read_text())
    data["entries"][0]["category"] = "Storage"
    (tmp_path / "pilot.json").write_text(json.dumps(data))
    with pytest.raises(CatalogueError, match=r"pilot\.json at entries\.0\.category"):
        load_catalogue(tmp_path)


def test_empty_explanation_rejected(tmp_path: Path) -> None:
    data = json.loads((FIXTURE_DATA / "pilot.json").read_text())
    data["entries"][1]["user_explanation"] = ""
    (tmp_path / "pilot.json").write_text(json.dumps(data))
    with pytest.raises(CatalogueError, match="user_explanation"):
        load_catalogue(tmp_path)


def test_missing_folder_rejected(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no error catalogue files"):
        load_catalogue(tmp_path / "absent")


# Each reference CSV with the component its rows belong to and the key columns that identify a row.
REFERENCE_FILES = {
    "pilot.csv": 147,
    "pilot-exit-codes.csv": 31,
    "taskbuffer.csv": 28,
    "dataservice.csv": 8,
    "jobdispatcher.csv": 6,
    "supervisor.csv": 3,
    "server-removed.csv": 5,
    "wnscripts.csv": 151,
    "wnscripts-legacy.csv": 44,
    "transform.csv": 73,
}


def _reference_rows(reference_data: Path, name: str) -> list[dict[str, str]]:
    with (reference_data / "error-codes" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(REFERENCE_FILES))
def test_catalogue_complete_against_sources(reference_data: Path, name: str) -> None:
    catalogue = package_catalogue()
    rows = _reference_rows(reference_data, name)
    assert len(rows) == REFERENCE_FILES[name]

    missing = []
    for row in rows:
        component = {"pilot-exit": "pilot-exit"}.get(row["component"], row["component"])
        code = int(row["code"])
        entries = catalogue.get(component, code)
        if "script" in row and row["script"] and component == "wnscripts-legacy":
            entries = [entry for entry in entries if entry.script == row["script"]]
        if row.get("acronym"):
            entries = [entry for entry in entries if entry.acronym == row["acronym"]]
        if row.get("message") and component != "supervisor":
            entries = [entry for entry in entries if entry.message == row["message"]]
        if name == "server-removed.csv":
            entries = [entry for entry in entries if entry.historical]
        if not entries:
            missing.append(f"{component}:{code} {row.get('acronym', '')} {row.get('message', '')[:40]}")
    assert missing == []


@pytest.mark.reference
def test_pilot_exit_statuses_point_to_pilot_codes(reference_data: Path) -> None:
    catalogue = package_catalogue()
    for row in _reference_rows(reference_data, "pilot-exit-codes.csv"):
        pilot_code = int(row["pilot_error_code"])
        matches = [
            entry
            for entry in catalogue.get("pilot-exit", int(row["code"]))
            if entry.pilot_error_code == pilot_code
        ]
        assert matches, f"pilot-exit {row['code']} -> {pilot_code}"
        if pilot_code > 0:
            assert catalogue.get("pilot", pilot_code), f"pilot {pilot_code}"

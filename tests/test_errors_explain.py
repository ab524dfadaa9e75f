"""Explanation of one code: job-field filters, negative codes, unknown codes and the shipped texts."""

from __future__ import annotations

import pytest

from shared.errorcodes import UnknownComponentError
from shared.errorcodes.explain import CodeNotFoundError, explain_code
from tests.errors_support import fixture_catalogue, package_catalogue


def _keys(entries: list) -> list[str]:
    return [f"{entry.component}:{entry.code}" for entry in entries]


def test_job_field_keeps_only_its_components() -> None:
    catalogue = fixture_catalogue()
    assert _keys(explain_code(catalogue, 100, "ddmErrorCode").candidates) == ["dataservice:100"]
    assert _keys(explain_code(catalogue, 100, "jobdispatchererrorcode").candidates) == ["jobdispatcher:100"]
    assert _keys(explain_code(catalogue, 139, "transExitCode").candidates) == ["transform:139"]
    assert _keys(explain_code(catalogue, 1152, "exeErrorCode").candidates) == ["pilot:1152"]


def test_job_field_without_meaning_names_others() -> None:
    with pytest.raises(CodeNotFoundError) as raised:
        explain_code(fixture_catalogue(), 137, "pilotErrorCode")
    message = str(raised.value)
    assert message.startswith("137 is not a known pilotErrorCode value; known meanings of 137: ")
    assert "transform 137 TRF_SIG_SIGKILL" in message
    assert "pilot-exit 137 KILLSIGNAL" in message
    assert _keys(raised.value.known) == ["transform:137", "pilot-exit:137"]


def test_server_field_rejects_pilot_code() -> None:
    with pytest.raises(CodeNotFoundError, match="1152 is not a known ddmErrorCode value.*pilot 1152"):
        explain_code(fixture_catalogue(), 1152, "ddmErrorCode")


def test_small_trans_exit_code_is_script_status() -> None:
    explanation = explain_code(fixture_catalogue(), 6, "transExitCode")
    assert _keys(explanation.candidates) == ["wnscripts:5406"]
    assert any("exit status of a worker-node script" in fact for fact in explanation.decoded)


def test_script_variants_summarised() -> None:
    catalogue = fixture_catalogue()
    setters = [
        entry.script
        for entry in catalogue.select(component="wnscripts")
        if entry.base_code == 7 and entry.set_by_script
    ]
    assert len(setters) >= 2

    explanation = explain_code(catalogue, 7)
    assert [(entry.component, entry.base_code) for entry in explanation.candidates] == [("wnscripts", 7)]
    listed_scripts = [explanation.candidates[0].script] + [
        summary.script for summary in explanation.more_candidates
    ]
    assert sorted(listed_scripts) == sorted(setters)


def test_unknown_component_lists_tables_and_fields() -> None:
    with pytest.raises(UnknownComponentError) as raised:
        explain_code(fixture_catalogue(), 65, "bogus")
    message = str(raised.value)
    assert "'bogus'" in message
    assert "transform" in message
    assert "exeErrorCode" in message


def test_minus_one_offers_pilot_mapping() -> None:
    explanation = explain_code(fixture_catalogue(), -1)
    assert _keys(explanation.candidates) == ["pilot:1315", "transform:129"]
    assert any("1315" in fact and "-1" in fact for fact in explanation.decoded)
    assert any("SIGHUP" in fact for fact in explanation.decoded)


def test_negative_signal_code() -> None:
    explanation = explain_code(fixture_catalogue(), -9)
    assert _keys(explanation.candidates) == ["transform:137"]
    assert [summary.code for summary in explanation.related] == [1305]
    assert any("killed by SIGKILL" in fact for fact in explanation.decoded)


def test_negative_pilot_code_is_recoverable() -> None:
    catalogue = fixture_catalogue()
    explanation = explain_code(catalogue, -1137)
    assert _keys(explanation.candidates) == ["pilot:1137"]
    assert any("marked recoverable" in fact for fact in explanation.decoded)
    assert _keys(explain_code(catalogue, -1137, "pilotErrorCode").candidates) == ["pilot:1137"]
    with pytest.raises(CodeNotFoundError):
        explain_code(catalogue, -1, "pilotErrorCode")


def test_negative_code_by_table() -> None:
    catalogue = fixture_catalogue()
    assert _keys(explain_code(catalogue, -1, "transform").candidates) == ["transform:129"]
    assert _keys(explain_code(catalogue, -1, "pilot").candidates) == ["pilot:1315"]


def test_unknown_pilot_range_code_explained() -> None:
    with pytest.raises(CodeNotFoundError, match="Pilot 1 or Pilot 2 code"):
        explain_code(fixture_catalogue(), 1134)


def test_historical_pilot_one_codes_shipped() -> None:
    catalogue = package_catalogue()
    for code in (1135, 1136):
        entries = explain_code(catalogue, code).candidates
        assert _keys(entries)[0] == f"pilot:{code}"
        assert entries[0].historical
        assert "put_error_codes" in entries[0].expert_explanation


def test_unused_script_code_has_real_advice() -> None:
    entry = explain_code(package_catalogue(), 5415).candidates[0]
    assert entry.acronym == "NO_OUTPUT"
    assert entry.retry_advice != "unclear"
    for text in (entry.user_explanation, entry.retry_reason):
        assert "No current" not in text
    assert "another version of the script" in entry.expert_explanation
    assert "base meaning" in entry.expert_explanation


# Signals a process raises on itself when it crashes, and signals sent to it from outside.
CRASH_SIGNALS = ("SIGSEGV", "SIGABRT", "SIGFPE", "SIGILL", "SIGBUS", "SIGTRAP", "SIGSYS")
KILL_SIGNALS = ("SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGXCPU", "SIGUSR1", "SIGUSR2")


def test_signal_categories_consistent() -> None:
    catalogue = package_catalogue()
    for entry in catalogue.select(component="transform"):
        if entry.signal in CRASH_SIGNALS:
            assert entry.category == "Execution and Payload Failures", entry.acronym
        if entry.signal in KILL_SIGNALS:
            assert entry.category == "Job Termination and Kill Signals", entry.acronym

    payload_crashes = [catalogue.get("pilot", 1328)[0], catalogue.get("pilot", 1355)[0]]
    assert {entry.category for entry in payload_crashes} == {"Execution and Payload Failures"}
    time_limit = [catalogue.get("pilot", 1213)[0], catalogue.get("pilot", 1204)[0]]
    assert {entry.category for entry in time_limit} == {"Job Termination and Kill Signals"}


def test_exit_status_category_matches_pilot_code() -> None:
    catalogue = package_catalogue()
    for status in catalogue.select(component="pilot-exit"):
        targets = catalogue.get("pilot", status.pilot_error_code or 0)
        if targets:
            assert status.category == targets[0].category, f"pilot-exit {status.code}"

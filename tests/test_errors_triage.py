"""Triage of a job's error fields: which code is primary, the order of the rest, and the retry advice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.errorcodes import TriageResult, triage_job_errors
from tests.errors_support import fixture_catalogue, package_catalogue


def _triage(record: dict[str, Any]) -> TriageResult:
    return triage_job_errors(record, fixture_catalogue())


def _order(result: TriageResult) -> list[tuple[str, int]]:
    errors = ([result.primary] if result.primary else []) + result.others
    return [(error.field, error.code) for error in errors]


def test_transform_code_beats_generic_pilot_code() -> None:
    result = _triage(
        {
            "jobstatus": "failed",
            "piloterrorcode": 1305,
            "piloterrordiag": "SIGSEGV signal (exit code 139)",
            "exeerrorcode": 65,
            "exeerrordiag": "EVNTtoHITS got a SIGSEGV signal",
            "transexitcode": "65",
        }
    )
    assert _order(result) == [("exeerrorcode", 65), ("piloterrorcode", 1305)]
    assert result.primary is not None
    assert result.primary.component == "transform"
    assert result.retry_advice == "unclear"


def test_pilot_kill_beats_payload_signal() -> None:
    result = _triage(
        {
            "jobstatus": "failed",
            "piloterrorcode": 1235,
            "exeerrorcode": 143,
            "exeerrordiag": "Transform received signal 15",
            "transexitcode": "0",
        }
    )
    assert _order(result) == [("piloterrorcode", 1235), ("exeerrorcode", 143)]
    assert result.retry_advice == "retry-will-fail-until-fixed"


def test_user_job_wnscripts_code() -> None:
    result = _triage(
        {
            "jobStatus": "failed",
            "pilotErrorCode": 1305,
            "pilotErrorDiag": "Athena Failure",
            "exeErrorCode": 5406,
            "exeErrorDiag": "Athena Failure",
            "transExitCode": "6",
            "transformation": "http://pandaserver.cern.ch:25085/trf/user/runAthena-00-00-12",
        }
    )
    assert _order(result) == [("exeerrorcode", 5406), ("piloterrorcode", 1305)]
    assert result.primary is not None
    assert result.primary.component == "wnscripts"


def test_pilot_code_in_trans_exit_code() -> None:
    result = _triage({"jobstatus": "failed", "transexitcode": "1152"})
    assert result.primary is not None
    assert (result.primary.component, result.primary.code) == ("pilot", 1152)


def test_negative_exit_code_is_signal() -> None:
    result = _triage({"jobstatus": "failed", "transexitcode": "-15"})
    assert result.primary is not None
    assert result.primary.acronym == "TRF_SIG_SIGTERM"


def test_finished_job_has_no_primary() -> None:
    result = _triage(
        {
            "jobstatus": "finished",
            "piloterrorcode": 0,
            "exeerrorcode": 0,
            "exeerrordiag": "OK",
            "transexitcode": "0",
        }
    )
    assert result.primary is None
    assert result.others == []
    assert result.retry_advice == "not-a-failure"


def test_reassigned_by_jedi() -> None:
    result = _triage(
        {
            "jobstatus": "closed",
            "jobsubstatus": "toreassign",
            "taskbuffererrorcode": 100,
            "taskbuffererrordiag": "reassigned by JEDI",
            "attemptnr": 22,
            "maxattempt": 22,
            "transexitcode": "",
        }
    )
    assert result.primary is not None
    assert (result.primary.component, result.primary.code) == ("taskbuffer", 100)
    assert result.retry_advice == "not-a-failure"
    assert any("Attempt 22 of 22" in note and "same job" in note for note in result.notes)
    assert not any("JEDI will not retry" in note for note in result.notes)


REASSIGNED = {
    "jobstatus": "closed",
    "jobsubstatus": "toreassign",
    "taskbuffererrorcode": 100,
    "taskbuffererrordiag": "reassigned by JEDI",
    "attemptnr": 5,
    "maxattempt": 5,
    "jeditaskid": 21265064,
}


def test_reassigned_with_attempts_left() -> None:
    files = [{"type": "input", "lfn": "EVNT.01._000036.pool.root.1", "attemptnr": 5, "maxattempt": 30}]
    result = _triage({"job": REASSIGNED, "files": files})
    assert result.retry_advice == "not-a-failure"
    assert "new job" in result.retry_reason
    assert any("up to 24 more jobs" in note for note in result.notes)


def test_reassigned_at_last_file_attempt() -> None:
    files = [{"type": "input", "lfn": "EVNT.01._000036.pool.root.1", "attemptnr": 4, "maxattempt": 5}]
    result = _triage({"job": REASSIGNED, "files": files})
    assert result.retry_advice == "retry-elsewhere-likely-helps"
    assert "no attempts left" in result.retry_reason
    assert any("makes no new job" in note for note in result.notes)


def test_jedi_job_attempt_limit_explained() -> None:
    result = _triage(REASSIGNED)
    assert result.retry_advice == "not-a-failure"
    assert any("as JEDI sets it for every job" in note for note in result.notes)


def test_task_done_closure_not_a_failure() -> None:
    result = _triage(
        {
            "jobstatus": "closed",
            "jobsubstatus": "taskdone",
            "taskbuffererrorcode": 100,
            "taskbuffererrordiag": "killed since task is (almost) done",
        }
    )
    assert result.retry_advice == "not-a-failure"


def test_server_kill_without_reason_keeps_entry_advice() -> None:
    result = _triage({"jobstatus": "cancelled", "taskbuffererrorcode": 100, "taskbuffererrordiag": "killed"})
    assert result.retry_advice == "unclear"


def test_server_code_below_pilot_code() -> None:
    result = _triage({"jobstatus": "failed", "piloterrorcode": 1152, "ddmerrorcode": 206})
    assert _order(result) == [("piloterrorcode", 1152), ("ddmerrorcode", 206)]


def test_lost_heartbeat_only() -> None:
    result = _triage(
        {"jobstatus": "failed", "jobdispatchererrorcode": 100, "jobdispatchererrordiag": "lost heartbeat"}
    )
    assert result.primary is not None
    assert result.primary.component == "jobdispatcher"


def test_unknown_code_reported_not_invented() -> None:
    result = _triage({"jobstatus": "failed", "piloterrorcode": 1999})
    assert result.primary is not None
    assert result.primary.component is None
    assert result.retry_advice == "unclear"


def test_failed_without_codes() -> None:
    result = _triage({"jobstatus": "failed", "piloterrorcode": "", "transexitcode": None})
    assert result.primary is None
    assert result.retry_advice == "unclear"


def test_whole_bigpanda_response_accepted() -> None:
    result = _triage({"job": {"jobstatus": "failed", "piloterrorcode": 1150}, "files": []})
    assert result.primary is not None
    assert result.primary.code == 1150


def test_archive_document_accepted() -> None:
    result = _triage({"_id": "x", "_source": {"jobstatus": "failed", "piloterrorcode": 1099}})
    assert result.primary is not None
    assert result.primary.code == 1099


@pytest.mark.parametrize("record", [{}, {"foo": 1}, {"pandaid": 7, "computingsite": "BNL"}])
def test_not_a_job_record(record: dict[str, Any]) -> None:
    result = _triage(record)
    assert result.primary is None
    assert result.retry_advice == "unclear"
    assert "does not look like a BigPanDA job record (no jobstatus and no error fields" in result.retry_reason


def test_job_definition_not_a_record() -> None:
    result = _triage(
        {"PandaID": 3487584273, "jobPars": "--inputEVNTFile=EVNT.pool.root", "inFiles": "EVNT.pool.root"}
    )
    assert result.retry_advice == "unclear"
    assert "getJob" in result.retry_reason
    assert "/job?pandaid=3487584273&json" in result.retry_reason


def test_job_list_not_a_record() -> None:
    result = _triage({"jobs": [{"jobstatus": "failed"}, {"jobstatus": "finished"}]})
    assert result.retry_advice == "unclear"
    assert "list of 2 jobs" in result.retry_reason


def test_unreadable_code_warned() -> None:
    result = _triage({"jobstatus": "failed", "piloterrorcode": "abc"})
    assert result.primary is None
    assert result.retry_advice == "unclear"
    assert result.warnings == ["piloterrorcode 'abc' is not a number, so it was not decoded."]


def test_unreadable_code_beside_readable_one() -> None:
    result = _triage({"jobstatus": "failed", "piloterrorcode": 1099, "exeerrorcode": "n/a"})
    assert result.primary is not None
    assert result.primary.code == 1099
    assert len(result.warnings) == 1
    assert "exeerrorcode 'n/a'" in result.warnings[0]


def test_codes_without_status_unclear() -> None:
    result = _triage({"piloterrorcode": 0, "exeerrorcode": 0})
    assert result.primary is None
    assert result.retry_advice == "unclear"


def test_negative_pilot_code_recoverable() -> None:
    result = _triage({"jobstatus": "failed", "piloterrorcode": -1137})
    assert result.primary is not None
    assert (result.primary.component, result.primary.acronym, result.primary.code) == (
        "pilot",
        "STAGEOUTFAILED",
        -1137,
    )
    assert any("marked recoverable" in note for note in result.notes)


def test_minus_one_payload_exit_code() -> None:
    result = _triage({"jobstatus": "failed", "transexitcode": "-1"})
    assert result.primary is not None
    assert (result.primary.component, result.primary.code) == ("pilot", -1)
    assert result.primary.acronym == "UNKNOWNTRFFAILURE"


CASES = (
    "athena-segfault",
    "finished-ok",
    "looping-job-killed",
    "payload-exceeded-max-memory",
    "proxy-expired",
    "stageout-timeout-remote-rse",
)


@pytest.mark.reference
@pytest.mark.parametrize("case", CASES)
def test_reference_case_primary_error(reference_data: Path, case: str) -> None:
    folder = reference_data / "cases" / case
    job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))

    result = triage_job_errors(job, package_catalogue())

    want = expected["primary_error"]
    if want["field"] is None:
        assert result.primary is None
    else:
        assert result.primary is not None
        assert (result.primary.field, result.primary.code, result.primary.component) == (
            want["field"],
            want["code"],
            want["component"],
        )
        assert result.primary.category == expected["category"]
    assert result.retry_advice == expected["retry_advice"]


@pytest.mark.reference
def test_reference_closed_toreassign_job(reference_data: Path) -> None:
    job = json.loads(
        (reference_data / "jobs" / "bigpanda_job_4731765799_closed_toreassign.json").read_text(
            encoding="utf-8"
        )
    )
    result = triage_job_errors(job, package_catalogue())
    assert result.primary is not None
    assert (result.primary.field, result.primary.code) == ("taskbuffererrorcode", 100)
    assert result.retry_advice == "not-a-failure"
    # attemptnr equals maxattempt in the job, but the input file allows 30 attempts.
    assert not any("will not retry" in note for note in result.notes)
    assert any("attemptnr 22 and maxattempt 30" in note for note in result.notes)


@pytest.mark.reference
def test_reference_job_definition_rejected(reference_data: Path) -> None:
    job = json.loads(
        (reference_data / "jobs" / "getjob_job_definition_3487584273_Sim_tf.json").read_text(encoding="utf-8")
    )
    result = triage_job_errors(job, package_catalogue())
    assert result.retry_advice == "unclear"
    assert "getJob" in result.retry_reason


def test_kill_by_dn_is_not_a_failure() -> None:
    result = triage_job_errors(
        {
            "jobstatus": "cancelled",
            "taskbuffererrorcode": 100,
            "taskbuffererrordiag": "killed by /DC=ch/DC=cern/OU=Users/CN=anonuser",
        }
    )
    assert result.primary is not None
    assert result.primary.code == 100
    assert result.retry_advice == "not-a-failure"

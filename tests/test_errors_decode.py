"""Decoding of pasted diags and of numbers: pilot exceptions, exit codes, signals, wnscripts codes, job fields."""

from __future__ import annotations

import pytest

from shared.errorcodes.analysis import analyze, segment_acronym, stem
from shared.errorcodes.decode import (
    components_for_field,
    decode_wnscripts,
    find_code_mentions,
    normalize_component,
    normalize_job_field,
    script_of_transformation,
    signal_of_exit_code,
    signals_in_text,
    strip_pilot_wrappers,
)
from shared.errorcodes.explain import explain_code
from tests.errors_support import fixture_catalogue


def _codes(text: str) -> list[tuple[int, tuple[str, ...]]]:
    return [(mention.code, mention.components) for mention in find_code_mentions(text)]


def test_pilot_exception_format() -> None:
    text = "PilotException: error code: 1368, message: Remote file open timed out"
    assert (1368, ("pilot",)) in _codes(text)


def test_traceback_ending_in_stage_in_failure() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/scratch/pilot3/pilot/api/data.py", line 612, in transfer\n'
        "    raise StageInFailure(msg)\n"
        "pilot.common.exception.StageInFailure: error code: 1099, message: Failed to stage-in file\n"
        "details: rucio download failed after 3 attempts"
    )
    assert _codes(text)[0] == (1099, ("pilot",))


def test_exception_class_without_code() -> None:
    assert (1098, ("pilot",)) in _codes("pilot.common.exception.NoLocalSpace: too little space in /scratch")


def test_numbers_without_code_words_ignored() -> None:
    assert _codes("copy command timed out after 3600 s for 2 files of 1500 MB") == []


def test_exit_code_and_signal() -> None:
    codes = _codes("EVNTtoHITS got a SIGSEGV signal (exit code 139)")
    assert (139, ("transform", "wnscripts-legacy")) in codes
    assert (139, ("transform",)) in codes


def test_wnscripts_exit_code() -> None:
    assert _codes("exeErrorCode=5406") == [(5406, ("wnscripts",))]


def test_bare_number() -> None:
    assert _codes(" 1152 ") == [(1152, ())]


def test_signal_number_in_text() -> None:
    assert (143, ("transform",)) in _codes("Transform received signal 15")
    assert signals_in_text("Caught signal 11(Segmentation fault)") == ["SIGSEGV"]


def test_signal_exit_codes() -> None:
    assert signal_of_exit_code(139) == "SIGSEGV"
    assert signal_of_exit_code(137) == "SIGKILL"
    assert signal_of_exit_code(135) == "SIGBUS"
    assert signal_of_exit_code(-15) == "SIGTERM"
    assert signal_of_exit_code(65) is None


def test_decode_wnscripts_code() -> None:
    decoded = decode_wnscripts(5406)
    assert decoded is not None
    assert (decoded.script, decoded.offset, decoded.base_code) == ("runAthena", 400, 6)
    assert decode_wnscripts(1305) is None
    assert decode_wnscripts(5000) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("exeerrorcode", "exeErrorCode"),
        ("exe_error_code", "exeErrorCode"),
        ("PILOTERRORCODE", "pilotErrorCode"),
        ("transExitCode", "transExitCode"),
        ("diag", None),
    ],
)
def test_normalize_job_field(name: str, expected: str | None) -> None:
    assert normalize_job_field(name) == expected


def test_normalize_component_aliases() -> None:
    assert normalize_component("trf") == "transform"
    assert normalize_component("DDM") == "dataservice"
    assert normalize_component("pilot_exit") == "pilot-exit"
    assert normalize_component("executor") is None


def test_components_for_payload_fields() -> None:
    assert components_for_field("exeErrorCode", 5406) == ["wnscripts"]
    assert components_for_field("transexitcode", 1152)[0] == "pilot"
    assert components_for_field("transExitCode", 65)[0] == "transform"
    assert components_for_field("ddmErrorCode", 100) == ["dataservice"]


def test_script_of_transformation() -> None:
    assert script_of_transformation("http://pandaserver.cern.ch:25085/trf/user/runGen-00-00-02") == "runGen"
    assert script_of_transformation("Sim_tf.py") is None


def test_strip_pilot_wrappers() -> None:
    diag = (
        "error code: 1152, message: File transfer timed out\ndetails: [PilotException(' file.root to RSE')]"
    )
    assert strip_pilot_wrappers(diag) == "file.root to RSE')]"


def test_stemming_is_consistent() -> None:
    assert stem("failed") == stem("failure") == stem("fail")
    assert stem("files") == stem("file")
    assert stem("mismatches") == stem("mismatch")
    assert stem("timed") == stem("time")


def test_analyze_removes_noise_and_adds_concepts() -> None:
    terms = analyze("copy to root://eosatlas.cern.ch//eos/atlas/file.root timed out after 3600 s")
    assert "timeout" in terms
    assert "_timeout" in terms
    assert not any(term.startswith("eos") and term != "eos" for term in terms)
    assert not any(term.isdigit() for term in terms)
    assert "_checksum" in analyze("adler32 differs")


def test_segment_acronym() -> None:
    vocabulary = {"no", "local", "space", "get", "md5", "mismatch", "stage", "in", "failed"}
    assert segment_acronym("NOLOCALSPACE", vocabulary) == ["no", "local", "space"]
    assert segment_acronym("GETMD5MISMATCH", vocabulary) == ["get", "md5", "mismatch"]
    assert segment_acronym("TRF_XYZQ", vocabulary) == ["trf", "xyzq"]


def test_explain_decodes_number() -> None:
    catalogue = fixture_catalogue()
    explanation = explain_code(catalogue, 139)
    assert [entry.component for entry in explanation.candidates] == ["transform", "pilot-exit"]
    assert any("SIGSEGV" in fact for fact in explanation.decoded)
    assert [summary.code for summary in explanation.related] == [1203]

    negative = explain_code(catalogue, -15)
    assert negative.candidates[0].acronym == "TRF_SIG_SIGTERM"

    wnscripts = explain_code(catalogue, 5406)
    assert wnscripts.decoded[0].startswith("5406 = 5000 + 400 (runAthena) + base code 6")


def test_explain_with_job_field() -> None:
    explanation = explain_code(fixture_catalogue(), 100, "jobDispatcherErrorCode")
    assert explanation.candidates[0].component == "jobdispatcher"
    assert explanation.job_field == "jobDispatcherErrorCode"

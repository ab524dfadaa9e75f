"""Terminal commands of askpanda-errors: error messages, limits and output that reads well when piped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.errors.__main__ import main
from shared.errorcodes import catalogue as catalogue_module
from tests.errors_support import FIXTURE_DATA


@pytest.fixture
def fixture_data(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the package catalogue at the fixture data and give rich an 80-column terminal."""
    monkeypatch.setattr(catalogue_module, "DATA_DIR", FIXTURE_DATA)
    monkeypatch.setenv("COLUMNS", "80")
    catalogue_module.get_catalogue.cache_clear()
    yield
    catalogue_module.get_catalogue.cache_clear()


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return int(stopped.value.code or 0)


def test_explain_bogus_component_lists_valid(fixture_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["explain", "65", "--component", "bogus"]) == 2
    error = capsys.readouterr().err
    assert "'bogus'" in error
    assert "transform" in error
    assert "exeErrorCode" in error


def test_explain_wrong_component_suggests_omitting(
    fixture_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["explain", "1152", "--component", "transform"]) == 1
    error = capsys.readouterr().err
    assert "pilot 1152 STAGEOUTTIMEOUT" in error
    assert "without --component" in error


def test_explain_job_field_filters(fixture_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["explain", "137", "--component", "pilotErrorCode"]) == 1
    assert "137 is not a known pilotErrorCode value" in capsys.readouterr().err


def test_explain_piped_prints_markdown(fixture_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["explain", "1152"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("## Error code 1152")
    assert "### pilot 1152 STAGEOUTTIMEOUT" in output
    assert not [line for line in output.splitlines() if line != line.rstrip()]


def test_explain_help_shows_audience_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["explain", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--audience {user,expert,full}" in help_text
    assert "(default: full)" in help_text


@pytest.mark.parametrize("text", ["", "   "])
def test_search_empty_text(fixture_data: None, capsys: pytest.CaptureFixture[str], text: str) -> None:
    assert _run(["search", text]) == 2
    assert "search text is empty" in capsys.readouterr().err


def test_search_long_text_capped(fixture_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["search", "md5 mismatch " * 2000]) == 2
    error = capsys.readouterr().err
    assert "more than 20000" in error
    assert len(error) < 300


def test_search_no_hit_message_shortened(fixture_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["search", "zzzq " * 500]) == 1
    error = capsys.readouterr().err
    assert "No error code matches" in error
    assert len(error) < 200


def test_search_piped_list_keeps_words_whole(fixture_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["search", "job killed because it stopped writing output"]) == 0
    output = capsys.readouterr().out
    lines = output.splitlines()
    assert lines[0] == "Error codes for 'job killed because it stopped writing output'"
    assert "1. pilot 1150 LOOPINGJOB" in lines
    assert "   Job Termination and Kill Signals · retry: retry-elsewhere-likely-helps" in lines
    # The matched words are the ones typed, not their stems.
    assert re.search(r"matched: words: .*killed.*stopped writing", output)
    assert not [line for line in lines if line != line.rstrip()]


def test_search_wide_terminal_table(
    fixture_data: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert _run(["search", "md5sum mismatch"]) == 0
    output = capsys.readouterr().out
    assert "GETMD5MISMATCH" in output
    assert "retry-elsewhere-likely-helps" in output


def test_list_piped_one_block_per_code(fixture_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["list", "--component", "pilot"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "pilot 1152 STAGEOUTTIMEOUT" in lines
    assert "   File transfer timed out during stage-out" in lines


def test_triage_not_a_record(fixture_data: None, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    job = tmp_path / "definition.json"
    job.write_text('{"PandaID": 12, "jobPars": "--maxEvents 5", "inFiles": "a.root"}')
    assert _run(["triage", str(job)]) == 1
    output = capsys.readouterr().out
    assert "`unclear`" in output
    assert "getJob" in output

"""Terminal subcommands of askpanda-sites on the invented CRIC fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servers.sites.__main__ import main
from shared.config import get_settings

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sites" / "cric_small.json"


@pytest.fixture(autouse=True)
def local_cric(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASKPANDA_CRIC_URL", str(FIXTURE))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0)


def test_queue_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["queue", "example-t1", "--fields", "maxtime,corepower"]) == 0
    out = capsys.readouterr().out
    assert "PanDA queue EXAMPLE-T1" in out
    assert "maxtime_hours (h)" in out
    assert "14.25" in out
    assert "cric_small.json" in out


def test_find_json_matches_tool_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["find", "--copytool", "rucio", "--activity", "pw", "--where", "maxrss=>40000", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [row["queue"] for row in result["queues"]] == ["EXAMPLE-T1", "EXAMPLE-T1_TEST", "SAMPLE_T2_HIMEM"]
    assert result["filters"] == ["acopytools.pw = rucio", "maxrss > 40000"]


def test_find_table_with_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["find", "--cloud", "YY", "--min", "corecount=8", "--sort=-corepower"]) == 0
    out = capsys.readouterr().out
    assert out.index("DEMO-HPC") < out.index("SAMPLE_T2")
    assert "3 queues" in out


def test_summary_site_compare_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["summary", "cloud", "--stats", "maxrss"]) == 0
    assert run(["site", "DEMO-HPC"]) == 0
    assert run(["compare", "SAMPLE_T2", "SAMPLE_T2_HIMEM"]) == 0
    assert run(["field", "acopytools"]) == 0
    assert run(["field"]) == 0
    out = capsys.readouterr().out
    assert "8 queues by cloud" in out
    assert "acopytools is empty" in out
    assert "SAMPLE_T2_HIMEM" in out
    assert "write_lan:" in out
    assert "CRIC queue fields" in out


def test_errors_exit_nonzero(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["queue", "NOPE_QUEUE"]) == 1
    assert "No PanDA queue named 'NOPE_QUEUE'" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exited:
        main(["find", "--where", "no-equals-sign"])
    assert "FIELD=VALUE" in str(exited.value.code)

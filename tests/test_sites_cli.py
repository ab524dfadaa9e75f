"""Terminal subcommands of askpanda-sites on the invented CRIC fixture, from the file or a loopback CRIC."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from servers.sites.__main__ import main
from shared.config import get_settings
from tests.fakeserver import FakeHTTPServer, Fault

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sites" / "cric_small.json"
CRIC_PATH = "/api/atlas/pandaqueue/query/"


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
    assert result["filters"] == ["copytool for pw = rucio", "maxrss > 40000"]


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

    assert run(["find", "--where", "no-equals-sign"]) == 1
    assert "FIELD=VALUE" in capsys.readouterr().err


def test_where_operator_form(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["find", "--where", "maxrss>40000", "--where", "status!=test", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["filters"] == ["maxrss > 40000", "status != test"]
    assert [row["queue"] for row in result["queues"]] == [
        "DEMO-HPC",
        "DEMO-HPC_GPU",
        "EXAMPLE-T1",
        "SAMPLE_T2_HIMEM",
    ]


def test_repeated_where_on_one_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(["find", "--where", "maxrss=>16000", "--where", "maxrss<64000", "--json", "--fields", "maxrss"])
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["filters"] == ["maxrss > 16000", "maxrss < 64000"]
    assert result["total"] == 3


def test_repeated_min_and_cloud(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["find", "--min", "maxrss=16000", "--min", "maxrss=40000", "--limit", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 5

    assert run(["find", "--cloud", "YY", "--cloud", "ZZ", "--limit", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 8
    assert result["filters"] == ["cloud in YY, ZZ"]


def test_limit_out_of_range_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["find", "--limit", "100000"]) == 1
    assert (
        "--limit must be 0 to 500 queues per page; got 100000; page with --cursor" in capsys.readouterr().err
    )
    assert run(["summary", "cloud", "--limit", "0"]) == 1
    assert "--limit must be 1 to 500 groups per page; got 0" in capsys.readouterr().err


def test_hints_name_terminal_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["queue", "NOPE_QUEUE"]) == 1
    queue_error = capsys.readouterr().err
    assert run(["find", "--fields", "maxrsss"]) == 1
    fields_error = capsys.readouterr().err
    assert run(["summary", "walltime"]) == 1
    group_error = capsys.readouterr().err

    assert "Run `askpanda-sites find` to list queues" in queue_error
    assert "Unknown CRIC queue field 'maxrsss' in --fields" in fields_error
    assert "Run `askpanda-sites field` to list every field" in fields_error
    assert "in GROUP_BY" in group_error
    for text in (queue_error, fields_error, group_error):
        assert "find_queues" not in text
        assert "describe_queue_field" not in text


def test_json_errors_are_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["queue", "NOPE_QUEUE", "--json"]) == 1
    captured = capsys.readouterr()
    assert "No PanDA queue named 'NOPE_QUEUE'" in json.loads(captured.out)["error"]
    assert captured.err == ""

    assert run(["find", "--min", "maxrss=abc", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "--min 'maxrss=abc': 'abc' is not a number."


def test_no_info_lines_without_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["queue", "SAMPLE_T2", "--fields", "status"]) == 0
    assert "INFO" not in capsys.readouterr().err
    assert run(["-v", "queue", "SAMPLE_T2", "--fields", "status"]) == 0
    assert "Loaded 8 PanDA queues" in capsys.readouterr().err


def test_narrow_terminal_keeps_queue_names(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert run(["find", "--fields", "maxrss,corepower,queues.ce_flavour,container_type,copytools"]) == 0
    out = capsys.readouterr().out
    assert "SAMPLE_T2_HIMEM" in out
    assert "ANALY_EXAMPLE-T1" in out
    assert "…" not in out
    assert '  queues.ce_flavour: ["HTCONDOR-CE"]' in out

    assert run(["site", "EXAMPLE-T1"]) == 0
    site = capsys.readouterr().out
    assert "ANALY_EXAMPLE-T1" in site
    assert "…" not in site


def test_hanging_cric_prints_cached_copy(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_http: FakeHTTPServer,
    tmp_path: Path,
) -> None:
    fake_http.route(CRIC_PATH, json.loads(FIXTURE.read_text(encoding="utf-8")))
    monkeypatch.setenv("ASKPANDA_CRIC_URL", f"{fake_http.url}{CRIC_PATH}?json")
    monkeypatch.setenv("ASKPANDA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ASKPANDA_CRIC_TTL_SECONDS", "0")
    monkeypatch.setenv("ASKPANDA_READ_TIMEOUT", "30")
    get_settings.cache_clear()
    assert run(["queue", "SAMPLE_T2", "--fields", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["stale"] is False

    fake_http.add_fault(CRIC_PATH, Fault(kind="delay", seconds=30.0), times=5)
    started = time.monotonic()
    assert run(["queue", "SAMPLE_T2", "--fields", "status", "--json", "--refresh-wait", "0.5"]) == 0
    assert time.monotonic() - started < 5
    result = json.loads(capsys.readouterr().out)
    assert result["values"] == {"status": "online"}
    assert result["data"]["stale"] is True
    assert "did not answer within 0.5 s" in result["data"]["stale_reason"]

"""The askpanda-logs terminal command and the server over stdio."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from servers.logs.__main__ import main
from shared.config import get_settings
from tests.conftest import PROJECT_ROOT
from tests.fake_bigpanda import FakeBigPanda
from tests.fakeserver import FakeHTTPServer
from tests.logs_support import LOG_FIXTURES

EXAMPLE = PROJECT_ROOT / "examples" / "failed-job"


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code or 0)


def test_analyze_bundled_example(capsys: pytest.CaptureFixture[str]) -> None:
    status = run(["analyze", str(EXAMPLE)])

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("# Job failure report")
    assert "PAYLOADOUTOFMEMORY" in out
    assert "std::bad_alloc" in out


def test_analyze_relative_path_from_repository_root(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT_ROOT)

    status = run(["analyze", "examples/failed-job"])

    assert status == 0
    assert "Phase:** payload" in capsys.readouterr().out


def test_analyze_json(capsys: pytest.CaptureFixture[str]) -> None:
    status = run(["analyze", "--json", "--budget", "2000", str(EXAMPLE)])

    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["primary_error"]["code"] == 1212
    assert report["used_chars"] <= 2000


def test_terminal_may_read_outside_log_roots(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "pilotlog.txt").write_bytes(
        (LOG_FIXTURES / "stagein-file-missing" / "pilotlog.txt").read_bytes()
    )

    status = run(["analyze", str(tmp_path)])

    assert status == 0
    assert "1331" in capsys.readouterr().out


def test_missing_path_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status = run(["analyze", str(tmp_path / "nothing-here")])

    assert status == 2
    assert "No such file or folder" in capsys.readouterr().err


def test_analyze_pandaid(
    capsys: pytest.CaptureFixture[str], fake_http: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bigpanda = FakeBigPanda(fake_http)
    pandaid = bigpanda.add_case(LOG_FIXTURES / "stagein-file-missing")
    monkeypatch.setenv("ASKPANDA_MONITOR_URL", fake_http.url)
    monkeypatch.setenv("ASKPANDA_CRIC_URL", f"{fake_http.url}/cric.json")
    get_settings.cache_clear()

    status = run(["analyze", str(pandaid)])

    out = capsys.readouterr().out
    assert status == 0
    assert f"pandaid {pandaid}" in out
    assert "stage-in" in out


def test_unknown_pandaid_exits_2(
    capsys: pytest.CaptureFixture[str], fake_http: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeBigPanda(fake_http)
    monkeypatch.setenv("ASKPANDA_MONITOR_URL", fake_http.url)
    get_settings.cache_clear()

    status = run(["analyze", "99"])

    assert status == 2
    assert "pandaid 99" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.anyio
async def test_stdio_server_analyzes_the_example(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ASKPANDA_CONFIG": str(tmp_path / "none.toml"),
        "ASKPANDA_CACHE_DIR": str(tmp_path / "cache"),
        "ASKPANDA_MONITOR_URL": "http://127.0.0.1:9",
        "ASKPANDA_CRIC_URL": "http://127.0.0.1:9/cric",
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "servers.logs"], env=env, cwd=str(PROJECT_ROOT)
    )

    async with Client(stdio_client(params)) as client:
        result = await client.call_tool("analyze_log", {"path": str(EXAMPLE)})

    assert not result.is_error, result.content
    assert result.structured_content["primary_error"]["code"] == 1212

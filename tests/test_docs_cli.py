"""Terminal commands of askpanda-docs: index, search, show and status (stand-in embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servers.docs import service as service_module
from servers.docs.__main__ import main
from tests.docs_support import SITE, HashEmbedder


@pytest.fixture(autouse=True)
def _fast_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = HashEmbedder()
    monkeypatch.setattr(service_module, "shared_embedder", lambda: embedder)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_index_search_show_status(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)
    assert status == 0, err
    assert out.startswith("site: 6 documents, ")
    assert "1 files skipped" in out

    status, out, _ = run(["search", "kill", "all", "my", "tasks", "-k", "2"], capsys)
    assert status == 0
    assert out.startswith("[1] Managing your tasks > Overview > Killing a task (site:docs/source/client/bookkeeping.rst")

    status, out, _ = run(["show", "site:notes/faq.md", "How long are outputs kept?"], capsys)
    assert status == 0
    assert "SCRATCHDISK" in out

    status, out, _ = run(["status"], capsys)
    assert status == 0
    assert "state: ready" in out
    assert "  site: 6 documents" in out
    assert "skipped site:notes/latin1.txt: not UTF-8" in out


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)

    status, out, _ = run(["search", "jobset", "--json"], capsys)

    assert status == 0
    assert json.loads(out)["passages"][0]["section"] == "Glossary > Jobset"


def test_refresh_without_sources(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)

    status, out, err = run(["index", "--no-defaults"], capsys)

    assert status == 0
    assert "Refreshing 1 source(s): site" in err
    assert "0 embedded" in out


def test_search_builds_default_index(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["search", "which", "settings", "does", "the", "docs", "server", "read"], capsys)

    assert status == 0
    assert "Note: No docs index existed, so the default one" in err
    assert out.startswith("[1] ")


def test_errors_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(["index", str(tmp_path / "absent"), "--no-defaults"], capsys)
    assert status == 1
    assert "neither an existing file or folder" in err

    status, _, err = run(["index", str(SITE), str(SITE), "--name", "x"], capsys)
    assert status == 1
    assert "--name and --base-url need exactly one SOURCE" in err

    status, _, err = run(["show", "nothing:here.md"], capsys)
    assert status == 1
    assert "No docs index in" in err


def test_index_name_and_roots(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(["index", str(SITE), "--name", "my docs", "--no-defaults"], capsys)
    assert status == 1
    assert "Invalid source name 'my docs'" in err

    (tmp_path / "notes.md").write_text("# Notes\n\nA folder outside the docs roots.\n", encoding="utf-8")
    status, out, err = run(["index", str(tmp_path), "--name", "notes", "--no-defaults"], capsys)
    assert status == 0, f"the terminal command may index folders outside ASKPANDA_DOCS_ROOTS: {err}"
    assert out.startswith("notes: 1 documents")


def test_status_without_index(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["status"], capsys)

    assert status == 1
    assert "state: missing" in out

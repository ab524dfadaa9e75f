"""Terminal commands of askpanda-docs: index, search, show and status (stand-in embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servers.docs import service as service_module
from servers.docs.__main__ import main
from shared.config import get_settings
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
    assert "1 file skipped" in out

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
    assert "Refreshing 1 source: site\n" in err
    assert "0 embedded" in out


def test_refresh_names_default_sources(capsys: pytest.CaptureFixture[str]) -> None:
    run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)

    status, out, err = run(["index"], capsys)

    assert status == 0, err
    assert "Refreshing 3 sources: site, askpanda-mcp, error-catalogue\n" in err
    assert "askpanda-mcp: " in out
    assert "error-catalogue: " in out


def test_index_defaults_without_index(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["index"], capsys)

    assert status == 0, err
    assert "Indexing 2 sources: askpanda-mcp, error-catalogue\n" in err
    assert "askpanda-mcp: " in out


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
    assert out.startswith("notes: 1 document, ")


def test_status_without_index(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["status"], capsys)

    assert status == 1
    assert "state: missing" in out


def parse(argv: list[str]) -> object:
    from servers.common.cli import build_parser
    from servers.docs.cli import add_commands

    return build_parser("askpanda-docs", "docs", add_commands).parse_args(argv)


def tool_bounds() -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """Read the integer bounds from the tool schemas of a fresh docs server, as an MCP client sees them."""
    import anyio

    from servers.docs.server import build_server

    bounds = {}
    for tool in anyio.run(build_server().list_tools):
        for name, schema in tool.input_schema["properties"].items():
            if schema.get("type") == "integer":
                bounds[(tool.name, name)] = (schema.get("minimum"), schema.get("maximum"))
    return bounds


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "jobset", "-k", "0"], "argument -k: 0 is out of range. Pass 1 to 10."),
        (["search", "jobset", "-k", "50"], "argument -k: 50 is out of range. Pass 1 to 10."),
        (["search", "jobset", "-k", "five"], "argument -k: 'five' is not an integer. Pass 1 to 10."),
        (["search", "jobset", "--max-chars", "10"], "argument --max-chars: 10 is out of range. Pass 500 to"),
        (["show", "site:notes/faq.md", "--max-chars", "10"], "argument --max-chars: 10 is out of range"),
        (
            ["show", "site:notes/faq.md", "--offset", "-1"],
            "argument --offset: -1 is out of range. Pass 0 or more.",
        ),
    ],
)
def test_bounds_rejected_before_loading(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, err = run(argv, capsys)

    assert status == 2
    assert out == ""
    assert message in err
    assert not (tmp_path / "docs-index").exists(), "a rejected option must not build or open the index"


@pytest.mark.parametrize(
    ("command", "option", "tool", "argument"),
    [
        (["search", "jobset"], "-k", "search_docs", "k"),
        (["search", "jobset"], "--max-chars", "search_docs", "max_chars"),
        (["show", "site:notes/faq.md"], "--max-chars", "get_doc_section", "max_chars"),
        (["show", "site:notes/faq.md"], "--offset", "get_doc_section", "offset"),
    ],
)
def test_bounds_match_tool_schema(
    command: list[str], option: str, tool: str, argument: str, capsys: pytest.CaptureFixture[str]
) -> None:
    minimum, maximum = tool_bounds()[(tool, argument)]
    assert minimum is not None

    parsed = parse([*command, option, str(minimum)])
    assert getattr(parsed, argument) == minimum
    with pytest.raises(SystemExit):
        parse([*command, option, str(minimum - 1)])
    if maximum is not None:
        assert getattr(parse([*command, option, str(maximum)]), argument) == maximum
        with pytest.raises(SystemExit):
            parse([*command, option, str(maximum + 1)])


def test_help_shows_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["search", "--help"], capsys)

    assert status == 0
    assert "(1 to 10, default: 5)" in " ".join(out.split())


def test_bm25s_debug_only_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)
    assert status == 0
    assert "bm25s" not in err

    status, _, err = run(["search", "jobset"], capsys)
    assert status == 0
    assert "bm25s" not in err

    status, _, err = run(["-v", "index", str(SITE), "--name", "site", "--no-defaults", "--rebuild"], capsys)
    assert status == 0
    assert "DEBUG bm25s: Building index from tokens" in err


def test_bm25s_logger_level_follows_root() -> None:
    import logging

    from servers.docs.lexical import LexicalIndex
    from shared.logsetup import configure_logging

    configure_logging(quiet=False)
    LexicalIndex.build([["jobset"]])
    assert logging.getLogger("bm25s").level == logging.WARNING, "servers log at INFO, bm25s only at WARNING"

    configure_logging(verbose=True)
    LexicalIndex.build([["jobset"]])
    assert logging.getLogger("bm25s").level == logging.DEBUG

    configure_logging(quiet=True)


def test_messages_name_terminal_commands(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["status"], capsys)
    assert status == 1
    assert "Run `askpanda-docs search QUERY` once to build the default index" in out
    assert "search_docs" not in out

    run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)

    status, _, err = run(["show", "site:notes/nothing.md"], capsys)
    assert status == 1
    assert "Pass a document id as `askpanda-docs search` prints it in each citation" in err
    assert "run `askpanda-docs status` to list the indexed sources" in err
    assert "search_docs" not in err
    assert "list_doc_sources" not in err

    status, _, err = run(["search", "jobset", "--source", "elsewhere"], capsys)
    assert status == 1
    assert "Pass a source name or a document id to --source, or omit it." in err

    status, _, err = run(["show", "site:notes/faq.md", "--offset", "99999"], capsys)
    assert status == 1
    assert "Pass --offset 0, or the offset that the previous page printed." in err
    assert "next_offset" not in err


def test_terminal_wording_table() -> None:
    from servers.docs.cli import TERMINAL_HINTS, terminal_wording

    package = Path(service_module.__file__).parent
    modules = [path for path in package.glob("*.py") if path.name != "cli.py"]
    sources = " ".join(path.read_text(encoding="utf-8") for path in modules)
    for tool_hint, terminal_hint in TERMINAL_HINTS:
        assert tool_hint in sources, f"no docs message contains {tool_hint!r} any more"
        assert terminal_wording(tool_hint) == terminal_hint

    note = "No passage matched. Try other words, or call list_doc_sources to see what is indexed."
    assert terminal_wording(note).endswith("or run `askpanda-docs status` to see what is indexed.")
    assert terminal_wording("Call index_docs with a folder.") == "Run `askpanda-docs index` with a folder."
    assert terminal_wording("see get_doc_section") == "see `askpanda-docs show`"


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)

    status, out, err = run(["show", "site:notes/faq.md", "How long are outputs kept?", "--json"], capsys)

    assert status == 0, err
    section = json.loads(out)
    assert section["source"] == "site:notes/faq.md"
    assert "SCRATCHDISK" in section["text"]
    assert section["offset"] == 0
    assert "next_offset" in section


def test_status_json_lists_sources(capsys: pytest.CaptureFixture[str]) -> None:
    run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)

    status, out, _ = run(["status", "--json"], capsys)

    assert status == 0
    result = json.loads(out)
    assert result["state"] == "ready"
    assert result["sources"] == 1
    assert [source["name"] for source in result["source_details"]] == ["site"]
    assert result["source_details"][0]["documents"] == 6
    assert result["source_details"][0]["skipped"] == 1
    assert result["source_details"][0]["location"] == str(SITE)


def test_status_json_without_index(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["status", "--json"], capsys)

    assert status == 1
    result = json.loads(out)
    assert result["state"] == "missing"
    assert result["source_details"] == []
    assert "`askpanda-docs search QUERY`" in result["message"]


def test_index_lists_skipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)

    assert status == 0
    assert "\n  skipped notes/latin1.txt: not UTF-8" in out
    assert "more skipped" not in out


def test_index_lists_first_skipped_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.md").write_text("# Notes\n\nOne readable page.\n", encoding="utf-8")
    for number in range(13):
        (folder / f"latin{number:02}.txt").write_bytes(b"Caf\xe9 notes\n")

    status, out, _ = run(["index", str(folder), "--name", "notes", "--no-defaults"], capsys)

    assert status == 0
    assert "13 files skipped" in out
    listed = [line for line in out.splitlines() if line.startswith("  skipped ")]
    assert len(listed) == 10
    assert listed[0].startswith("  skipped latin00.txt: not UTF-8")
    assert "  and 3 more skipped; run `askpanda-docs status` to list them" in out


@pytest.mark.parametrize(
    ("number", "expected"),
    [(0, "0 sources"), (1, "1 source"), (2, "2 sources"), (13, "13 sources")],
)
def test_count_plural(number: int, expected: str) -> None:
    from servers.docs.cli import count

    assert count(number, "source") == expected


def test_status_counts_and_base_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nOne page.\n", encoding="utf-8")
    base_url = "https://panda-wms.readthedocs.io/en/latest/"
    run(["index", str(SITE), "--name", "site", "--base-url", base_url, "--no-defaults"], capsys)
    run(["index", str(tmp_path / "notes.md"), "--name", "notes", "--no-defaults"], capsys)

    status, out, _ = run(["status"], capsys)

    assert status == 0
    assert "\n2 sources, 7 documents, " in out
    assert "  notes: 1 document, 1 chunk from " in out
    assert "  site: 6 documents, " in out
    assert f"    base URL: {base_url}\n" in out
    assert out.count("base URL:") == 1, "a source without a base URL prints no base URL line"


class LazyEmbedder(HashEmbedder):
    """HashEmbedder that, like the real model, is not loaded until the first search needs it."""

    def __init__(self) -> None:
        super().__init__()
        self.load_seconds = None
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> object:
        self._loaded = True
        self.load_seconds = 3.5
        return self


def test_search_note_on_model_load(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(["index", str(SITE), "--name", "site", "--no-defaults"], capsys)
    monkeypatch.setattr(service_module, "shared_embedder", LazyEmbedder)

    status, out, err = run(["search", "jobset"], capsys)

    assert status == 0
    assert out.startswith("[1] ")
    assert "The embedding model was loaded for this query (3.5 s)" in err
    assert "the MCP server keeps it loaded between queries, but each terminal command loads it again." in err
    assert "later queries are faster" not in err


def test_refresh_with_unusable_index_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("ASKPANDA_DOCS_INDEX_DIR", str(blocker))
    get_settings.cache_clear()

    status, out, err = run(["index"], capsys)

    assert status == 1
    assert out == ""
    assert "Traceback" not in err
    assert f"askpanda-docs: The docs index folder {blocker} cannot be used" in err
    assert "ASKPANDA_DOCS_INDEX_DIR" in err

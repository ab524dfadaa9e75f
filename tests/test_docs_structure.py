"""Section parsing and chunking of rst, Markdown, HTML and plain text, without any index or model."""

from __future__ import annotations

import pytest

from servers.docs.chunking import MAX_CHARS, chunk_document
from servers.docs.documents import build_records, parse_document, site_root, slug, sphinx_id, web_url
from servers.docs.htmltext import html_to_lines
from servers.docs.sections import clean_title, parse_text
from servers.docs.sources import DocumentFile
from tests.docs_support import SITE

RST = """\
=========
Top page
=========

Intro text.

First
-----

Body of first.

Sub A
^^^^^

Sub text.

----------

Second
------

Short
^^^^^

Last words.
"""


def test_rst_levels_follow_first_use() -> None:
    document = parse_text(RST, "rst", "fallback")

    titles = [section.titles for section in document.sections if section.heading_index is not None]

    assert document.title == "Top page"
    assert titles == [
        ("Top page",),
        ("Top page", "First"),
        ("Top page", "First", "Sub A"),
        ("Top page", "Second"),
        ("Top page", "Second", "Short"),
    ]


def test_rst_transition_is_not_a_heading() -> None:
    document = parse_text(RST, "rst", "fallback")

    first = next(s for s in document.sections if s.title == "First")
    sub = next(s for s in document.sections if s.title == "Sub A")

    # "First" runs until "Second" starts (line index of the "Second" title), the transition stays inside it.
    assert document.lines[first.end] == "Second"
    assert sub.end == first.end


def test_short_rst_underline_is_text() -> None:
    document = parse_text("Para\n\nLonger title\n---\n\nText.\n", "rst", "x")

    assert [s.title for s in document.sections if s.heading_index is not None] == []


def test_rst_short_underline_of_four_chars_counts() -> None:
    document = parse_text("Longer title\n----\n\nText.\n", "rst", "x")

    assert document.title == "Longer title"


def test_indented_lines_are_never_headings() -> None:
    text = "Title\n=====\n\n.. code-block:: rst\n\n   Fake\n   ====\n\nEnd.\n"

    document = parse_text(text, "rst", "x")

    assert [s.title for s in document.sections if s.heading_index is not None] == ["Title"]


def test_title_markup_removed() -> None:
    assert clean_title("Using ``--useSecrets`` in :doc:`prun <client/prun>`") == "Using --useSecrets in prun"
    assert clean_title("*Emphasis* and **strong**") == "Emphasis and strong"


def test_markdown_headings_skip_fenced_code() -> None:
    text = "# Title\n\nText\n\n```\n# not a heading\n```\n\n## Part\n\nMore\n\nSetext\n------\n\nEnd\n"

    document = parse_text(text, "md", "x")

    assert [s.titles for s in document.sections if s.heading_index is not None] == [
        ("Title",),
        ("Title", "Part"),
        ("Title", "Setext"),
    ]


def test_text_without_headings_is_one_section() -> None:
    document = parse_text("Just text.\n\nMore text.\n", "txt", "notes")

    assert len(document.sections) == 1
    assert document.sections[0].titles == ("notes",)


def test_html_keeps_main_content_and_source_lines() -> None:
    lines, numbers = html_to_lines((SITE / "notes" / "page.html").read_text(encoding="utf-8"))

    assert lines[0] == "# Copytools"
    assert "Home" not in " ".join(lines)
    assert "tracking" not in " ".join(lines)
    assert "Example footer" not in " ".join(lines)
    pre = lines.index('acopytools: {"pr": ["rucio"], "pw": ["rucio"]}')
    assert numbers[pre] == 13
    assert lines[pre - 1] == "```"


def test_html_document_sections() -> None:
    document = DocumentFile("notes/page.html", "html", (SITE / "notes" / "page.html").read_text(encoding="utf-8"))

    parsed = parse_document(document)

    assert [s.titles for s in parsed.sections if s.heading_index is not None] == [
        ("Copytools",),
        ("Copytools", "Choosing a copytool"),
    ]


def _bookkeeping_records() -> list:
    path = "docs/source/client/bookkeeping.rst"
    document = DocumentFile(path, "rst", (SITE / path).read_text(encoding="utf-8"))
    return build_records("site", document, base_url="https://docs.example.org/en/latest/", root="docs/source")


def test_chunks_stay_inside_their_section() -> None:
    records = _bookkeeping_records()
    text = (SITE / "docs/source/client/bookkeeping.rst").read_text(encoding="utf-8")
    parsed = parse_text(text, "rst", "x")

    for record in records:
        section = next(s for s in parsed.sections if s.titles == record.titles)
        start = parsed.line_number(section.heading_index) if section.heading_index is not None else 1
        assert start <= record.line_start <= record.line_end <= section.end, record


def test_chunks_drop_rst_noise() -> None:
    records = _bookkeeping_records()
    joined = "\n".join(record.text for record in records)

    assert "|br|" not in joined
    assert ".. contents::" not in joined
    assert ":local:" not in joined
    assert "-----------" not in joined


def test_code_block_stays_with_its_directive() -> None:
    records = _bookkeeping_records()
    kill = next(record for record in records if record.titles[-1] == "Killing a task")

    assert ".. code-block:: bash" in kill.text
    assert "$ pbook kill all" in kill.text
    assert kill.text.index(".. code-block::") < kill.text.index("$ pbook kill 4242")


def test_simple_table_with_blank_row_kept_whole() -> None:
    records = _bookkeeping_records()
    table = next(record for record in records if record.titles[-1] == "Parameter table")

    assert table.text.count("============  =====================================") == 3
    assert "excludedSite" in table.text


def test_records_carry_titles_lines_and_urls() -> None:
    records = _bookkeeping_records()
    retry = next(record for record in records if record.titles[-1] == "Retrying failed jobs")

    assert retry.titles == ("Managing your tasks", "Overview", "Retrying failed jobs")
    assert retry.section_line == 30
    assert retry.line_start == 33
    assert retry.url == "https://docs.example.org/en/latest/client/bookkeeping.html#retrying-failed-jobs"
    assert retry.doc_id == "site:docs/source/client/bookkeeping.rst"


def test_oversized_code_block_is_cut() -> None:
    body = "\n".join(f"   line {number:04d} of a very long listing that goes on" for number in range(120))
    text = f"Title\n=====\n\n.. code-block:: text\n\n{body}\n\nAfter.\n"

    records = build_records("s", DocumentFile("long.rst", "rst", text))

    assert len(records) > 1
    assert all(len(record.text) <= MAX_CHARS + 200 for record in records)
    listing = [line for record in records for line in record.text.splitlines() if "line 0" in line or "line 1" in line]
    assert len(listing) == 120


def test_identical_chunks_get_distinct_ids() -> None:
    text = "Title\n=====\n\nSame\n----\n\nRepeated text.\n\nSame\n----\n\nRepeated text.\n"

    records = build_records("s", DocumentFile("dup.rst", "rst", text))

    assert len({record.id for record in records}) == len(records) == 2


def test_chunk_ids_survive_moved_lines() -> None:
    document = DocumentFile("g.rst", "rst", (SITE / "docs/source/concepts/glossary.rst").read_text(encoding="utf-8"))
    moved = DocumentFile("g.rst", "rst", "\n\n\n" + document.text)

    before = {record.id: record.line_start for record in build_records("s", document)}
    after = {record.id: record.line_start for record in build_records("s", moved)}

    assert before.keys() == after.keys()
    assert all(after[key] == before[key] + 3 for key in before)


def test_site_root_and_links() -> None:
    paths = ["README.md", "docs/source/index.rst", "docs/source/client/prun.rst"]
    document = DocumentFile("docs/source/client/prun.rst", "rst", "")

    assert site_root(paths) == "docs/source"
    assert slug("Running on GPU!") == "running-on-gpu"
    assert web_url("https://x.org/latest", "docs/source", document, "running-on-gpu") == (
        "https://x.org/latest/client/prun.html#running-on-gpu"
    )
    assert web_url(None, "", document) == ""
    readme = DocumentFile("README.md", "md", "")
    assert web_url("https://x.org/latest", "docs/source", readme) == ""


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Running on GPU!", "running-on-gpu"),
        ("panda_server.cfg", "panda-server-cfg"),
        ("4.1. Resource Group Registration", "resource-group-registration"),
        ("MariaDB/MySQL", "mariadb-mysql"),
        ("Why were my jobs closed ?", "why-were-my-jobs-closed"),
        ("Café   crème", "cafe-creme"),
        ("2024", ""),
    ],
)
def test_sphinx_section_ids(title: str, expected: str) -> None:
    assert sphinx_id(title) == expected


def test_links_of_rst_sections_follow_sphinx() -> None:
    text = (
        "Admin guide\n===========\n\n1. Database Setup\n-----------------\n\nSet it up.\n\n"
        "Notes\n-----\n\nFirst notes.\n\nNotes\n-----\n\nSecond notes.\n"
    )
    document = DocumentFile("docs/source/admin.rst", "rst", text)

    links = {record.line_start: record.url for record in build_records("s", document, base_url="https://x.org", root="docs/source")}

    assert links[7] == "https://x.org/admin.html#database-setup"
    assert links[12] == "https://x.org/admin.html#notes"
    # Sphinx gives a repeated title an id from a page-wide counter, so the second one links to the page.
    assert links[17] == "https://x.org/admin.html"


def test_chunk_document_of_fixture_faq() -> None:
    parsed = parse_text((SITE / "notes" / "faq.md").read_text(encoding="utf-8"), "md", "faq")

    chunks = chunk_document(parsed)
    fence = next(chunk for chunk in chunks if "curl -s" in chunk.text)

    assert fence.titles == ("Frequently asked questions", "Why do my jobs keep going back to the queue?")
    assert "# A fenced block with a blank line inside" in fence.text

"""Ranking, passages, sections and the section judge over the fixture docs (stand-in embedder, no model)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from servers.docs.errors import DocsError
from servers.docs.evaluation import Question, Relevant, Returned, SectionJudge, evaluate
from servers.docs.lexical import LexicalIndex, stem, tokenize
from servers.docs.reading import find_section
from servers.docs.retrieval import fuse, share_budget
from servers.docs.service import DocsService
from servers.docs.sources import SourceSpec
from shared.config import Settings
from tests.docs_support import SITE, BrokenEmbedder, HashEmbedder


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs-index")
    service = DocsService(Settings(docs_index_dir=folder), HashEmbedder())
    spec = SourceSpec(str(SITE), "site", "https://docs.example.org/latest/")
    anyio.run(lambda: service.index([spec], include_defaults=False))
    service.close()
    return folder


@pytest.fixture
def service(index_dir: Path) -> DocsService:
    return DocsService(Settings(docs_index_dir=index_dir), HashEmbedder())


def test_stemming_and_tokens() -> None:
    assert [stem(word) for word in ("jobs", "retries", "retried", "retrying", "staging", "staged")] == [
        "job",
        "retry",
        "retry",
        "retry",
        "stag",
        "stag",
    ]
    assert tokenize("How do I set nFilesPerJob?") == ["set", "nfilesperjob", "fil", "per", "job"]
    assert tokenize("PanDA and panda_server.cfg") == ["panda", "panda_server.cfg", "panda", "server", "cfg"]
    assert tokenize("panda_jedi.cfg", identifier_parts=False) == ["panda_jedi.cfg"]


def test_typo_correction_uses_vocabulary() -> None:
    index = LexicalIndex.build([tokenize("output files are kept"), tokenize("input datasets")])

    assert index.correct(["ouput", "fil", "zzzzzz"]) == ["output", "fil", "zzzzzz"]


def test_fuse_sums_weighted_reciprocal_ranks() -> None:
    fused = fuse({"dense": [(1, 0), (2, 1)], "keyword": [(2, 0)]}, {"dense": 1.0, "keyword": 0.5}, k=10)

    assert [item for item, _, _ in fused] == [2, 1]
    assert fused[0][2] == ["dense", "keyword"]
    assert fused[0][1] == pytest.approx(1 / 12 + 0.5 / 11)


def test_search_returns_cited_passages(service: DocsService) -> None:
    result = service.search("how do I retry only the failed jobs of my task?")

    first = result.passages[0]
    assert first.section == "Managing your tasks > Overview > Retrying failed jobs"
    assert first.source == "site:docs/source/client/bookkeeping.rst"
    assert first.url == "https://docs.example.org/latest/client/bookkeeping.html#retrying-failed-jobs"
    assert first.citation.startswith("Managing your tasks > Overview > Retrying failed jobs (site:docs/source/")
    assert "pbook retry 4242" in first.text
    assert 0 < first.score <= 1
    assert first.rank == 1


def test_one_passage_per_section_within_budget(service: DocsService) -> None:
    result = service.search("jobs tasks pbook heartbeat brokerage site", k=5, max_chars=900)

    sections = [(p.source, p.section) for p in result.passages]
    assert len(sections) == len(set(sections)) == 5
    assert result.total_chars == sum(len(p.text) for p in result.passages) < 900
    assert any(p.truncated and p.text.endswith("[...]") for p in result.passages)


def test_source_filters(service: DocsService) -> None:
    by_document = service.search("jobs", source="site:notes/faq.md")
    by_folder = service.search("jobs", source="site:notes/")

    assert {p.source for p in by_document.passages} == {"site:notes/faq.md"}
    assert all(p.source.startswith("site:notes/") for p in by_folder.passages)
    with pytest.raises(DocsError, match="Unknown source 'nope'. Indexed sources: site"):
        service.search("jobs", source="nope")
    # The start of a source name is not a source: it would match no document and look like an empty result.
    with pytest.raises(DocsError, match="Unknown source 'sit'"):
        service.search("jobs", source="sit")
    with pytest.raises(DocsError, match="Unknown source 'site:nowhere/'"):
        service.search("jobs", source="site:nowhere/")
    with pytest.raises(DocsError, match="Unknown source 'site:notes/fa'"):
        service.search("jobs", source="site:notes/fa")
    assert service.search("jobs", source="site:notes").passages


def test_bad_queries(service: DocsService) -> None:
    with pytest.raises(DocsError, match="empty"):
        service.search("   ")
    with pytest.raises(DocsError, match="limit is 1000"):
        service.search("why " * 400)


def test_typo_in_query_still_finds(service: DocsService) -> None:
    result = service.search("how long are ouputs kept", k=1)

    assert result.passages[0].section == "Frequently asked questions > How long are outputs kept?"


def test_keyword_only_when_model_missing(index_dir: Path) -> None:
    service = DocsService(Settings(docs_index_dir=index_dir), BrokenEmbedder())

    result = service.search("kill all my tasks", k=2)

    assert "keyword matching only" in (result.note or "")
    assert result.passages[0].section.endswith("Killing a task")
    assert "dense" not in result.passages[0].matched_by


def test_no_match_note(service: DocsService) -> None:
    result = service.search("zzzz qqqq", k=3)

    assert result.passages == [] or result.note is None or "No passage matched" in result.note


def test_short_passages_leave_budget_to_long_ones() -> None:
    assert share_budget([100, 5000, 200, 3000], 6000) == [100, 2850, 200, 2850]
    assert share_budget([100, 200], 6000) == [100, 200]
    assert share_budget([4000, 4000, 4000], 6000) == [2000, 2000, 2000]
    assert share_budget([], 6000) == []


def test_section_by_title_with_subsections(service: DocsService) -> None:
    section = service.get_section("site:docs/source/client/bookkeeping.rst", "Overview")

    assert section.section == "Managing your tasks > Overview"
    assert section.subsections == ["Killing a task", "Retrying failed jobs", "Retrying failed jobs > Parameter table"]
    assert "## Killing a task" in section.text
    assert "### Parameter table" in section.text
    assert section.lines[0] == 12
    assert section.next_offset is None
    assert section.url == "https://docs.example.org/latest/client/bookkeeping.html#overview"


def test_section_lookup_variants(service: DocsService) -> None:
    by_path = service.get_section("bookkeeping.rst", "Managing your tasks > Overview > Killing a task")
    by_case = service.get_section("docs/source/client/bookkeeping.rst", "killing A TASK")
    by_typo = service.get_section("site:docs/source/client/bookkeeping.rst", "Retrying faild jobs")
    whole = service.get_section("site:notes/faq.md")

    assert by_path.section == by_case.section == "Managing your tasks > Overview > Killing a task"
    assert by_typo.section.endswith("Retrying failed jobs")
    assert whole.section == "Frequently asked questions"
    assert "## How long are outputs kept?" in whole.text


def test_section_paging(service: DocsService) -> None:
    first = service.get_section("site:notes/faq.md", None, max_chars=200)
    second = service.get_section("site:notes/faq.md", None, offset=first.next_offset or 0, max_chars=200)

    assert first.next_offset is not None
    assert len(first.text) <= 200
    assert second.offset == first.next_offset
    assert (first.text + second.text) in service.get_section("site:notes/faq.md").text
    with pytest.raises(DocsError, match="outside the section text"):
        service.get_section("site:notes/faq.md", None, offset=10**6)


def test_section_not_found_lists_choices(service: DocsService) -> None:
    with pytest.raises(DocsError, match="Its sections include: Managing your tasks; Overview"):
        service.get_section("site:docs/source/client/bookkeeping.rst", "Nonexistent chapter")
    with pytest.raises(DocsError, match="Close matches: site:notes/faq.md"):
        service.get_section("notes/faqs.md")
    with pytest.raises(DocsError, match="Source 'nosuch' of document 'nosuch:notes/faq.md' not found.*Indexed sources: site"):
        service.get_section("nosuch:notes/faq.md")


def test_section_with_other_words_is_not_guessed(service: DocsService) -> None:
    with pytest.raises(DocsError, match=r"No section 'Retry my jobs please'.*closest are: .*Retrying failed jobs"):
        service.get_section("site:docs/source/client/bookkeeping.rst", "Retry my jobs please")


def test_ambiguous_section_title_lists_paths() -> None:
    paths = [("Workflows",), ("Workflows", "Loops", "Conditional workflow"), ("Workflows", "Tips", "Conditional workflow")]

    with pytest.raises(DocsError, match="ambiguous.*Loops > Conditional workflow; .*Tips > Conditional workflow"):
        find_section(paths, "conditional workflow", "site:pchain.rst")
    assert find_section(paths, "Tips > Conditional workflow", "site:pchain.rst") == paths[2]


def test_list_sources_and_documents(service: DocsService) -> None:
    sources = service.list_sources().sources
    documents = service.list_sources("site").documents

    assert [(s.name, s.documents, s.skipped) for s in sources] == [("site", 6, 1)]
    assert documents[0].source == "site:docs/source/client/bookkeeping.rst"
    assert documents[0].title == "Managing your tasks"
    with pytest.raises(DocsError, match="Unknown source"):
        service.list_sources("other")


def test_section_judge_on_fixture() -> None:
    judge = SectionJudge(SITE)
    question = Question(
        "q1", "retry", "how-to", (Relevant("docs/source/client/bookkeeping.rst", "Retrying failed jobs"),)
    )

    assert judge.span(question.relevant[0]) == (30, 51)
    assert judge.span(Relevant("docs/source/client/bookkeeping.rst", "Managing your tasks")) == (1, 10**9)
    inside = Returned("docs/source/client/bookkeeping.rst", 33, 40, 100)
    crossing = Returned("docs/source/client/bookkeeping.rst", 25, 40, 100)
    other = Returned("notes/faq.md", 1, 5, 100)

    scores = evaluate([question], lambda text: [other, crossing, inside], judge)

    assert scores.section_recall == 1.0
    assert scores.section_mrr == pytest.approx(1 / 3)
    assert scores.file_recall == 1.0
    assert scores.mean_chars == 300
    with pytest.raises(KeyError):
        judge.span(Relevant("docs/source/client/bookkeeping.rst", "No such title"))

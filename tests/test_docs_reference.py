"""Retrieval quality on the PanDA docs in ../shared/data, judged by section, with the real embedding model.

The 80-page panda-docs folder is indexed once per session; that takes one to two minutes on two cores.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from servers.docs.embedding import shared_embedder
from servers.docs.evaluation import Returned, SectionJudge, evaluate, load_questions
from servers.docs.service import DocsService
from servers.docs.sources import SourceSpec
from shared.config import Settings
from tests.conftest import PROJECT_ROOT, REFERENCE_DATA, requires_reference

pytestmark = [requires_reference, pytest.mark.reference, pytest.mark.slow]

SECTION_RECALL_TARGET = 0.95
SECTION_MRR_TARGET = 0.85
HOLDOUT_MRR_FLOOR = 0.80
"""The held-out questions were written without running retrieval and were not used to choose any setting."""
MAX_CHARS = 6000


@pytest.fixture(scope="session")
def panda_docs_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not REFERENCE_DATA.is_dir():
        pytest.skip(f"reference data folder {REFERENCE_DATA} is absent")
    folder = tmp_path_factory.mktemp("panda-docs-index")
    service = DocsService(Settings(docs_index_dir=folder), shared_embedder())
    spec = SourceSpec(str(REFERENCE_DATA / "panda-docs"), "panda-docs")
    anyio.run(lambda: service.index([spec], include_defaults=False))
    service.close()
    return folder


def _retrieve(service: DocsService):  # type: ignore[no-untyped-def]
    def retrieve(question: str) -> list[Returned]:
        result = service.search(question, k=5)
        return [Returned(p.source.split(":", 1)[1], p.lines[0], p.lines[1], len(p.text)) for p in result.passages]

    return retrieve


@pytest.mark.parametrize(
    ("questions_file", "mrr_floor"),
    [
        (REFERENCE_DATA / "eval" / "docs-questions.jsonl", SECTION_MRR_TARGET),
        (PROJECT_ROOT / "benchmarks" / "data" / "docs-dev-questions.jsonl", SECTION_MRR_TARGET),
        (PROJECT_ROOT / "benchmarks" / "data" / "docs-holdout-questions.jsonl", HOLDOUT_MRR_FLOOR),
    ],
    ids=["reference", "dev", "holdout"],
)
def test_questions_by_section(panda_docs_index: Path, questions_file: Path, mrr_floor: float) -> None:
    service = DocsService(Settings(docs_index_dir=panda_docs_index), shared_embedder())
    questions = load_questions(questions_file)

    scores = evaluate(questions, _retrieve(service), SectionJudge(REFERENCE_DATA / "panda-docs"))

    misses = [(r.id, r.section_rank) for r in scores.results if r.section_rank != 1]
    assert scores.section_recall >= SECTION_RECALL_TARGET, misses
    assert scores.section_mrr >= mrr_floor, misses
    assert scores.max_chars < MAX_CHARS


def test_citations_point_at_real_lines(panda_docs_index: Path) -> None:
    service = DocsService(Settings(docs_index_dir=panda_docs_index), shared_embedder())

    result = service.search("How do I kill all my active tasks with pbook?")

    first = result.passages[0]
    path = REFERENCE_DATA / "panda-docs" / first.source.split(":", 1)[1]
    lines = path.read_text(encoding="utf-8").splitlines()
    cited = "\n".join(lines[first.lines[0] - 1 : first.lines[1]])
    assert first.text.splitlines()[0].strip() in cited
    assert "kill" in first.text.lower()

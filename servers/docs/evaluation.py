"""Retrieval quality judged by section: did a returned passage lie inside a section that contains the answer?

A question lists relevant (file, section title) pairs. A section runs from its heading to the next heading of the
same or a higher level, and the title of a file's top heading stands for the whole file. A returned passage is
a hit when it comes from a listed file and its whole line range lies inside the listed section. File recall
only asks for the file. A lenient judge (`overlap=True`) also counts a passage that only overlaps the section,
which is how fixed-size chunks that straddle headings can be compared at all.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from servers.docs.sections import ParsedDocument, parse_text
from servers.docs.sources import kind_of

WHOLE_FILE = (1, 10**9)


@dataclass(frozen=True)
class Relevant:
    file: str
    section: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    kind: str
    relevant: tuple[Relevant, ...]


@dataclass(frozen=True)
class Returned:
    """A passage reduced to what the judge compares: file path relative to the docs root, line range, size."""

    path: str
    line_start: int
    line_end: int
    chars: int


@dataclass
class QuestionResult:
    id: str
    section_rank: int | None
    file_hit: bool
    chars: int


@dataclass
class Scores:
    """Averages over the questions: recall at k by file and by section, section MRR, characters returned."""

    file_recall: float
    section_recall: float
    section_mrr: float
    mean_chars: float
    max_chars: int
    results: list[QuestionResult] = field(default_factory=list)


def load_questions(path: Path) -> list[Question]:
    """Read a JSON Lines question file with id, question, kind and relevant [{file, section}]."""
    questions: list[Question] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        relevant = tuple(Relevant(item["file"], item["section"]) for item in raw["relevant"])
        questions.append(Question(raw["id"], raw["question"], raw.get("kind", ""), relevant))
    return questions


def section_span(document: ParsedDocument, title: str) -> tuple[int, int] | None:
    """Return the 1-based inclusive line range of the first section with this title, or None."""
    if document.title == title:
        return WHOLE_FILE
    for section in document.sections:
        if section.heading_index is not None and section.title == title:
            return section.heading_index + 1, section.end
    return None


class SectionJudge:
    """Finds the line ranges of relevant sections in the docs folder and scores returned passages."""

    def __init__(self, docs_root: Path, *, overlap: bool = False) -> None:
        self.docs_root = docs_root
        self.overlap = overlap
        self._parsed: dict[str, ParsedDocument] = {}

    def span(self, relevant: Relevant) -> tuple[int, int]:
        """Return the line range of a relevant section; raises KeyError when the file has no such section."""
        if relevant.file not in self._parsed:
            path = self.docs_root / relevant.file
            kind = kind_of(relevant.file) or "txt"
            self._parsed[relevant.file] = parse_text(path.read_text(encoding="utf-8"), kind, path.stem)
        span = section_span(self._parsed[relevant.file], relevant.section)
        if span is None:
            raise KeyError(f"no section {relevant.section!r} in {relevant.file}")
        return span

    def is_hit(self, question: Question, passage: Returned) -> bool:
        for relevant in question.relevant:
            if relevant.file != passage.path:
                continue
            start, end = self.span(relevant)
            if self.overlap and passage.line_start <= end and start <= passage.line_end:
                return True
            if start <= passage.line_start and passage.line_end <= end:
                return True
        return False

    def score(self, question: Question, passages: Sequence[Returned]) -> QuestionResult:
        files = {relevant.file for relevant in question.relevant}
        rank = next((position for position, p in enumerate(passages, start=1) if self.is_hit(question, p)), None)
        return QuestionResult(
            question.id,
            rank,
            any(passage.path in files for passage in passages),
            sum(passage.chars for passage in passages),
        )


def evaluate(
    questions: Sequence[Question], retrieve: Callable[[str], Sequence[Returned]], judge: SectionJudge
) -> Scores:
    """Run every question through `retrieve` and average the section-level scores."""
    results = [judge.score(question, retrieve(question.question)) for question in questions]
    count = max(len(results), 1)
    return Scores(
        file_recall=sum(result.file_hit for result in results) / count,
        section_recall=sum(result.section_rank is not None for result in results) / count,
        section_mrr=sum(1 / result.section_rank for result in results if result.section_rank) / count,
        mean_chars=statistics.fmean(result.chars for result in results) if results else 0.0,
        max_chars=max((result.chars for result in results), default=0),
        results=results,
    )

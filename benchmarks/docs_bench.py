"""Retrieval quality and cost of askpanda-docs on the PanDA docs, side by side with the peers' method.

Methods, all returning five passages per question:

- peers: fixed 2000-character chunks with 150 characters of overlap, dense only (all-MiniLM-L6-v2), top 5
- dense: our structure-following chunks, dense ranking only (no section rerank)
- bm25: our chunks, BM25 ranking only (no section rerank)
- hybrid, no rerank: our chunks, dense + BM25 + section titles fused
- hybrid: the same, then the first five sections reordered by whole-section similarity (what search_docs does)

Each is judged by section (see servers/docs/evaluation.py): file recall@5, section recall@5, section MRR and
the characters returned per question. The script also measures indexing time of the docs folder, warm query
latency (p50, p99) and the peak RSS of the process with the model loaded.

    python benchmarks/docs_bench.py [--docs ../shared/data/panda-docs] [--questions FILE ...]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from servers.docs.embedding import shared_embedder  # noqa: E402
from servers.docs.evaluation import Question, Returned, Scores, SectionJudge, evaluate, load_questions  # noqa: E402
from servers.docs.service import DocsService  # noqa: E402
from servers.docs.sources import SourceSpec, read_folder  # noqa: E402
from shared.config import Settings  # noqa: E402

PEER_CHUNK = 2000
PEER_OVERLAP = 150
K = 5


class PeerBaseline:
    """Fixed-size character chunks over each file's raw text, ranked by cosine similarity alone."""

    def __init__(self, docs_root: Path) -> None:
        import numpy as np

        documents, _ = read_folder(docs_root)
        self.chunks: list[tuple[str, int, int, str]] = []
        for document in documents:
            text = document.text
            start = 0
            while start < len(text):
                end = min(start + PEER_CHUNK, len(text))
                line_start = text.count("\n", 0, start) + 1
                line_end = text.count("\n", 0, max(end - 1, start)) + 1
                self.chunks.append((document.path, line_start, line_end, text[start:end]))
                if end == len(text):
                    break
                start = end - PEER_OVERLAP
        started = time.monotonic()
        self.vectors = np.asarray(shared_embedder().embed([chunk[3] for chunk in self.chunks]))
        self.index_seconds = time.monotonic() - started

    def retrieve(self, question: str) -> list[Returned]:
        import numpy as np

        query = np.asarray(shared_embedder().embed([question])[0])
        best = np.argsort(-(self.vectors @ query))[:K]
        return [Returned(self.chunks[i][0], self.chunks[i][1], self.chunks[i][2], len(self.chunks[i][3])) for i in best]


def ours(
    service: DocsService, weights: dict[str, float] | None, *, rerank: bool = True
) -> Callable[[str], list[Returned]]:
    def retrieve(question: str) -> list[Returned]:
        result = service.search(question, k=K, weights=weights, rerank=rerank)
        return [
            Returned(p.source.split(":", 1)[1], p.lines[0], p.lines[1], len(p.text)) for p in result.passages
        ]

    return retrieve


def row(name: str, scores: Scores, lenient: Scores) -> str:
    return (
        f"| {name} | {scores.file_recall:.2f} | {scores.section_recall:.2f} | {scores.section_mrr:.2f} | "
        f"{lenient.section_recall:.2f} | {lenient.section_mrr:.2f} | {scores.mean_chars:.0f} | {scores.max_chars} |"
    )


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


SERVER_PROBE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from shared.config import Settings
from servers.docs.service import DocsService
service = DocsService(Settings(docs_index_dir=sys.argv[2]))
questions = json.loads(sys.argv[3])
started = time.monotonic()
service.search(questions[0])
first = time.monotonic() - started
for question in questions * 3:
    service.search(question)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    # Linux carries ru_maxrss over from the parent across fork and exec; VmHWM is this process's own peak.
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"first_seconds": first, "peak_kb": peak}))
"""
"""Runs in a fresh process, like a server: opens the index, answers the questions, reports its peak RSS."""


def server_process_figures(index_dir: Path, questions: Sequence[Question]) -> tuple[float, float]:
    """Return (seconds of the first search including model load, peak RSS in MB) of a fresh process."""
    import json
    import subprocess

    output = subprocess.run(
        [sys.executable, "-c", SERVER_PROBE, str(ROOT), str(index_dir), json.dumps([q.question for q in questions])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    peak = figures["peak_kb"] / (1024 * 1024) if sys.platform == "darwin" else figures["peak_kb"] / 1024
    return figures["first_seconds"], peak


def latency(service: DocsService, questions: Sequence[Question], rounds: int) -> tuple[float, float]:
    timings: list[float] = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            service.search(question.question, k=K)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(round(0.99 * (len(timings) - 1))))]
    return statistics.median(timings), p99


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT.parent / "shared" / "data" / "panda-docs")
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[
            ROOT.parent / "shared" / "data" / "eval" / "docs-questions.jsonl",
            ROOT / "benchmarks" / "data" / "docs-dev-questions.jsonl",
            ROOT / "benchmarks" / "data" / "docs-holdout-questions.jsonl",
        ],
    )
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions for the latency figures")
    args = parser.parse_args(argv)

    if not args.docs.is_dir():
        print(f"Docs folder {args.docs} not found; pass --docs.", file=sys.stderr)
        return 2

    judge = SectionJudge(args.docs)
    lenient = SectionJudge(args.docs, overlap=True)
    question_sets = {path.name: load_questions(path) for path in args.questions if path.is_file()}
    with tempfile.TemporaryDirectory(prefix="docs-bench-") as folder:
        index_dir = Path(folder) / "panda-docs"
        service = DocsService(Settings(docs_index_dir=index_dir), shared_embedder())
        started = time.monotonic()
        shared_embedder().load()
        load_seconds = time.monotonic() - started
        started = time.monotonic()
        result = anyio.run(lambda: service.index([SourceSpec(str(args.docs), "panda-docs")], include_defaults=False))
        index_seconds = time.monotonic() - started
        peers = PeerBaseline(args.docs)

        methods: dict[str, Callable[[str], list[Returned]]] = {
            f"peers ({PEER_CHUNK}-char chunks, {PEER_OVERLAP} overlap, dense)": peers.retrieve,
            "dense only, our chunks": ours(service, {"dense": 1.0}, rerank=False),
            "BM25 only, our chunks": ours(service, {"keyword": 1.0}, rerank=False),
            "hybrid, no section rerank": ours(service, None, rerank=False),
            "hybrid (search_docs)": ours(service, None),
        }
        for set_name, questions in question_sets.items():
            print(f"\n{set_name}: {len(questions)} questions\n")
            print(
                "| method | file recall@5 | section recall@5 | section MRR | overlap recall@5 | overlap MRR "
                "| chars / question | max chars |"
            )
            print("|---|---|---|---|---|---|---|---|")
            for name, retrieve in methods.items():
                print(row(name, evaluate(questions, retrieve, judge), evaluate(questions, retrieve, lenient)))

        all_questions = [question for questions in question_sets.values() for question in questions]
        p50, p99 = latency(service, all_questions, args.rounds)

        default_service = DocsService(Settings(docs_index_dir=Path(folder) / "default"), shared_embedder())
        started = time.monotonic()
        defaults = anyio.run(lambda: default_service.index([]))
        default_seconds = time.monotonic() - started
        default_service.close()
        service.close()
        first_seconds, server_peak = server_process_figures(index_dir, all_questions)
        print(f"\nModel load: {load_seconds:.1f} s")
        print(f"Indexing {args.docs.name}: {index_seconds:.1f} s for {result.total_chunks} chunks")
        print(f"Peers' chunks: {len(peers.chunks)}, embedded in {peers.index_seconds:.1f} s")
        print(f"Default index (project docs and error catalogue): {default_seconds:.1f} s for {defaults.total_chunks} chunks")
        print(f"Warm search_docs latency over {len(all_questions) * args.rounds} queries: p50 {p50:.0f} ms, p99 {p99:.0f} ms")
        print(f"First search of a fresh process (model load, Chroma open): {first_seconds:.1f} s")
        print(f"Peak RSS of that process after {len(all_questions) * 3 + 1} searches: {server_peak:.0f} MB")
        print(f"Peak RSS of this benchmark process (also holds the peers' vectors): {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

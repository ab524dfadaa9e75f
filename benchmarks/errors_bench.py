"""Speed and accuracy of askpanda-errors: catalogue load, lookup and search latency, search top-3 accuracy.

Accuracy is measured on the reference query set (../shared/data/eval/diag-queries.jsonl, skipped when
absent) and on this repository's own query set (tests/fixtures/errors/search-queries.jsonl), next to a
baseline that ranks entries by the number of words the query shares with the official message.
Run from the repository root:

    python benchmarks/errors_bench.py [--repeat 20] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.errorcodes import Catalogue, SearchIndex, load_catalogue
from shared.errorcodes.explain import explain_code

QUERY_SETS = {
    "reference diag queries": ROOT.parent / "shared" / "data" / "eval" / "diag-queries.jsonl",
    "own queries (tests/fixtures/errors)": ROOT / "tests" / "fixtures" / "errors" / "search-queries.jsonl",
}
_WORD = re.compile(r"[a-z0-9]+")


def _queries(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p99_index = min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))
    return statistics.median(ordered), ordered[p99_index]


def _time_calls(call: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def word_overlap_top3(catalogue: Catalogue, text: str) -> list[str]:
    """Rank entries by how many distinct words the query shares with the official message (the baseline)."""
    words = set(_WORD.findall(text.lower()))
    scored = []
    for position, entry in enumerate(catalogue.entries):
        overlap = len(words & set(_WORD.findall(entry.message.lower())))
        if overlap:
            scored.append((-overlap, position, entry.key))
    keys: list[str] = []
    for _, _, key in sorted(scored):
        if key not in keys:
            keys.append(key)
        if len(keys) == 3:
            break
    return keys


def _accuracy(queries: list[dict[str, object]], rank: Callable[[str], list[str]]) -> float:
    right = sum(1 for query in queries if set(rank(str(query["text"]))[:3]) & set(query["accept"]))  # type: ignore[arg-type]
    return right / len(queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed repetitions of each call (default 20)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown for docs/benchmarks.md")
    args = parser.parse_args()

    start = time.perf_counter()
    catalogue = load_catalogue()
    load_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    index = SearchIndex(catalogue)
    index_ms = (time.perf_counter() - start) * 1000

    # A second, untimed pass measures memory, because tracing slows every allocation down.
    tracemalloc.start()
    SearchIndex(load_catalogue())
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    codes = sorted({entry.code for entry in catalogue.entries})
    lookup_samples = _time_calls(lambda: [explain_code(catalogue, code) for code in codes], args.repeat)
    lookup_per_call = [sample / len(codes) for sample in lookup_samples]

    rows = []
    search_samples: list[float] = []
    for name, path in QUERY_SETS.items():
        if not path.is_file():
            rows.append((name, None, None, 0))
            continue
        queries = _queries(path)
        for query in queries:
            search_samples += _time_calls(
                lambda text=str(query["text"]): index.search(text, limit=5), args.repeat
            )
        ours = _accuracy(
            queries, lambda text: [f"{hit.component}:{hit.code}" for hit in index.search(text, 3).hits]
        )
        baseline = _accuracy(queries, lambda text: word_overlap_top3(catalogue, text))
        rows.append((name, ours, baseline, len(queries)))

    lookup_p50, lookup_p99 = _percentiles(lookup_per_call)
    search_p50, search_p99 = _percentiles(search_samples)
    machine = f"{platform.machine()}, Python {platform.python_version()}"

    if args.markdown:
        print(
            f"`python benchmarks/errors_bench.py --repeat {args.repeat} --markdown` on {machine}; "
            f"{len(catalogue)} entries.\n"
        )
        print("| measure | value |\n|---|---|")
        print(f"| catalogue load (all data files, validated) | {load_ms:.0f} ms |")
        print(f"| search index build | {index_ms:.0f} ms |")
        print(f"| peak Python memory of load + index | {peak_bytes / 2**20:.1f} MiB |")
        print(
            f"| explain_code, per code (p50 / p99) | {lookup_p50 * 1000:.0f} / {lookup_p99 * 1000:.0f} µs |"
        )
        print(f"| search, per query (p50 / p99) | {search_p50:.1f} / {search_p99:.1f} ms |")
        print("\n| query set | queries | search top-3 | word-overlap baseline top-3 |\n|---|---|---|---|")
        for name, ours, baseline, count in rows:
            if ours is None:
                print(f"| {name} | absent | - | - |")
            else:
                print(f"| {name} | {count} | {ours:.2f} | {baseline:.2f} |")
        return 0

    print(f"{len(catalogue)} entries on {machine}")
    print(f"load {load_ms:.0f} ms, index {index_ms:.0f} ms, peak memory {peak_bytes / 2**20:.1f} MiB")
    print(f"explain_code p50 {lookup_p50 * 1000:.0f} µs, p99 {lookup_p99 * 1000:.0f} µs")
    print(f"search p50 {search_p50:.1f} ms, p99 {search_p99:.1f} ms")
    for name, ours, baseline, count in rows:
        if ours is None:
            print(f"{name}: absent")
        else:
            print(f"{name}: {count} queries, top-3 {ours:.2f}, word-overlap baseline {baseline:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

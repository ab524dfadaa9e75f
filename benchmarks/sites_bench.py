"""Load time, find_queues latency and peak memory of askpanda-sites on the CRIC snapshot and a 10x dump.

Run from the repository root; the CRIC reference snapshot is read from ../shared/data beside the repository:

    python benchmarks/sites_bench.py [--repeat 50] [--markdown]

Each dump is measured in its own child process, so its peak RSS is not mixed with the other's. The 10x dump
is synthetic: the snapshot's records copied ten times under new queue and site names.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT.parent / "shared" / "data" / "cric" / "cric_pandaqueues.json"

QUERIES: list[dict[str, Any]] = [
    {"cloud": "DE", "status": "online"},
    {"status": "online", "where": {"maxrss": ">64000"}},
    {"copytool": "rucio", "activity": "pw"},
    {"site": "BNL", "fields": ["corepower"]},
    {"where": {"queues.ce_flavour": "ARC-CE"}, "min": {"corecount": 8}, "sort": "-corepower"},
    {"storage": "BNL-OSG2_DATADISK"},
    {"resource_type": "hpc,hpc_special", "fields": ["maxtime", "corecount"]},
]
"""A mix of the question kinds the server answers: named filters, bounds, transfers, CE paths and sorting."""


def write_synthetic(snapshot: Path, factor: int, dest: Path) -> int:
    """Write `factor` renamed copies of every snapshot record to `dest`; return the number of queues."""
    document = json.loads(snapshot.read_text(encoding="utf-8"))
    synthetic: dict[str, Any] = {}
    for copy in range(factor):
        suffix = "" if copy == 0 else f"_X{copy}"
        for name, record in document.items():
            renamed = dict(record, name=name + suffix, nickname=name + suffix, siteid=name + suffix)
            renamed["site"] = renamed["panda_site"] = f"{record.get('site')}{suffix}"
            synthetic[name + suffix] = renamed
    dest.write_text(json.dumps(synthetic), encoding="utf-8")
    return len(synthetic)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(path: Path, repeat: int) -> dict[str, Any]:
    """Measure one dump in this process and return the numbers."""
    import anyio

    from servers.sites.cric import CricLoader
    from servers.sites.filters import QueueFilters
    from servers.sites.queues import find_queues
    from shared.config import Settings

    settings = Settings(cric_url=str(path), cache_dir=Path(tempfile.mkdtemp(prefix="sites-bench-")))
    started = time.perf_counter()
    data = anyio.run(CricLoader(settings, background_refresh=False).load)
    load_seconds = time.perf_counter() - started

    def run_query(query: dict[str, Any]) -> None:
        options = {key: query[key] for key in ("fields", "sort") if key in query}
        filters = QueueFilters(
            **{key: value for key, value in query.items() if key not in ("fields", "sort")}
        )
        find_queues(data, filters, limit=50, **options)

    started = time.perf_counter()
    for query in QUERIES:
        run_query(query)
    first_pass = (time.perf_counter() - started) / len(QUERIES)

    samples = []
    for _ in range(repeat):
        for query in QUERIES:
            started = time.perf_counter()
            run_query(query)
            samples.append(time.perf_counter() - started)

    mcp_samples = anyio.run(_measure_mcp, settings, max(1, repeat // 5))
    return {
        "queues": len(data.table),
        "file_mb": path.stat().st_size / 1e6,
        "load_s": load_seconds,
        "first_query_ms": first_pass * 1000,
        "p50_ms": percentile(samples, 0.50) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
        "calls": len(samples),
        "mcp_p50_ms": percentile(mcp_samples, 0.50) * 1000,
        "mcp_p99_ms": percentile(mcp_samples, 0.99) * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def _measure_mcp(settings: Any, repeat: int) -> list[float]:
    """Return the latencies of find_queues calls through an in-memory MCP client, after one warm-up round."""
    from mcp.client import Client

    from servers.sites.server import build_server

    samples = []
    async with Client(build_server(settings), mode="legacy") as client:
        for round_number in range(repeat + 1):
            for query in QUERIES:
                started = time.perf_counter()
                result = await client.call_tool("find_queues", query)
                if round_number:
                    samples.append(time.perf_counter() - started)
                assert not result.is_error, result.content
    return samples


def child(path: Path, repeat: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--measure", str(path), "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="rounds of the query mix (default: 50)")
    parser.add_argument(
        "--factor", type=int, default=10, help="size of the synthetic dump in snapshots (default: 10)"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(args.measure, args.repeat)))
        return 0

    if not SNAPSHOT.is_file():
        print(f"The CRIC snapshot {SNAPSHOT} is absent.", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="sites-bench-") as folder:
        synthetic = Path(folder) / "cric_synthetic.json"
        write_synthetic(SNAPSHOT, args.factor, synthetic)
        rows = [
            ("snapshot", child(SNAPSHOT, args.repeat)),
            (f"synthetic {args.factor}x", child(synthetic, args.repeat)),
        ]

    if args.markdown:
        print(
            "| dump | queues | file (MB) | load (s) | first query (ms) | find_queues p50 / p99 (ms) "
            "| over MCP p50 / p99 (ms) | peak RSS (MB) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, row in rows:
            print(
                f"| {label} | {row['queues']} | {row['file_mb']:.1f} | {row['load_s']:.3f} | {row['first_query_ms']:.1f} | "
                f"{row['p50_ms']:.2f} / {row['p99_ms']:.2f} | {row['mcp_p50_ms']:.2f} / {row['mcp_p99_ms']:.2f} "
                f"| {row['peak_rss_mb']:.0f} |"
            )
    else:
        for label, row in rows:
            print(label, json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed and peak memory of askpanda-logs on large synthetic pilot logs, next to grep over the same file.

Generates Pilot 3 logs of 10, 100 and 500 MB under /tmp (monitoring blocks, heartbeats, a warning now and then,
and a stage-out failure with a traceback at the end), then for each size:

- runs the full analysis (scan, ranking, windows, report) in a fresh child process. It records the wall time
  without the interpreter start, the imports and the error catalogue load, which a running server pays once,
  and the time with them. It also records the peak RSS (ru_maxrss of that process, so it includes Python
  and the imported modules);
- runs ``grep -n -E 'ERROR|CRITICAL|FATAL|Traceback' FILE`` with its output discarded, best of three.

Run from the repository root:

    python benchmarks/logs_bench.py [--sizes 10,100,500] [--markdown] [--keep]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GREP_PATTERN = "ERROR|CRITICAL|FATAL|Traceback"

_LINE = "{time} | {level:<8} | {logger:<32} | {function:<25} | {message}\n"
_BLOCK = [
    ("INFO", "pilot.control.job", "job_monitor", "monitor loop #{n}: job 0:7300000001 is in state 'running'"),
    ("DEBUG", "pilot.util.monitoring", "still_running", "payload process 2811507 is running"),
    (
        "INFO",
        "pilot.util.monitoring",
        "set_cpu_consumption_time",
        "(instant) CPU consumption time for pid=2811507: {n})",
    ),
    ("DEBUG", "pilot.user.atlas.cpu", "set_core_counts", "number of cores=7.91"),
    (
        "INFO",
        "pilot.user.atlas.utilities",
        "get_memory_values",
        "using path: /scratch/PanDA_Pilot-7300000001/memory_monitor_output.txt (trf name=prmon)",
    ),
    (
        "INFO",
        "pilot.user.atlas.memory",
        "memory_usage",
        "max memory (maxPSS) used by the payload is within the allowed limit: 6103311 kB <= 32768000 kB (subresource=MCORE)",
    ),
    ("INFO", "pilot.util.loopingjob", "looping_job", "checking for looping job (in state=running)"),
    (
        "INFO",
        "pilot.util.container",
        "print_executable",
        "executing command: find /scratch/PanDA_Pilot-7300000001 -mmin -120",
    ),
    (
        "INFO",
        "pilot.util.loopingjob",
        "looping_job",
        "files were last touched 0h 1m 10s ago (current time: 1768898300)",
    ),
    (
        "INFO",
        "pilot.util.monitoring",
        "check_log_size",
        "payload log (payload.stdout) within allowed size limit (2147483648 B): 62931 B",
    ),
    (
        "INFO",
        "pilot.control.job",
        "is_final_update",
        "job 7300000001 has state 'running' - sending heartbeat",
    ),
    ("INFO", "pilot.util.https", "send_update", "server update attempt 1/2"),
    (
        "INFO",
        "pilot.util.https",
        "request2",
        "data = {{'jobId': 7300000001, 'state': 'running', 'siteName': 'BNL', 'node': 'spar1213.sdcc.bnl.gov', 'attemptNr': 1}}",
    ),
    ("INFO", "pilot.util.https", "request2", "response.status=200, response.reason=OK"),
    (
        "INFO",
        "pilot.util.https",
        "send_request",
        "server updateJob request completed in 1s for job 7300000001",
    ),
]
_EVERY_500 = ("WARNING", "pilot.util.https", "request2", "failed to send request: <urlopen error timed out>")
_FAILURE = """{t} | INFO     | pilot.copytool.rucio             | upload                    | Trying upload with davs to RAL-LCG2-ECHO_DATADISK
{t} | WARNING  | pilot.copytool.rucio             | copy_out                  | Exception caught during stage-out: TimeoutException: Timeout reached, timeout=1758 seconds
{t} | ERROR    | pilot.control.data               | _do_stageout              | Traceback (most recent call last):
  File "/scratch/pilot3/pilot/control/data.py", line 1012, in _do_stageout
    client.transfer(xdata, activity, raise_exception=not altstageout, **kwargs)
pilot.common.exception.PilotException: error code: 1152, message: File transfer timed out during stage-out
{t} | WARNING  | pilot.util.https                 | add_error_codes           | pilotErrorCodes = [1152, 1137] (will report primary/first error code)
"""


def generate(path: Path, megabytes: int) -> None:
    """Write a Pilot 3 log of about `megabytes` MB to `path`."""
    target = megabytes * 1024 * 1024
    written = 0
    block_number = 0
    start = time.mktime(time.strptime("2026-03-01 00:00:00", "%Y-%m-%d %H:%M:%S"))
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            stamp = (
                time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + block_number))
                + f",{block_number % 1000:03d}"
            )
            rows = [
                _LINE.format(
                    time=stamp,
                    level=level,
                    logger=logger,
                    function=function,
                    message=message.format(n=block_number),
                )
                for level, logger, function, message in _BLOCK
            ]
            if block_number % 500 == 499:
                level, logger, function, message = _EVERY_500
                rows.append(
                    _LINE.format(time=stamp, level=level, logger=logger, function=function, message=message)
                )
            chunk = "".join(rows)
            out.write(chunk)
            written += len(chunk)
            block_number += 1
        out.write(
            _FAILURE.format(t=time.strftime("%Y-%m-%d %H:%M:%S,000", time.gmtime(start + block_number)))
        )


_CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
started = time.perf_counter()
from servers.logs.analysis import JobInput, analyze
from servers.logs.sources import open_local
from shared.errorcodes import get_catalogue
get_catalogue()
imported = time.perf_counter()
folder = Path({folder!r})
bundle = open_local(folder, roots=[folder], trusted=True, work_root=folder / "work")
report = analyze(JobInput(source="bench", bundle=bundle, budget=6000))
done = time.perf_counter()
print(json.dumps({{"seconds": done - imported, "process_seconds": done - started,
                   "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "primary": report.primary_error.code if report.primary_error else None, "phase": report.phase}}))
"""


def analyze_in_child(folder: Path) -> dict[str, object]:
    """Analyse `folder` in a fresh interpreter; return its time, peak RSS and what it found."""
    code = _CHILD.format(root=str(ROOT), folder=str(folder))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def grep_seconds(path: Path, repeat: int = 3) -> float:
    """Return the best wall time of grep -n -E over `path`, output discarded."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(["grep", "-n", "-E", GREP_PATTERN, str(path)], stdout=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10,100,500", help="log sizes in MB, comma-separated (default: 10,100,500)"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print a Markdown table for docs/benchmarks.md"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated logs under /tmp")
    args = parser.parse_args()

    if shutil.which("grep") is None:
        print("grep is not installed; the comparison needs it", file=sys.stderr)
        return 2

    rows = []
    work = Path(tempfile.mkdtemp(prefix="askpanda-logs-bench-", dir="/tmp"))
    try:
        for megabytes in (int(size) for size in args.sizes.split(",")):
            folder = work / f"log{megabytes}"
            folder.mkdir()
            log = folder / "pilotlog.txt"
            generate(log, megabytes)
            size_mb = log.stat().st_size / 1024 / 1024
            subprocess.run(
                ["cat", str(log)], stdout=subprocess.DEVNULL, check=True
            )  # warm the page cache for both
            grep = grep_seconds(log)
            child = analyze_in_child(folder)
            rows.append((size_mb, child, grep))
            print(
                f"{size_mb:.0f} MB: analysis {child['seconds']:.2f} s ({size_mb / child['seconds']:.0f} MB/s, "
                f"{child['process_seconds']:.2f} s with start-up), "
                f"peak RSS {child['peak_rss_mb']:.0f} MB, grep {grep:.2f} s, ratio {child['seconds'] / grep:.1f}, "
                f"found {child['primary']} in {child['phase']}",
                file=sys.stderr,
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    if args.markdown:
        print(
            f"Python {platform.python_version()}, {platform.machine()}; grep: `grep -n -E '{GREP_PATTERN}'`, best of 3.\n"
        )
        print(
            "| log | analysis (s) | MB/s | with start-up (s) | peak RSS (MB) | grep (s) | analysis / grep | decisive code found |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---|")
        for size_mb, child, grep in rows:
            print(
                f"| {size_mb:.0f} MB | {child['seconds']:.2f} | {size_mb / child['seconds']:.0f} | {child['process_seconds']:.2f} | "
                f"{child['peak_rss_mb']:.0f} | {grep:.2f} | {child['seconds'] / grep:.1f} | {child['primary']} ({child['phase']}) |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

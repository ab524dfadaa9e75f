"""Time from process start to the `initialize` reply over stdio, per server, next to a bare MCPServer.

Also records the size of each server's `tools/list` reply in bytes. Run from the repository root:

    python benchmarks/startup.py [--runs 10] [--markdown]

The floor is a bare MCPServer with one tool, started the same way, so the numbers show what this
project adds on top of Python and the MCP SDK.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR_SERVER = '''
from mcp.server.mcpserver import MCPServer

server = MCPServer("floor")


@server.tool()
def echo(text: str) -> str:
    """Return the text."""
    return text


server.run("stdio")
'''

SERVERS = ["errors", "logs", "sites", "docs"]


def _request(process: subprocess.Popen[bytes], message: dict[str, object]) -> None:
    assert process.stdin is not None
    process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
    process.stdin.flush()


def _read_reply(process: subprocess.Popen[bytes], request_id: int) -> bytes:
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("server closed stdout before replying")
        if json.loads(line).get("id") == request_id:
            return line


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Return (seconds from spawn to the initialize reply, bytes of the tools/list reply)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    try:
        _request(
            process,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "startup-benchmark", "version": "1"},
                },
            },
        )
        _read_reply(process, 1)
        elapsed = time.perf_counter() - started
        _request(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _request(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        size = len(_read_reply(process, 2))
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return elapsed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="start-ups per server (default: 10)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "ASKPANDA_CACHE_DIR": str(Path(scratch) / "cache"),
            "ASKPANDA_DOCS_INDEX_DIR": str(Path(scratch) / "index"),
            "HF_HUB_OFFLINE": "1",
        }
        floor_script = Path(scratch) / "floor.py"
        floor_script.write_text(FLOOR_SERVER)

        commands = {"floor (bare MCPServer)": [sys.executable, str(floor_script)]}
        commands.update({f"askpanda-{name}": [str(bin_dir / f"askpanda-{name}")] for name in SERVERS})

        rows = []
        floor_median = None
        for label, command in commands.items():
            times = []
            size = 0
            for _ in range(args.runs):
                elapsed, size = measure(command, env)
                times.append(elapsed)
            median = statistics.median(times)
            floor_median = floor_median or median
            rows.append((label, median, max(times), median / floor_median, size))

    if args.markdown:
        print("| server | initialize median (ms) | max (ms) | x floor | tools/list bytes |")
        print("|---|---|---|---|---|")
        for label, median, worst, ratio, size in rows:
            print(f"| {label} | {median * 1000:.0f} | {worst * 1000:.0f} | {ratio:.2f} | {size} |")
    else:
        for label, median, worst, ratio, size in rows:
            print(f"{label:28} median {median * 1000:6.0f} ms  max {worst * 1000:6.0f} ms  {ratio:4.2f}x  {size} B")


if __name__ == "__main__":
    main()

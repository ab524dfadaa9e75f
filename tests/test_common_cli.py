"""Terminal runner shared by the servers: a reader that closes stdout early, as `| head -3` does."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent

FLOOD_CLI = textwrap.dedent(
    """
    import sys

    from servers.common.cli import exit_with, run_cli


    def flood(args):
        # About 2 MB, far more than a pipe buffer (64 KiB on Linux), so a write fails while the handler runs.
        for number in range(200_000):
            print(f"line {number}")
        return 0


    def buffered(args):
        # The line stays in sys.stdout's buffer until the handler returns, and the parent closes the pipe first.
        print("one line")
        sys.stdin.read()
        return 0


    def add_commands(subcommands):
        subcommands.add_parser("flood").set_defaults(handler=flood)
        subcommands.add_parser("buffered").set_defaults(handler=buffered)


    def no_server():
        raise AssertionError("a subcommand must not build the server")


    exit_with(run_cli(prog="flood", description="test", build_server=no_server, add_commands=add_commands))
    """
)


def run_without_reader(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run `command` with stdout on a pipe whose read end is closed before the process starts."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            command,
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.fixture
def flood_script(tmp_path: Path) -> Path:
    script = tmp_path / "flood_cli.py"
    script.write_text(FLOOD_CLI, encoding="utf-8")
    return script


def start(script: Path, mode: str, stdin: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), mode],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        text=True,
    )


def test_closed_stdout_while_writing(flood_script: Path) -> None:
    result = run_without_reader([sys.executable, str(flood_script), "flood"])

    assert result.stderr == ""
    assert result.returncode == 1


def test_closed_stdout_before_flush(flood_script: Path) -> None:
    process = start(flood_script, "buffered", subprocess.PIPE)
    assert process.stdout is not None

    # The handler waits on stdin, so its line is still buffered when the reader goes away.
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)

    assert stderr == ""
    assert process.returncode == 1


def test_closed_stdout_after_head(flood_script: Path) -> None:
    process = start(flood_script, "flood", subprocess.DEVNULL)
    assert process.stdout is not None

    first_lines = [process.stdout.readline() for _ in range(3)]
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)

    assert first_lines == ["line 0\n", "line 1\n", "line 2\n"]
    assert stderr == ""
    assert process.returncode == 1


@pytest.mark.parametrize(
    ("arguments", "expected_status"),
    [
        (["servers.errors", "list"], 1),
        (["servers.errors", "explain", "1152"], 1),
        # argparse ignores an OSError while it prints help, so --help still exits with 0.
        (["servers.errors", "--help"], 0),
    ],
)
def test_server_command_closed_stdout(arguments: list[str], expected_status: int) -> None:
    result = run_without_reader([sys.executable, "-m", *arguments])

    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr
    assert result.returncode == expected_status

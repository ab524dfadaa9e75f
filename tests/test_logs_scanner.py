"""Streaming scan of log files: candidates, line numbers across chunks, blocks, repeats, head, tail and windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from servers.logs import scanner
from servers.logs.lineformat import Layout
from servers.logs.scanner import read_window, scan_file
from servers.logs.sources import LogFile

HEADER = "2026-02-01 03:{minute:02d}:{second:02d},{ms:03d} | {level:<8} | {logger:<32} | {function:<25} | {message}"


def pilot_line(
    index: int, level: str = "INFO", message: str = "routine", function: str = "job_monitor"
) -> str:
    return HEADER.format(
        minute=(index // 60) % 60,
        second=index % 60,
        ms=index % 1000,
        level=level,
        logger="pilot.control.job",
        function=function,
        message=message,
    )


def write(tmp_path: Path, name: str, lines: list[str]) -> LogFile:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return LogFile(name, path, path.stat().st_size)


def test_candidates_and_line_numbers(tmp_path: Path) -> None:
    lines = [pilot_line(i) for i in range(500)]
    lines[99] = pilot_line(99, "WARNING", "found no recently updated files")
    lines[399] = pilot_line(399, "CRITICAL", "pilot has decided to kill looping job 1")

    scan = scan_file(write(tmp_path, "pilotlog.txt", lines))

    assert scan.layout is Layout.PILOT3
    assert scan.total_lines == 500
    assert [(hit.line.number, hit.line.level) for hit in scan.hits] == [(100, "WARNING"), (400, "CRITICAL")]


def test_line_numbers_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner, "CHUNK_BYTES", 1000)
    lines = [pilot_line(i) for i in range(3000)]
    warnings = {7: "disk", 1234: "proxy", 2999: "memory"}
    for index, word in warnings.items():
        lines[index] = pilot_line(index, "ERROR", f"{word} problem", function=f"f{index}")

    scan = scan_file(write(tmp_path, "pilotlog.txt", lines))

    assert [hit.line.number for hit in scan.hits] == [index + 1 for index in warnings]
    assert [hit.line.message for hit in scan.hits] == [f"{word} problem" for word in warnings.values()]
    assert scan.total_lines == 3000


def test_repeats_are_counted_once(tmp_path: Path) -> None:
    lines = [
        pilot_line(i, "WARNING", f"found no recently updated files (check {i})")
        if i % 10 == 0
        else pilot_line(i)
        for i in range(100)
    ]

    scan = scan_file(write(tmp_path, "pilotlog.txt", lines))

    assert len(scan.hits) == 1
    assert scan.hits[0].count == 10
    assert scan.hits[0].last_line == 91


def test_record_keeps_its_continuation_lines(tmp_path: Path) -> None:
    lines = [
        pilot_line(1),
        pilot_line(2, "ERROR", "Traceback (most recent call last):", function="_do_stageout"),
        '  File "/srv/pilot3/pilot/control/data.py", line 1012, in _do_stageout',
        "pilot.common.exception.PilotException: error code: 1152, message: File transfer timed out during stage-out",
        pilot_line(3),
    ]

    hit = scan_file(write(tmp_path, "pilotlog.txt", lines)).hits[0]

    assert hit.line.number == 2
    assert hit.block[-1].startswith("pilot.common.exception.PilotException: error code: 1152")
    assert hit.end_line == 4


def test_payload_traceback_block(tmp_path: Path) -> None:
    lines = [
        "16:22:58 INFO     plots: reading 3 input file(s)",
        "Traceback (most recent call last):",
        '  File "/srv/workDir/make_plots.py", line 71, in main',
        '    weights = events["jet_pt_calib"] * scale',
        "KeyError: 'jet_pt_calib'",
        "execute script: Running script failed : StatusCode=256",
    ]

    scan = scan_file(write(tmp_path, "payload.stdout", lines))

    traceback = next(hit for hit in scan.hits if "Traceback" in hit.line.text)
    assert traceback.block[-1] == "KeyError: 'jet_pt_calib'"
    assert any("Running script failed" in hit.line.text for hit in scan.hits)


def test_athena_stack_trace_block(tmp_path: Path) -> None:
    lines = [
        "EVNTtoHITS 11:03:31 AthenaHiveEventLoopMgr   INFO   ===>>>  start processing event #1048537",
        "EVNTtoHITS 11:03:54 Caught signal 11(Segmentation fault). Details:",
        "EVNTtoHITS 11:03:54 #4  0x00007f2ad7c43e11 in G4VoxelNavigation::ComputeSafety() () from /x/libG4geometry.so",
        "EVNTtoHITS 11:03:54 #5  0x00007f2ad7c3a2d5 in G4Navigator::ComputeSafety() () from /x/libG4geometry.so",
        "PyJobTransforms.trfExe.execute 2025-10-03 11:04:11,561 INFO EVNTtoHITS executor returns -11",
    ]

    scan = scan_file(write(tmp_path, "payload.stdout", lines))

    crash = next(hit for hit in scan.hits if "Caught signal" in hit.line.text)
    assert len(crash.block) == 2
    assert "G4VoxelNavigation::ComputeSafety" in crash.block[0]


def test_pilot_log_extract_copies_are_skipped(tmp_path: Path) -> None:
    lines = [
        "2026-01-20 10:23:07,665 | WARNING  | pilot.control.payload            | execute_payloads          | payload was killed",
        "2026-01-20 10:23:18,766 | WARNING  | pilot.user.atlas.diagnose        | get_log_extracts          | detected the following tail of warning/fatal messages in the pilot log:",
        "- Log from pilotlog.txt -",
        "2026-01-20 10:23:07,665 | WARNING  | pilot.control.payload            | execute_payloads          | payload was killed",
        "2026-01-20 10:23:18,783 | WARNING  | pilot.util.https                 | add_error_codes           | pilotErrorCodes = [1150] (will report primary/first error code)",
    ]

    scan = scan_file(write(tmp_path, "pilotlog.txt", lines))

    killed = next(hit for hit in scan.hits if hit.line.message == "payload was killed")
    assert killed.count == 1
    assert any("pilotErrorCodes" in hit.line.message for hit in scan.hits)


def test_head_and_tail_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner, "TAIL_BYTES", 2000)
    lines = [pilot_line(i, message=f"line {i + 1}") for i in range(300)]

    scan = scan_file(write(tmp_path, "pilotlog.txt", lines))

    assert scan.head[0].number == 1
    assert scan.head[0].message == "line 1"
    assert scan.tail[-1].number == 300
    assert scan.tail[-1].message == "line 300"
    assert all(line.message == f"line {line.number}" for line in scan.tail)


def test_window_numbers_match_the_file(tmp_path: Path) -> None:
    lines = [pilot_line(i, message=f"line {i + 1}") for i in range(2000)]
    lines[1499] = pilot_line(1499, "ERROR", "line 1500")
    log = write(tmp_path, "pilotlog.txt", lines)
    hit = scan_file(log).hits[0]

    window = read_window(log, Layout.PILOT3, hit, before=5000, after=1000)

    assert any(line.number == 1500 for line in window)
    assert all(line.message == f"line {line.number}" for line in window)


def test_line_without_newline_at_end_counts(tmp_path: Path) -> None:
    path = tmp_path / "payload.stdout"
    path.write_bytes(b"first\nERROR: second")

    scan = scan_file(LogFile("payload.stdout", path, path.stat().st_size))

    assert scan.total_lines == 2
    assert scan.hits[0].line.number == 2


def test_very_long_line_without_newlines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner, "CHUNK_BYTES", 4096)
    path = tmp_path / "payload.stdout"
    path.write_bytes(b"x" * 50_000 + b" ERROR here " + b"y" * 50_000)

    scan = scan_file(LogFile("payload.stdout", path, path.stat().st_size))

    assert scan.hits
    assert len(scan.hits[0].line.text) <= scanner.MAX_LINE_BYTES


def test_tail_only_file_keeps_real_line_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner, "TAIL_SCAN_BYTES", 20_000)
    lines = [pilot_line(i, message=f"line {i + 1}") for i in range(1000)]
    lines[10] = pilot_line(10, "ERROR", "early error")
    lines[990] = pilot_line(990, "ERROR", "late error")
    path = tmp_path / "pilotlog.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    scan = scan_file(LogFile("pilotlog.txt", path, path.stat().st_size, tail_only=True))

    assert [hit.line.number for hit in scan.hits] == [991]
    assert scan.scanned_from_line > 1


def test_kill_lines_found_in_tail_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(scanner, "KILL_TAIL_BYTES", 20_000)
    lines = [pilot_line(i) for i in range(3000)]
    lines[10] = pilot_line(10, message="server returned command=tobekilled (early, outside the tail)")
    lines[2990] = pilot_line(2990, message="pilot received a panda server signal to kill job")

    scan = scan_file(write(tmp_path, "pilotlog.txt", lines))

    numbers = [hit.line.number for hit in scan.hits]
    assert 2991 in numbers
    assert 11 not in numbers

"""Routine log lines that never explain a failure: heartbeats, server chatter, periodic checks and listings."""

from __future__ import annotations

import re

from servers.logs.lineformat import LogLine

# Pilot functions whose INFO and DEBUG lines are periodic bookkeeping (pilot/util/https.py, pilot/control/job.py,
# pilot/util/monitoring.py, pilot/user/atlas/{cpu,memory,utilities}.py).
ROUTINE_FUNCTIONS = frozenset(
    {
        "request2",
        "send_request",
        "send_update",
        "get_panda_server",
        "send_heartbeat_if_time",
        "get_data_structure",
        "send_state",
        "still_running",
        "utility_monitor",
        "set_cpu_consumption_time",
        "store_subprocess_pids",
        "check_payload_stdout",
        "check_log_size",
        "set_core_counts",
        "get_memory_limit",
        "calculate_memory_limit_kb",
        "get_memory_values",
        "get_proper_pid",
        "get_pid_for_jobid",
        "print_node_info",
        "pilot_version_banner",
        "is_cvmfs_available",
        "update_local_oidc_token_info",
        "verify_running_processes",
        "job_monitor_tasks",
    }
)

ROUTINE_MESSAGES = re.compile(
    r"monitor loop #\d+|job_monitor_tasks returned 0|has state 'running' - sending heartbeat|sending heartbeat|"
    r"will not send any job update|has CPU usage=|seconds have passed since pilot start|s have passed since pilot start|"
    r"within the allowed limit|validity time is verified|cache: check (cert|proxy) validity|sufficient remaining disk space|"
    r"checking local space|using looping job limit|checking for looping job|payload process \d+ is running|"
    r"(is|are) within (the )?allowed|did not report the number of read events|read_bytes info not yet available|"
    r"log transfer has (not )?been attempted"
)

_STEP_PREFIX = re.compile(r"^\w+ \d\d:\d\d:\d\d ")
_DECORATION = set("*-=#_~+| ")
_LS_ROW = re.compile(r"\s*[-dlcbps][rwxsStT-]{9}[.+@]?\s+\d+\s+\S+\s+\S+\s+\d+\s")
_LS_TOTAL = re.compile(r"\s*total \d+\s*\Z")


def is_noise(line: LogLine) -> bool:
    """Return True for lines that only add bulk: routine INFO/DEBUG pilot lines, `ls -l` rows, blank lines."""
    content = _STEP_PREFIX.sub("", line.text, count=1).strip()
    if not content or set(content) <= _DECORATION:
        return True

    if line.continuation:
        return bool(_LS_ROW.match(line.text) or _LS_TOTAL.match(line.text))

    if line.severity >= 1:
        return False

    if line.function in ROUTINE_FUNCTIONS:
        return True
    return bool(ROUTINE_MESSAGES.search(line.message))


_VARIABLE_PARTS = re.compile(r"0x[0-9a-fA-F]+|\d+")


def normalized_message(line: LogLine) -> str:
    """Return the message with numbers and addresses replaced, so repeats of one message compare equal."""
    message = line.message if not line.continuation else line.text
    return _VARIABLE_PARTS.sub("#", message.strip())[:300]

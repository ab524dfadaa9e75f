"""Links from decisive error codes to the log signatures that show them happening.

A code such as jobdispatchererrorcode 100 (lost heartbeat) or piloterrorcode 1201 (SIGTERM) is set far from
the lines that explain it, and those lines are often routine-looking (a failed heartbeat, an INFO line of the
server's kill command). When the decisive code is known, lines matching its linked signatures are what the
report shows first. Codes follow pilot/common/errorcodes.py of PanDAWMS/pilot3 and the panda-server error
codes (taskbuffer, jobdispatcher).
"""

from __future__ import annotations

from servers.logs.phases import PILOT_KILL_CODES
from servers.logs.signatures import SIGNATURES

_STAGE_IN = frozenset(s.name for s in SIGNATURES if s.phase == "stage-in" and s.kind == "cause") | {
    "transfer-failed",
    "checksum-mismatch",
}
_STAGE_OUT = frozenset(s.name for s in SIGNATURES if s.phase == "stage-out" and s.kind == "cause") | {
    "transfer-failed",
    "checksum-mismatch",
    "auth-failure",
}
_SIGNALS = frozenset({"pilot-signal", "batch-limit", "kill-process-group"})
_SERVER_KILL = frozenset({"server-kill", "kill-process-group"})
_LOST_HEARTBEAT = frozenset({"server-unreachable", "server-kill"})

_PILOT_LINKS: dict[int, frozenset[str]] = {
    1098: frozenset({"disk-too-little", "no-local-space-stagein", "disk-full"}),
    1099: _STAGE_IN,
    1144: _SERVER_KILL,
    1170: frozenset({"checksum-mismatch"}),
    1171: frozenset({"checksum-mismatch"}),
    1212: frozenset({"batch-limit", "pilot-signal"}),
    1320: frozenset({"log-creation"}),
    1376: frozenset({"log-creation"}),
    **{code: _SIGNALS for code in range(1200, 1209)},
}
_PILOT_PHASE_LINKS: dict[str, frozenset[str]] = {"stage-in": _STAGE_IN, "stage-out": _STAGE_OUT}

_SERVER_LINKS: dict[tuple[str, int], frozenset[str]] = {
    ("jobdispatchererrorcode", 100): _LOST_HEARTBEAT,
    ("taskbuffererrorcode", 100): _SERVER_KILL,
    ("taskbuffererrorcode", 105): _SERVER_KILL,
    ("taskbuffererrorcode", 106): _SERVER_KILL,
    ("taskbuffererrorcode", 122): _SIGNALS | _SERVER_KILL,
    ("exeerrorcode", 68): frozenset({"trf-logfile-error"}),
    ("transexitcode", 68): frozenset({"trf-logfile-error"}),
}

EXTERNAL_KILL_CODES = frozenset({1098, 1144, 1212, *range(1200, 1209)})
"""Pilot codes for payloads stopped from outside the payload (job monitor, batch system, PanDA server)."""


def linked_signatures(error_field: str | None, code: int | None, phase: str | None = None) -> frozenset[str]:
    """Return the names of the signatures whose lines evidence the decisive `code` of `error_field`."""
    if error_field is None or code is None:
        return frozenset()
    if error_field == "piloterrorcode":
        return _PILOT_LINKS.get(code) or _PILOT_PHASE_LINKS.get(phase or "", frozenset())
    return _SERVER_LINKS.get((error_field, code), frozenset())


def payload_was_killed(error_field: str | None, code: int | None) -> bool:
    """Return True when the decisive code means the payload was stopped by a signal it did not cause."""
    return (
        error_field == "piloterrorcode"
        and code is not None
        and (code in PILOT_KILL_CODES or code in EXTERNAL_KILL_CODES)
    )

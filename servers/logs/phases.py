"""The phase of a job in which it failed: from the decisive error code, else from where the log shows the failure.

Phases: setup (pilot start-up, payload command, container, proxy), stage-in, payload (including transform
validation), stage-out, log-creation, monitoring (the pilot's job monitor killed a running payload) and server
(decided by the PanDA server or JEDI).
"""

from __future__ import annotations

from servers.logs.lineformat import LogLine

SERVER_COMPONENTS = frozenset({"taskbuffer", "jobdispatcher", "supervisor", "dataservice", "brokerage"})
SERVER_FIELDS = frozenset(
    {"taskbuffererrorcode", "jobdispatchererrorcode", "superrorcode", "ddmerrorcode", "brokerageerrorcode"}
)
PAYLOAD_COMPONENTS = frozenset({"transform", "wnscripts", "wnscripts-legacy"})

# Pilot error codes (pilot/common/errorcodes.py) whose phase follows from where pilot3 sets them.
_PILOT_CODE_PHASES: dict[str, tuple[int, ...]] = {
    "stage-in": (1099, 1100, 1145, 1151, 1168, 1171, 1180, 1321, 1322, 1326, 1327, 1331, 1338),
    "stage-out": (1133, 1137, 1141, 1152, 1165, 1172, 1181, 1190, 1191, 1313, 1329, 1333, 1364, 1371, 1383),
    "log-creation": (1320, 1376),
    "monitoring": (1104, 1106, 1124, 1150, 1235, 1332, 1337, 1350, 1352, 1353, 1354, 1363, 1375),
    "setup": (
        1110,
        1116,
        1117,
        1143,
        1149,
        1163,
        1177,
        1186,
        1199,
        1211,
        1244,
        1246,
        1306,
        1307,
        1308,
        1309,
        1325,
        1334,
        1335,
        1340,
        1341,
        1342,
        1345,
        1346,
        1347,
        1348,
        1356,
        1358,
        1359,
        1360,
        1361,
        1365,
        1368,
        1370,
        1372,
        1373,
        1374,
        1377,
        1378,
        1380,
        1381,
        1382,
        1384,
        1386,
    ),
    "payload": (
        1187,
        1212,
        1220,
        1223,
        1224,
        1228,
        1238,
        1240,
        1305,
        1310,
        1315,
        1328,
        1343,
        1349,
        1351,
        1355,
        1357,
        1369,
    ),
    "server": (1144, 1205, 1234, 1236, 1336, 1385),
}
PILOT_CODE_PHASE: dict[int, str] = {
    code: phase for phase, codes in _PILOT_CODE_PHASES.items() for code in codes
}
# NOTE: codes missing here take their phase from the decisive log line, e.g. 1098 NOLOCALSPACE (set by the
# stage-in space check, the job monitor and the payload diagnosis alike), the kill signals 1200-1208 and the
# generic 1008/1301/1319. Without logs such a failure gets no phase.

PILOT_KILL_CODES = frozenset({1104, 1106, 1124, 1150, 1235, 1350, 1363, 1375})
"""Pilot codes for payloads the pilot itself stopped; the payload's signal exit follows from the kill."""

# Pilot modules and functions (pilot3 layout) and the phase their lines belong to, most specific first.
_FUNCTION_PHASES: tuple[tuple[str, str], ...] = (
    ("create_log", "log-creation"),
    ("copy_in", "stage-in"),
    ("_stage_in", "stage-in"),
    ("copytool_in", "stage-in"),
    ("download", "stage-in"),
    ("copy_out", "stage-out"),
    ("_stage_out", "stage-out"),
    ("_do_stageout", "stage-out"),
    ("copytool_out", "stage-out"),
    ("upload", "stage-out"),
    ("kill_looping_job", "monitoring"),
    ("memory_usage", "monitoring"),
    ("job_monitor", "monitoring"),
    ("get_payload_command", "setup"),
    ("get_and_verify_proxy", "setup"),
    ("update_for_user_proxy", "setup"),
    ("verify_", "setup"),
)
_LOGGER_PHASES: tuple[tuple[str, str], ...] = (
    ("pilot.util.loopingjob", "monitoring"),
    ("pilot.user.atlas.memory", "monitoring"),
    ("pilot.util.monitoring", "monitoring"),
    ("pilot.control.monitor", "monitoring"),
    ("pilot.util.processgroups", "monitoring"),
    ("pilot.user.atlas.proxy", "setup"),
    ("pilot.util.proxy", "setup"),
    ("pilot.user.atlas.container", "setup"),
    ("pilot.user.atlas.setup", "setup"),
    ("pilot.util.cvmfs", "setup"),
    ("pilot.info", "setup"),
    ("pilot.control.payload", "payload"),
    ("pilot.user.atlas.diagnose", "payload"),
)
_STATE_PHASES = {
    "starting": "stage-in",
    "stagein": "stage-in",
    "running": "payload",
    "stageout": "stage-out",
    "transferring": "stage-out",
    "holding": "stage-out",
}

PAYLOAD_FILES = ("payload.stdout", "payload.stderr", "jobReport.json", "payload_error_report.json")


def phase_from_code(field: str, code: int, component: str | None) -> str | None:
    """Return the phase implied by the decisive error alone, or None when the code does not tell."""
    if field in SERVER_FIELDS or component in SERVER_COMPONENTS:
        return "server"
    if field in ("exeerrorcode", "transexitcode"):
        return "payload"
    if component in PAYLOAD_COMPONENTS:
        return "payload"
    if field == "piloterrorcode":
        return PILOT_CODE_PHASE.get(code)
    return None


def phase_from_line(file: str, line: LogLine) -> str | None:
    """Return the phase a log line belongs to, from its file, pilot module and function."""
    base = file.rsplit("/", 1)[-1]
    if base in PAYLOAD_FILES or base.startswith("log."):
        return "payload"
    if line.function:
        for fragment, phase in _FUNCTION_PHASES:
            if fragment in line.function:
                return phase
    if line.logger:
        if line.logger.startswith("pilot.copytool"):
            text = line.message.lower()
            return (
                "stage-out"
                if "stage-out" in text or "upload" in text
                else "stage-in"
                if "stage-in" in text or "download" in text
                else None
            )
        for prefix, phase in _LOGGER_PHASES:
            if line.logger.startswith(prefix):
                return phase
    return None


def phase_from_state(state: str | None) -> str | None:
    """Return the phase matching a pilot job state ('running' is the payload, 'stageout' the stage-out)."""
    return _STATE_PHASES.get(state or "")

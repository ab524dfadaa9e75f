"""Decoding of codes and pasted diags: job fields, signal exit codes, wnscripts codes and pilot exceptions."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Linux x86_64 signal numbers. The transform reports 128 + n for a payload killed by signal n, and the
# pilot receives a negative exit code -n. BSD and macOS number several of these differently (e.g. SIGBUS).
SIGNALS: dict[int, str] = {
    1: "SIGHUP",
    2: "SIGINT",
    3: "SIGQUIT",
    4: "SIGILL",
    5: "SIGTRAP",
    6: "SIGABRT",
    7: "SIGBUS",
    8: "SIGFPE",
    9: "SIGKILL",
    10: "SIGUSR1",
    11: "SIGSEGV",
    12: "SIGUSR2",
    13: "SIGPIPE",
    14: "SIGALRM",
    15: "SIGTERM",
    16: "SIGSTKFLT",
    17: "SIGCHLD",
    18: "SIGCONT",
    19: "SIGSTOP",
    20: "SIGTSTP",
    21: "SIGTTIN",
    22: "SIGTTOU",
    23: "SIGURG",
    24: "SIGXCPU",
    25: "SIGXFSZ",
    26: "SIGVTALRM",
    27: "SIGPROF",
    28: "SIGWINCH",
    29: "SIGIO",
    30: "SIGPWR",
    31: "SIGSYS",
    34: "SIGRTMIN",
    64: "SIGRTMAX",
}
SIGNAL_NUMBERS: dict[str, int] = {name: number for number, name in SIGNALS.items()}
SIGNAL_ALIASES = {"SIGIOT": 6, "SIGPOLL": 29, "SIGCLD": 17}

# Code offsets of the worker-node scripts (panda-wnscript ErrorCodes): code = 5000 + offset + base code.
# The catalogue reads the offsets from wnscripts.json; this table is the fallback when that file is absent.
WNSCRIPT_BASE = 5000
DEFAULT_WNSCRIPT_OFFSETS: dict[str, int] = {
    "buildJob": 100,
    "buildGen": 200,
    "runGen": 300,
    "runAthena": 400,
    "runHPO": 500,
    "runMerge": 600,
    "preGoodRunList": 700,
}

# Pilot exception classes with a fixed code (pilot/common/exception.py in PanDAWMS/pilot3). A traceback
# that ends in one of these names the code even when the "error code:" text was cut off.
PILOT_EXCEPTION_CODES: dict[str, int] = {
    "NoLocalSpace": 1098,
    "StageInFailure": 1099,
    "NoSuchFile": 1103,
    "SetupFailure": 1110,
    "QueuedataFailure": 1116,
    "QueuedataNotOK": 1117,
    "StageOutFailure": 1137,
    "TrfDownloadFailure": 1149,
    "NoGridProxy": 1163,
    "SizeTooLarge": 1168,
    "NoVomsProxy": 1177,
    "NoSoftwareDir": 1186,
    "MKDirFailure": 1199,
    "ESRecoverable": 1224,
    "ESFatal": 1228,
    "ExecutedCloneJob": 1234,
    "ESNoEvents": 1238,
    "MessageFailure": 1240,
    "BadXML": 1247,
    "UnknownException": 1301,
    "ConversionFailure": 1302,
    "FileHandlingFailure": 1303,
    "RunPayloadFailure": 1305,
    "NotDefined": 1311,
    "NotSameLength": 1312,
    "ExceededMaxWaitTime": 1317,
    "CommunicationFailure": 1318,
    "LogFileCreationFailure": 1320,
    "ReplicasNotFound": 1326,
    "JobAlreadyRunning": 1336,
    "MiddlewareImportFailure": 1342,
}

# The BigPanDA job fields that carry error codes, with the diag field beside each one. Job records
# from the API use the lower-case names; users paste the camelCase ones.
JOB_FIELD_DIAGS: dict[str, str | None] = {
    "pilotErrorCode": "pilotErrorDiag",
    "exeErrorCode": "exeErrorDiag",
    "transExitCode": None,
    "ddmErrorCode": "ddmErrorDiag",
    "taskBufferErrorCode": "taskBufferErrorDiag",
    "jobDispatcherErrorCode": "jobDispatcherErrorDiag",
    "supErrorCode": "supErrorDiag",
    "brokerageErrorCode": "brokerageErrorDiag",
}
_FIELD_BY_FOLDED = {name.lower(): name for name in JOB_FIELD_DIAGS}

# The component a server-side job field points to; the payload fields need decode_payload_code.
_SERVER_FIELD_COMPONENT = {
    "pilotErrorCode": "pilot",
    "ddmErrorCode": "dataservice",
    "taskBufferErrorCode": "taskbuffer",
    "jobDispatcherErrorCode": "jobdispatcher",
    "supErrorCode": "supervisor",
    "brokerageErrorCode": "brokerage",
}

_COMPONENT_ALIASES = {
    "pilot": "pilot",
    "pilot3": "pilot",
    "pilot-exit": "pilot-exit",
    "pilotexit": "pilot-exit",
    "pilot-exit-codes": "pilot-exit",
    "exit": "pilot-exit",
    "transform": "transform",
    "trf": "transform",
    "transforms": "transform",
    "wnscripts": "wnscripts",
    "wnscript": "wnscripts",
    "user": "wnscripts",
    "wnscripts-legacy": "wnscripts-legacy",
    "wnscriptslegacy": "wnscripts-legacy",
    "taskbuffer": "taskbuffer",
    "dataservice": "dataservice",
    "ddm": "dataservice",
    "jobdispatcher": "jobdispatcher",
    "dispatcher": "jobdispatcher",
    "supervisor": "supervisor",
    "sup": "supervisor",
    "brokerage": "brokerage",
}


def normalize_job_field(name: str) -> str | None:
    """Return the camelCase job field for any spelling (`exeerrorcode`, `exe_error_code`), or None."""
    folded = name.replace("_", "").replace("-", "").strip().lower()
    return _FIELD_BY_FOLDED.get(folded)


def normalize_component(name: str) -> str | None:
    """Return the component for a name or alias (`trf`, `ddm`, `pilot-exit-codes`), or None."""
    folded = name.strip().lower().replace("_", "-")
    return _COMPONENT_ALIASES.get(folded) or _COMPONENT_ALIASES.get(folded.replace("-", ""))


def signal_of_exit_code(code: int) -> str | None:
    """Return the signal behind a 128+n exit code or a negative exit code -n, or None."""
    if code < 0:
        return SIGNALS.get(-code)
    if 128 < code <= 128 + 64:
        return SIGNALS.get(code - 128)
    return None


def signal_number(name: str) -> int | None:
    """Return the Linux number of a signal name such as `SIGSEGV` or `segv`, or None."""
    upper = name.strip().upper()
    if not upper.startswith("SIG"):
        upper = "SIG" + upper
    return SIGNAL_NUMBERS.get(upper) or SIGNAL_ALIASES.get(upper)


@dataclass(frozen=True)
class WnscriptCode:
    """A worker-node script code split into its parts."""

    code: int
    script: str
    offset: int
    base_code: int


def decode_wnscripts(code: int, offsets: dict[str, int] | None = None) -> WnscriptCode | None:
    """Split a wnscripts code (5000 + script offset + base code) into script and base; None outside the range."""
    table = offsets or DEFAULT_WNSCRIPT_OFFSETS
    for script, offset in table.items():
        base = code - WNSCRIPT_BASE - offset
        if 0 < base < 100:
            return WnscriptCode(code=code, script=script, offset=offset, base_code=base)
    return None


def script_of_transformation(transformation: str | None) -> str | None:
    """Return the worker-node script named by a job's `transformation` URL (`.../runGen-00-00-02`), or None."""
    if not transformation:
        return None
    name = transformation.rstrip("/").rsplit("/", 1)[-1]
    for script in (*DEFAULT_WNSCRIPT_OFFSETS, "runcontainer"):
        if name.lower().startswith(script.lower()):
            return script
    return None


def payload_components(code: int, *, wnscript: str | None = None) -> list[str]:
    """Return the components an exeErrorCode or transExitCode value belongs to, most likely first.

    Payload codes come from three writers. The transform exits with 0-255, and with 128+n for
    signal n. The worker-node scripts of user jobs write 5000 + offset + base to
    payload_error_report.json and exit with the base code 1-21. Pilot codes above 1000 also land here.
    """
    if WNSCRIPT_BASE < code < WNSCRIPT_BASE + 1000:
        return ["wnscripts"]
    if code > 1000:
        return ["pilot", "wnscripts"]
    if code < 0:
        return ["transform"]
    if wnscript is not None:
        return ["wnscripts", "wnscripts-legacy", "transform"]
    return ["transform", "wnscripts-legacy"]


def components_for_field(field: str, code: int, *, wnscript: str | None = None) -> list[str]:
    """Return the components a code in job field `field` (any spelling) belongs to, most likely first."""
    canonical = normalize_job_field(field)
    if canonical in ("exeErrorCode", "transExitCode"):
        return payload_components(code, wnscript=wnscript)
    if canonical is None:
        return []
    return [_SERVER_FIELD_COMPONENT[canonical]]


@dataclass(frozen=True)
class CodeMention:
    """A code named in pasted text, with the component it most likely belongs to."""

    code: int
    components: tuple[str, ...]
    reason: str = ""  # what in the text names the code, e.g. "pilot error code"


_PILOT_ERROR_CODE = re.compile(
    r"(?:(?<![a-z])error\s*code\s*[:=]?\s*|pilot\s*error\s*codes?\s*[:=]?\s*\[?)(1\d{3})\b", re.IGNORECASE
)
_EXIT_CODE = re.compile(
    r"(?:(?:trf|transform|payload)\s+)?"
    r"(?:exit\s*code|exit\s*status|exitcode|transexitcode|exeerrorcode|return\s*code"
    r"|exited\s+with(?:\s+(?:exit\s+)?(?:code|status))?)"
    r"\s*[:=]?\s*(-?\d{1,4})\b",
    re.IGNORECASE,
)
_SERVER_CODE = re.compile(
    r"(ddm|taskbuffer|jobdispatcher|sup|brokerage)\s*error\s*code\s*[:=]?\s*(\d{1,4})\b", re.IGNORECASE
)
_COMPONENT_CODE = re.compile(
    r"\b(pilot|transform|trf|wnscripts?|taskbuffer|dataservice|jobdispatcher|supervisor)(?:\s+|\s*[:#]\s*)(-?\d{1,4})\b",
    re.IGNORECASE,
)
_SIGNAL_NAME = re.compile(r"\bSIG([A-Z]{2,7})\b", re.IGNORECASE)
_SIGNAL_NUMBER = re.compile(r"\bsignal\s*[:=]?\s*(\d{1,2})\b", re.IGNORECASE)
_EXCEPTION_CLASS = re.compile(
    r"\b(" + "|".join(sorted(PILOT_EXCEPTION_CODES, key=len, reverse=True)) + r")\b"
)
_BARE_CODE = re.compile(r"^\s*(-?\d{1,4})\s*$")


def find_code_mentions(text: str) -> list[CodeMention]:
    """Return the codes that pasted text names explicitly, in order of appearance, without duplicates.

    Only numbers next to a code word count ("error code: 1099", "exit code 65", "signal 11",
    "pilot 1151"), so sizes, times and file numbers in a diag are not mistaken for codes.
    """
    found: list[tuple[int, CodeMention]] = []

    bare = _BARE_CODE.match(text)
    if bare:
        code = int(bare.group(1))
        found.append((0, CodeMention(code, (), "the text is a code")))

    for match in _PILOT_ERROR_CODE.finditer(text):
        found.append((match.start(), CodeMention(int(match.group(1)), ("pilot",), "pilot error code")))

    for match in _EXIT_CODE.finditer(text):
        code = int(match.group(1))
        found.append((match.start(), CodeMention(code, tuple(payload_components(code)), "payload exit code")))
        signal = signal_of_exit_code(code)
        if signal is not None:
            found.append(
                (match.start(), CodeMention(128 + SIGNAL_NUMBERS[signal], ("transform",), f"{signal}"))
            )

    for match in _SERVER_CODE.finditer(text):
        field = normalize_job_field(f"{match.group(1)}errorcode") or ""
        found.append(
            (match.start(), CodeMention(int(match.group(2)), tuple(components_for_field(field, 0)), field))
        )

    for match in _COMPONENT_CODE.finditer(text):
        component = normalize_component(match.group(1)) or ""
        found.append((match.start(), CodeMention(int(match.group(2)), (component,), f"{component} code")))

    for match in _EXCEPTION_CLASS.finditer(text):
        name = match.group(1)
        found.append(
            (match.start(), CodeMention(PILOT_EXCEPTION_CODES[name], ("pilot",), f"pilot exception {name}"))
        )

    for number in _signal_numbers(text):
        found.append((number[0], CodeMention(128 + number[1], ("transform",), SIGNALS[number[1]])))

    unique: dict[tuple[int, tuple[str, ...]], CodeMention] = {}
    for _, mention in sorted(found, key=lambda item: item[0]):
        unique.setdefault((mention.code, mention.components), mention)
    return list(unique.values())


def _signal_numbers(text: str) -> list[tuple[int, int]]:
    """Return (position, signal number) for each signal named by name or by number in `text`."""
    numbers: list[tuple[int, int]] = []
    for match in _SIGNAL_NAME.finditer(text):
        number = signal_number(match.group(0))
        if number is not None:
            numbers.append((match.start(), number))
    for match in _SIGNAL_NUMBER.finditer(text):
        number = int(match.group(1))
        if number in SIGNALS:
            numbers.append((match.start(), number))
    return numbers


def signals_in_text(text: str) -> list[str]:
    """Return the signal names that `text` mentions by name or number ("SIGSEGV", "signal 11")."""
    return list(dict.fromkeys(SIGNALS[number] for _, number in _signal_numbers(text)))


_DETAILS = re.compile(r"\bdetails:\s*", re.IGNORECASE)
_WRAPPERS = re.compile(r"\[?\b(?:PilotException|StageInFailure|StageOutFailure)\(\s*['\"]?\s*")


def strip_pilot_wrappers(diag: str) -> str:
    """Return the diag without the pilot's exception wrappers, keeping the text after `details:`.

    The pilot builds diags as "<standard message>:<details>" and, for exceptions, "error code: N,
    message: M" with a "details:" line; this keeps the part a person needs to read.
    """
    parts = _DETAILS.split(diag, maxsplit=1)
    text = parts[1] if len(parts) == 2 else diag
    return _WRAPPERS.sub("", text).strip()

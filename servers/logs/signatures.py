"""Message signatures: what pilot, transform, athena and worker-node script lines mean for a failure.

Texts follow the messages of PanDAWMS/pilot3 (pilot/control, pilot/copytool, pilot/user/atlas, pilot/util),
PyJobTransforms (trfExe, transform) and PanDAWMS/panda-wnscript (runGen, runAthena). Each signature
has a weight (how strongly a matching line points at a cause), the phase the line belongs to when the
text alone shows it, and a kind:

- ``cause``: the line reports a failure;
- ``operation``: the line starts the operation that may fail (an upload, a proxy download);
- ``action``: the pilot acts on a failure (kills the payload);
- ``summary``: the pilot's or transform's own summary of the error codes;
- ``success``: the line shows that a step ended well;
- ``benign``: the line looks alarming but is routine or was recovered from;
- ``consequence``: the line follows from a kill by the pilot and is not a cause of its own;
- ``incident``: the line reports a failure that is usually retried and recovered from (a failed heartbeat);
  it counts only when it evidences the decisive error code (see codelinks.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SignatureKind = Literal[
    "cause", "operation", "action", "summary", "success", "benign", "consequence", "incident"
]


@dataclass(frozen=True)
class Signature:
    """A message pattern and what a matching line means."""

    name: str
    pattern: re.Pattern[str]
    weight: int
    kind: SignatureKind
    phase: str | None = None


def _sig(name: str, pattern: str, weight: int, kind: SignatureKind, phase: str | None = None) -> Signature:
    # Case-sensitive on purpose: the programs that write these texts fix their case, and with this table the
    # case-insensitive patterns took about four times longer on a 400 KB pilot log.
    return Signature(name, re.compile(pattern), weight, kind, phase)


SIGNATURES: tuple[Signature, ...] = (
    # The pilot's job monitor stops a payload.
    _sig(
        "memory-limit",
        r"has exceeded the memory limit|exceeded maximum allowed memory",
        60,
        "cause",
        "monitoring",
    ),
    _sig(
        "looping-kill",
        r"decided to kill looping job|payload was found to be looping",
        60,
        "cause",
        "monitoring",
    ),
    _sig("looping-stale-files", r"found no recently updated files", 40, "cause", "monitoring"),
    _sig("disk-too-little", r"too little space left on local disk", 60, "cause", "monitoring"),
    _sig("workdir-too-large", r"work directory \(.*\) is too large", 55, "cause", "monitoring"),
    _sig(
        "output-too-large",
        r"is not within allowed size limit|zero size output file detected",
        50,
        "cause",
        "monitoring",
    ),
    _sig(
        "stdout-too-big",
        r"oversized payload stdout|is too big: \d+ B \(larger than limit",
        55,
        "cause",
        "monitoring",
    ),
    _sig("no-cpu", r"is no longer using CPU|can no longer be monitored", 40, "cause", "monitoring"),
    _sig("lease-time", r"lease time is up", 45, "cause", "monitoring"),
    _sig(
        "kill-process-group",
        r"SIG(TERM|KILL) sent to process group|breaking -- sending SIG\w+ to pid",
        30,
        "action",
    ),
    # Stage-in.
    _sig("stagein-exception", r"[Ee]xception caught during stage-in", 55, "cause", "stage-in"),
    _sig("stagein-failed", r"failed to stage-in|stage-in failed|STAGEIN\w*FAIL", 50, "cause", "stage-in"),
    _sig("download-client-failed", r"rucio API download client failed", 35, "cause", "stage-in"),
    _sig("no-local-space-stagein", r"not enough local space for staging input", 60, "cause", "stage-in"),
    _sig("input-too-large", r"too many/too large input files", 55, "cause", "stage-in"),
    _sig(
        "no-replicas",
        r"[Nn]o (matching )?replicas (were )?found|[Ff]ailed to get replicas|[Rr]eplica not found",
        45,
        "cause",
        "stage-in",
    ),
    _sig("missing-input", r"[Ii]nput file is missing|[Ff]ile not found on storage", 40, "cause", "stage-in"),
    _sig("download-retry", r"Download attempt failed\. Try (\d+)/(\d+)", 10, "cause", "stage-in"),
    # Stage-out.
    _sig("stageout-exception", r"(Pilot)?Exception caught during stage-out", 55, "cause", "stage-out"),
    _sig("upload-client-failed", r"rucio API upload client failed", 35, "cause", "stage-out"),
    _sig(
        "stageout-failed",
        r"transfer of output file\(s\) failed|stage-out failed|failed to stage-out",
        40,
        "cause",
        "stage-out",
    ),
    _sig(
        "remote-no-space",
        r"[Nn]o space left on (the )?(storage|SE|RSE|remote)|[Qq]uota exceeded",
        55,
        "cause",
        "stage-out",
    ),
    # Either transfer direction; the phase comes from the context.
    _sig(
        "transfer-failed",
        r"failed to transfer (files|_files\(\))|copy command timed out|[Tt]ransfer timed out",
        45,
        "cause",
    ),
    _sig("checksum-mismatch", r"(adler32|md5sum|[Cc]hecksum) mismatch", 50, "cause"),
    _sig(
        "auth-failure",
        r"[Aa]uthentication (failure|failed)|[Pp]ermission denied|403 Forbidden|401 Unauthorized",
        40,
        "cause",
    ),
    # Log creation.
    _sig(
        "log-creation",
        r"failed to create tar file|log transfer failed|creation of log file|Log file creation timed out",
        50,
        "cause",
        "log-creation",
    ),
    # Set-up of the payload by the pilot.
    _sig(
        "proxy-expired",
        r"cert/proxy is about to expire|[Cc]ertificate has expired|[Pp]roxy (has )?expired",
        55,
        "cause",
        "setup",
    ),
    _sig(
        "proxy-invalid",
        r"proxy verification failed|[Pp]roxy (is )?not valid|[Nn]o valid proxy|[Pp]roxy is too short",
        55,
        "cause",
        "setup",
    ),
    _sig("cvmfs", r"CVMFS is not (responding|alive|available)", 55, "cause", "setup"),
    _sig(
        "setup-failed",
        r"setup returned exit code|setup verification error|Failed during payload setup|asetup.{0,80}(failed|error)|lsetup.{0,40}timed out",
        50,
        "cause",
        "setup",
    ),
    _sig(
        "container",
        r"found apptainer error|container creation failed|Failed to create user namespace|Failed to mount image|No more available loop devices|Not mounting requested bind point|(Apptainer|Singularity) is not installed",
        55,
        "cause",
        "setup",
    ),
    _sig(
        "download-trf",
        r"Transform could not be downloaded|failed to download (transform|trf|script)|unable to fetch source tarball|user tarball was not downloaded",
        50,
        "cause",
        "setup",
    ),
    _sig(
        "missing-software",
        r"Software directory does not exist|Missing installation|No release candidates found",
        45,
        "cause",
        "setup",
    ),
    _sig(
        "queuedata",
        r"could not download queuedata|non-valid queuedata|[Bb]ad queue configuration",
        45,
        "cause",
        "setup",
    ),
    _sig("proxy-download", r"download proxy from server", 20, "operation", "setup"),
    # The payload.
    _sig("athena-signal", r"Caught signal \d+ ?\(", 85, "cause", "payload"),
    _sig("segfault", r"[Ss]egmentation (fault|violation)|SIGSEGV", 50, "cause", "payload"),
    _sig(
        "crash-signal",
        r"\bSIGBUS\b|[Bb]us error|SIGABRT|SIGFPE|SIGILL|core dumped|Aborted \(core",
        45,
        "cause",
        "payload",
    ),
    _sig(
        "out-of-memory",
        r"std::bad_alloc|St9bad_alloc|[Oo]ut of memory|MemoryError|Cannot allocate memory|oom[-_ ]kill|Killed process \d+",
        55,
        "cause",
        "payload",
    ),
    _sig("disk-full", r"No space left on device|Disk quota exceeded", 55, "cause"),
    _sig(
        "trf-exception",
        r"Transform executor raised|Transform(Validation|Execution|Setup|Argument|Report)Exception|Transform now exiting early",
        45,
        "cause",
        "payload",
    ),
    _sig(
        "trf-validation",
        r"Validation of return code failed|non-zero return code|executor returns -?[1-9]",
        40,
        "cause",
        "payload",
    ),
    _sig(
        "trf-logfile-error",
        r"Logfile error in|Fatal error in athena logfile|found \d+ (fatal|error) lines",
        40,
        "cause",
        "payload",
    ),
    _sig("python-traceback", r"Traceback \(most recent call last\)", 45, "cause"),
    _sig("python-exception", r"^\s*[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit): ", 30, "cause"),
    _sig(
        "wnscript-failed",
        r"execute script: Running (script|athena) failed|unable to fetch source tarball|is corrupted",
        50,
        "cause",
        "payload",
    ),
    _sig("error-report", r"payload_error_report\.json contained error", 50, "cause", "payload"),
    _sig(
        "pilot-diagnose",
        r"identified an out of memory error|identified an? '.+' message in",
        50,
        "cause",
        "payload",
    ),
    _sig(
        "database", r"\bORA-\d{5}|TNS:|Frontier.{0,40}(error|failed)|COOL.{0,20}error", 40, "cause", "payload"
    ),
    _sig("athena-fatal", r"^(\w+ )?(\d\d:\d\d:\d\d )?[\w:.\-<>/\[\]]+\s+FATAL\s", 50, "cause", "payload"),
    _sig("root-error", r"^\s*(Fatal|SysError|Error) in <", 30, "cause", "payload"),
    _sig("payload-start", r"payload execution command|started -- pid=", 10, "operation", "payload"),
    # Signals received by the pilot (batch system, user or server).
    _sig("pilot-signal", r"caught signal: SIG\w+|[Kk]ill signal|Job killed by signal", 55, "cause"),
    _sig(
        "batch-limit",
        r"[Rr]eached batch system time limit|exceeded (wall|cpu|CPU) ?time|walltime limit",
        50,
        "cause",
    ),
    _sig(
        "server-kill",
        r"received instruction to kill|killed by (the )?(PanDA|panda) server|[Ll]ost heartbeat|"
        r"command.{0,4}tobekilled|panda server signal to kill|tobekilled seen by",
        45,
        "cause",
        "server",
    ),
    # Operations whose failure the lines above report.
    _sig(
        "upload-try",
        r"Trying upload with \w+ to|Preparing upload for file|stage-out attempt \d+",
        15,
        "operation",
        "stage-out",
    ),
    _sig(
        "download-try",
        r"Trying to download with \w+ from|downloading file with scope|stage-in attempt \d+",
        15,
        "operation",
        "stage-in",
    ),
    # Failed communication with the PanDA server: routine when a later heartbeat gets through.
    _sig(
        "server-unreachable",
        r"failed to send request|server update failed after \d+ attempts|[Nn]etwork is unreachable|"
        r"[Nn]o route to host|[Cc]ould not resolve host|[Ff]ailed to connect to|curl: \(\d+\)",
        20,
        "incident",
        "server",
    ),
    # Summaries of codes written by the pilot and the transform.
    _sig("pilot-codes", r"pilotErrorCodes = \[|pilotErrorDiags = \[", 30, "summary"),
    _sig(
        "pilot-report",
        r"\berror \d+/\d+: \d+:|pilot error code: [1-9]|pilot error diag: \S|exeerrorcode: [1-9]|exeerrordiag: (?!OK\b)\S|exitmsg: (?!OK\b)\S",
        25,
        "summary",
    ),
    _sig("generic-error-code", r"error code: \d{4}\b|PilotException", 30, "cause"),
    # Success markers.
    _sig(
        "trf-ok",
        r"trf exit code 0\b|Running (script|athena) was successful|main payload execution returned zero exit code",
        30,
        "success",
    ),
    _sig(
        "stageout-ok",
        r"finished stage-out for finished payload|has finished - sending final server update",
        30,
        "success",
    ),
    # Lines that look alarming but are routine, recovered from, or the pilot's own copies.
    _sig("ipv6", r"no IPv6 addresses were found", -40, "benign"),
    _sig("deprecation", r"(Deprecation|Future|User|Runtime)Warning", -40, "benign"),
    _sig("locale", r"setlocale: LC_ALL|cannot change locale", -40, "benign"),
    _sig("ld-preload", r"from LD_PRELOAD cannot be preloaded", -40, "benign"),
    _sig("geant4-warning", r"G4 exception report|G4Exception|This is just a warning message", -40, "benign"),
    _sig(
        "athena-cascade",
        r"Terminating event processing loop due to errors|Application Manager Initialization failed|"
        r"Unable to initialize Algorithm|failed to sysInitialize|Failed to initialize AppMgr",
        -40,
        "benign",
    ),
    _sig("pool-catalog", r"Unable to locate catalog for", -40, "benign"),
    _sig("root-dictionary", r"no dictionary for class|ReadRootmapFile", -40, "benign"),
    _sig(
        "root-routine",
        r"Error in <TUnixSystem::DynamicPathName>|Error in <TCling::|Warning in <TClass::Init>|"
        r"Error in <TInterpreter::|Info in <TCanvas|Warning in <TFile::Init>: no StreamerInfo",
        -70,
        "benign",
    ),
    _sig("apptainer-env", r"APPTAINERENV_\w+ is preferred", -40, "benign"),
    _sig(
        "cpu-jump",
        r"CPU consumption time increased by a factor|will not consider the new value",
        -40,
        "benign",
    ),
    _sig("server-retry", r"will try curl based request", -30, "benign"),
    _sig(
        "already-set", r"aborting payload error diagnosis since an error has already been set", -40, "benign"
    ),
    _sig("rucio-client-done", r"rucio API (upload|download) client finished", -40, "benign"),
    _sig(
        "pilot-shutdown",
        r"run out of time \(timefloor|graceful_?stop|graceful stop|aborting monitor loop|job_aborted has been set|wait for a maximum of \d+ s for threads|abort after this iteration",
        -40,
        "benign",
    ),
    _sig(
        "state-failed",
        r"making sure that job\.state is set to failed|log transfer already attempted",
        -30,
        "benign",
    ),
    _sig("trace-report", r"could not extract error message from trace report", -20, "benign"),
    _sig("core-dump-attempt", r"gdb --pid|generate-core-file", -25, "benign"),
    _sig(
        "log-extracts",
        r"detected the following tail of warning/fatal messages|\[begin log extracts\]|found CRITICAL errors in payload\.stdout",
        -30,
        "benign",
    ),
    _sig("lingering", r"found lingering processes", -20, "benign"),
    _sig("preliminary-update", r"will send preliminary diagnostics", -10, "benign"),
    _sig("signal-handling", r"Handling signals: ", -30, "benign"),
    # Consequences of a kill by the pilot (memory, looping, ...): the payload's reaction to SIGTERM.
    _sig(
        "trf-signal",
        r"Transform received signal|received signal 15|signal 15\b|Stack trace now follows|Attempting to write reports with known",
        -35,
        "consequence",
    ),
    _sig(
        "negative-exit",
        r"negative (transform )?exit code|payload was killed|exit code: -(9|15)\b|exit_code=-(9|15)\b|returned non-zero exit code: -",
        -35,
        "consequence",
    ),
    _sig(
        "no-metadata",
        r"Payload metadata does not exist|job report does not exist|metadata does not exist",
        -35,
        "consequence",
    ),
    _sig("abnormal-termination", r"abnormal termination|killed process \d+ with signal", -20, "consequence"),
)

INSTRUCTION_LIKE = re.compile(
    r"ignore (all |any )?(the )?(previous|prior|above) (instructions|prompts?)|disregard (all |the )?(previous|above)|"
    r"you are now\b|system prompt|as an ai\b|<\|im_start\|>|\bassistant:|\[/?inst\]|do not tell the user|"
    r"new instructions?:|call the tool|run the following command",
    re.IGNORECASE,
)
"""Text that speaks to an AI model; such log lines are kept as data and flagged."""


def match_signatures(text: str) -> list[Signature]:
    """Return every signature whose pattern occurs in `text`."""
    return [signature for signature in SIGNATURES if signature.pattern.search(text)]


def looks_like_instructions(text: str) -> bool:
    """Return True when a log line contains text addressed to an AI model rather than a log message."""
    return bool(INSTRUCTION_LIKE.search(text))

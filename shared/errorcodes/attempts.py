"""What a job record shows about further attempts: JEDI retries per input file, the PanDA server per job.

How panda-server (master, 9cc3603) counts attempts:
- JEDI's JobGenerator sets a job's maxAttempt to its attemptNr (event-service jobs get a few more), so
  attemptnr == maxattempt is normal for a JEDI job. The job-level pair only limits the PanDA server's
  own retries of the same job.
- When a JEDI job ends without finishing (failed, or closed for reassignment), propagateResultToJEDI
  puts its input files back to ready and increases their attemptNr. JEDI makes a new job for a file
  while the file's maxAttempt is above the new attemptNr (and maxFailure above failedAttempt, which
  only failed jobs increase). The files of a `/job?pandaid=N&json` response carry those per-file
  attemptnr and maxattempt values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

INPUT_FILE_TYPES = frozenset({"input", "pseudo_input"})


@dataclass(frozen=True)
class AttemptStatus:
    """Whether the job's input can still get a new job, with a note that explains why."""

    note: str
    attempts_left: bool | None  # None when the record cannot tell
    per_file: bool = False  # True when read from the input files, which is what JEDI goes by


def _as_count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _input_file_limits(files: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, int]]:
    """Return (lfn, attemptnr, maxattempt) of each input file that has both counters."""
    limits = []
    for item in files:
        if str(item.get("type", "")).lower() not in INPUT_FILE_TYPES:
            continue
        attempt, maximum = _as_count(item.get("attemptnr")), _as_count(item.get("maxattempt"))
        if attempt is not None and maximum is not None and maximum > 0:
            limits.append((str(item.get("lfn") or "?"), attempt, maximum))
    return limits


def attempt_status(
    record: Mapping[str, Any], files: Sequence[Mapping[str, Any]] | None
) -> AttemptStatus | None:
    """Return what the record shows about further attempts, or None when it shows nothing worth a note.

    `record` has lower-case keys; `files` is the files list of a whole BigPanDA response, if given.
    """
    limits = _input_file_limits(files or [])
    if limits:
        # The file with the fewest attempts left decides: JEDI needs every input of a job.
        lfn, attempt, maximum = min(limits, key=lambda item: item[2] - item[1])
        left = maximum - (attempt + 1)
        if left > 0:
            return AttemptStatus(
                f"Input file {lfn} has attemptnr {attempt} and maxattempt {maximum}, so JEDI can make up to "
                f"{left} more jobs for it (fewer if the task's maxFailure is reached first).",
                attempts_left=True,
                per_file=True,
            )
        return AttemptStatus(
            f"Input file {lfn} has attemptnr {attempt} and maxattempt {maximum}. After this job its attemptnr "
            f"is {attempt + 1}, not below maxattempt, so JEDI makes no new job for it and the input counts as "
            "failed unless the task is retried.",
            attempts_left=False,
            per_file=True,
        )

    attempt, maximum = _as_count(record.get("attemptnr")), _as_count(record.get("maxattempt"))
    if attempt is None or maximum is None or attempt < maximum:
        return None
    if _as_count(record.get("jeditaskid")):
        return AttemptStatus(
            f"attemptnr {attempt} equals maxattempt {maximum}, as JEDI sets it for every job: it only stops "
            "the PanDA server from retrying this same pandaid. Whether JEDI makes a new job depends on the "
            "input files' attemptnr and maxattempt, listed in the files of /job?pandaid=N&json.",
            attempts_left=None,
        )
    return AttemptStatus(
        f"Attempt {attempt} of {maximum}: the PanDA server will not retry this same job.", attempts_left=False
    )

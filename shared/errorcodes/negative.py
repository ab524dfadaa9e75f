"""Meanings of negative codes: payload exit codes -n (killed by signal n) and negated pilot error codes.

Facts from PanDAWMS/pilot3 (3.11.5.1, commit a090538):
- subprocess reports a payload killed by signal n as exit code -n. pilot/control/payload.py then leaves
  transExitCode unset and ErrorCodes.resolve_transform_error() turns the code into a pilot error code:
  1315 UNKNOWNTRFFAILURE for -1 and 1305 PAYLOADEXECUTIONFAILURE for any other negative code. -1 is
  also the pilot's own value for a payload whose exit code it could not read.
- pilot/control/job.py verify_error_code() negates the pilotErrorCode of a failed user job whose code
  is in ErrorCodes.recoverable_error_codes, so -1137 is pilot code 1137 marked recoverable.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errorcodes.decode import SIGNALS

UNKNOWN_TRF_FAILURE = 1315
PAYLOAD_EXECUTION_FAILURE = 1305
# ErrorCodes.put_error_codes, which are also its recoverable codes; 1135 and 1136 are Pilot 1 codes.
RECOVERABLE_PILOT_CODES = (1135, 1136, 1137, 1141, 1152, 1181)
PILOT_CODE_MIN = 1000

PAYLOAD_FIELDS = ("exeErrorCode", "transExitCode")


@dataclass(frozen=True)
class NegativeMeaning:
    """One reading of a negative code: the catalogue entry it stands for, why, and the fields it fits."""

    component: str
    code: int
    reason: str
    job_fields: tuple[str, ...] = PAYLOAD_FIELDS


def negative_code_meanings(code: int) -> list[NegativeMeaning]:
    """Return the readings of a negative code, most likely first; an empty list for other codes."""
    if code >= 0:
        return []

    magnitude = -code
    if magnitude >= PILOT_CODE_MIN:
        return [
            NegativeMeaning(
                "pilot",
                magnitude,
                f"A negative pilotErrorCode {code} is pilot code {magnitude} marked recoverable. The pilot "
                "negates the code of a failed user job so that the PanDA server may retry it (Pilot 3 does "
                f"this for {', '.join(map(str, RECOVERABLE_PILOT_CODES))}).",
                job_fields=("pilotErrorCode",),
            )
        ]

    meanings: list[NegativeMeaning] = []
    if code == -1:
        meanings.append(
            NegativeMeaning(
                "pilot",
                UNKNOWN_TRF_FAILURE,
                f"Pilot 3 reports a payload exit code of -1 as pilotErrorCode {UNKNOWN_TRF_FAILURE} "
                f"(UNKNOWNTRFFAILURE), or as {PAYLOAD_EXECUTION_FAILURE} when payload.stderr is missing. "
                "-1 is also the pilot's value for a payload whose exit code it could not read.",
            )
        )

    signal = SIGNALS.get(magnitude)
    if signal is not None:
        meanings.append(
            NegativeMeaning(
                "transform",
                128 + magnitude,
                f"An exit code of {code} means the payload process was killed by {signal} (signal {magnitude}). "
                f"A transform that handles the signal itself exits with {128 + magnitude} instead.",
            )
        )
    return meanings


def negative_code_facts(code: int) -> list[str]:
    """Return the facts a negative code carries by construction, including how Pilot 3 records it."""
    facts = [meaning.reason for meaning in negative_code_meanings(code)]
    if code < -1 and -code < PILOT_CODE_MIN:
        facts.append(
            "Pilot 3 does not store a negative exit code in transExitCode; it records pilotErrorCode "
            f"{PAYLOAD_EXECUTION_FAILURE} (PAYLOADEXECUTIONFAILURE) for it."
        )
    return facts

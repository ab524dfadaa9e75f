"""Scoring of candidate log lines: how strongly each one shows the cause of the job's outcome.

A line scores for its level, for the signatures it matches (see signatures.py), for quoting the decisive
error's diag or code, and for belonging to the failing phase. Routine and recovered-from lines lose points,
and so do the payload's reactions to a kill when the pilot itself killed the payload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from servers.logs.lineformat import LogLine
from servers.logs.phases import phase_from_line
from servers.logs.signatures import Signature, match_signatures

LEVEL_POINTS = (0, 10, 20, 30)
DIAG_MATCH_POINTS = 40
CODE_MATCH_POINTS = 20
MESSAGE_MATCH_POINTS = 15
PHASE_MATCH_POINTS = 15
PHASE_MISMATCH_POINTS = -10
SUCCESS_POINTS = 60
PAYLOAD_SOURCE_POINTS = 20
PILOT_RELAY_POINTS = -30
FIRST_ERROR_POINTS = 50
BURST_GAP_LINES = 20
"""Error lines of a payload file at most this many lines apart belong to one burst."""
LINKED_POINTS = 70
"""For a line matching a signature linked to the decisive code (codelinks.py): it shows that code happening."""
MIN_CAUSE_SCORE = 25
MIN_FRAGMENT_CHARS = 24
"""Diag pieces shorter than this (such as 'Segmentation fault') occur in too many unrelated lines."""

_LABEL_TAIL = re.compile(r"(?<=: )(?=\S)(.+)")
MIN_TAIL_CHARS = 16
_DIAG_SPLIT = re.compile(r";\s+|:\s+|\s+-\s+|[\"'()\[\]|]")


@dataclass
class ErrorContext:
    """Facts about the job's outcome that line scores depend on."""

    failed: bool | None
    code: int | None = None
    error_field: str | None = None
    message: str | None = None
    diag_fragments: list[str] = field(default_factory=list)
    phase: str | None = None
    pilot_killed_payload: bool = False
    payload_primary: bool = False
    linked: frozenset[str] = frozenset()
    """Names of the signatures that evidence the decisive code."""


@dataclass
class Scored:
    """A candidate line (with its block) and its score."""

    file: str
    line: LogLine
    block: list[str]
    score: float
    reasons: list[str]
    signatures: list[Signature]
    count: int = 1
    offset: int | None = None
    line_phase: str | None = None
    report_summary: bool = False
    linked: bool = False

    @property
    def is_cause(self) -> bool:
        if self.report_summary:
            return False
        if self.linked:
            return True
        return any(signature.kind == "cause" for signature in self.signatures) or self.line.severity >= 2

    def has_kind(self, kind: str) -> bool:
        if kind == "summary" and self.report_summary:
            return True
        return any(signature.kind == kind for signature in self.signatures)


def diag_fragments(*diags: str | None) -> list[str]:
    """Return distinctive pieces of diagnostic texts (long enough not to match by chance), lower-cased."""
    fragments: list[str] = []
    for diag in diags:
        if not diag or diag.strip().upper() in ("OK", "NULL", "NONE"):
            continue
        text = " ".join(diag.split())
        if len(text) >= 12:
            fragments.append(text[:80].lower())
        # What follows a "label: " prefix is often the original message, e.g. "KeyError: 'x'" in
        # "Payload execution failure: KeyError: 'x'".
        for tail in _LABEL_TAIL.findall(text):
            if len(tail) >= MIN_TAIL_CHARS and tail[:80].lower() not in fragments:
                fragments.append(tail[:80].lower())
        for piece in _DIAG_SPLIT.split(text):
            piece = piece.strip(" .,;")
            if len(piece) >= MIN_FRAGMENT_CHARS and piece.lower() not in fragments:
                fragments.append(piece.lower())
    return fragments[:16]


def code_pattern(code: int, error_field: str | None) -> re.Pattern[str]:
    if error_field == "piloterrorcode" or code >= 1000:
        return re.compile(rf"(?:(?<![\d.=])|(?<=code=)){code}(?![\d.])")
    # Small transform and script codes only count next to words that make them an exit code.
    return re.compile(rf"(exit ?code|exitCode|error_code|returns?|rc)\W{{1,4}}{code}\b", re.IGNORECASE)


def score_line(
    file: str,
    line: LogLine,
    block: list[str],
    context: ErrorContext,
    *,
    count: int = 1,
    offset: int | None = None,
) -> Scored:
    """Return the score of one candidate line with the reasons behind it."""
    # Pilot lines are matched on their message; other layouts on the whole line, whose level and component count.
    text = line.message if line.function is not None else line.text
    probe = "\n".join([text, *block[:40]])
    signatures = match_signatures(probe if len(probe) < 20000 else probe[:20000])
    reasons: list[str] = []
    score = float(LEVEL_POINTS[min(line.severity, 3)])

    positive = [s for s in signatures if s.kind in ("cause", "action", "operation", "summary")]
    if positive:
        best = max(positive, key=lambda s: s.weight)
        weight = float(best.weight)
        if context.failed is False:
            weight *= 0.3
        elif line.level in ("INFO", "DEBUG") and best.kind == "cause":
            # A cause pattern on an INFO line is usually configuration or a report of a handled case.
            weight *= 0.5
        score += weight
        reasons.append(best.name.replace("-", " "))
    if context.failed is False and any(s.kind == "success" for s in signatures):
        score += SUCCESS_POINTS
        reasons.append("shows success")

    lowered = probe.lower()
    quotes_diag = bool(context.diag_fragments) and any(
        fragment in lowered for fragment in context.diag_fragments
    )
    if quotes_diag:
        score += DIAG_MATCH_POINTS
        reasons.append("quotes the error diag")
    # The payload's own files show its failure first-hand; the pilot only relays the payload's diag.
    if context.payload_primary and phase_from_line(file, line) == "payload" and line.function is None:
        score += PAYLOAD_SOURCE_POINTS
    mentions_code = bool(context.code) and bool(code_pattern(context.code, context.error_field).search(probe))
    if context.payload_primary and line.function is not None and (quotes_diag or mentions_code):
        score += PILOT_RELAY_POINTS
        reasons.append("the pilot relays the payload's error")
    if mentions_code:
        score += CODE_MATCH_POINTS
        reasons.append(f"mentions code {context.code}")
    if context.message and len(context.message) >= 12 and context.message.lower() in lowered:
        score += MESSAGE_MATCH_POINTS
        reasons.append("quotes the code's message")

    line_phase = phase_from_line(file, line)
    signature_phases = {s.phase for s in positive if s.phase}
    if context.phase:
        if context.phase in signature_phases or (
            not signature_phases and line_phase == context.phase and positive
        ):
            score += PHASE_MATCH_POINTS
        elif signature_phases and context.phase not in signature_phases:
            score += PHASE_MISMATCH_POINTS

    linked = [s for s in signatures if s.name in context.linked and s.kind != "summary"]
    if linked and context.failed is not False:
        score += LINKED_POINTS
        reasons.insert(
            0, f"shows {context.error_field} {context.code} happening ({linked[0].name.replace('-', ' ')})"
        )
    else:
        # Only the line itself can be routine: a block (a stack dump of the pilot's threads) does not make it so.
        own = {s.name for s in match_signatures(text)} if block else {s.name for s in signatures}
        benign = [s.weight for s in signatures if s.kind == "benign" and s.name in own]
        if benign:
            score += min(benign)
            reasons.append("routine or recovered")
    if context.pilot_killed_payload:
        consequence = [s.weight for s in signatures if s.kind == "consequence"]
        if consequence:
            score += min(consequence)
            reasons.append("follows from the kill of the payload")

    return Scored(
        file, line, block, score, reasons, signatures, count, offset, line_phase, linked=bool(linked)
    )


def mark_first_errors(candidates: list[Scored], context: ErrorContext) -> None:
    """Raise the first error of the last burst of errors in each payload file when the payload failed.

    A payload that fails reports one problem and then every component that depended on it (athena's
    initialize cascade, a transform's summary), so the first error of the burst is the cause.
    """
    if not context.payload_primary:
        return
    by_file: dict[str, list[Scored]] = {}
    for item in candidates:
        plain = item.line.function is None and item.line.severity >= 2 and not item.report_summary
        if plain and not any(s.kind in ("benign", "consequence") for s in item.signatures):
            by_file.setdefault(item.file, []).append(item)
    for items in by_file.values():
        items.sort(key=lambda item: item.line.number)
        first = items[-1]
        for earlier in reversed(items[:-1]):
            if first.line.number - earlier.line.number > BURST_GAP_LINES:
                break
            first = earlier
        # A line with a known pattern already scores for it. The bonus is for plain errors such as
        # "Cannot find calibration area": only their place in the burst shows their weight.
        if not any(s.kind in ("cause", "action", "summary") for s in first.signatures):
            first.score += FIRST_ERROR_POINTS
            first.reasons.append("first error of the payload's last burst of errors")


def rank(candidates: list[Scored]) -> list[Scored]:
    """Sort by score, highest first; ties go to the earlier line, where a failure starts."""
    return sorted(
        candidates, key=lambda item: (-item.score, item.line.time or "", item.file, item.line.number)
    )

"""Ordering of the evidence: the decisive line first, then its context, the other causes and the summaries."""

from __future__ import annotations

from servers.logs.context import AnchorContext
from servers.logs.excerpt import Item, quote_block, quote_line
from servers.logs.lineformat import LogLine
from servers.logs.pilotfacts import PilotFacts
from servers.logs.ranking import MIN_CAUSE_SCORE, Scored
from servers.logs.scanner import FileScan

OTHER_CAUSES = 5
SUMMARY_ITEMS = 3
SUCCESS_OTHER_ITEMS = 3
LOG_END_LINES = 6
OPERATION_CHARS = 300
"""The line that started the running operation (often a long payload command) is cut to this length."""
MIN_EVIDENCE_SCORE = 20
"""Lines below this score (a plain WARNING, a routine line) are not shown; a plain ERROR line is."""
CAUSE_SHARE = 0.45
"""A further cause is shown next to the decisive line when it scores at least this share of the top score."""


def assemble_items(
    ranked: list[Scored],
    anchor: Scored | None,
    contexts: list[tuple[Scored, AnchorContext]],
    facts: PilotFacts,
    pilot: FileScan | None,
    *,
    failed: bool | None,
    phase: str | None,
    record_item: Item | None = None,
) -> list[Item]:
    """Return every evidence item in rank order, before the budget is applied.

    `record_item` quotes the diags of the job record; it comes first when no log line shows the cause, and right
    after the decisive line otherwise.
    """
    if failed is False:
        return _success_items(ranked)

    items: list[Item] = []
    if anchor is not None:
        items.append(_scored_item(anchor, "decisive line"))
    # The record's diags and the pilot's own list of codes are short and name the decisive error: they come
    # right after the decisive line, so a small budget still shows them.
    if record_item is not None and not _already_quoted(record_item, items):
        items.append(record_item)
    summaries = _summary_items(ranked)
    if summaries:
        # The shortest summary (usually the pilot's list of error codes) goes first.
        shortest = min(summaries, key=lambda item: len(item.text))
        summaries.remove(shortest)
        items.append(shortest)
    for position, (context_anchor, context) in enumerate(contexts):
        if position > 0:
            items.append(_scored_item(context_anchor, "the pilot's view"))
        items.extend(_context_items(context_anchor, context))
        if position == 0 and context_anchor is anchor:
            items.extend(_further_causes(ranked, anchor))
    if not contexts or contexts[0][0] is not anchor:
        items.extend(_further_causes(ranked, anchor))

    items.extend(summaries)
    if anchor is None or phase == "server":
        items.extend(_log_end_items(pilot, facts))
    items.extend(
        _scored_item(item, "")
        for item in ranked
        if item.score >= MIN_EVIDENCE_SCORE and not item.has_kind("success")
    )
    return items


def _already_quoted(item: Item, items: list[Item]) -> bool:
    diag = item.text.split(": ", 1)[-1][:80]
    return any(diag in other.text for other in items)


def _scored_item(scored: Scored, role: str) -> Item:
    text, kind = quote_block(scored.line, scored.block)
    reasons = ([role] if role else []) + scored.reasons
    if scored.has_kind("summary"):
        kind = "summary"
    return Item(
        kind=kind,
        file=scored.file,
        line=scored.line.number,
        end_line=scored.line.number + len(scored.block) if scored.block else None,
        text=text,
        reason="; ".join(reasons) or "warning or error line",
        repeated=scored.count,
    )


def _line_item(file: str, line: LogLine, kind: str, reason: str) -> Item:
    return Item(kind=kind, file=file, line=line.number, text=quote_line(line), reason=reason)  # type: ignore[arg-type]


def _context_items(anchor: Scored, context: AnchorContext) -> list[Item]:
    items: list[Item] = []
    for stuck in context.stuck:
        rows = "\n".join(row.text for row in stuck.rows)
        header = stuck.header.message if not stuck.header.continuation else stuck.header.text
        items.append(
            Item(
                kind="process-state",
                file=anchor.file,
                line=stuck.header.number,
                end_line=stuck.rows[-1].number,
                text=f"{quote_line(stuck.header) if header else ''}\n{rows}".strip(),
                reason="process table at the kill: " + ", ".join(sorted(set(stuck.states))),
            )
        )
    if context.operation is not None:
        operation = _line_item(anchor.file, context.operation, "operation", "the operation that was running")
        if len(operation.text) > OPERATION_CHARS:
            operation.text = operation.text[:OPERATION_CHARS] + " […]"
        items.append(operation)
    for line in context.lead_up:
        items.append(_line_item(anchor.file, line, "lead-up", "just before the decisive line"))
    for line in context.aftermath:
        items.append(_line_item(anchor.file, line, "aftermath", "what followed the decisive line"))
    return items


def _further_causes(ranked: list[Scored], anchor: Scored | None) -> list[Item]:
    if anchor is None:
        return []
    threshold = max(MIN_CAUSE_SCORE, anchor.score * CAUSE_SHARE)
    further = [
        item
        for item in ranked
        if item is not anchor and item.is_cause and item.score >= threshold and not item.has_kind("summary")
    ]
    return [_scored_item(item, "") for item in further[:OTHER_CAUSES]]


def _summary_items(ranked: list[Scored]) -> list[Item]:
    summaries = [item for item in ranked if item.has_kind("summary") and item.score >= MIN_CAUSE_SCORE]
    return [_scored_item(item, "error summary") for item in summaries[:SUMMARY_ITEMS]]


def _success_items(ranked: list[Scored]) -> list[Item]:
    successes = [item for item in ranked if item.has_kind("success")]
    others = [item for item in ranked if not item.has_kind("success") and item.line.severity >= 1]
    items = [_scored_item(item, "") for item in successes]
    for entry in items:
        entry.kind = "success"
    for item in others[:SUCCESS_OTHER_ITEMS]:
        entry = _scored_item(item, "")
        entry.kind = "other"
        entry.reason = "warning in a job that did not fail" + (f"; {entry.reason}" if entry.reason else "")
        items.append(entry)
    return items


def _log_end_items(pilot: FileScan | None, facts: PilotFacts) -> list[Item]:
    if pilot is None or not pilot.tail:
        return []
    headers = [line for line in pilot.tail if not line.continuation and line.message.strip()]
    last = headers[-LOG_END_LINES:]
    if not last:
        return []
    reason = f"the pilot log ends here ({last[-1].time or 'no time stamp'})"
    if not facts.ended_cleanly:
        reason += (
            "; no final job report follows (a copy from the log tarball also stops when the tarball is made)"
        )
    text = "\n".join(quote_line(line) for line in last)
    return [
        Item(
            kind="log-end",
            file=pilot.file.name,
            line=last[0].number,
            end_line=last[-1].number,
            text=text,
            reason=reason,
        )
    ]

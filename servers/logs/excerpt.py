"""Evidence items: quoted lines and blocks, shortened where they are long, fitted into a character budget."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from servers.logs.lineformat import LogLine, compact_pilot_header
from servers.logs.models import EvidenceItem, EvidenceKind
from servers.logs.signatures import looks_like_instructions

MAX_LINE_CHARS = 700
LINE_HEAD_CHARS = 560
LINE_TAIL_CHARS = 100
MAX_BLOCK_LINES = 30
MAX_STACK_FRAMES = 8
ITEM_OVERHEAD_CHARS = 60
"""Characters counted per item for its file name, numbers and reason, besides the quoted text."""

MIN_TRUNCATED_CHARS = 240
ELISION = " […] "

_FRAME = re.compile(r"#(\d+)\s+(?:0x[0-9a-f]+ in )?(.*)")
_LIBRARY_PATH = re.compile(r"from (/\S+/)([^/\s]+)$")
_STEP_PREFIX = re.compile(r"^(\w+ \d\d:\d\d:\d\d )")
_CRASH_DETAIL = re.compile(
    r"Event counter|EventID|Current algorithm|Last Incident|signal|errno|addr|vmem|rss"
)
MAX_CRASH_DETAILS = 6


@dataclass
class Item:
    """An evidence item before ranks are assigned and the budget is applied."""

    kind: EvidenceKind
    file: str
    line: int
    text: str
    reason: str
    end_line: int | None = None
    repeated: int | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int]:
        return (self.file, self.line)


def shorten(text: str) -> str:
    """Return a line cut in the middle when it is longer than MAX_LINE_CHARS."""
    text = text.rstrip()
    if len(text) <= MAX_LINE_CHARS:
        return text
    return text[:LINE_HEAD_CHARS] + ELISION + text[-LINE_TAIL_CHARS:]


def quote_line(line: LogLine) -> str:
    """Return one line as it is quoted: pilot column padding removed, cut when very long."""
    return shorten(compact_pilot_header(line))


def quote_block(first: LogLine, block: list[str]) -> tuple[str, EvidenceKind]:
    """Return a line with the lines that belong to it, and the kind of block they form."""
    head = quote_line(first)
    if not block:
        return head, "cause"

    joined = "\n".join([first.text, *block[:3]])
    if "Traceback (most recent call last)" in joined:
        return "\n".join([head, *_compact_traceback(block)]), "traceback"
    if re.search(r"Caught signal \d+|stack trace|#\d+\s+0x", joined, re.IGNORECASE) or any(
        _FRAME.match(_strip_prefix(b)) for b in block[:30]
    ):
        return "\n".join([head, *_compact_stack(block)]), "stack-trace"

    lines = [shorten(text) for text in block if text.strip()]
    if len(lines) > MAX_BLOCK_LINES:
        lines = lines[:MAX_BLOCK_LINES] + [f"[… {len(lines) - MAX_BLOCK_LINES} more lines of this record …]"]
    return "\n".join([head, *lines]), "cause"


def _compact_traceback(block: list[str]) -> list[str]:
    lines = [shorten(text) for text in block if text.strip()]
    if len(lines) <= MAX_BLOCK_LINES:
        return lines
    # Keep the outermost call and the innermost frames, where the exception was raised.
    keep_tail = MAX_BLOCK_LINES - 4
    return lines[:4] + [f"[… {len(lines) - MAX_BLOCK_LINES} traceback lines omitted …]"] + lines[-keep_tail:]


def _strip_prefix(text: str) -> str:
    return _STEP_PREFIX.sub("", text, count=1)


def _compact_stack(block: list[str]) -> list[str]:
    """Keep the crash details and the frames from the signal handler on, with short library names."""
    details: list[str] = []
    frames: list[str] = []
    for raw in block:
        text = _strip_prefix(raw).rstrip()
        frame = _FRAME.match(text.strip())
        if frame:
            call = _LIBRARY_PATH.sub(r"from \2", frame.group(2))
            frames.append(f"#{frame.group(1)} {call}")
        elif len(details) < MAX_CRASH_DETAILS and _CRASH_DETAIL.search(text):
            details.append(shorten(text.strip()))

    start = next((index for index, frame in enumerate(frames) if "signal handler called" in frame), -1)
    if start >= 0:
        frames = frames[start:]
    shown = frames[: MAX_STACK_FRAMES + 1]
    lines = details + [shorten(frame) for frame in shown]
    if len(frames) > len(shown):
        lines.append(f"[… {len(frames) - len(shown)} more frames; addresses and library paths shortened …]")
    return lines


def flag_item(item: Item) -> Item:
    """Add the flag for text that reads like instructions to an AI model."""
    if looks_like_instructions(item.text) and "looks-like-instructions" not in item.flags:
        item.flags.append("looks-like-instructions")
    return item


_HEADER = re.compile(r"^\d{4}-\d\d-\d\d[ T][\d:,.]+\s*\|[^|]*\|[^|]*\|[^|]*\|\s*", re.MULTILINE)
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[,.]?\d*|\b\d\d:\d\d:\d\d\b")
_NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+")
SHINGLE_WORDS = 6
REDUNDANT_SHARE = 0.5
"""A pilot line or summary whose word sequences are at least this share repeats of earlier items adds nothing."""
NEAR_COPY_SHARE = 0.8


def _shingles(text: str) -> set[tuple[str, ...]]:
    """Return the runs of SHINGLE_WORDS words of `text`, with pilot headers, times and numbers left out."""
    text = _NUMBER.sub("#", _TIMESTAMP.sub(" ", _HEADER.sub("", text))).lower()
    words = re.findall(r"[\w#./:-]+", text)
    if len(words) < SHINGLE_WORDS:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def drop_redundant(items: list[Item], keep: re.Pattern[str] | None = None) -> list[Item]:
    """Return `items` without those that mostly repeat the text of earlier ones.

    Repeats differ in time stamps, numbers and the program that relays them (the pilot quoting the transform's
    error diag in several reports), so words are compared after normalising, not whole lines. A pilot line or
    summary goes when at least REDUNDANT_SHARE of it repeats earlier items. A payload line goes only when it
    is a near copy (NEAR_COPY_SHARE) of one earlier item, so the original of a quoted error stays. The first
    item and items matching `keep` (those naming the decisive error code) always stay.
    """
    kept: list[Item] = []
    kept_shingles: list[set[tuple[str, ...]]] = []
    seen: set[tuple[str, ...]] = set()
    keys: set[tuple[str, int]] = set()
    for item in items:
        if item.key in keys:
            continue
        shingles = _shingles(item.text)
        if kept and shingles and not (keep is not None and keep.search(item.text)):
            relay = item.kind == "summary" or bool(_HEADER.match(item.text))
            if relay and len(shingles & seen) >= REDUNDANT_SHARE * len(shingles):
                continue
            if any(_near_copy(shingles, other) for other in kept_shingles):
                continue
        kept.append(item)
        kept_shingles.append(shingles)
        keys.add(item.key)
        seen |= shingles
    return kept


def _near_copy(one: set[tuple[str, ...]], other: set[tuple[str, ...]]) -> bool:
    shared = len(one & other)
    return shared >= NEAR_COPY_SHARE * len(one) and shared >= NEAR_COPY_SHARE * len(other)


def fit_budget(
    items: list[Item], budget: int, keep: re.Pattern[str] | None = None
) -> tuple[list[EvidenceItem], int, int]:
    """Return the items that fit into `budget` characters, the characters used and how many were left out.

    Items are packed in rank order and packing stops at the first item that does not fit (it is cut to the room
    left when at least MIN_TRUNCATED_CHARS remain), so what a small budget shows a larger budget shows too.
    Items that mostly repeat earlier ones are dropped first (see drop_redundant for `keep`).
    """
    selected: list[EvidenceItem] = []
    used = 0
    omitted = 0
    items = drop_redundant(items, keep)

    for index, item in enumerate(items):
        cost = len(item.text) + len(item.file) + ITEM_OVERHEAD_CHARS
        room = budget - used
        text = item.text
        if cost > room:
            text_room = room - len(item.file) - ITEM_OVERHEAD_CHARS - len(ELISION)
            if text_room < MIN_TRUNCATED_CHARS:
                omitted = len(items) - index
                break
            text = item.text[:text_room] + ELISION
            cost = len(text) + len(item.file) + ITEM_OVERHEAD_CHARS
            omitted = len(items) - index - 1

        used += cost
        flag_item(item)
        selected.append(
            EvidenceItem(
                rank=len(selected) + 1,
                kind=item.kind,
                file=item.file,
                line=item.line,
                end_line=item.end_line if item.end_line and item.end_line != item.line else None,
                reason=item.reason,
                repeated=item.repeated if item.repeated and item.repeated > 1 else None,
                text=text,
                flags=item.flags,
            )
        )
        if omitted:
            break
    return selected, used, omitted

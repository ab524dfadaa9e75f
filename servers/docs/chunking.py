"""Cut documents into chunks that follow their structure: one section's own text per chunk or run of chunks.

A chunk never spans two sections, so its line range lies inside the section whose title path it carries. Inside
a section, text is cut only between blocks: a paragraph, a list item, a table, or a line together with the
indented lines under it (a directive and its body, a literal block after `::`, a definition). Fenced code
blocks stay whole. Only a block longer than the hard limit is cut, first at its own inner blank lines and
then between lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from servers.docs.sections import ParsedDocument, Section

TARGET_CHARS = 400
"""Size a long section's chunks aim at; all-MiniLM-L6-v2 reads at most 256 word pieces (about 1000 characters)."""

MAX_CHARS = 800
"""A section up to this size stays one chunk, and a single block longer than this is cut."""

_SUBSTITUTION_ONLY = re.compile(r"^\s*\|[\w -]+\|\s*$")
_TRANSITION = re.compile(r"^\s*([-=~_*+#^\"'`:.])\1{3,}\s*$")
_DROPPED_DIRECTIVE = re.compile(r"^(\s*)\.\. (contents|figure|image|raw|toctree|only|include)::")
_TARGET = re.compile(r"^\s*\.\. (_[^:]+:|\|[^|]+\|\s+\w+::).*$")
_OPTION = re.compile(r"^\s+:[\w -]+:")
_HTML_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_SIMPLE_TABLE_BORDER = re.compile(r"^=+( +=+)+\s*$")


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it is stored: its section's title path, its source line range and its text."""

    titles: tuple[str, ...]
    section_line: int
    line_start: int
    line_end: int
    text: str


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    size: int


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _noise_mask(lines: list[str], start: int, end: int) -> list[bool]:
    """Mark lines that carry no text for a reader: rst transitions, |br| spacers, tables of contents, figures."""
    noise = [False] * (end - start)
    index = start
    while index < end:
        line = lines[index]
        directive = _DROPPED_DIRECTIVE.match(line)
        if directive:
            base = len(directive.group(1))
            noise[index - start] = True
            index += 1
            # toctree/contents/raw bodies are dropped whole; a figure keeps its caption, only options go.
            whole_body = directive.group(2) in ("contents", "toctree", "raw", "include")
            while index < end and (not lines[index].strip() or _indent(lines[index]) > base):
                if lines[index].strip() and (whole_body or _OPTION.match(lines[index])):
                    noise[index - start] = True
                index += 1
            continue

        previous_blank = index == 0 or not lines[index - 1].strip()
        next_blank = index + 1 >= len(lines) or not lines[index + 1].strip()
        if (
            _SUBSTITUTION_ONLY.match(line)
            or _TARGET.match(line)
            or _HTML_COMMENT.match(line)
            or (_TRANSITION.match(line) and previous_blank and next_blank)
        ):
            noise[index - start] = True
        index += 1
    return noise


def _blocks(lines: list[str], start: int, end: int, keep: list[bool]) -> list[_Block]:
    """Split lines[start:end] into blocks that must not be cut: see the module docstring."""
    blocks: list[_Block] = []
    index = start
    while index < end:
        if not keep[index - start] or not lines[index].strip():
            index += 1
            continue

        block_start = index
        if _SIMPLE_TABLE_BORDER.match(lines[index]):
            # An rst simple table may hold blank lines between rows; it ends at a border followed by a blank line.
            last = _simple_table_end(lines, index, end)
            blocks.append(_Block(block_start, last, _size(lines, keep, start, block_start, last)))
            index = last + 1
            continue
        base = _indent(lines[index])
        fence: str | None = None
        last = index
        while index < end:
            line = lines[index]
            is_kept = keep[index - start]
            fence_match = _FENCE.match(line) if is_kept else None
            if fence is not None:
                if fence_match and fence_match.group(1).startswith(fence):
                    fence = None
                last = index
                index += 1
                continue
            if fence_match:
                fence = fence_match.group(1)[0] * 3
                last = index
                index += 1
                continue
            if not is_kept or not line.strip():
                index += 1
                continue
            if index > block_start and not lines[index - 1].strip() and _indent(line) <= base:
                break
            if index > block_start and not keep[index - 1 - start] and _indent(line) <= base:
                break
            last = index
            index += 1

        blocks.append(_Block(block_start, last, _size(lines, keep, start, block_start, last)))
        index = last + 1
    return blocks


def _simple_table_end(lines: list[str], start: int, end: int) -> int:
    for index in range(start + 1, end):
        if _SIMPLE_TABLE_BORDER.match(lines[index]) and (index + 1 >= end or not lines[index + 1].strip()):
            return index
    return start


def _size(lines: list[str], keep: list[bool], offset: int, start: int, end: int) -> int:
    return sum(len(lines[i]) + 1 for i in range(start, end + 1) if keep[i - offset])


def _split_block(lines: list[str], block: _Block, keep: list[bool], offset: int, max_chars: int) -> list[_Block]:
    """Cut an oversized block: between the blocks of its indented body first, then between lines."""
    if block.size <= max_chars:
        return [block]

    inner = _blocks(lines, block.start + 1, block.end + 1, keep[block.start + 1 - offset : block.end + 1 - offset])
    if len(inner) > 1:
        head = _Block(block.start, inner[0].end, _size(lines, keep, offset, block.start, inner[0].end))
        result: list[_Block] = []
        for piece in (head, *inner[1:]):
            result.extend(_split_block(lines, piece, keep, offset, max_chars))
        return result

    result = []
    piece_start = block.start
    size = 0
    for index in range(block.start, block.end + 1):
        length = len(lines[index]) + 1 if keep[index - offset] else 0
        if size and size + length > max_chars:
            result.append(_Block(piece_start, index - 1, size))
            piece_start, size = index, 0
        size += length
    result.append(_Block(piece_start, block.end, size))
    return result


def _block_text(lines: list[str], block: _Block, keep: list[bool], offset: int) -> str:
    kept_lines = [lines[i].rstrip() for i in range(block.start, block.end + 1) if keep[i - offset]]
    text = "\n".join(kept_lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _pack(blocks: list[_Block], target_chars: int, max_chars: int) -> list[list[_Block]]:
    """Group consecutive blocks into chunks: the whole section when it fits in `max_chars`, else even chunks.

    Chunks aim at the section size divided evenly into pieces of about `target_chars`, so that a section is not
    left with a short tail cut off from its start.
    """
    total = sum(block.size for block in blocks)
    if total <= max_chars:
        return [list(blocks)] if blocks else []

    pieces = -(-total // target_chars)
    goal = total / pieces
    groups: list[list[_Block]] = []
    current: list[_Block] = []
    size = 0
    for block in blocks:
        # Close the chunk when adding the block overshoots the goal by more than stopping short of it would.
        if current and size + block.size > goal and (size + block.size - goal) > (goal - size):
            groups.append(current)
            current, size = [], 0
        current.append(block)
        size += block.size
    if current:
        groups.append(current)
    return groups


def chunk_section(
    document: ParsedDocument, section: Section, *, target_chars: int = TARGET_CHARS, max_chars: int = MAX_CHARS
) -> list[ChunkDraft]:
    """Return the chunks of one section's own text (up to its first subsection)."""
    lines = document.lines
    start, end = section.body_start, section.body_end
    if start >= end:
        return []

    keep = [not noisy for noisy in _noise_mask(lines, start, end)]
    blocks: list[_Block] = []
    for block in _blocks(lines, start, end, keep):
        blocks.extend(_split_block(lines, block, keep, start, max_chars))

    section_line = document.line_number(section.heading_index) if section.heading_index is not None else 0
    chunks: list[ChunkDraft] = []
    for group in _pack(blocks, target_chars, max_chars):
        text = "\n\n".join(filter(None, (_block_text(lines, block, keep, start) for block in group)))
        if not text.strip():
            continue
        chunks.append(
            ChunkDraft(
                titles=section.titles,
                section_line=section_line,
                line_start=document.line_number(group[0].start),
                line_end=document.line_number(group[-1].end),
                text=text,
            )
        )
    return chunks


def chunk_document(
    document: ParsedDocument, *, target_chars: int = TARGET_CHARS, max_chars: int = MAX_CHARS
) -> list[ChunkDraft]:
    """Return every chunk of a document in line order."""
    chunks: list[ChunkDraft] = []
    for section in document.sections:
        chunks.extend(chunk_section(document, section, target_chars=target_chars, max_chars=max_chars))
    return chunks

"""Section structure of reStructuredText, Markdown and plain-text documents: headings, levels and line ranges.

A section runs from its heading to the next heading of the same or a higher level, as in docutils and
CommonMark. Every section records its title path, from the page title down, so that each chunk cut from it can
carry that path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RST_ADORNMENT_CHARS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_INLINE_LITERAL = re.compile(r"``(.+?)``")
_ROLE = re.compile(r":[\w.+-]+:`([^`<]*?)\s*(?:<[^`>]*>)?`")
_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]*>`_{1,2}")
_EMPHASIS = re.compile(r"(\*\*|\*|`)(\S(?:.*?\S)?)\1")


@dataclass
class Section:
    """One heading and the lines it governs, as 0-based indexes into the document's line list."""

    titles: tuple[str, ...]
    level: int
    heading_index: int | None
    body_start: int
    body_end: int
    end: int = 0
    children: list[Section] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.titles[-1] if self.titles else ""


@dataclass
class ParsedDocument:
    """A document split into lines, with the source line number of each line and its sections in order.

    `numbers[i]` is the 1-based line number in the original file of `lines[i]`; for text extracted from HTML it
    is the line where that text starts in the HTML source.
    """

    lines: list[str]
    numbers: list[int]
    sections: list[Section]
    title: str

    def line_number(self, index: int) -> int:
        if not self.numbers:
            return 0
        return self.numbers[min(max(index, 0), len(self.numbers) - 1)]


@dataclass(frozen=True)
class _Heading:
    index: int
    first_line: int
    last_line: int
    title: str
    style: str


def clean_title(raw: str) -> str:
    """Return a heading's text with inline markup removed: ``--useSecrets`` reads --useSecrets."""
    text = raw.strip()
    text = _INLINE_LITERAL.sub(r"\1", text)
    text = _ROLE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    return " ".join(text.split())


def _is_adornment(line: str) -> bool:
    stripped = line.rstrip()
    return len(stripped) >= 2 and stripped[0] in RST_ADORNMENT_CHARS and stripped == stripped[0] * len(stripped)


def _rst_headings(lines: list[str]) -> list[_Heading]:
    """Find rst section titles: underlined, or over- and underlined with the same character.

    Follows docutils: the title line is not indented (unless overlined) and comes after a blank line, and an
    underline shorter than its title counts only when it has at least four characters.
    """
    headings: list[_Heading] = []
    count = len(lines)
    index = 0
    while index < count - 1:
        line = lines[index]
        previous_blank = index == 0 or not lines[index - 1].strip()

        # Overline, title, underline: the title may be indented, the two adornments must match.
        if (
            previous_blank
            and _is_adornment(line)
            and index + 2 < count
            and lines[index + 1].strip()
            and not _is_adornment(lines[index + 1])
            and lines[index + 2].rstrip() == line.rstrip()[0] * len(lines[index + 2].rstrip())
            and _is_adornment(lines[index + 2])
        ):
            title = clean_title(lines[index + 1])
            if title:
                headings.append(_Heading(index + 1, index, index + 2, title, "over" + line.rstrip()[0]))
                index += 3
                continue

        # Title, underline.
        underline = lines[index + 1].rstrip()
        if (
            previous_blank
            and line.strip()
            and not line[0].isspace()
            and not _is_adornment(line)
            and _is_adornment(underline)
            and (len(underline) >= len(line.rstrip()) or len(underline) >= 4)
        ):
            title = clean_title(line)
            if title:
                headings.append(_Heading(index, index, index + 1, title, "under" + underline[0]))
                index += 2
                continue

        index += 1
    return headings


def _markdown_headings(lines: list[str]) -> list[_Heading]:
    """Find ATX (`## Title`) and setext (Title / ===) headings outside fenced code blocks."""
    headings: list[_Heading] = []
    fence: str | None = None
    for index, line in enumerate(lines):
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue

        atx = _ATX_HEADING.match(line)
        if atx:
            title = clean_title(atx.group(2))
            if title:
                level = len(atx.group(1))
                headings.append(_Heading(index, index, index, title, f"h{level}"))
            continue

        setext = _SETEXT_UNDERLINE.match(line)
        if (
            setext
            and index > 0
            and lines[index - 1].strip()
            and not lines[index - 1].startswith("    ")
            and (index < 2 or not lines[index - 2].strip())
            and not any(h.last_line == index - 1 for h in headings[-1:])
        ):
            level = 1 if setext.group(1).startswith("=") else 2
            title = clean_title(lines[index - 1])
            if title:
                headings.append(_Heading(index - 1, index - 1, index, title, f"h{level}"))
    return headings


def _levels(headings: list[_Heading], markdown: bool) -> list[int]:
    """Return the level of each heading: Markdown has fixed levels, rst ranks styles in order of first use."""
    if markdown:
        return [int(h.style[1:]) for h in headings]

    ranks: dict[str, int] = {}
    for heading in headings:
        ranks.setdefault(heading.style, len(ranks) + 1)
    return [ranks[h.style] for h in headings]


def _build_sections(lines: list[str], headings: list[_Heading], levels: list[int], fallback_title: str) -> list[Section]:
    """Return the sections in document order, each with its title path and its own body lines."""
    document_title = headings[0].title if headings else fallback_title
    sections: list[Section] = []

    first_heading_line = headings[0].first_line if headings else len(lines)
    if first_heading_line > 0 or not headings:
        sections.append(Section((document_title,), 0, None, 0, first_heading_line, first_heading_line))

    stack: list[Section] = []
    for position, heading in enumerate(headings):
        level = levels[position]
        while stack and stack[-1].level >= level:
            stack.pop()
        parent_titles = stack[-1].titles if stack else ()
        body_end = headings[position + 1].first_line if position + 1 < len(headings) else len(lines)
        section = Section(parent_titles + (heading.title,), level, heading.index, heading.last_line + 1, body_end)
        if stack:
            stack[-1].children.append(section)
        stack.append(section)
        sections.append(section)

    # A section ends where the next heading of the same or a higher level starts.
    for position, section in enumerate(sections):
        if section.heading_index is None:
            continue
        end = len(lines)
        for later in sections[position + 1 :]:
            if later.heading_index is not None and later.level <= section.level:
                end = _heading_first_line(later, headings)
                break
        section.end = end
    return sections


def _heading_first_line(section: Section, headings: list[_Heading]) -> int:
    for heading in headings:
        if heading.index == section.heading_index:
            return heading.first_line
    return section.body_start


def parse_lines(lines: list[str], kind: str, fallback_title: str, numbers: list[int] | None = None) -> ParsedDocument:
    """Return the section structure of `lines`; `kind` is rst, md, txt or html (HTML arrives as Markdown)."""
    markdown = kind in ("md", "html")
    headings = _markdown_headings(lines) if markdown else _rst_headings(lines)
    levels = _levels(headings, markdown)
    sections = _build_sections(lines, headings, levels, fallback_title)
    title = headings[0].title if headings else fallback_title
    return ParsedDocument(lines, numbers or list(range(1, len(lines) + 1)), sections, title)


def parse_text(text: str, kind: str, fallback_title: str) -> ParsedDocument:
    """Return the section structure of a whole document given as text."""
    return parse_lines(text.splitlines(), kind, fallback_title)

"""HTML pages as Markdown-like lines (headings, paragraphs, code, tables), each with its HTML source line.

Only the main content is kept when the page marks it (`<main>`, `role="main"`, `<article>`); navigation,
headers, footers, scripts and styles are dropped.
"""

from __future__ import annotations

from html.parser import HTMLParser

_SKIPPED = {"script", "style", "nav", "header", "footer", "noscript", "svg", "form", "button", "head"}
_BLOCKS = {"p", "div", "section", "li", "dd", "dt", "blockquote", "br", "tr", "table", "ul", "ol", "dl", "hr"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class _Extractor(HTMLParser):
    """Collects (text, source line) pairs; headings become `#` lines and <pre> keeps its layout in a fence."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[str, int]] = []
        self.main_lines: list[tuple[str, int]] | None = None
        self._current: list[str] = []
        self._current_line = 1
        self._skip_depth = 0
        self._pre_depth = 0
        self._heading: int | None = None
        self._main_depth = 0
        self._in_main_tag: list[str] = []
        self._cell_count = 0

    def _target(self) -> list[tuple[str, int]]:
        if self._main_depth > 0 and self.main_lines is not None:
            return self.main_lines
        return self.lines

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            prefix = "#" * self._heading + " " if self._heading else ""
            self._target().append((prefix + text, self._current_line))
        self._current = []

    def _blank(self) -> None:
        target = self._target()
        if target and target[-1][0]:
            target.append(("", self.getpos()[0]))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in _SKIPPED:
            if tag not in _VOID:
                self._skip_depth += 1
            return
        if self._skip_depth:
            return

        if tag in ("main", "article") or attributes.get("role") == "main":
            if self.main_lines is None:
                self.main_lines = []
            if tag not in _VOID:
                self._main_depth += 1
                self._in_main_tag.append(tag)

        if tag in _HEADINGS:
            self._flush()
            self._blank()
            self._heading = _HEADINGS[tag]
            self._current_line = self.getpos()[0]
        elif tag == "pre":
            self._flush()
            self._blank()
            self._target().append(("```", self.getpos()[0]))
            self._pre_depth += 1
            self._current_line = self.getpos()[0]
        elif tag in ("td", "th"):
            self._current.append(" | " if self._cell_count else "| ")
            self._cell_count += 1
        elif tag in _BLOCKS and not self._pre_depth:
            self._flush()
            if tag in ("p", "table", "ul", "ol", "dl", "blockquote", "section"):
                self._blank()
            if tag == "tr":
                self._cell_count = 0
            if tag == "li":
                self._current.append("* ")
            self._current_line = self.getpos()[0]

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            if tag not in _VOID and self._skip_depth:
                self._skip_depth -= 1
            return
        if self._skip_depth:
            return

        if tag in _HEADINGS:
            self._flush()
            self._heading = None
            self._blank()
        elif tag == "pre" and self._pre_depth:
            self._pre_depth -= 1
            self._emit_pre()
            self._target().append(("```", self.getpos()[0]))
            self._blank()
        elif tag == "tr":
            if self._current:
                self._current.append(" |")
            self._flush()
        elif tag in _BLOCKS and not self._pre_depth:
            self._flush()

        if self._in_main_tag and tag == self._in_main_tag[-1]:
            self._in_main_tag.pop()
            self._main_depth -= 1

    def _emit_pre(self) -> None:
        text = "".join(self._current)
        self._current = []
        line = self._current_line + len(text) - len(text.lstrip("\n"))
        for offset, raw in enumerate(text.strip("\n").splitlines()):
            self._target().append((raw.rstrip(), line + offset))

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if not self._current and not self._pre_depth:
            self._current_line = self.getpos()[0]
        self._current.append(data)

    def close(self) -> None:
        super().close()
        if self._pre_depth:
            self._emit_pre()
        else:
            self._flush()


def html_to_lines(html: str) -> tuple[list[str], list[int]]:
    """Return the page's text lines in Markdown form and, for each, its 1-based line in the HTML source."""
    extractor = _Extractor()
    extractor.feed(html)
    extractor.close()

    pairs = extractor.main_lines if extractor.main_lines else extractor.lines
    while pairs and not pairs[-1][0]:
        pairs.pop()
    return [text for text, _ in pairs], [number for _, number in pairs]

"""The PanDA error-code catalogue (shared/errorcodes/data/*.json) as Markdown pages, one section per code.

Indexing the catalogue lets a question such as "what does lost heartbeat mean" find the code's explanation next
to the documentation. The catalogue may be absent or partly written; unreadable files are skipped with a
reason, like any other source file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import shared
from servers.docs.sources import DocumentFile, SkippedFile

logger = logging.getLogger(__name__)

CATALOGUE_SOURCE = "error-catalogue"
CATALOGUE_KIND = "catalogue"
"""Document kind of catalogue pages: Markdown, chunked one code per chunk (see documents.build_records)."""


def catalogue_folder() -> Path:
    return Path(shared.__file__).resolve().parent / "errorcodes" / "data"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_text(item) for item in value if _text(item))
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items())
    return " ".join(str(value).split())


def _entry_section(entry: dict[str, Any], component: str) -> list[str]:
    """Return the Markdown lines of one code: a heading with component, code, acronym and message, then fields."""
    own_component = _text(entry.get("component")) or component
    script = _text(entry.get("script"))
    code = _text(entry.get("code"))
    acronym = _text(entry.get("acronym"))
    message = _text(entry.get("message"))

    heading = " ".join(part for part in (own_component, script, "error", code, acronym) if part)
    if message:
        heading += f": {message}"
    lines = [f"## {heading}", ""]

    advice = _text(entry.get("retry_advice"))
    reason = _text(entry.get("retry_reason"))
    if advice and reason:
        advice = f"{advice} ({reason.rstrip('.')})"
    labelled = (
        ("Category", entry.get("category")),
        ("Retry advice", advice),
        ("Job record field", entry.get("job_field")),
        ("Signal", entry.get("signal")),
        ("Used by", entry.get("used_by")),
    )
    for label, value in labelled:
        text = _text(value)
        if text:
            lines.append(f"{label}: {text}" + ("" if text.endswith((".", "!", "?")) else "."))
    if entry.get("historical") is True:
        lines.append("Historical: no longer set by current code, but it can appear in old jobs.")
    lines.append("")

    for key in ("user_explanation", "expert_explanation"):
        if _text(entry.get(key)):
            lines.extend([_text(entry.get(key)), ""])
    for label, key in (
        ("Likely causes", "likely_causes"),
        ("Suggested actions", "suggested_actions"),
        ("Also described as", "keywords"),
        ("Note", "note"),
    ):
        if _text(entry.get(key)):
            lines.extend([f"{label}: {_text(entry.get(key))}", ""])
    return lines


def catalogue_page(file_name: str, raw: Any) -> str:
    """Return the Markdown page of one catalogue file; raises ValueError when the JSON has no entries list."""
    if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
        raise ValueError("expected an object with an 'entries' list")

    component = _text(raw.get("component")) or Path(file_name).stem
    lines = [f"# PanDA error codes: {component}", ""]
    if _text(raw.get("job_field")):
        lines.extend([f"These codes appear in the job record field {_text(raw.get('job_field'))}.", ""])

    for key in ("entries", "runcontainer"):
        entries = raw.get(key)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, dict):
                lines.extend(_entry_section(entry, component))
    return "\n".join(lines).rstrip() + "\n"


def read_catalogue(folder: Path | None = None) -> tuple[list[DocumentFile], list[SkippedFile]]:
    """Return one Markdown document per catalogue JSON file; an absent folder gives no documents."""
    folder = folder or catalogue_folder()
    documents: list[DocumentFile] = []
    skipped: list[SkippedFile] = []
    if not folder.is_dir():
        logger.info("No error catalogue in %s; it is left out of the docs index", folder)
        return documents, skipped

    for path in sorted(folder.glob("*.json")):
        try:
            page = catalogue_page(path.name, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            logger.warning("Skipping error catalogue file %s: %s", path, exc)
            skipped.append(SkippedFile(path.name, f"unreadable catalogue file: {exc}"))
            continue
        documents.append(DocumentFile(path.name, CATALOGUE_KIND, page))
    return documents, skipped

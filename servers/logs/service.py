"""The operations behind the logs tools: validate input, gather the job record and log files, run the analysis.

Free of MCP; server.py turns the errors raised here into ToolErrors and the CLI prints them.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from typing import Any

import anyio

from servers.logs.analysis import MAX_BUDGET, MIN_BUDGET, JobInput, analyze
from servers.logs.bigpanda import BigPandaClient, Fetched, LogsUnavailableError
from servers.logs.jobinfo import as_int, summary_from_record
from servers.logs.models import FailureReport, FileNote, JobFile, JobFiles, JobStatus, LogPage, Retry
from servers.logs.pages import read_page
from servers.logs.phases import phase_from_code
from servers.logs.queueinfo import QueueDirectory
from servers.logs.sniffing import sniff_file
from servers.logs.sources import KNOWN_LOG_NAMES, LogBundle, LogFile, LogSourceError, open_local
from servers.logs.triage import triage_record
from shared.config import Settings
from shared.exceptions import AskPandaError

logger = logging.getLogger(__name__)

MAX_PASTED_CHARS = 5_000_000
_PANDAID = re.compile(r"\d{1,19}")


class InvalidInputError(ValueError):
    """A tool argument is invalid; the message names it and states what is expected."""


def is_pandaid(text: str) -> bool:
    """Return True when `text` has the form of a pandaid (digits only)."""
    return bool(_PANDAID.fullmatch(text.strip()))


def parse_pandaid(value: Any) -> int:
    """Return the pandaid as int; raise InvalidInputError for anything that is not a positive integer."""
    text = str(value).strip()
    if isinstance(value, bool) or not _PANDAID.fullmatch(text) or int(text) == 0:
        raise InvalidInputError(
            f"Invalid pandaid {str(value)[:60]!r}: a PanDA job id is a positive integer such as 6715819744. "
            "For local log files call analyze_log with a path instead."
        )
    return int(text)


def clamp_budget(budget: int) -> tuple[int, str | None]:
    """Return the budget within [MIN_BUDGET, MAX_BUDGET] and a note when it had to be changed."""
    if budget > MAX_BUDGET:
        return MAX_BUDGET, f"budget_chars {budget} is above the maximum; {MAX_BUDGET} was used."
    if budget < MIN_BUDGET:
        return MIN_BUDGET, f"budget_chars {budget} is below the minimum; {MIN_BUDGET} was used."
    return budget, None


def files_to_analyze(listing: list[dict[str, Any]]) -> list[str]:
    """Return the names in a log file list that the analysis reads: the known job files, else transform logs."""
    names = [str(entry.get("name")) for entry in listing if entry.get("name")]
    chosen = [name for name in names if Path(name).name in KNOWN_LOG_NAMES and Path(name).name != "job.json"]
    if not any(Path(name).name == "payload.stdout" for name in chosen):
        # Without payload.stdout the transform's own logs (log.<Step>) hold the payload output.
        chosen += [
            name
            for name in names
            if Path(name).name.startswith("log.") and not name.endswith((".tgz", ".tar.gz"))
        ][:3]
    return chosen


class LogsService:
    """Reports and log pages for jobs on BigPanDA and for logs on local disk."""

    def __init__(self, settings: Settings, *, trusted_paths: bool = False) -> None:
        self.settings = settings
        self.bigpanda = BigPandaClient(settings)
        self.queues = QueueDirectory(settings)
        self.trusted_paths = trusted_paths
        self.work_root = settings.cache_dir / "unpacked"

    async def analyze_job(self, pandaid: Any, budget: int) -> FailureReport:
        """Return the failure report of a job on BigPanDA."""
        number = parse_pandaid(pandaid)
        budget, budget_note = clamp_budget(budget)
        fetched = await self.bigpanda.get_job(number)
        record = fetched.value
        job = record["job"]
        notes = [note for note in (budget_note, _stale_note("job record", fetched)) if note]

        bundle, file_notes = await self._download_logs(number, notes)
        queue = await self.queues.lookup(job.get("computingsite"))
        job_input = JobInput(
            source=f"pandaid {number}",
            bundle=bundle,
            record=record,
            link=self.bigpanda.job_link(number),
            budget=budget,
            read_source=str(number),
            notes=notes,
            file_notes=file_notes,
            site=queue.site if queue else None,
            queue_maxrss_mb=queue.maxrss_mb if queue else None,
        )
        logger.info("Analysing pandaid %d (%d log files)", number, len(bundle.files) if bundle else 0)
        return await anyio.to_thread.run_sync(analyze, job_input)

    async def analyze_local(self, path: str | None, text: str | None, budget: int) -> FailureReport:
        """Return the failure report of logs on disk (a file, folder or archive) or of pasted log text."""
        if (path is None) == (text is None):
            raise InvalidInputError(
                "Pass exactly one of path (a log file, folder or .tgz) or text (pasted log lines)."
            )
        budget, budget_note = clamp_budget(budget)
        notes = [budget_note] if budget_note else []

        if text is not None:
            return await anyio.to_thread.run_sync(self._analyze_text, text, budget, notes)

        bundle = await anyio.to_thread.run_sync(self._open_path, path)
        job_input = JobInput(
            source=str(path), bundle=bundle, budget=budget, read_source=str(path), notes=notes
        )
        return await anyio.to_thread.run_sync(analyze, job_input)

    async def job_status(self, pandaid: Any) -> JobStatus:
        """Return the summary and decoded errors of a job without reading its logs."""
        number = parse_pandaid(pandaid)
        fetched = await self.bigpanda.get_job(number)
        job = {str(key).lower(): value for key, value in fetched.value["job"].items()}
        queue = await self.queues.lookup(job.get("computingsite"))

        triage = triage_record(job)
        primary = triage.primary
        summary = summary_from_record(
            job, link=self.bigpanda.job_link(number), site=queue.site if queue else None, pilot_version=None
        )

        left = None
        if summary.attempt is not None and summary.max_attempts is not None:
            left = max(summary.max_attempts - summary.attempt, 0)
        notes = [note for note in [_stale_note("job record", fetched)] if note] + triage.notes

        return JobStatus(
            job=summary,
            failed=primary is not None,
            primary_error=primary,
            other_errors=triage.others,
            phase=phase_from_code(primary.field, primary.code, primary.component) if primary else None,
            category=primary.category if primary else None,
            retry=Retry(
                advice=triage.retry_advice,
                reason=triage.retry_reason,
                attempt=summary.attempt,
                max_attempts=summary.max_attempts,
                attempts_left=left,
            ),
            notes=notes,
        )

    async def job_files(self, pandaid: Any) -> JobFiles:
        """Return the files of a job's log tarball as BigPanDA lists them."""
        number = parse_pandaid(pandaid)
        listing = (await self.bigpanda.list_files(number)).value
        analyzed = set(files_to_analyze(listing))
        files = [
            JobFile(
                name=str(entry.get("name")),
                size=as_int(entry.get("size")),
                modified=str(entry.get("modification")) if entry.get("modification") else None,
                analyzed=str(entry.get("name")) in analyzed,
            )
            for entry in listing
            if entry.get("name")
        ]
        return JobFiles(pandaid=number, files=files, link=self.bigpanda.job_link(number))

    async def read_lines(
        self, source: str, filename: str | None, start_line: int | None, count: int, pattern: str | None
    ) -> LogPage:
        """Return a page of a log file of a job (source = pandaid) or of local logs (source = path)."""
        source = str(source).strip()
        if is_pandaid(source):
            if not filename:
                raise InvalidInputError(
                    f"Pass filename, such as 'pilotlog.txt'; call list_job_files({source}) for the names."
                )
            entry = await self.bigpanda.fetch_file(parse_pandaid(source), filename)
            log = LogFile(filename, entry.path, entry.path.stat().st_size)
        else:
            bundle = await anyio.to_thread.run_sync(self._open_path, source)
            log = _pick_file(bundle, filename, source)
        return await anyio.to_thread.run_sync(read_page, log, source, start_line, count, pattern)

    def _open_path(self, path: str | None) -> LogBundle:
        if not path or not str(path).strip():
            raise InvalidInputError("Pass a path to a log file, folder or .tgz archive.")
        return open_local(
            Path(str(path)),
            roots=self.settings.log_roots,
            trusted=self.trusted_paths,
            work_root=self.work_root,
        )

    def _analyze_text(self, text: str, budget: int, notes: list[str]) -> FailureReport:
        if not text.strip():
            raise InvalidInputError("text is empty; paste the log lines to analyse.")
        if len(text) > MAX_PASTED_CHARS:
            raise InvalidInputError(
                f"text has {len(text)} characters, above the {MAX_PASTED_CHARS} limit; save the log in a folder from "
                "ASKPANDA_LOG_ROOTS and pass its path instead."
            )
        self.work_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.work_root) as folder:
            path = Path(folder) / "pasted.txt"
            # Pasted text arrives as JSON, which can carry lone surrogates; they cannot be encoded, so they go.
            path.write_text(text, encoding="utf-8", errors="replace")
            bundle = LogBundle(origin="pasted text", files=[LogFile("pasted.txt", path, path.stat().st_size)])
            return analyze(JobInput(source="pasted text", bundle=bundle, budget=budget, notes=notes))

    async def _download_logs(self, pandaid: int, notes: list[str]) -> tuple[LogBundle | None, list[FileNote]]:
        try:
            listed = await self.bigpanda.list_files(pandaid)
        except LogsUnavailableError as exc:
            notes.append(str(exc))
            return None, []
        except AskPandaError as exc:
            notes.append(f"The log file list could not be read: {exc}")
            return None, []
        if listed.stale_reason:
            notes.append(_stale_note("log file list", listed) or "")

        limit = self.settings.max_response_mb * 1024 * 1024
        sizes = {str(entry.get("name")): as_int(entry.get("size")) for entry in listed.value}
        names_to_fetch = files_to_analyze(listed.value)
        file_notes = [
            FileNote(
                name=name,
                size=sizes[name],
                status="skipped",
                note=f"larger than ASKPANDA_MAX_RESPONSE_MB ({self.settings.max_response_mb} MB)",
            )
            for name in names_to_fetch
            if (sizes.get(name) or 0) > limit
        ]
        names_to_fetch = [
            name for name in names_to_fetch if (sizes.get(name) or 0) <= limit and sizes.get(name) != 0
        ]
        file_notes += [
            FileNote(name=name, size=0, status="skipped", note="empty file")
            for name, size in sizes.items()
            if size == 0 and name in files_to_analyze(listed.value)
        ]

        results = await self.bigpanda.fetch_files(pandaid, names_to_fetch)
        bundle = LogBundle(origin=f"pandaid {pandaid}")
        for name in names_to_fetch:
            result = results.get(name)
            if isinstance(result, AskPandaError) or result is None:
                file_notes.append(
                    FileNote(name=name, size=sizes.get(name), status="missing", note=str(result)[:300])
                )
                continue
            problem = _downloaded_problem(result.path)
            if problem:
                file_notes.append(
                    FileNote(name=name, size=sizes.get(name), status="unreadable", note=problem)
                )
                continue
            if result.stale:
                notes.append(
                    f"{name}: BigPanDA failed ({result.stale_reason}); a cached copy {result.age_seconds / 3600:.1f} h old was used."
                )
            bundle.files.append(
                LogFile(
                    Path(name).name if name.count("/") == 0 else name, result.path, result.path.stat().st_size
                )
            )
        return bundle, file_notes


def _downloaded_problem(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        return "empty file"
    if head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "BigPanDA returned an HTML page (a login page?) instead of the file"
    sniffed = sniff_file(path)
    if sniffed.kind in ("binary", "zeros"):
        return sniffed.reason
    return None


def _pick_file(bundle: LogBundle, filename: str | None, source: str) -> LogFile:
    if filename:
        found = bundle.find(filename)
        if found is None:
            names = ", ".join(log.name for log in bundle.files[:20])
            raise LogSourceError(f"No file named {filename!r} in {source!r}. Files there: {names}.")
        return found
    if len(bundle.files) == 1:
        return bundle.files[0]
    names = ", ".join(log.name for log in bundle.files[:20])
    raise InvalidInputError(f"{source!r} contains several files; pass filename, one of: {names}.")


def _stale_note(document: str, fetched: Fetched) -> str | None:
    if not fetched.stale_reason:
        return None
    return f"BigPanDA failed ({fetched.stale_reason}); the {document} is a cached copy {fetched.age_seconds / 3600:.1f} h old."

"""A loopback BigPanDA for tests that responds like the real monitor (PanDAWMS/panda-bigmon-core).

- ``GET /job?pandaid=N&json``: the job response with status 200; an unknown pandaid gets the monitor's HTML page
  with status 200, as the real monitor renders it even for JSON requests.
- ``GET /filebrowser/?pandaid=N&json``: ``{"error": "", "files": [...]}``; an unknown pandaid gets 400 with
  ``{"error": ...}``; a tarball over 500 MB gets the error text with the ``rucio get`` command.
- ``GET /filebrowser/?pandaid=N&json&filename=F``: a 301 redirect to the raw file under ``/media/``; a name not
  in the tarball gets 404 with ``{"error": "No such log file found in tarball"}``.

Usage::

    bigpanda = FakeBigPanda(fake_http)
    bigpanda.add_job({"job": {...}, "files": [], "dsfiles": []}, files={"pilotlog.txt": b"..."})
    settings = Settings(monitor_url=fake_http.url, ...)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakeserver import FakeHTTPServer, FakeResponse

JOB_PAGE_HTML = (
    b"<!DOCTYPE html><html><head><title>PanDA job</title></head><body><h1>Job not found</h1></body></html>"
)
TARBALL_LIMIT_BYTES = 500 * 1024 * 1024


@dataclass
class FakeJob:
    """One job of the fake monitor: its JSON response and the files of its log tarball."""

    response: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    tarball_size: int = 0


class FakeBigPanda:
    """Routes of a fake BigPanDA on a FakeHTTPServer; add jobs with add_job or add_case."""

    def __init__(self, server: FakeHTTPServer) -> None:
        self.server = server
        self.jobs: dict[int, FakeJob] = {}
        self.login_required = False
        server.route("/job", self._job)
        server.route("/job/", self._job)
        server.route("/filebrowser/", self._filebrowser)

    @property
    def url(self) -> str:
        return self.server.url

    def add_job(
        self, response: dict[str, Any], files: dict[str, bytes] | None = None, *, tarball_size: int = 0
    ) -> int:
        """Serve `response` (``{"job": {...}, "files": [...], "dsfiles": [...]}``) and log files; return the pandaid."""
        job = response.get("job") or {}
        pandaid = int(job.get("pandaid") or job.get("PandaID"))
        self.jobs[pandaid] = FakeJob(response, dict(files or {}), tarball_size)
        for name, body in (files or {}).items():
            self.server.route(
                self.media_path(pandaid, name), FakeResponse(200, body, {"Content-Type": "text/plain"})
            )
        return pandaid

    def add_case(self, folder: Path) -> int:
        """Serve a case folder: its job.json as the record and every other file (but expected.json) as a log."""
        response = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        files = {
            path.name: path.read_bytes()
            for path in sorted(folder.iterdir())
            if path.is_file() and path.name not in ("job.json", "expected.json")
        }
        return self.add_job(response, files)

    @staticmethod
    def media_path(pandaid: int, name: str) -> str:
        return f"/media/filebrowser/{pandaid}/tarball_PandaJob_{pandaid}/{name}"

    def _job(self, _path: str, query: dict[str, list[str]], _headers: dict[str, str]) -> FakeResponse:
        if self.login_required:
            return FakeResponse.html()
        job = self._lookup(query)
        if job is None:
            return FakeResponse.html(JOB_PAGE_HTML)
        return FakeResponse.json(job.response)

    def _filebrowser(self, _path: str, query: dict[str, list[str]], _headers: dict[str, str]) -> FakeResponse:
        if self.login_required:
            return FakeResponse.html()
        job = self._lookup(query)
        if job is None:
            return FakeResponse.json({"error": "Invalid or unknown PanDA job id"}, status=400)

        if job.tarball_size > TARBALL_LIMIT_BYTES:
            lfn = f"log.{job.response['job'].get('jeditaskid', 0)}._000001.job.log.tgz.1"
            return FakeResponse.json(
                {
                    "error": f"The log tarball is larger than 500 MB and is not unpacked. Download it with "
                    f"'rucio get mc23_13p6TeV:{lfn}'.",
                    "files": [],
                }
            )

        filename = (query.get("filename") or [None])[0]
        if filename is None:
            files = [
                {
                    "name": name,
                    "dirname": f"tarball_PandaJob_{self._pandaid(query)}",
                    "size": len(body),
                    "modification": "2026-01-01 00:00:00",
                    "media_link": self.media_path(self._pandaid(query), name),
                }
                for name, body in sorted(job.files.items())
            ]
            return FakeResponse.json({"error": "", "files": files})
        if filename not in job.files:
            return FakeResponse.json({"error": "No such log file found in tarball"}, status=404)
        return FakeResponse.redirect(self.media_path(self._pandaid(query), filename))

    def _pandaid(self, query: dict[str, list[str]]) -> int:
        return int((query.get("pandaid") or ["0"])[0])

    def _lookup(self, query: dict[str, list[str]]) -> FakeJob | None:
        raw = (query.get("pandaid") or [""])[0]
        return self.jobs.get(int(raw)) if raw.isdigit() else None

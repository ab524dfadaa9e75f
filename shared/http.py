"""Async HTTP client for BigPanDA and CRIC: timeouts, bounded retries, size caps and a host allow-list."""

from __future__ import annotations

import email.utils
import json
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import stamina

from shared import __version__
from shared.config import Settings
from shared.exceptions import (
    HostNotAllowedError,
    HtmlInsteadOfJsonError,
    InvalidUrlError,
    InvalidResponseError,
    NotFoundError,
    ResponseTooLargeError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

logger = logging.getLogger(__name__)

USER_AGENT = f"askpanda-mcp/{__version__} (+https://github.com/PanDAWMS)"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 60.0
CHUNK_SIZE = 64 * 1024


class _RetryableStatus(Exception):
    """Internal marker: the response status is worth another try, after `retry_after` seconds if given."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


_TRANSIENT_ERRORS = (httpx.TransportError, _RetryableStatus)


def _backoff_hook(exc: Exception) -> bool | float:
    # Returning a float makes stamina wait exactly that long: this is how Retry-After is honoured.
    if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
        return exc.retry_after
    return isinstance(exc, _TRANSIENT_ERRORS)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Return the wait in seconds from a Retry-After header (seconds or HTTP date), capped at 60 s."""
    if not value:
        return None

    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    wait = when.timestamp() - (time.time() if now is None else now)
    return min(max(wait, 0.0), MAX_RETRY_AFTER_SECONDS)


def describe_error(exc: BaseException | None) -> str:
    """Return "ClassName: message", or the class name alone when the message is empty (httpx timeouts)."""
    if exc is None:
        return "none"
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def redact_url(url: str) -> str:
    """Return the URL without user info, for logs and messages."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return parts.geturl()


def _looks_like_html(content_type: str, head: bytes) -> bool:
    if "html" in content_type.lower():
        return True
    start = head.lstrip()[:64].lower()
    return start.startswith(b"<!doctype html") or start.startswith(b"<html")


@dataclass(frozen=True)
class Download:
    """A response body streamed to a file."""

    path: Path
    size: int
    content_type: str
    url: str


class HttpClient:
    """GETs JSON and files from the hosts named in the settings.

    Every request has connect and read timeouts and one overall deadline. Connect errors, timeouts and
    the statuses 429, 502, 503 and 504 are retried with exponential backoff and jitter, honouring
    Retry-After. Bodies are streamed and cut off at the size cap. The bearer token goes only to the monitor
    host and never into a log line or an error message.
    """

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._allowed_hosts = settings.http_hosts()
        self._monitor_host = (urlsplit(settings.monitor_url).hostname or "").lower()
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        )
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def max_response_bytes(self) -> int:
        return self._settings.max_response_mb * 1024 * 1024

    def check_url(self, url: str) -> str:
        """Return the URL if its scheme is http(s) and its host is allowed; raise HostNotAllowedError if not."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError as exc:
            raise InvalidUrlError(f"Invalid URL {url[:120]!r}: {exc}.") from exc
        if parts.scheme not in ("http", "https") or not host:
            raise HostNotAllowedError(
                f"Invalid URL {redact_url(url)[:120]!r}: only http and https URLs with a host are fetched."
            )
        if host not in self._allowed_hosts:
            allowed = ", ".join(sorted(self._allowed_hosts)) or "none"
            raise HostNotAllowedError(
                f"Host {host[:120]!r} is not allowed (allowed hosts: {allowed}). "
                "Set ASKPANDA_MONITOR_URL, ASKPANDA_CRIC_URL or ASKPANDA_ALLOWED_HOSTS to add it."
            )
        return url

    def _headers(self, url: str, *, want_json: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if want_json:
            headers["Accept"] = "application/json"
        if (urlsplit(url).hostname or "").lower() == self._monitor_host:
            token = self._settings.bearer_token()
            if token:
                headers["Authorization"] = f"Bearer {token}"
                if self._settings.origin:
                    headers["Origin"] = self._settings.origin
        return headers

    async def get_json(
        self, url: str, *, params: Mapping[str, Any] | None = None, max_bytes: int | None = None
    ) -> Any:
        """GET a JSON document and return it decoded."""
        body, _ = await self._fetch_body(url, params=params, want_json=True, max_bytes=max_bytes)
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            logger.warning("Invalid JSON from %s: %s", redact_url(url), exc)
            raise InvalidResponseError(
                f"The response from {redact_url(url)} is not valid JSON ({exc.__class__.__name__} at "
                f"byte {getattr(exc, 'pos', '?')} of {len(body)}); the body may be truncated. Try again later.",
                url=url,
            ) from exc

    async def get_bytes(
        self, url: str, *, params: Mapping[str, Any] | None = None, max_bytes: int | None = None
    ) -> bytes:
        """GET a body into memory, for small documents only."""
        body, _ = await self._fetch_body(url, params=params, want_json=False, max_bytes=max_bytes)
        return body

    async def download(
        self,
        url: str,
        dest: Path,
        *,
        params: Mapping[str, Any] | None = None,
        max_bytes: int | None = None,
        follow_redirects: bool = True,
    ) -> Download:
        """Stream a body into `dest`, replacing it atomically only when the whole body arrived."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        limit = max_bytes or self.max_response_bytes

        async def attempt() -> Download:
            async with self._open(url, params=params, want_json=False, follow_redirects=follow_redirects) as response:
                handle, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
                size = 0
                try:
                    with os.fdopen(handle, "wb") as out:
                        async for chunk in response.aiter_raw(CHUNK_SIZE):
                            size += len(chunk)
                            if size > limit:
                                raise self._too_large(url, limit)
                            out.write(chunk)
                    os.replace(tmp_name, dest)
                except BaseException:
                    Path(tmp_name).unlink(missing_ok=True)
                    raise
                return Download(dest, size, response.headers.get("content-type", ""), str(response.url))

        return await self._with_retries(url, attempt)

    async def _fetch_body(
        self, url: str, *, params: Mapping[str, Any] | None, want_json: bool, max_bytes: int | None
    ) -> tuple[bytes, str]:
        limit = max_bytes or self.max_response_bytes

        async def attempt() -> tuple[bytes, str]:
            async with self._open(url, params=params, want_json=want_json, follow_redirects=True) as response:
                content_type = response.headers.get("content-type", "")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise self._too_large(url, limit)

                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes(CHUNK_SIZE):
                    size += len(chunk)
                    if size > limit:
                        raise self._too_large(url, limit)
                    chunks.append(chunk)
                body = b"".join(chunks)

                if want_json and _looks_like_html(content_type, body[:512]):
                    raise self._html_error(url)
                return body, content_type

        return await self._with_retries(url, attempt)

    def _too_large(self, url: str, limit: int) -> ResponseTooLargeError:
        logger.warning("Response from %s exceeds %d bytes", redact_url(url), limit)
        return ResponseTooLargeError(
            f"The response from {redact_url(url)} is larger than {limit // (1024 * 1024)} MB and was cut off. "
            "Raise ASKPANDA_MAX_RESPONSE_MB or fetch a smaller object.",
            url=url,
        )

    def _html_error(self, url: str) -> HtmlInsteadOfJsonError:
        logger.warning("HTML page instead of JSON from %s", redact_url(url))
        return HtmlInsteadOfJsonError(
            f"{redact_url(url)} returned an HTML page where JSON was expected. Either the object does not exist "
            "(BigPanDA shows an HTML page for an unknown id) or the service wants a login; these cannot be told "
            "apart. Check the id, and if it is right set ASKPANDA_TOKEN or ASKPANDA_TOKEN_FILE to an OIDC token.",
            url=url,
        )

    @asynccontextmanager
    async def _open(
        self, url: str, *, params: Mapping[str, Any] | None, want_json: bool, follow_redirects: bool
    ) -> AsyncIterator[httpx.Response]:
        """Send one GET and yield the response after the status checks; redirects are followed on allowed hosts only."""
        current = self.check_url(url)
        current_params = params
        for _ in range(5):
            try:
                request = self._client.build_request(
                    "GET", current, params=current_params, headers=self._headers(current, want_json=want_json)
                )
            except (httpx.InvalidURL, ValueError) as exc:
                logger.info("Invalid URL %.120s: %s", redact_url(current), exc)
                raise InvalidUrlError(
                    f"Cannot request {redact_url(current)[:120]!r}: {str(exc)[:200]}. Check the id or file name."
                ) from exc
            response = await self._client.send(request, stream=True)
            try:
                if response.is_redirect and follow_redirects:
                    location = response.headers.get("location", "")
                    current = self.check_url(str(response.url.join(location)))
                    current_params = None
                    continue
                self._raise_for_status(url, response)
                yield response
                return
            finally:
                await response.aclose()
        raise UpstreamError(f"Too many redirects from {redact_url(url)}.", url=url)

    def _raise_for_status(self, url: str, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return

        display_url = redact_url(url)
        if status in RETRY_STATUSES:
            raise _RetryableStatus(status, parse_retry_after(response.headers.get("retry-after")))
        if status == 404:
            raise NotFoundError(f"{display_url} returned HTTP 404 Not Found.", url=url, status=status)
        if status in (401, 403):
            raise UpstreamError(
                f"{display_url} returned HTTP {status}: access denied. Set ASKPANDA_TOKEN or ASKPANDA_TOKEN_FILE to a valid "
                "OIDC token (and ASKPANDA_ORIGIN to your VO).",
                url=url,
                status=status,
            )
        if status >= 500:
            raise UpstreamUnavailableError(
                f"{display_url} returned HTTP {status} (server error). The service may be down; try again later.",
                url=url,
                status=status,
            )
        raise UpstreamError(f"{display_url} returned HTTP {status}.", url=url, status=status)

    async def _with_retries(self, url: str, attempt: Any) -> Any:
        display_url = redact_url(url)
        deadline = self._settings.request_deadline
        last_error: Exception | None = None
        try:
            with anyio.fail_after(deadline):
                async for retry in stamina.retry_context(
                    on=_backoff_hook,
                    attempts=self._settings.max_retries + 1,
                    timeout=None,
                    wait_initial=0.5,
                    wait_max=30.0,
                    wait_jitter=1.0,
                ):
                    with retry:
                        if retry.num > 1:
                            logger.info("Retry %d for %s after %s", retry.num - 1, display_url, describe_error(last_error))
                        try:
                            return await attempt()
                        except _TRANSIENT_ERRORS as exc:
                            last_error = exc
                            raise
        except TimeoutError as exc:
            if last_error is None:
                # No try has failed yet: the first response was still arriving (a slow drip) at the deadline.
                last_error = TimeoutError("the response was still arriving")
            logger.warning(
                "Deadline of %.0f s reached for %s (last error: %s)", deadline, display_url, describe_error(last_error)
            )
            raise UpstreamTimeoutError(
                f"{display_url} did not respond within {deadline:.0f} s (last error: {describe_error(last_error)}). "
                "The service may be slow or down; try again later.",
                url=url,
            ) from exc
        except _RetryableStatus as exc:
            logger.warning("Giving up on %s after %d tries: HTTP %d", display_url, self._settings.max_retries + 1, exc.status)
            raise UpstreamUnavailableError(
                f"{display_url} returned HTTP {exc.status} on every one of {self._settings.max_retries + 1} tries. "
                "The service is overloaded or down; try again later.",
                url=url,
                status=exc.status,
            ) from exc
        except httpx.TimeoutException as exc:
            logger.warning("Timed out on %s after %d tries: %r", display_url, self._settings.max_retries + 1, exc)
            raise UpstreamTimeoutError(
                f"{display_url} timed out ({exc.__class__.__name__}) on every one of {self._settings.max_retries + 1} tries. "
                "Try again later.",
                url=url,
            ) from exc
        except httpx.TransportError as exc:
            logger.warning("Connection to %s failed after %d tries: %r", display_url, self._settings.max_retries + 1, exc)
            raise UpstreamUnavailableError(
                f"Could not get a complete response from {display_url} ({describe_error(exc)}) after "
                f"{self._settings.max_retries + 1} tries. Check the network or try again later.",
                url=url,
            ) from exc
        raise AssertionError("unreachable: stamina either returns or raises")

"""One exception hierarchy for everything the shared clients can fail with.

Servers turn these into ToolError messages, so every message names the value involved and what to do next.
"""

from __future__ import annotations


class AskPandaError(Exception):
    """Base class of the errors raised by the shared package."""


class HostNotAllowedError(AskPandaError):
    """A URL points at a host that is not named in the settings."""


class InvalidUrlError(AskPandaError):
    """A URL cannot be sent at all (a NUL byte, an over-long or malformed component)."""


class UpstreamError(AskPandaError):
    """A remote service (BigPanDA, CRIC) did not return a usable response."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class UpstreamTimeoutError(UpstreamError):
    """A request timed out after all retries."""


class UpstreamUnavailableError(UpstreamError):
    """A connection failed or the service returned a server error after all retries."""


class NotFoundError(UpstreamError):
    """The service reported that the requested object does not exist (HTTP 404)."""


class HtmlInsteadOfJsonError(UpstreamError):
    """An HTML page (often a login page, or BigPanDA's page for an unknown id) came where JSON was expected."""


class ResponseTooLargeError(UpstreamError):
    """The response body is larger than the configured cap."""


class InvalidResponseError(UpstreamError):
    """The body could not be decoded (truncated or invalid JSON)."""

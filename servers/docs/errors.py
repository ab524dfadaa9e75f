"""Errors of the docs server; every message names the value involved and the command that fixes it."""

from __future__ import annotations


class DocsError(Exception):
    """Base class of the docs server's errors."""


class SourceError(DocsError):
    """A source cannot be read at all (missing path, host not allowed, download failed, damaged archive)."""


class IndexMissingError(DocsError):
    """No docs index has been built yet."""


class IndexCorruptError(DocsError):
    """The docs index exists but cannot be read."""


class IndexLocationError(DocsError):
    """The docs index folder cannot be created or written (a file in its place, no permission)."""


class IndexBusyError(DocsError):
    """Another process is writing the docs index."""


class ChromaUnavailableError(DocsError):
    """The configured Chroma server cannot be reached."""


class EmbeddingUnavailableError(DocsError):
    """The embedding model or one of its packages cannot be loaded."""

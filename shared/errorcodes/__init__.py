"""PanDA error catalogue: codes of the pilot, transforms, worker-node scripts and server, offline.

Public API: get_catalogue() and its lookup(), search_errors(), triage_job_errors() and the models.
Nothing here imports MCP.
"""

from shared.errorcodes.catalogue import (
    Catalogue,
    CatalogueError,
    UnknownComponentError,
    get_catalogue,
    load_catalogue,
)
from shared.errorcodes.models import (
    CATEGORIES,
    COMPONENTS,
    JOB_FIELDS,
    RETRY_ADVICE,
    DecodedError,
    ErrorEntry,
    ErrorSummary,
    TriageResult,
)
from shared.errorcodes.search import SearchHit, SearchIndex, SearchResult, get_search_index, search_errors
from shared.errorcodes.triage import triage_job_errors

__all__ = [
    "CATEGORIES",
    "COMPONENTS",
    "JOB_FIELDS",
    "RETRY_ADVICE",
    "Catalogue",
    "CatalogueError",
    "DecodedError",
    "ErrorEntry",
    "ErrorSummary",
    "SearchHit",
    "SearchIndex",
    "SearchResult",
    "TriageResult",
    "UnknownComponentError",
    "get_catalogue",
    "get_search_index",
    "load_catalogue",
    "search_errors",
    "triage_job_errors",
]

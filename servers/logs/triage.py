"""Triage of a job record through the shared error catalogue, in the report's own models."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from servers.logs.models import DecodedError, RetryAdvice
from shared.errorcodes import CatalogueError, triage_job_errors
from shared.errorcodes import DecodedError as CatalogueDecodedError

logger = logging.getLogger(__name__)


@dataclass
class Triage:
    """The decisive error of a job (None when it did not fail), the other errors and the retry advice."""

    primary: DecodedError | None
    others: list[DecodedError] = field(default_factory=list)
    retry_advice: RetryAdvice = "unclear"
    retry_reason: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Problems reading the record, such as an error code that is not a number."""


def triage_record(job: dict[str, Any]) -> Triage:
    """Return the triage of a job record with lower-case keys; an unusable catalogue gives an empty triage."""
    try:
        result = triage_job_errors(job)
    except CatalogueError as exc:
        logger.error("Error catalogue unusable: %s", exc)
        return Triage(
            None,
            retry_reason="The error catalogue could not be read.",
            notes=[f"Error catalogue unusable: {exc}"],
        )

    return Triage(
        primary=_decoded(result.primary) if result.primary else None,
        others=[_decoded(error) for error in result.others],
        retry_advice=result.retry_advice,
        retry_reason=result.retry_reason,
        notes=list(result.notes),
        warnings=list(getattr(result, "warnings", None) or []),
    )


def _decoded(error: CatalogueDecodedError) -> DecodedError:
    return DecodedError(
        field=error.field,
        code=error.code,
        component=error.component,
        acronym=error.acronym,
        message=error.message,
        category=error.category,
        diag=error.diag or None,
        user_explanation=error.user_explanation,
        expert_explanation=error.expert_explanation,
    )

"""Pydantic models of the error catalogue: the data-file format, catalogue entries and triage results."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

Category = Literal[
    "File and Storage Issues",
    "Execution and Payload Failures",
    "Network and Communication Errors",
    "Job Termination and Kill Signals",
    "Software and Environment Issues",
    "Internal and Unknown Errors",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

RetryAdvice = Literal[
    "retry-elsewhere-likely-helps",
    "retry-will-fail-until-fixed",
    "not-a-failure",
    "unclear",
]
RETRY_ADVICE: tuple[str, ...] = get_args(RetryAdvice)

Component = Literal[
    "pilot",
    "pilot-exit",
    "transform",
    "wnscripts",
    "wnscripts-legacy",
    "taskbuffer",
    "dataservice",
    "jobdispatcher",
    "supervisor",
    "brokerage",
]
COMPONENTS: tuple[str, ...] = get_args(Component)

JobField = Literal[
    "pilotErrorCode",
    "exeErrorCode",
    "transExitCode",
    "ddmErrorCode",
    "taskBufferErrorCode",
    "jobDispatcherErrorCode",
    "supErrorCode",
    "brokerageErrorCode",
]
JOB_FIELDS: tuple[str, ...] = get_args(JobField)


def _compact_schema(schema: dict[str, Any]) -> None:
    """Shorten a model's JSON schema for MCP tool listings without changing what it accepts.

    Titles derived from field names and defaults (meaningless in an output schema) are dropped, and
    `anyOf: [{type: T}, {type: null}]` becomes `type: [T, "null"]`.
    """
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        prop.pop("default", None)
        options = prop.get("anyOf")
        if (
            isinstance(options, list)
            and len(options) == 2
            and options[1] == {"type": "null"}
            and set(options[0]) == {"type"}
            and isinstance(options[0]["type"], str)
        ):
            del prop["anyOf"]
            prop["type"] = [options[0]["type"], "null"]


class CompactModel(BaseModel):
    """A model with a shortened JSON schema, to keep MCP tool listings small."""

    model_config = ConfigDict(json_schema_extra=_compact_schema)


class RawEntry(BaseModel):
    """One entry as stored in a data file; the loader turns it into an ErrorEntry."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: int
    acronym: str = ""
    message: str = ""
    category: Category
    user_explanation: str = Field(min_length=1)
    expert_explanation: str = Field(min_length=1)
    likely_causes: list[str] = Field(min_length=1)
    suggested_actions: list[str] = Field(min_length=1)
    retry_advice: RetryAdvice
    retry_reason: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    historical: bool = False
    note: str | None = None
    component: Component | None = Field(
        None, description="Set per entry only in the file of removed server codes."
    )
    job_field: JobField | None = None
    pilot_error_code: int | None = Field(
        None, description="pilot-exit only: the pilot error code behind the status."
    )
    signal: str | None = Field(None, description="transform only: the signal name of a 128+n code.")
    script: str | None = Field(
        None, description="wnscripts-legacy and runcontainer rows: the script that uses it."
    )
    used_by: list[str] = Field(
        default_factory=list, description="wnscripts base codes: scripts that set the code."
    )

    @field_validator("acronym", "message", mode="before")
    @classmethod
    def _none_as_empty(cls, value: object) -> object:
        # The data files write null where the source defines no acronym or message.
        return "" if value is None else value


class DataFile(BaseModel):
    """One `data/<component>.json` file: a component, its job field and its entries."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    component: str = Field(min_length=1)
    job_field: JobField | None = None
    scripts: dict[str, int] | None = Field(
        None,
        description="wnscripts only: script name to code offset (the code is 5000 + offset + base code).",
    )
    entries: list[RawEntry] = Field(min_length=1)


class ErrorEntry(CompactModel):
    """One error code of one component, with its explanations and retry advice."""

    model_config = ConfigDict(frozen=True)

    component: Component
    code: int
    acronym: str
    message: str = Field(description="The official message; empty where the source defines none.")
    job_field: JobField | None = Field(description="The BigPanDA job field that carries this code, if any.")
    category: Category
    user_explanation: str
    expert_explanation: str
    likely_causes: list[str]
    suggested_actions: list[str]
    retry_advice: RetryAdvice
    retry_reason: str
    # Search aids: left out of results and of the output schema.
    keywords: SkipJsonSchema[list[str]] = Field(default_factory=list, exclude=True)
    historical: bool = Field(False, description="True for codes removed from the current sources.")
    note: str | None = None
    pilot_error_code: int | None = Field(
        None, description="pilot-exit: the pilot error code behind this status."
    )
    signal: str | None = Field(None, description="transform: the signal of a 128+n code.")
    script: str | None = Field(None, description="wnscripts and wnscripts-legacy: the worker-node script.")
    base_code: int | None = Field(
        None, description="wnscripts: the base code (also the script's exit status)."
    )
    set_by_script: bool | None = Field(
        None, description="wnscripts: whether the current script sets this code."
    )

    @property
    def key(self) -> str:
        """The `component:code` form used in resources and evaluation files, e.g. `pilot:1099`."""
        return f"{self.component}:{self.code}"

    @property
    def identity(self) -> tuple[str, int, str, str, str]:
        """The tuple that is unique across the catalogue, since some codes have several variants."""
        return (self.component, self.code, self.script or "", self.acronym, self.message)


class ErrorSummary(CompactModel):
    """A one-line view of an entry, used in lists and search hits."""

    component: Component
    code: int
    acronym: str
    message: str
    category: Category
    retry_advice: RetryAdvice
    script: str | None = None
    historical: bool = False

    @classmethod
    def of(cls, entry: ErrorEntry) -> ErrorSummary:
        """Return the summary of `entry`."""
        return cls(
            component=entry.component,
            code=entry.code,
            acronym=entry.acronym,
            message=entry.message,
            category=entry.category,
            retry_advice=entry.retry_advice,
            script=entry.script,
            historical=entry.historical,
        )


class DecodedError(CompactModel):
    """One non-zero error field of a job, resolved against the catalogue."""

    field: str = Field(description="The BigPanDA job field, lower-case, e.g. piloterrorcode.")
    code: int
    component: Component | None = Field(
        description="The code table the code was resolved in; None if unknown."
    )
    acronym: str | None = None
    message: str | None = None
    category: Category | None = None
    diag: str = Field("", description="The matching diag field of the job, as recorded.")
    retry_advice: RetryAdvice
    retry_reason: str
    user_explanation: str | None = None
    expert_explanation: str | None = None
    rank_reason: str = Field(description="Why this error ranks where it does.")


class TriageResult(CompactModel):
    """The errors of one job, the decisive one first, with the retry advice for the job."""

    primary: DecodedError | None = Field(
        None, description="The error that decided the outcome; None if the job did not fail."
    )
    others: list[DecodedError] = Field(
        default_factory=list, description="The other errors, most relevant first."
    )
    retry_advice: RetryAdvice
    retry_reason: str
    jobstatus: str | None = None
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list, description="Input values that could not be read, e.g. a non-numeric code."
    )

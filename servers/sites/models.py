"""Results of the sites tools and terminal commands, each with the source and age of its CRIC data.

Every tool's output schema is sent in tools/list, and desktop clients cut long lists. So optional values
publish `{"type": ["string", "null"]}` in place of pydantic's anyOf, and the `data` block of every result
publishes one described object instead of six typed properties. The results themselves are still
validated against these models.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from servers.sites.cric import Provenance

OptionalText = Annotated[str | None, WithJsonSchema({"type": ["string", "null"]})]
OptionalNumber = Annotated[int | float | None, WithJsonSchema({"type": ["number", "null"]})]
Units = Annotated[dict[str, str], Field(description="Unit of each numeric field shown.")]
Notes = Annotated[list[str], Field(description="Facts that change how to read the result.")]
NextCursor = Annotated[OptionalText, Field(description="Pass as cursor for the next page; null on the last.")]


class DataSource(BaseModel):
    """The CRIC data behind a result."""

    source: str
    fetched_at: str
    age_seconds: int
    stale: bool
    stale_reason: str | None = None
    queue_count: int

    @classmethod
    def of(cls, provenance: Provenance, queue_count: int) -> DataSource:
        return cls(
            source=provenance.source,
            fetched_at=provenance.fetched_at_iso,
            age_seconds=provenance.age_seconds,
            stale=provenance.stale,
            stale_reason=provenance.stale_reason,
            queue_count=queue_count,
        )


Data = Annotated[
    DataSource,
    WithJsonSchema(
        {
            "type": "object",
            "description": "CRIC data used: source, fetched_at (UTC), age_seconds, queue_count, stale (true "
            "when CRIC is down or a refresh runs) and stale_reason.",
        }
    ),
]


class QueueRow(BaseModel):
    """A queue name with the requested fields by name or dotted path."""

    model_config = ConfigDict(extra="allow")

    queue: str


class QueueList(BaseModel):
    """A page of the queues that pass the filters."""

    total: int = Field(description="Queues on all pages.")
    returned: int
    queues: list[QueueRow]
    next_cursor: NextCursor
    filters: list[str] = Field(description="The conditions applied, as read.")
    notes: Notes = Field(default_factory=list)
    units: Units
    data: Data


class QueueDetail(BaseModel):
    """Fields of one PanDA queue."""

    queue: str
    site: OptionalText
    values: dict[str, Any]
    units: Units
    note: OptionalText = None
    data: Data


class SiteQueue(BaseModel):
    """One queue of a site, with its transfer settings."""

    queue: str
    status: OptionalText
    type: OptionalText
    resource_type: OptionalText
    copytools: list[str]
    acopytools: dict[str, list[str]] = Field(
        description="Activity -> copytools; activities with one list are joined: 'pr,read_lan'."
    )
    astorages: dict[str, list[str]] = Field(description="Activity -> RSEs, joined the same way.")
    astorages_left_out: dict[str, int] = Field(
        default_factory=dict, description="RSEs cut from a long list; get_queue lists all."
    )
    values: dict[str, Any] = Field(default_factory=dict, description="Requested fields.")


class SiteDetail(BaseModel):
    """A PanDA site and its queues."""

    site: str
    queue_count: int
    cloud: list[str]
    tier: list[str]
    atlas_site: list[str]
    country: list[str]
    queues: list[SiteQueue]
    activities: dict[str, str] = Field(description="Meaning of each transfer activity shown.")
    units: Units
    notes: Notes
    data: Data


class QueueComparison(BaseModel):
    """Field values of several queues side by side."""

    queues: list[str]
    values: dict[str, dict[str, Any]] = Field(description="Field -> queue -> value.")
    identical: list[str] = Field(description="Compared fields equal on every queue.")
    units: Units
    data: Data


class GroupStats(BaseModel):
    """Numeric summary of the stats field over a group; count is the queues with a number."""

    count: int
    min: OptionalNumber
    max: OptionalNumber
    mean: OptionalNumber
    sum: OptionalNumber


class QueueSummary(BaseModel):
    """Queue counts per value of one field."""

    group_by: str
    total_queues: int = Field(description="Queues that pass the filters.")
    group_count: int = Field(description="Groups on all pages.")
    counts: dict[str, int] = Field(description="Value -> queues, largest first.")
    stats_field: OptionalText = None
    stats: dict[str, GroupStats] | None = None
    next_cursor: NextCursor
    filters: list[str]
    notes: Notes = Field(default_factory=list)
    units: Units
    data: Data


class ValueCount(BaseModel):
    value: Any
    queues: int


class FieldBrief(BaseModel):
    name: str
    unit: OptionalText
    summary: str


class FieldDetail(BaseModel):
    """A field's meaning and what the loaded data holds for it."""

    name: str
    description: str
    unit: OptionalText
    derived: bool = Field(description="Computed by askpanda-sites, not in CRIC.")
    types: dict[str, int] = Field(description="JSON type -> queues.")
    distinct_values: int
    top_values: list[ValueCount]
    min: OptionalNumber = None
    max: OptionalNumber = None
    subfields: list[str] = Field(default_factory=list, description="Keys one level below.")
    activities: dict[str, str] | None = None


class FieldReport(BaseModel):
    """One field in detail, or every field."""

    detail: FieldDetail | None = None
    fields: list[FieldBrief] = Field(default_factory=list)
    data: Data

"""Results of the sites tools and terminal commands, each with the source and age of its CRIC data."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from servers.sites.cric import Provenance


class DataSource(BaseModel):
    """The CRIC data behind a result: URL or file, fetch time (UTC), age, and whether it is stale and why."""

    source: str
    fetched_at: str
    age_seconds: int
    stale: bool = Field(
        description="True when older than the refresh interval: CRIC is down or a refresh runs."
    )
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


class QueueRow(BaseModel):
    """One queue: its name and the requested fields, keyed by field name or dotted path."""

    model_config = ConfigDict(extra="allow")

    queue: str


class QueueList(BaseModel):
    """A page of the queues that pass the filters."""

    total: int = Field(description="Queues that pass every filter (all pages).")
    returned: int
    queues: list[QueueRow]
    next_cursor: str | None = Field(description="Pass as cursor to get the next page; null on the last page.")
    filters: list[str] = Field(description="The conditions applied, as read.")
    units: dict[str, str] = Field(description="Unit of each numeric field shown.")
    data: DataSource


class QueueDetail(BaseModel):
    """Fields of one PanDA queue."""

    queue: str
    site: str | None
    values: dict[str, Any] = Field(description="Field name or dotted path -> value.")
    units: dict[str, str]
    note: str | None = None
    data: DataSource


class SiteQueue(BaseModel):
    """One queue of a site, with its transfer settings."""

    queue: str
    status: str | None
    type: str | None
    resource_type: str | None
    copytools: list[str] = Field(description="Copytool names from the copytools field.")
    acopytools: dict[str, list[str]] = Field(
        description="Copytools per transfer activity; activities with the same list are joined by commas."
    )
    astorages: dict[str, list[str]] = Field(
        description="Storage endpoints (RSEs) per transfer activity, joined like acopytools; long lists are cut."
    )
    astorages_left_out: dict[str, int] = Field(
        default_factory=dict,
        description="RSEs cut from a long list; get_queue with fields=['astorages'] lists all.",
    )
    values: dict[str, Any] = Field(default_factory=dict, description="Extra requested fields.")


class SiteDetail(BaseModel):
    """A PanDA site and its queues."""

    site: str
    queue_count: int
    cloud: list[str]
    tier: list[str]
    atlas_site: list[str]
    country: list[str]
    queues: list[SiteQueue]
    activities: dict[str, str] = Field(description="Meaning of each transfer activity that appears.")
    units: dict[str, str]
    notes: list[str]
    data: DataSource


class QueueComparison(BaseModel):
    """Field values of several queues side by side."""

    queues: list[str]
    values: dict[str, dict[str, Any]] = Field(
        description="Field -> queue -> value; without `fields`, differing fields only."
    )
    identical: list[str] = Field(description="Compared fields that have the same value on every queue.")
    units: dict[str, str]
    data: DataSource


class GroupStats(BaseModel):
    """Numeric summary of one field over the queues of a group."""

    count: int = Field(description="Queues of the group with a numeric value.")
    min: int | float | None
    max: int | float | None
    mean: int | float | None
    sum: int | float | None


class QueueSummary(BaseModel):
    """Queue counts per value of one field."""

    group_by: str
    total_queues: int = Field(description="Queues that pass the filters.")
    group_count: int = Field(description="Distinct values (all pages).")
    counts: dict[str, int] = Field(description="Value -> number of queues, largest first.")
    stats_field: str | None = None
    stats: dict[str, GroupStats] | None = Field(default=None, description="Value -> stats of stats_field.")
    next_cursor: str | None
    filters: list[str]
    units: dict[str, str]
    note: str | None = None
    data: DataSource


class ValueCount(BaseModel):
    value: Any
    queues: int


class FieldBrief(BaseModel):
    name: str
    unit: str | None
    summary: str


class FieldDetail(BaseModel):
    """A field's meaning and what the loaded data holds for it."""

    name: str
    description: str
    unit: str | None
    derived: bool = Field(description="True when askpanda-sites computes the field; it is not in CRIC.")
    types: dict[str, int] = Field(description="JSON type -> number of queues ('missing' when absent).")
    distinct_values: int
    top_values: list[ValueCount] = Field(
        description="Most common values (list elements and object keys singly)."
    )
    min: int | float | None = None
    max: int | float | None = None
    subfields: list[str] = Field(default_factory=list, description="Keys one level below, for dotted paths.")
    activities: dict[str, str] | None = Field(
        default=None, description="Meaning of each transfer activity key."
    )


class FieldReport(BaseModel):
    """Either one field in detail or the list of every field."""

    detail: FieldDetail | None = None
    fields: list[FieldBrief] = Field(default_factory=list)
    data: DataSource

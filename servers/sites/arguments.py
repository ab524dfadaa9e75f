"""Tool arguments of askpanda-sites: their published schemas, and the checks that run before a query.

Schemas are kept short, because every tool's input schema goes into tools/list and desktop clients cut
long lists. An optional argument publishes only its type (no `null` branch and no `default`), and the
filters of summarize_queues carry no descriptions, since its tool description points to find_queues.

Ranges and lengths are checked in the tools rather than by pydantic, so a bad value gets a message that
names the value and the valid range instead of pydantic's validation text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from servers.sites.errors import QueryError, argument, cut, echo
from servers.sites.filters import QueueFilters

MAX_NAME_CHARS = 200
"""Maximum length of a queue, site, field or sort name; CRIC queue names seen so far have under 40."""
MAX_VALUE_CHARS = 1000
"""Maximum length of one filter value: the text, or the repr of a list or number."""
MAX_LISTED = 100
"""Maximum number of names in `fields` or of values in one filter list."""


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def described(description: str | None = None) -> Any:
    """Return the Field of an optional argument: its description, and no `default` in its schema."""
    return Field(description=description, json_schema_extra=_drop_default)


AS_TEXT = WithJsonSchema({"type": "string"})
AS_OBJECT = WithJsonSchema({"type": "object"})
AS_TEXT_LIST = WithJsonSchema({"type": "array", "items": {"type": "string"}})

NamedFilter = str | list[Any] | None
"""A named filter takes a string ("a,b" for any of) and, beyond its published schema, a list."""

Fields = Annotated[
    list[str] | None, AS_TEXT_LIST, described("Fields or dotted paths, e.g. ['maxrss','acopytools.pw'].")
]
Cursor = Annotated[str | None, AS_TEXT, described("next_cursor of the previous call.")]

Site = Annotated[NamedFilter, AS_TEXT, described("PanDA site, e.g. BNL (not atlas_site).")]
Cloud = Annotated[NamedFilter, AS_TEXT, described("e.g. DE, US, CERN.")]
Tier = Annotated[NamedFilter, AS_TEXT, described("T0, T1, T2, T2D or T3.")]
Status = Annotated[NamedFilter, AS_TEXT, described("online, test, brokeroff or offline.")]
State = Annotated[NamedFilter, AS_TEXT, described("CRIC record state, e.g. ACTIVE.")]
ResourceType = Annotated[NamedFilter, AS_TEXT, described("GRID, hpc, cloud, gpu, ...")]
QueueType = Annotated[NamedFilter, AS_TEXT, described("production, analysis or unified.")]
Copytool = Annotated[
    NamedFilter, AS_TEXT, described("rucio, mv, xrdcp, ...; with activity, what the pilot uses for it.")
]
Activity = Annotated[
    str | None, AS_TEXT, described("read_lan/pr stage-in, write_lan/pw stage-out, pl log, es_events, ...")
]
Storage = Annotated[NamedFilter, AS_TEXT, described("RSE in astorages, for activity if given.")]
ContainerType = Annotated[NamedFilter, AS_TEXT, described("e.g. singularity:pilot; '~apptainer' contains.")]
Where = Annotated[
    dict[str, Any] | None,
    AS_OBJECT,
    described("Any field or dotted path: {'maxrss': '>64000', 'queues.ce_flavour': 'ARC-CE'}."),
]
Minimum = Annotated[dict[str, Any] | None, AS_OBJECT, described("Inclusive bounds: {'corecount': 8}.")]
Maximum = Annotated[dict[str, Any] | None, AS_OBJECT, described("Inclusive bounds: {'maxtime_hours': 48}.")]

BareFilter = Annotated[NamedFilter, AS_TEXT, described()]
BareActivity = Annotated[str | None, AS_TEXT, described()]
BareObject = Annotated[dict[str, Any] | None, AS_OBJECT, described()]


def check_name(value: str | None, what: str) -> None:
    """Raise QueryError when a queue, site or field name is longer than any real one."""
    if value is not None and len(value) > MAX_NAME_CHARS:
        raise QueryError(
            f"The {what} {echo(value)} is too long; names have at most {MAX_NAME_CHARS} characters."
        )


def check_names(values: Iterable[str] | None, what: str, source: str) -> None:
    """Raise QueryError for a list that is too long or contains a name longer than MAX_NAME_CHARS."""
    if values is None:
        return
    values = list(values)
    if len(values) > MAX_LISTED:
        raise QueryError(f"{argument(source)} takes at most {MAX_LISTED} names; got {len(values)}.")
    for value in values:
        check_name(value, what)


def check_filters(filters: QueueFilters) -> None:
    """Raise QueryError when a named filter, or an entry of where, min or max, is too large to be real."""
    for source in QueueFilters.model_fields:
        value = getattr(filters, source)
        if value is None:
            continue
        if isinstance(value, dict):
            for path, item in value.items():
                check_name(path, "field path")
                _check_size(f"{argument(source)} value for {cut(path)}", item)
        else:
            _check_size(f"{argument(source)} value", value)


def _check_size(what: str, value: Any) -> None:
    if isinstance(value, list) and len(value) > MAX_LISTED:
        raise QueryError(f"The {what} lists {len(value)} values; at most {MAX_LISTED} are accepted.")
    size = len(value) if isinstance(value, str) else len(repr(value))
    if size > MAX_VALUE_CHARS:
        raise QueryError(
            f"The {what}, {echo(value)}, is too long; filter values have at most {MAX_VALUE_CHARS} "
            "characters."
        )

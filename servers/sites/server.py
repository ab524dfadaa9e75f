"""MCP wiring of askpanda-sites: six read-only tools over CRIC PanDA queue data."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, WithJsonSchema

from servers.common.base import AskPandaServer
from servers.common.tooling import READ_ONLY_OPEN_WORLD
from servers.sites import queues, summary
from servers.sites.arguments import (
    AS_TEXT,
    Activity,
    BareActivity,
    BareFilter,
    BareObject,
    Cloud,
    ContainerType,
    Copytool,
    Cursor,
    Fields,
    Maximum,
    Minimum,
    QueueType,
    ResourceType,
    Site,
    State,
    Status,
    Storage,
    Tier,
    Where,
    check_filters,
    check_name,
    check_names,
    described,
)
from servers.sites.cric import CricData, CricLoader, CricUnavailableError
from servers.sites.errors import QueryError, echo
from servers.sites.filters import QueueFilters
from servers.sites.models import (
    FieldReport,
    QueueComparison,
    QueueDetail,
    QueueList,
    QueueSummary,
    SiteDetail,
)
from servers.sites.paging import MAX_LIMIT, check_limit
from shared import __version__
from shared.config import Settings, get_settings

logger = logging.getLogger(__name__)

NAME = "askpanda-sites"
INSTRUCTIONS = (
    "Exact answers from CRIC PanDA queue data. One queue: get_queue. Queues with a property: find_queues; "
    "counts per value: summarize_queues. A site's queues and copytools: get_site. Queues side by side: "
    "compare_queues. A field's meaning and values: describe_queue_field. Why a queue is brokeroff or test: "
    "often its comment and state_comment fields. Units: maxrss, maxwdir MB; maxtime s (maxtime_hours h); "
    "corepower HS06 per core. status is online, test, brokeroff or offline; 'site' is the PanDA site. "
    "copytool with activity follows the pilot: a queue with an empty acopytools uses its copytools for every "
    "activity. Page with next_cursor until it is null."
)

FIND_DESCRIPTION = (
    "List PanDA queues passing every filter, with the filtered fields and `fields`. Text ignores case. "
    "Values may start with >, >=, <, <=, != or ~ (contains); a list or 'a,b' means any of, but operator "
    "strings in a list all apply: ['>64000','<100000']. min/max are inclusive. limit=0: total only."
)
SUMMARIZE_DESCRIPTION = (
    "Count PanDA queues per value of group_by (e.g. cloud, status) after the filters of find_queues, which "
    "work the same here; stats adds min/max/mean/sum of a numeric field per group."
)

Result = TypeVar("Result")

QueueName = Annotated[str, Field(description="PanDA queue name (any case), e.g. BNL or AGLT2_MCORE.")]
Sort = Annotated[str | None, AS_TEXT, described("Field to sort by; '-corepower' for descending.")]
QueueLimit = Annotated[
    int,
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_LIMIT}),
    Field(description="Queues per page."),
]
GroupLimit = Annotated[
    int,
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
    Field(description="Groups per page."),
]


def build_server(settings: Settings | None = None) -> AskPandaServer:
    """Return a new server with every tool registered; tests build one per test."""
    server = AskPandaServer(NAME, version=__version__, instructions=INSTRUCTIONS)
    loader: CricLoader | None = None

    async def run(context: str, query: Callable[[CricData], Result]) -> Result:
        """Load the CRIC data and run `query` on it."""
        nonlocal loader
        with tool_errors(context):
            if loader is None:
                loader = CricLoader(settings or get_settings())
            data = await loader.load()
            return query(data)

    @server.tool(annotations=READ_ONLY_OPEN_WORLD)
    async def get_queue(name: QueueName, fields: Fields = None) -> QueueDetail:
        """Return one PanDA queue's CRIC record: every field, or only `fields`."""
        context = f"get_queue {echo(name)}"
        with tool_errors(context):
            check_name(name, "queue name")
            check_names(fields, "field", "fields")
        return await run(context, lambda data: queues.get_queue(data, name, fields=fields))

    @server.tool(annotations=READ_ONLY_OPEN_WORLD, description=FIND_DESCRIPTION)
    async def find_queues(
        site: Site = None,
        cloud: Cloud = None,
        tier: Tier = None,
        status: Status = None,
        state: State = None,
        resource_type: ResourceType = None,
        type: QueueType = None,
        copytool: Copytool = None,
        activity: Activity = None,
        storage: Storage = None,
        container_type: ContainerType = None,
        where: Where = None,
        min: Minimum = None,
        max: Maximum = None,
        fields: Fields = None,
        sort: Sort = None,
        limit: QueueLimit = 50,
        cursor: Cursor = None,
    ) -> QueueList:
        """List PanDA queues that pass every filter (the tool description is FIND_DESCRIPTION)."""
        filters = QueueFilters(
            site=site,
            cloud=cloud,
            tier=tier,
            status=status,
            state=state,
            resource_type=resource_type,
            type=type,
            copytool=copytool,
            activity=activity,
            storage=storage,
            container_type=container_type,
            where=where,
            min=min,
            max=max,
        )
        with tool_errors("find_queues"):
            check_filters(filters)
            check_names(fields, "field", "fields")
            check_name(sort, "sort field")
            check_limit(limit, minimum=0, unit="queues")
        return await run(
            "find_queues",
            lambda data: queues.find_queues(
                data, filters, fields=fields, sort=sort, limit=limit, cursor=cursor
            ),
        )

    @server.tool(annotations=READ_ONLY_OPEN_WORLD, description=SUMMARIZE_DESCRIPTION)
    async def summarize_queues(
        group_by: Annotated[str, Field(description="Field or dotted path to count by.")],
        site: BareFilter = None,
        cloud: BareFilter = None,
        tier: BareFilter = None,
        status: BareFilter = None,
        state: BareFilter = None,
        resource_type: BareFilter = None,
        type: BareFilter = None,
        copytool: BareFilter = None,
        activity: BareActivity = None,
        storage: BareFilter = None,
        container_type: BareFilter = None,
        where: BareObject = None,
        min: BareObject = None,
        max: BareObject = None,
        stats: Annotated[str | None, AS_TEXT, described("Numeric field to summarize per group.")] = None,
        limit: GroupLimit = 100,
        cursor: Cursor = None,
    ) -> QueueSummary:
        """Count PanDA queues per value of `group_by` (the tool description is SUMMARIZE_DESCRIPTION)."""
        filters = QueueFilters(
            site=site,
            cloud=cloud,
            tier=tier,
            status=status,
            state=state,
            resource_type=resource_type,
            type=type,
            copytool=copytool,
            activity=activity,
            storage=storage,
            container_type=container_type,
            where=where,
            min=min,
            max=max,
        )
        context = f"summarize_queues by {echo(group_by)}"
        with tool_errors(context):
            check_filters(filters)
            check_name(group_by, "group_by field")
            check_name(stats, "stats field")
            check_limit(limit, minimum=1, unit="groups")
        return await run(
            context,
            lambda data: summary.summarize_queues(
                data, group_by, filters, stats=stats, limit=limit, cursor=cursor
            ),
        )

    @server.tool(annotations=READ_ONLY_OPEN_WORLD)
    async def get_site(
        site: Annotated[
            str, Field(description="PanDA site, e.g. BNL; a queue or ATLAS site name also works.")
        ],
        fields: Fields = None,
    ) -> SiteDetail:
        """List a PanDA site's queues with status, copytools and storages (RSEs) per transfer activity."""
        context = f"get_site {echo(site)}"
        with tool_errors(context):
            check_name(site, "site name")
            check_names(fields, "field", "fields")
        return await run(context, lambda data: queues.get_site(data, site, fields=fields))

    @server.tool(annotations=READ_ONLY_OPEN_WORLD)
    async def compare_queues(
        names: Annotated[list[str], Field(description="2 to 10 PanDA queue names.")],
        fields: Fields = None,
    ) -> QueueComparison:
        """Compare PanDA queues side by side; without `fields`, only the fields that differ."""
        with tool_errors("compare_queues"):
            check_names(names, "queue name", "names")
            check_names(fields, "field", "fields")
        return await run("compare_queues", lambda data: queues.compare_queues(data, names, fields=fields))

    @server.tool(annotations=READ_ONLY_OPEN_WORLD)
    async def describe_queue_field(
        field: Annotated[
            str | None, AS_TEXT, described("Field or dotted path; omit to list every field.")
        ] = None,
    ) -> FieldReport:
        """Explain a CRIC queue field: its meaning, unit and most common values."""
        context = f"describe_queue_field {echo(field)}"
        with tool_errors(context):
            check_name(field, "field name")
        return await run(context, lambda data: summary.describe_field(data, field))

    return server


@contextlib.contextmanager
def tool_errors(context: str) -> Iterator[None]:
    """Turn the QueryError or CricUnavailableError raised inside the block into a ToolError."""
    # Why ToolError: only its text reaches the model, and these messages name the value and the next call.
    try:
        yield
    except (QueryError, CricUnavailableError) as exc:
        logger.info("%s: %s", context, exc)
        raise ToolError(str(exc)) from exc

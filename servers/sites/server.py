"""MCP wiring of askpanda-sites: six read-only tools over CRIC PanDA queue data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from servers.common.tooling import READ_ONLY_OPEN_WORLD
from servers.sites import queues, summary
from servers.sites.cric import CricData, CricLoader, CricUnavailableError
from servers.sites.errors import QueryError
from servers.sites.filters import QueueFilters
from servers.sites.models import (
    FieldReport,
    QueueComparison,
    QueueDetail,
    QueueList,
    QueueSummary,
    SiteDetail,
)
from servers.sites.paging import MAX_LIMIT
from shared import __version__
from shared.config import Settings, get_settings

logger = logging.getLogger(__name__)

NAME = "askpanda-sites"
INSTRUCTIONS = (
    "Exact answers from CRIC PanDA queue data. One queue: get_queue. Queues with a property: find_queues. "
    "Counts per cloud/site/status: summarize_queues. A site's queues and copytools: get_site. "
    "Units: maxrss, maxwdir MB; maxtime s (maxtime_hours h); corepower HS06 per core. status is online, "
    "test, brokeroff or offline; 'site' is the PanDA site. Page with next_cursor until it is null."
)

FIND_DESCRIPTION = (
    "List PanDA queues that pass every filter, each with its name, the filtered fields and `fields`. "
    "Filters ignore case; 'a,b' means any of. For 'above N' use where {'field': '>N'}, because min and max "
    "include N. limit=0 returns only the total."
)

Result = TypeVar("Result")

Fields = Annotated[
    list[str] | None,
    Field(
        description="Fields or dotted paths to return, e.g. ['maxrss','acopytools.pw','queues.ce_flavour']."
    ),
]
Site = Annotated[str | None, Field(description="PanDA site, e.g. BNL (not atlas_site).")]
Cloud = Annotated[str | None, Field(description="Cloud code, e.g. DE, US, CERN.")]
Tier = Annotated[str | None, Field(description="T0, T1, T2, T2D or T3.")]
Status = Annotated[str | None, Field(description="online, test, brokeroff or offline; '!=online' negates.")]
State = Annotated[str | None, Field(description="CRIC record state, e.g. ACTIVE.")]
ResourceType = Annotated[str | None, Field(description="GRID, hpc, cloud, gpu, ...")]
QueueType = Annotated[str | None, Field(description="production, analysis or unified.")]
Copytool = Annotated[
    str | None, Field(description="Copytool, e.g. rucio, mv, xrdcp; per activity when activity is set.")
]
Activity = Annotated[
    str | None,
    Field(
        description="Transfer activity: pr/read_lan stage-in, pw/write_lan stage-out, pl log, es_events, ..."
    ),
]
Storage = Annotated[str | None, Field(description="RSE in astorages (for activity when set).")]
ContainerType = Annotated[
    str | None, Field(description="Exact container_type, e.g. singularity:pilot; '~apptainer' contains.")
]
Where = Annotated[
    dict[str, Any] | None,
    Field(
        description="Other fields: {field or dotted.path: value}; a list means any of; strings may start "
        "with >, >=, <, <=, !=, ~ (contains). E.g. {'maxrss': '>64000', 'queues.ce_flavour': 'ARC-CE'}."
    ),
]
Minimum = Annotated[
    dict[str, float] | None, Field(description="Inclusive lower bounds, e.g. {'corecount': 8}.")
]
Maximum = Annotated[
    dict[str, float] | None, Field(description="Inclusive upper bounds, e.g. {'maxtime_hours': 48}.")
]
Cursor = Annotated[str | None, Field(description="next_cursor of the previous call, to get the next page.")]


def build_server(settings: Settings | None = None) -> MCPServer:
    """Return a new server with every tool registered; tests build one per test."""
    server = MCPServer(NAME, version=__version__, instructions=INSTRUCTIONS)
    loader: CricLoader | None = None

    async def run(context: str, query: Callable[[CricData], Result]) -> Result:
        nonlocal loader
        if loader is None:
            loader = CricLoader(settings or get_settings())
        # Why ToolError: only its text reaches the model, and these messages name the value and the next call.
        try:
            data = await loader.load()
            return query(data)
        except (QueryError, CricUnavailableError) as exc:
            logger.info("%s: %s", context, exc)
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=READ_ONLY_OPEN_WORLD)
    async def get_queue(
        name: Annotated[
            str, Field(description="PanDA queue name (case-insensitive), e.g. BNL or AGLT2_MCORE.")
        ],
        fields: Fields = None,
    ) -> QueueDetail:
        """Return one PanDA queue's CRIC record: every field, or only `fields`."""
        return await run(f"get_queue {name!r}", lambda data: queues.get_queue(data, name, fields=fields))

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
        sort: Annotated[
            str | None, Field(description="Field to sort by; '-corepower' for descending.")
        ] = None,
        limit: Annotated[int, Field(ge=0, le=MAX_LIMIT, description="Queues per page.")] = 50,
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
        return await run(
            "find_queues",
            lambda data: queues.find_queues(
                data, filters, fields=fields, sort=sort, limit=limit, cursor=cursor
            ),
        )

    @server.tool(annotations=READ_ONLY_OPEN_WORLD)
    async def summarize_queues(
        group_by: Annotated[
            str, Field(description="Field or dotted path to count by, e.g. cloud, status, tier.")
        ],
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
        stats: Annotated[
            str | None, Field(description="Numeric field to give min/max/mean/sum of per group.")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Groups per page.")] = 100,
        cursor: Cursor = None,
    ) -> QueueSummary:
        """Count PanDA queues per value of `group_by`, after the same filters as find_queues."""
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
        return await run(
            f"summarize_queues by {group_by!r}",
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
        return await run(f"get_site {site!r}", lambda data: queues.get_site(data, site, fields=fields))

    @server.tool(annotations=READ_ONLY_OPEN_WORLD)
    async def compare_queues(
        names: Annotated[list[str], Field(description="2 to 10 PanDA queue names.")],
        fields: Fields = None,
    ) -> QueueComparison:
        """Compare PanDA queues side by side; without `fields`, only the fields that differ."""
        return await run("compare_queues", lambda data: queues.compare_queues(data, names, fields=fields))

    @server.tool(annotations=READ_ONLY_OPEN_WORLD)
    async def describe_queue_field(
        field: Annotated[
            str | None, Field(description="Field or dotted path; omit to list every field.")
        ] = None,
    ) -> FieldReport:
        """Explain a CRIC queue field: its meaning, unit and most common values."""
        return await run(f"describe_queue_field {field!r}", lambda data: summary.describe_field(data, field))

    return server

"""The copytools a queue uses for one transfer activity, resolved the way the pilot resolves them.

Pilot 3 (PanDAWMS/pilot3 at a090538, pilot/api/data.py, StagingClient) takes a queue's `acopytools`. Only
when that object is empty does it use the names in `copytools` for every activity. A transfer then tries
the activities the pilot asks for (for outputs write_lan then w, for logs pl first), then `default`, which
is acopytools.default or, when that is absent, rucio. So a queue whose acopytools lacks the activity asked
about takes its copytools from another activity, which this module does not guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FROM_ACOPYTOOLS = "acopytools"
FROM_COPYTOOLS = "copytools (acopytools is empty)"
"""Values of copytool_source: the list for the activity in acopytools, or the queue's copytools."""


@dataclass(frozen=True)
class ActivityCopytools:
    """The copytools of one queue for one activity, and why: `source` is None when none are resolved."""

    names: tuple[str, ...]
    source: str | None
    acopytools_lacks_activity: bool = False
    nothing_defined: bool = False


def copytools_for(record: dict[str, Any], activity: str) -> ActivityCopytools:
    """Return the copytools the pilot uses for `activity` on the queue of `record`, where it can tell."""
    acopytools = record.get("acopytools")
    if isinstance(acopytools, dict) and acopytools:
        listed = acopytools.get(activity)
        if isinstance(listed, list) and listed:
            return ActivityCopytools(tuple(str(name) for name in listed), FROM_ACOPYTOOLS)
        return ActivityCopytools((), None, acopytools_lacks_activity=True)

    names = _copytool_names(record.get("copytools"))
    if names:
        return ActivityCopytools(names, FROM_COPYTOOLS)
    return ActivityCopytools((), None, nothing_defined=True)


def _copytool_names(value: Any) -> tuple[str, ...]:
    # CRIC gives copytools as {name: {"setup": ...}}; a plain list of names is accepted as well.
    if isinstance(value, dict):
        return tuple(str(name) for name in value)
    if isinstance(value, list):
        return tuple(str(name) for name in value if isinstance(name, str))
    return ()


def fallback_notes(
    candidates: list[ActivityCopytools], activity: str, *, matched_by_fallback: int
) -> list[str]:
    """Return notes on how many queues matched through copytools, and how many could not be resolved.

    `candidates` are the copytools of the queues that pass every other filter; `matched_by_fallback` counts
    the matching queues whose copytools came from the copytools field.
    """
    lacking = sum(1 for item in candidates if item.acopytools_lacks_activity)
    undefined = sum(1 for item in candidates if item.nothing_defined)

    notes = []
    if matched_by_fallback:
        notes.append(
            f"{matched_by_fallback} matching queue(s) have an empty acopytools, so the pilot uses their "
            f"copytools for {activity} as for every activity; copytool_source marks them."
        )
    if lacking:
        notes.append(
            f"{lacking} queue(s) that pass the other filters define acopytools without {activity} and are "
            "left out: for them the pilot takes the copytools of another activity it tries, or "
            "acopytools.default (rucio when absent)."
        )
    if undefined:
        notes.append(
            f"{undefined} queue(s) that pass the other filters define neither acopytools nor copytools and "
            "are left out; the pilot falls back to rucio for them."
        )
    return notes

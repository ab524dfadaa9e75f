"""Compiled queue filters: conditions on queue records, and the selection of the queues that pass them.

FilterCompiler (servers/sites/filters.py) builds the conditions after checking every value; this module
only evaluates them, column by column, and explains a selection in notes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from servers.sites.errors import cut
from servers.sites.table import QueueTable
from servers.sites.transfers import FROM_COPYTOOLS, ActivityCopytools, copytools_for, fallback_notes
from servers.sites.values import SYMBOLS, compare_order, equal_to


@dataclass(frozen=True)
class Condition:
    """One test on a queue record: some values at `paths` compared with `value` by `op`."""

    paths: tuple[str, ...]
    op: str
    value: Any
    label: str
    _equality: tuple[Callable[[Any], bool], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The equality tests are built once, because a query runs them on every value of every queue.
        if self.op == "in":
            expected = list(self.value)
        elif self.op in ("eq", "ne"):
            expected = [self.value]
        else:
            expected = []
        object.__setattr__(self, "_equality", tuple(equal_to(item) for item in expected))

    def matches_values(self, found: Sequence[Any]) -> bool:
        """Return whether the filter values found at this condition's paths pass it."""
        if self.op in ("eq", "in"):
            return any(test(actual) for actual in found for test in self._equality)
        if self.op == "ne":
            return not any(test(actual) for actual in found for test in self._equality)
        if self.op in ("contains", "not_contains"):
            needle = str(self.value).casefold()
            hit = any(actual is not None and needle in str(actual).casefold() for actual in found)
            return hit if self.op == "contains" else not hit
        return any(compare_order(actual, self.op, self.value) for actual in found)

    def apply(self, table: QueueTable, passing: list[bool]) -> None:
        """Set passing[i] to False for every queue (in table order) that fails this condition."""
        columns = [table.column(path) for path in self.paths]
        for index, still in enumerate(passing):
            if not still:
                continue
            found = (
                columns[0][index]
                if len(columns) == 1
                else tuple(value for column in columns for value in column[index])
            )
            passing[index] = self.matches_values(found)

    def describe(self) -> str:
        return self.label


@dataclass(frozen=True)
class CopytoolCondition(Condition):
    """A copytool filter for one transfer activity, which tests the copytools the pilot uses for it."""

    activity: str = ""

    def resolved(self, table: QueueTable) -> dict[str, ActivityCopytools]:
        """Return queue name -> its copytools for the activity, resolved once per table."""
        return table.derived(
            f"copytools for {self.activity}",
            lambda: {name: copytools_for(record, self.activity) for name, record in table.queues.items()},
        )

    def apply(self, table: QueueTable, passing: list[bool]) -> None:
        # A queue whose copytools for the activity cannot be resolved fails even a negation such as !=mv,
        # and selection_notes counts it as left out.
        for index, resolved in enumerate(self.resolved(table).values()):
            if passing[index]:
                passing[index] = resolved.source is not None and self.matches_values(resolved.names)


def label(path: str, op: str, value: Any) -> str:
    """Return a condition as read back in results, such as "maxrss > 64000"; long values are cut."""
    if op == "in":
        return cut(f"{path} in {', '.join(_spelled(item) for item in value)}")
    return cut(f"{path} {SYMBOLS[op]} {_spelled(value)}")


def _spelled(value: Any) -> str:
    # null and booleans read as in JSON, the form callers write them in.
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def select(table: QueueTable, conditions: Iterable[Condition]) -> list[str]:
    """Return the names of the queues that pass every condition, in the table's order."""
    passing = [True] * len(table)
    for condition in conditions:
        condition.apply(table, passing)
    return [name for name, keep in zip(table.queues, passing, strict=True) if keep]


def selection_notes(table: QueueTable, conditions: list[Condition], names: list[str]) -> list[str]:
    """Return notes that explain a selection: queues matched through copytools, and why none matched."""
    notes: list[str] = []
    for condition in conditions:
        if isinstance(condition, CopytoolCondition):
            resolved = condition.resolved(table)
            others = [other for other in conditions if other is not condition]
            candidates = [resolved[name] for name in select(table, others)]
            by_fallback = sum(1 for name in names if resolved[name].source == FROM_COPYTOOLS)
            notes.extend(fallback_notes(candidates, condition.activity, matched_by_fallback=by_fallback))
            break

    if names or len(conditions) == 0:
        return notes
    alone = [condition.label for condition in conditions if not select(table, [condition])]
    if alone:
        notes.append(f"No queue passes {'; '.join(alone)} even on its own.")
    elif len(conditions) > 1:
        notes.append("Each filter matches some queues, but no queue passes all of them together.")
    return notes


def copytool_source(table: QueueTable, conditions: list[Condition], name: str) -> str | None:
    """Return FROM_COPYTOOLS when a copytool filter matched the queue `name` through its copytools field."""
    for condition in conditions:
        if isinstance(condition, CopytoolCondition):
            source = condition.resolved(table)[name].source
            return source if source == FROM_COPYTOOLS else None
    return None

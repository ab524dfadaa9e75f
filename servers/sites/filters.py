"""Queue filters: the arguments find_queues and summarize_queues share, turned into checked conditions.

A filter value is compared with every value found at its field: list elements, object keys (copytools),
or the scalar. Strings compare ignoring case. A string value may start with an operator: `!=`, `>`, `>=`,
`<`, `<=`, `~` (contains) or `!~` (does not contain). A named filter such as status also takes "a,b" for
any of several values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from servers.sites.errors import QueryError, choices_hint, close_matches
from servers.sites.fields import catalog, is_number, leaves, split_path, value_at
from servers.sites.table import QueueTable

OPERATOR = re.compile(r"^\s*(>=|<=|!=|!~|>|<|~)\s*(.*?)\s*$", re.DOTALL)
OPERATOR_NAMES = {
    ">=": "ge",
    "<=": "le",
    "!=": "ne",
    "!~": "not_contains",
    ">": "gt",
    "<": "lt",
    "~": "contains",
}
SYMBOLS = {
    "eq": "=",
    "in": "in",
    "ne": "!=",
    "gt": ">",
    "ge": ">=",
    "lt": "<",
    "le": "<=",
    "contains": "~",
    "not_contains": "!~",
}
TRUE_WORDS = {"true", "yes", "1", "on"}
FALSE_WORDS = {"false", "no", "0", "off"}
NULL_WORDS = {"null", "none"}

NAMED_FILTERS = ("site", "cloud", "tier", "status", "state", "resource_type", "type", "container_type")
"""Named filters that compare one CRIC field of the same name."""


class QueueFilters(BaseModel):
    """Every filter of find_queues and summarize_queues; a queue must pass all that are given."""

    site: str | None = None
    cloud: str | None = None
    tier: str | None = None
    status: str | None = None
    state: str | None = None
    resource_type: str | None = None
    type: str | None = None
    copytool: str | None = None
    activity: str | None = None
    storage: str | None = None
    container_type: str | None = None
    where: dict[str, Any] | None = None
    min: dict[str, float] | None = None
    max: dict[str, float] | None = None


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

    def matches(self, record: dict[str, Any]) -> bool:
        found: list[Any] = []
        for path in self.paths:
            found.extend(leaves(value_at(record, path)))
        return self.matches_values(found)

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
        return any(_compare(actual, self.op, self.value) for actual in found)

    def describe(self) -> str:
        return self.label


def as_number(value: Any) -> int | float | None:
    """Return a number for a number or a numeric string, else None (booleans are not numbers)."""
    if is_number(value):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return None
    return None


def equal_to(expected: Any) -> Callable[[Any], bool]:
    """Return a test of whether a CRIC value equals the filter value `expected`.

    Strings compare ignoring case, numbers by value (48000 equals "48000"), booleans also equal the words
    true/false/yes/no, and null equals None or the words null/none.
    """
    if expected is None:
        return lambda actual: actual is None

    text = expected.strip().casefold() if isinstance(expected, str) else None
    number = None if isinstance(expected, bool) else as_number(expected)

    def test(actual: Any) -> bool:
        if isinstance(actual, str):
            if text is not None:
                return actual.casefold() == text
            if isinstance(expected, bool):
                return actual.casefold() == str(expected).casefold()
            return number is not None and as_number(actual) == number
        if actual is None:
            return text is not None and text in NULL_WORDS
        if isinstance(actual, bool):
            if isinstance(expected, bool):
                return actual is expected
            return text is not None and text in (TRUE_WORDS if actual else FALSE_WORDS)
        if is_number(actual):
            return number is not None and actual == number
        return bool(actual == expected)

    return test


def values_equal(actual: Any, expected: Any) -> bool:
    """Return whether a CRIC value equals a filter value, by the rules of equal_to."""
    return equal_to(expected)(actual)


def _compare(actual: Any, op: str, bound: Any) -> bool:
    if actual is None or isinstance(actual, bool):
        return False
    if is_number(bound):
        actual = as_number(actual)
        if actual is None:
            return False
    elif isinstance(actual, str) and isinstance(bound, str):
        # Strings compare in order, which suits CRIC's ISO timestamps and version-like codes.
        actual, bound = actual.casefold(), bound.casefold()
    else:
        return False

    if op == "gt":
        return bool(actual > bound)
    if op == "ge":
        return bool(actual >= bound)
    if op == "lt":
        return bool(actual < bound)
    return bool(actual <= bound)


def parse_value(raw: Any, *, split_commas: bool = False) -> tuple[str, Any]:
    """Return (op, value) for a filter value: a list means any of, a string may start with an operator."""
    if isinstance(raw, list):
        return "in", raw
    if not isinstance(raw, str):
        return "eq", raw

    match = OPERATOR.match(raw)
    if match and match.group(1):
        op = OPERATOR_NAMES[match.group(1)]
        rest = match.group(2)
        if op in ("gt", "ge", "lt", "le"):
            number = as_number(rest)
            return op, number if number is not None else rest
        if op == "ne" and rest.casefold() in NULL_WORDS:
            return op, None
        return op, rest

    if split_commas and "," in raw:
        return "in", [part.strip() for part in raw.split(",") if part.strip()]
    return "eq", raw


OBJECT_OPERATORS = {
    "gt": ">",
    "gte": ">=",
    "ge": ">=",
    "lt": "<",
    "lte": "<=",
    "le": "<=",
    "ne": "!=",
    "eq": "",
    "contains": "~",
    "not_contains": "!~",
}
"""Operator keys accepted in a where value given as an object, such as {"gt": 64000} or {"$gte": 8}."""


def operator_texts(path: str, value: dict[str, Any]) -> list[str]:
    """Return the operator strings ('>64000') for a where value written as an object of operators."""
    texts = []
    for key, operand in value.items():
        name = str(key).strip().lstrip("$").casefold()
        if name in OBJECT_OPERATORS:
            symbol: str | None = OBJECT_OPERATORS[name]
        elif name in OPERATOR_NAMES:
            symbol = name
        else:
            symbol = None
        if symbol is None or isinstance(operand, (dict, list)):
            raise QueryError(
                f"Invalid where value for {path}: {value!r}. Give a value, a list of values, or a string with an "
                f"operator such as '>64000', '!=online' or '~apptainer'."
            )
        texts.append(f"{symbol}{_operand_text(operand)}")
    return texts


def _operand_text(operand: Any) -> str:
    if operand is None:
        return "null"
    if isinstance(operand, bool):
        return "true" if operand else "false"
    return str(operand)


class FilterCompiler:
    """Checks filter arguments against one queue table and turns them into conditions."""

    def __init__(self, table: QueueTable) -> None:
        self.table = table

    def compile(self, filters: QueueFilters) -> list[Condition]:
        conditions: list[Condition] = []
        for name in NAMED_FILTERS:
            raw = getattr(filters, name)
            if raw is not None and str(raw).strip():
                conditions.append(self.condition(name, raw, split_commas=True))

        conditions.extend(self._transfer_conditions(filters))

        for path, raw in (filters.where or {}).items():
            if isinstance(raw, dict):
                conditions.extend(self.condition(path, text) for text in operator_texts(path, raw))
            else:
                conditions.append(self.condition(path, raw))
        for path, bound in (filters.min or {}).items():
            conditions.append(self._bound(path, "ge", bound, "min"))
        for path, bound in (filters.max or {}).items():
            conditions.append(self._bound(path, "le", bound, "max"))
        return conditions

    def check_path(self, path: str, *, argument: str = "field") -> str:
        """Return `path` stripped if it names a field or dotted path present in the data; raise QueryError if not."""
        path = path.strip()
        parts = split_path(path)
        if not parts:
            raise QueryError(f"Empty {argument} name. {self._field_hint('')}")

        if path in self.table.field_names:
            return path
        if parts[0] not in self.table.field_names:
            raise QueryError(
                f"Unknown CRIC queue field {parts[0]!r} in {argument}. {self._field_hint(parts[0])}"
            )
        if not self.table.path_exists(path):
            parent = ".".join(parts[:-1])
            below = self.table.subfields(parent)
            hint = (
                choices_hint(parts[-1], below, what=f"keys under {parent}")
                if below
                else f"{parent} has no keys below it."
            )
            raise QueryError(f"No queue has a value at {path!r} ({argument}). {hint}")
        return path

    def condition(self, path: str, raw: Any, *, split_commas: bool = False) -> Condition:
        """Return the condition for `path` compared with a raw filter value, after checking both."""
        path = self.check_path(path, argument="filter")
        op, value = parse_value(raw, split_commas=split_commas)
        if op == "eq":
            self._check_value(path, value)
        elif op == "in":
            for item in value:
                self._check_value(path, item)
        return Condition((path,), op, value, _label(path, op, value))

    def _bound(self, path: str, op: str, bound: float, argument: str) -> Condition:
        path = self.check_path(path, argument=argument)
        if not any(is_number(value) for value in self.table.distinct(path)):
            numeric = sorted(
                name
                for name, info in catalog().fields.items()
                if info.unit and name in self.table.field_names
            )
            raise QueryError(
                f"{argument} needs a numeric field, but {path!r} has no numeric values. Numeric fields: {', '.join(numeric)}."
            )
        value = int(bound) if float(bound).is_integer() else bound
        return Condition((path,), op, value, _label(path, op, value))

    def _transfer_conditions(self, filters: QueueFilters) -> list[Condition]:
        activity = self._check_activity(filters.activity) if filters.activity else None
        conditions: list[Condition] = []

        if filters.copytool:
            path = f"acopytools.{activity}" if activity else "copytools"
            conditions.append(self._member(path, filters.copytool, "copytool"))
        if filters.storage:
            path = f"astorages.{activity}" if activity else "astorages.*"
            conditions.append(self._member(path, filters.storage, "storage"))
        if activity and not filters.copytool and not filters.storage:
            conditions.append(
                Condition(("acopytools", "astorages"), "eq", activity, f"activity {activity} defined")
            )
        return conditions

    def _member(self, path: str, raw: str, argument: str) -> Condition:
        op, value = parse_value(raw, split_commas=True)
        wanted = value if op == "in" else [value]
        if op in ("eq", "in"):
            known = [str(item) for item in self.table.distinct(path) if isinstance(item, str)]
            for item in wanted:
                if not any(values_equal(candidate, item) for candidate in known):
                    raise QueryError(
                        f"No queue has {argument} {item!r} ({path}). {choices_hint(str(item), known, what=f'{argument} values')}"
                    )
        return Condition((path,), op, value, _label(path, op, value))

    def _check_activity(self, raw: str) -> str:
        known = {str(key) for key in self.table.distinct("acopytools")} | {
            str(key) for key in self.table.distinct("astorages")
        }
        for activity in known:
            if activity.casefold() == raw.strip().casefold():
                return activity
        meanings = catalog().activities
        listed = ", ".join(
            f"{name} ({meanings[name]})" if name in meanings else name for name in sorted(known)
        )
        raise QueryError(f"Unknown transfer activity {raw!r}. Activities in the data: {listed}.")

    def _check_value(self, path: str, value: Any) -> None:
        # Only text values are checked: a number or a boolean that no queue has gives a valid, empty result,
        # while an unknown text value is almost always a typo or the wrong field.
        if (
            not isinstance(value, str)
            or as_number(value) is not None
            or value.strip().casefold() in NULL_WORDS
        ):
            return
        known = self.table.distinct(path)
        if any(values_equal(candidate, value) for candidate in known):
            return
        texts = [str(candidate) for candidate in known if isinstance(candidate, str)]
        if not texts:
            return
        message = f"No queue has {path} = {value!r}. {choices_hint(value, texts, what=f'values of {path}')}"
        elsewhere = self._fields_with_value(value, skip=path)
        if elsewhere:
            message += f" {value!r} is a value of {', '.join(elsewhere)}."
        raise QueryError(message)

    def _fields_with_value(self, value: str, *, skip: str) -> list[str]:
        found = []
        for name in sorted(self.table.field_names):
            if name == skip:
                continue
            if any(
                isinstance(candidate, str) and values_equal(candidate, value)
                for candidate in self.table.distinct(name)
            ):
                found.append(name)
        return found[:5]

    def _field_hint(self, name: str) -> str:
        return field_hint(self.table, name)


def field_hint(table: QueueTable, name: str) -> str:
    """Return "Did you mean ...?" for an unknown field name, matching field names and their aliases."""
    known = {name: name for name in table.field_names}
    known.update({key: path for key, path in table.record_list_paths.items() if key not in known})
    for info in catalog().fields.values():
        if info.name in table.field_names:
            for alias in info.aliases:
                known.setdefault(alias, info.name)

    exact = [target for target in catalog().alias_targets(name) if target in table.field_names]
    guessed = [known[match] for match in close_matches(name, known, limit=8)]
    suggestions = list(dict.fromkeys(exact + guessed))[:5]
    if suggestions:
        return f"Did you mean {', '.join(suggestions)}? Call describe_queue_field to list every field."
    return "Call describe_queue_field to list every field."


def _label(path: str, op: str, value: Any) -> str:
    if op == "in":
        return f"{path} in {', '.join(str(item) for item in value)}"
    return f"{path} {SYMBOLS[op]} {value}"


def select(table: QueueTable, conditions: Iterable[Condition]) -> list[str]:
    """Return the names of the queues that pass every condition, in the table's order."""
    names = list(table.queues)
    passing = [True] * len(names)
    for condition in conditions:
        columns = [table.column(path) for path in condition.paths]
        for index, still in enumerate(passing):
            if not still:
                continue
            found = (
                columns[0][index]
                if len(columns) == 1
                else tuple(value for column in columns for value in column[index])
            )
            passing[index] = condition.matches_values(found)
    return [name for name, keep in zip(names, passing, strict=True) if keep]

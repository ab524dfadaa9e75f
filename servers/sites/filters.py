"""Queue filters: the arguments find_queues and summarize_queues share, turned into checked conditions.

How a filter value is written and compared is described in servers/sites/values.py. Every value is
checked against the loaded data before the query runs: an unknown field, an unknown text value, or an
operand that cannot match (a word where the field has numbers) raises QueryError with the valid choices.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from servers.sites.conditions import Condition, CopytoolCondition, label
from servers.sites.errors import QueryError, argument, call, choices_hint, close_matches, echo
from servers.sites.fields import catalog, is_number, split_path
from servers.sites.table import QueueTable
from servers.sites.values import (
    NULL_WORDS,
    ORDER_OPERATORS,
    SYMBOLS,
    as_number,
    parse_terms,
    values_equal,
)

NAMED_FILTERS = ("site", "cloud", "tier", "status", "state", "resource_type", "type", "container_type")
"""Named filters that compare one CRIC field of the same name."""

FilterValue = str | list[Any] | None


class QueueFilters(BaseModel):
    """Every filter of find_queues and summarize_queues; a queue must pass all that are given."""

    site: FilterValue = None
    cloud: FilterValue = None
    tier: FilterValue = None
    status: FilterValue = None
    state: FilterValue = None
    resource_type: FilterValue = None
    type: FilterValue = None
    copytool: FilterValue = None
    activity: str | None = None
    storage: FilterValue = None
    container_type: FilterValue = None
    where: dict[str, Any] | None = None
    min: dict[str, Any] | None = None
    max: dict[str, Any] | None = None


class FilterCompiler:
    """Checks filter arguments against one queue table and turns them into conditions."""

    def __init__(self, table: QueueTable) -> None:
        self.table = table

    def compile(self, filters: QueueFilters) -> list[Condition]:
        conditions: list[Condition] = []
        for name in NAMED_FILTERS:
            raw = getattr(filters, name)
            if _given(raw):
                conditions.extend(self.conditions(name, raw, split_commas=True, source=name))

        conditions.extend(self._transfer_conditions(filters))

        for path, raw in (filters.where or {}).items():
            conditions.extend(self.conditions(path, raw, source="where"))
        # A list of bounds (a repeated terminal --min) gives one condition per bound, all of which apply.
        for path, bounds in (filters.min or {}).items():
            conditions.extend(self._bound(path, "ge", bound, "min") for bound in _as_list(bounds))
        for path, bounds in (filters.max or {}).items():
            conditions.extend(self._bound(path, "le", bound, "max") for bound in _as_list(bounds))
        return conditions

    def check_path(self, path: str, *, source: str = "fields", positional: bool = False) -> str:
        """Return `path` stripped if it names a field or dotted path present in the data; raise QueryError if not.

        `source` is the tool argument that gave the path, named in the message.
        """
        path = path.strip()
        parts = split_path(path)
        where = argument(source, positional=positional)
        if not parts:
            raise QueryError(f"Empty field name in {where}. {field_hint(self.table, '')}")

        if path in self.table.field_names:
            return path
        if parts[0] == "*":
            raise QueryError(
                f"{echo(path)} in {where} starts with '*'. Name a field first: '*' is every key or list "
                "element below it, as in astorages.* or queues.*.ce_flavour."
            )
        if parts[0] not in self.table.field_names:
            raise QueryError(
                f"Unknown CRIC queue field {echo(parts[0])} in {where}. {field_hint(self.table, parts[0])}"
            )
        if not self.table.path_exists(path):
            parent = ".".join(parts[:-1])
            below = self.table.subfields(parent)
            hint = (
                choices_hint(parts[-1], below, what=f"keys under {parent}")
                if below
                else f"{parent} has no keys below it."
            )
            raise QueryError(f"No queue has a value at {echo(path)} ({where}). {hint}")
        return path

    def conditions(
        self, path: str, raw: Any, *, split_commas: bool = False, source: str = "where"
    ) -> list[Condition]:
        """Return the conditions for `path` compared with a raw filter value, after checking both."""
        path = self.check_path(path, source=source)
        conditions = []
        for op, value in parse_terms(path, raw, split_commas=split_commas):
            self._check_term(path, op, value)
            conditions.append(Condition((path,), op, value, label(path, op, value)))
        return conditions

    def _check_term(self, path: str, op: str, value: Any) -> None:
        if op in ORDER_OPERATORS:
            self._check_order_operand(path, op, value)
        elif op in ("contains", "not_contains"):
            if not str(value).strip():
                raise QueryError(f"Missing text after '{SYMBOLS[op]}' for {path}, e.g. '~apptainer'.")
        else:
            for item in value if op == "in" else [value]:
                self._check_value(path, item)

    def _check_order_operand(self, path: str, op: str, value: Any) -> None:
        symbol = SYMBOLS[op]
        has_numbers, has_text = self._value_kinds(path)
        if isinstance(value, str) and not value.strip():
            raise QueryError(f"Missing value after '{symbol}' for {path}. Write it like '{symbol}64000'.")

        if is_number(value):
            if not has_numbers:
                raise QueryError(
                    f"{path} has no numeric values, so {echo(f'{symbol}{value}')} matches no queue. "
                    f"Numeric fields: {', '.join(self._numeric_fields())}."
                )
            return
        if has_numbers and not has_text:
            unit = f" in {catalog().unit(path)}" if catalog().unit(path) else ""
            raise QueryError(
                f"{path} has numeric values{unit}, but {echo(f'{symbol}{value}')} compares it with "
                f"{echo(value)}, which is not a finite number. Write a number such as '{symbol}64000'; for a "
                "range give a list such as ['>64000', '<100000']."
            )

    def _check_value(self, path: str, value: Any) -> None:
        # An unknown text value is almost always a typo or the wrong field, so it is an error. A number or a
        # boolean that no queue has gives a valid, empty result.
        if value is None or isinstance(value, bool):
            return
        if is_number(value):
            if as_number(value) is None:
                raise QueryError(f"Invalid number {value!r} for {path}: only finite numbers compare.")
            return
        text = str(value)
        if as_number(text) is not None or text.strip().casefold() in NULL_WORDS:
            return

        known = self.table.distinct(path)
        if any(values_equal(candidate, text) for candidate in known):
            return
        has_numbers, has_text = self._value_kinds(path)
        if has_numbers and not has_text:
            unit = f" in {catalog().unit(path)}" if catalog().unit(path) else ""
            raise QueryError(
                f"{path} has numeric values{unit}; {echo(text)} is not a number. Give a number, a string "
                "such as '>64000', or null for queues without a value."
            )
        if not text.strip():
            raise QueryError(
                f"Empty value for {path}. Give a value, or null for queues where {path} is null."
            )
        texts = [str(candidate) for candidate in known if isinstance(candidate, str)]
        if not texts:
            return
        message = f"No queue has {path} = {echo(text)}. {choices_hint(text, texts, what=f'values of {path}')}"
        elsewhere = self._fields_with_value(text, skip=path)
        if elsewhere:
            message += f" {echo(text)} is a value of {', '.join(elsewhere)}."
        raise QueryError(message)

    def _value_kinds(self, path: str) -> tuple[bool, bool]:
        """Return (has numbers, has text) over the values at `path` in the whole table."""
        known = self.table.distinct(path)
        return any(is_number(value) for value in known), any(isinstance(value, str) for value in known)

    def _numeric_fields(self) -> list[str]:
        return sorted(
            name for name, info in catalog().fields.items() if info.unit and name in self.table.field_names
        )

    def _bound(self, path: str, op: str, bound: Any, source: str) -> Condition:
        path = self.check_path(path, source=source)
        number = None if isinstance(bound, bool) else as_number(bound)
        if number is None:
            raise QueryError(
                f"{argument(source)} needs a finite number for {path}; got {echo(bound)}. "
                f"Example: {{{path!r}: 8}}."
            )
        if not self._value_kinds(path)[0]:
            raise QueryError(
                f"{argument(source)} needs a numeric field, but {echo(path)} has no numeric values. "
                f"Numeric fields: {', '.join(self._numeric_fields())}."
            )
        value = int(number) if float(number).is_integer() else number
        return Condition((path,), op, value, label(path, op, value))

    def _transfer_conditions(self, filters: QueueFilters) -> list[Condition]:
        activity = self._check_activity(filters.activity) if _given(filters.activity) else None
        conditions: list[Condition] = []

        if _given(filters.copytool):
            if activity:
                conditions.extend(self._copytool_conditions(activity, filters.copytool))
            else:
                conditions.extend(self._members("copytools", filters.copytool, "copytool"))
        if _given(filters.storage):
            path = f"astorages.{activity}" if activity else "astorages.*"
            conditions.extend(self._members(path, filters.storage, "storage"))
        if activity and not _given(filters.copytool) and not _given(filters.storage):
            conditions.append(
                Condition(("acopytools", "astorages"), "eq", activity, f"activity {activity} defined")
            )
        return conditions

    def _members(self, path: str, raw: Any, source: str) -> list[Condition]:
        known = [str(item) for item in self.table.distinct(path) if isinstance(item, str)]
        conditions: list[Condition] = []
        for op, value in parse_terms(path, raw, split_commas=True):
            self._check_member(path, op, value, known, source)
            conditions.append(Condition((path,), op, value, label(path, op, value)))
        return conditions

    def _copytool_conditions(self, activity: str, raw: Any) -> list[Condition]:
        path = f"acopytools.{activity}"
        known = sorted(
            {str(item) for item in self.table.distinct(path) if isinstance(item, str)}
            | {str(item) for item in self.table.distinct("copytools") if isinstance(item, str)}
        )
        conditions: list[Condition] = []
        for op, value in parse_terms(path, raw, split_commas=True):
            self._check_member(path, op, value, known, "copytool")
            text = label(f"copytool for {activity}", op, value)
            conditions.append(CopytoolCondition((path,), op, value, text, activity=activity))
        return conditions

    def _check_member(self, path: str, op: str, value: Any, known: list[str], source: str) -> None:
        if op not in ("eq", "in", "ne"):
            return
        for item in value if op == "in" else [value]:
            if not any(values_equal(candidate, item) for candidate in known):
                hint = choices_hint(str(item), known, what=f"{source} values")
                raise QueryError(f"No queue has {source} {echo(item)} ({path}). {hint}")

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
        raise QueryError(f"Unknown transfer activity {echo(raw)}. Activities in the data: {listed}.")

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


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _given(raw: Any) -> bool:
    # Models often send "" or [] for an optional filter they do not use; both mean "no filter".
    if raw is None:
        return False
    if isinstance(raw, str):
        return bool(raw.strip())
    if isinstance(raw, list):
        return bool(raw)
    return True


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
    listing = f"{call('describe_queue_field')} to list every field."
    if suggestions:
        return f"Did you mean {', '.join(suggestions)}? {listing}"
    return listing

"""Filter values: the operators a value may start with, how a value is parsed into terms, and comparisons.

A filter value is compared with every value found at its field: list elements, object keys (copytools),
or the scalar. Strings compare ignoring case. A string value may start with an operator: `!=`, `>`, `>=`,
`<`, `<=`, `~` (contains) or `!~` (does not contain). In a list, plain values mean any of them, while
each value with an operator is a condition of its own that must also hold: `['>64000', '<100000']` is a
range and `['DE', 'FR']` is either cloud. A named filter such as status also takes "a,b" for any of.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from servers.sites.errors import QueryError, echo
from servers.sites.fields import is_number

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
ORDER_OPERATORS = frozenset({"gt", "ge", "lt", "le"})
TRUE_WORDS = {"true", "yes", "1", "on"}
FALSE_WORDS = {"false", "no", "0", "off"}
NULL_WORDS = {"null", "none"}

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

Term = tuple[str, Any]
"""One comparison of a filter: (operator name, operand), such as ("gt", 64000) or ("in", ["DE", "FR"])."""


def as_number(value: Any) -> int | float | None:
    """Return a finite number for a number or a numeric string, else None (booleans are not numbers)."""
    if is_number(value):
        return value if math.isfinite(value) else None
    if not isinstance(value, str):
        return None

    text = value.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


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


def compare_order(actual: Any, op: str, bound: Any) -> bool:
    """Return whether `actual` op `bound` holds for an order operator (gt, ge, lt, le).

    Numbers compare by value, also against numeric strings; text compares with text in order, ignoring
    case, which suits CRIC's ISO timestamps. Null, booleans and mixed kinds never pass.
    """
    if actual is None or isinstance(actual, bool):
        return False
    if is_number(bound):
        actual = as_number(actual)
        if actual is None:
            return False
    elif isinstance(actual, str) and isinstance(bound, str):
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


def parse_value(raw: Any, *, split_commas: bool = False) -> Term:
    """Return the term of one filter value: a list means any of, a string may start with an operator."""
    if isinstance(raw, list):
        return "in", raw
    if not isinstance(raw, str):
        return "eq", raw

    match = OPERATOR.match(raw)
    if match and match.group(1):
        op = OPERATOR_NAMES[match.group(1)]
        rest = match.group(2)
        if op in ORDER_OPERATORS:
            number = as_number(rest)
            return op, number if number is not None else rest
        if op == "ne" and rest.casefold() in NULL_WORDS:
            return op, None
        return op, rest

    if split_commas and "," in raw:
        return "in", [part.strip() for part in raw.split(",") if part.strip()]
    return "eq", raw


def has_operator(raw: Any) -> bool:
    """Return whether a filter value is a string that starts with an operator."""
    return isinstance(raw, str) and OPERATOR.match(raw) is not None


def parse_terms(path: str, raw: Any, *, split_commas: bool = False) -> list[Term]:
    """Return the terms of a filter value, all of which a queue must pass; raise QueryError for a bad shape.

    Plain values of a list (or of "a,b" with `split_commas`) form one "in" term; each value with an
    operator, in a list, in "!=a,!=b" or as an object such as {"gt": 64000}, is a term of its own.
    """
    if isinstance(raw, dict):
        return [parse_value(text) for text in operator_texts(path, raw)]
    if split_commas and isinstance(raw, str) and "," in raw:
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list):
        return [parse_value(raw)]

    if not raw:
        raise QueryError(f"Empty list for {path}. Give at least one value, or leave the filter out.")
    plain: list[Any] = []
    terms: list[Term] = []
    for item in raw:
        if isinstance(item, (dict, list)):
            raise QueryError(
                f"Invalid value {echo(item)} in the list for {path}: a list contains plain values (any of "
                "them matches) or operator strings such as '>64000' (each must hold)."
            )
        if has_operator(item):
            terms.append(parse_value(item))
        elif split_commas and isinstance(item, str) and "," in item:
            plain.extend(part.strip() for part in item.split(",") if part.strip())
        else:
            plain.append(item)

    if len(plain) == 1:
        terms.insert(0, ("eq", plain[0]))
    elif plain:
        terms.insert(0, ("in", plain))
    return terms


def operator_texts(path: str, value: dict[str, Any]) -> list[str]:
    """Return the operator strings ('>64000') for a where value written as an object of operators."""
    if not value:
        raise QueryError(f"Empty object for {path}. {_SHAPES}")
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
            raise QueryError(f"Invalid where value for {path}: {echo(value)}. {_SHAPES}")
        texts.append(f"{symbol}{_operand_text(operand)}")
    return texts


_SHAPES = (
    "Give a value, a list of values (any of them), or a string with an operator such as '>64000', '!=online' "
    "or '~apptainer'; a list of operator strings such as ['>64000', '<100000'] must all hold."
)


def _operand_text(operand: Any) -> str:
    if operand is None:
        return "null"
    if isinstance(operand, bool):
        return "true" if operand else "false"
    return str(operand)

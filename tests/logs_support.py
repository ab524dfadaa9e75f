"""Helpers of the logs server tests: case folders, expected results and the checks every case must pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES

LOG_FIXTURES = FIXTURES / "logs"


def case_folders(root: Path) -> list[Path]:
    """Return the case folders (those with an expected.json) under `root`, sorted by name."""
    return sorted(path.parent for path in root.glob("*/expected.json"))


def load_expected(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def evidence_text(report: dict[str, Any]) -> str:
    return "\n".join(item["text"] for item in report["evidence"])


def problems_with(report: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Return what the report gets wrong against a case's expected.json (empty when it is right)."""
    problems: list[str] = []
    primary = report.get("primary_error")
    want = expected["primary_error"]
    if want["field"] is None:
        if primary is not None:
            problems.append(f"invented a failure: {primary['field']} {primary['code']}")
        if report["failed"] is not False:
            problems.append(f"failed is {report['failed']!r} for a job that did not fail")
    elif primary is None or (primary["field"], primary["code"]) != (want["field"], want["code"]):
        got = None if primary is None else (primary["field"], primary["code"], primary["component"])
        problems.append(f"primary error {got} instead of {(want['field'], want['code'], want['component'])}")

    if report.get("phase") != expected["phase"]:
        problems.append(f"phase {report.get('phase')!r} instead of {expected['phase']!r}")

    text = evidence_text(report)
    problems += [
        f"key line missing from the evidence: {line!r}" for line in expected["key_lines"] if line not in text
    ]

    if report["evidence"]:
        first = report["evidence"][0]["text"]
        problems += [
            f"misleading line ranked first: {line!r}"
            for line in expected["misleading_lines"]
            if line in first
        ]
    return problems

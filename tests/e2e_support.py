"""Helpers for end-to-end tests: servers started from claude_desktop_config.json, schema checks, raw stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
from mcp.client.stdio import StdioServerParameters

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DESKTOP_CONFIG = PROJECT_ROOT / "claude_desktop_config.json"
PLACEHOLDER = "/ABSOLUTE/PATH/TO/askpanda-mcp"


def desktop_entry(name: str) -> dict[str, Any]:
    """Return the config entry of `name` with the path placeholder filled in, as a user would fill it.

    CI installs into `.venv` at the repository root, which is exactly the documented layout. A developer
    venv elsewhere is used when the documented path does not exist.
    """
    config = json.loads(DESKTOP_CONFIG.read_text(encoding="utf-8"))
    entry = dict(config["mcpServers"][name])
    command = entry["command"].replace(PLACEHOLDER, str(PROJECT_ROOT))
    if not Path(command).exists():
        command = str(Path(sys.executable).parent / Path(command).name)
    entry["command"] = command
    return entry


def desktop_params(name: str, env: dict[str, str]) -> StdioServerParameters:
    """Return stdio parameters for `name` from the desktop config, with `env` merged over the entry's env."""
    entry = desktop_entry(name)
    merged = {**entry.get("env", {}), **env}
    return StdioServerParameters(command=entry["command"], args=entry.get("args", []), env=merged)


def check_tool_schemas(tool: Any) -> None:
    """Assert that a listed tool's input and output schemas are valid JSON Schema."""
    jsonschema.Draft202012Validator.check_schema(tool.input_schema)
    assert tool.input_schema.get("type") == "object", f"{tool.name}: input schema is not an object"
    assert tool.output_schema is not None, f"{tool.name}: no output schema (structured content expected)"
    jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    annotations = tool.annotations
    assert annotations is not None and annotations.read_only_hint is True, f"{tool.name}: not marked read-only"


def check_structured_result(tool: Any, result: Any) -> None:
    """Assert that a successful call's structured content validates against the tool's output schema."""
    assert not result.is_error, f"{tool.name} failed: {result.content}"
    assert result.structured_content is not None, f"{tool.name}: no structured content"
    jsonschema.validate(result.structured_content, tool.output_schema)


def raw_stdio_exchange(command: list[str], env: dict[str, str], messages: list[dict[str, Any]]) -> list[bytes]:
    """Send JSON-RPC messages to a stdio server, close stdin, and return every line it wrote to stdout."""
    payload = b"".join(json.dumps(message).encode("utf-8") + b"\n" for message in messages)
    result = subprocess.run(
        command,
        input=payload,
        capture_output=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    return result.stdout.splitlines()

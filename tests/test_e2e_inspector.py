"""The MCP Inspector CLI (installed from npm by .ci/run) lists and calls each server's tools from the desktop config.

The Inspector reads a temporary copy of claude_desktop_config.json with the path placeholder filled in and
each server's env pointing at the loopback fakes: `mcp-inspector --cli --config F --server askpanda-X`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.e2e_support import (
    PROJECT_ROOT,
    SAMPLE_CALLS,
    SERVERS,
    FakeServices,
    ToolCall,
    config_name,
    desktop_entry,
    fake_services,
    sample_tools,
    subprocess_env,
)

# Read at import: the autouse fixture in conftest.py removes every ASKPANDA_* variable while a test runs.
INSPECTOR_BIN = Path(
    os.environ.get("ASKPANDA_INSPECTOR_BIN")
    or PROJECT_ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mcp-inspector"
)
INSPECTOR_TIMEOUT_SECONDS = 120

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not INSPECTOR_BIN.exists() or shutil.which("node") is None,
        reason=f"MCP Inspector CLI not installed at {INSPECTOR_BIN} (bash .ci/run installs it with npm) or node missing",
    ),
]


def inspector_call(server: str) -> ToolCall:
    """Return the first valid sample call of `server` whose arguments fit on the command line as key=value."""
    for call in SAMPLE_CALLS[server]:
        if not call.expect_error and all(
            not isinstance(value, (list, dict)) for value in call.arguments.values()
        ):
            return call
    raise LookupError(f"{server} has no sample call with scalar arguments")


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServices]:
    with fake_services(tmp_path_factory.mktemp("e2e-inspector")) as started:
        yield started


@pytest.fixture(scope="module")
def config_file(services: FakeServices) -> Path:
    """A copy of claude_desktop_config.json with the placeholder filled and every env pointing at the fakes."""
    config: dict[str, Any] = {"mcpServers": {}}
    for server in SERVERS:
        entry = desktop_entry(config_name(server))
        entry["env"] = {**entry.get("env", {}), **services.env()}
        config["mcpServers"][config_name(server)] = entry
    path = services.root / "claude_desktop_config.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def run_inspector(config_file: Path, server: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    home = config_file.parent / "inspector-home"
    home.mkdir(exist_ok=True)
    # A private HOME and an in-memory secret store keep the Inspector away from the user's catalog and keychain.
    env = subprocess_env({"HOME": str(home), "MCP_INSPECTOR_SECRET_STORE": "memory"})
    command = [
        str(INSPECTOR_BIN),
        "--cli",
        "--config",
        str(config_file),
        "--server",
        config_name(server),
        *arguments,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=INSPECTOR_TIMEOUT_SECONDS, check=False
    )


@pytest.fixture(scope="module")
def listings(config_file: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """tools/list runs of the Inspector with --strict, one per server, made on first use."""
    return {}


def strict_listing(
    config_file: Path, listings: dict[str, subprocess.CompletedProcess[str]], server: str
) -> subprocess.CompletedProcess[str]:
    # --strict exits non-zero when a tool schema has an error-severity portability problem.
    if server not in listings:
        listings[server] = run_inspector(config_file, server, "--method", "tools/list", "--strict")
    return listings[server]


@pytest.mark.parametrize("server", SERVERS)
def test_inspector_lists_tools(
    config_file: Path, listings: dict[str, subprocess.CompletedProcess[str]], server: str
) -> None:
    completed = strict_listing(config_file, listings, server)

    assert completed.returncode == 0, completed.stderr[-3000:]
    tools = json.loads(completed.stdout)["tools"]
    assert sorted(tool["name"] for tool in tools) == sorted(sample_tools(server))


@pytest.mark.parametrize("server", [server for server in SERVERS if SAMPLE_CALLS[server]])
def test_inspector_calls_a_tool(
    config_file: Path,
    listings: dict[str, subprocess.CompletedProcess[str]],
    services: FakeServices,
    server: str,
) -> None:
    call = inspector_call(server)
    arguments = call.resolved(services.values())
    pairs = [f"{key}={value}" for key, value in arguments.items()]
    options = ["--tool-arg", *pairs] if pairs else []

    completed = run_inspector(
        config_file, server, "--method", "tools/call", "--tool-name", call.tool, *options
    )

    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    assert result.get("isError") is not True, result
    listed = json.loads(strict_listing(config_file, listings, server).stdout)["tools"]
    schema = next(tool["outputSchema"] for tool in listed if tool["name"] == call.tool)
    jsonschema.validate(result["structuredContent"], schema)


def test_inspector_reports_tool_error(config_file: Path) -> None:
    completed = run_inspector(
        config_file,
        "sites",
        "--method",
        "tools/call",
        "--tool-name",
        "get_queue",
        "--tool-arg",
        "name=NO_SUCH_QUEUE",
    )

    assert completed.returncode != 0
    result = json.loads(completed.stdout)
    assert result["isError"] is True
    assert "NO_SUCH_QUEUE" in result["content"][0]["text"]

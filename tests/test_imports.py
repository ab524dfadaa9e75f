"""The errors, logs and sites servers must start without torch or chromadb, and shared/ without MCP."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys
import {module}
heavy = sorted(name for name in ("torch", "chromadb", "sentence_transformers") if name in sys.modules)
print(",".join(heavy))
"""


@pytest.mark.parametrize("module", ["servers.errors.server", "servers.logs.server", "servers.sites.server"])
def test_light_servers_skip_heavy_imports(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK.format(module=module)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"{module} imported {result.stdout.strip()}"


def test_docs_server_defers_heavy_imports() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK.format(module="servers.docs.server")], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"servers.docs.server imported {result.stdout.strip()}"


def test_shared_never_imports_mcp() -> None:
    code = (
        "import sys, pkgutil, importlib, shared\n"
        "for info in pkgutil.walk_packages(shared.__path__, 'shared.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(sorted(name for name in sys.modules if name == 'mcp' or name.startswith('mcp.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

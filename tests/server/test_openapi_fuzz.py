"""Schemathesis against the real server's /openapi.json, as a logged-in user: no 5xx, no answer off its schema.

Bounded in time for CI (FUZZ_SECONDS, ~1 minute; LEGATO_LONG=1 gives it ten); settings per operation live in
schemathesis.toml beside this file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from client.bundled import BundledServer
from tests.helpers.own_server import USERS, own_server

FUZZ_SECONDS = (600 if os.environ.get("LEGATO_LONG") == "1" else 50) // 2  # on each engine
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def fuzzed_server(module_database: str, demo_data: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """The module's server, one per engine (so it depends on ``module_database``)."""
    with own_server(demo_data, tmp_path_factory.mktemp("fuzzed")) as server:
        yield server


@pytest.mark.slow
@pytest.mark.timeout(FUZZ_SECONDS + 240)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(fuzzed_server: BundledServer,
                                                                    tmp_path: Path) -> None:
    token = httpx.post(f"{fuzzed_server.url}/auth/login", timeout=30,
                       json={"username": "alice", "password": USERS["alice"][0]}).json()["token"]
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "--no-color", "run",
               f"{fuzzed_server.url}/openapi.json", "--header", f"Authorization: Bearer {token}",
               "--checks", "all", "--max-time", str(FUZZ_SECONDS), "--request-timeout", "30",
               # Logging out would end the token every other operation is fuzzed with.
               "--exclude-path", "/auth/logout"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=FUZZ_SECONDS + 200)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20000:]
    assert " 0 passed" not in report and "passed" in report, report[-5000:]
    assert httpx.get(f"{fuzzed_server.url}/health", timeout=30).json() == {"status": "ok"}

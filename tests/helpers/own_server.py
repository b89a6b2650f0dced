"""A reference server of a test module's own: a copy of the demo catalog, extra users, its own environment.

For tests that change what a server remembers (login throttling, fuzzing) or watch its process (memory), so the
session-wide ``live_server`` stays as every other test expects it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from client.bundled import BundledServer
from server import auth
from server.catalog import Catalog
from tests.conftest import LiveServer
from tests.helpers.postgres import copy_data_dir

USERS = {"alice": ("alice-pw", "GB"), "bob": ("bob-pw", "GB")}


@dataclass(frozen=True)
class DemoServer(LiveServer):
    """A server on a copy of the demo catalog (tests/server/conftest.py's ``demo_server``) and the database its
    catalog is in (SQLite in its data dir, or PostgreSQL): what a test reads beside the API is read there."""

    database: sa.URL


@contextmanager
def own_server(demo_data: Path, folder: Path, environ: Mapping[str, str] | None = None) -> Iterator[BundledServer]:
    """A server on a copy of ``demo_data`` in ``folder`` with the USERS added, ``environ`` set while it starts."""
    data_dir = folder / "data"
    copy_data_dir(demo_data, data_dir)
    catalog = Catalog.open(data_dir)
    try:
        for name, (password, region) in USERS.items():
            auth.create_user(catalog, name, password, region)
    finally:
        catalog.close()
    saved = {name: os.environ.get(name) for name in environ or {}}
    os.environ.update(environ or {})
    server = BundledServer(data_dir)
    try:
        server.start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield server
    finally:
        server.stop()


def pids_running(*arguments: str | Path) -> list[int]:
    """The pids of the processes whose command line holds every one of ``arguments`` (read from /proc)."""
    wanted = [os.fsencode(str(argument)) for argument in arguments]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command_line = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(argument in command_line for argument in wanted):
            found.append(int(entry.name))
    return found


def parent_pid(pid: int) -> int | None:
    """The process's parent (from /proc/PID/stat), or None once it has ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (command)": state, then the parent's pid


def server_pid(server: BundledServer) -> int:
    """The pid of the ``server serve`` process serving ``server``'s data dir (found by its command line)."""
    pids = pids_running("serve", server.data_dir)
    if not pids:
        raise LookupError(f"no server process serves {server.data_dir}")
    return pids[0]


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident memory (VmHWM in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"/proc/{pid}/status has no VmHWM")


@contextmanager
def signed_in(server: BundledServer) -> Iterator[dict[str, httpx.Client]]:
    """A client logged in as each of the USERS on ``server``, by name; closed on exit."""
    url = server.url
    assert url is not None, "the server is not running"
    sessions = {}
    try:
        for name, (password, _region) in USERS.items():
            token = httpx.post(f"{url}/auth/login", json={"username": name, "password": password}).json()
            sessions[name] = httpx.Client(base_url=url, timeout=60,
                                          headers={"Authorization": f"Bearer {token['token']}"})
        yield sessions
    finally:
        for session in sessions.values():
            session.close()

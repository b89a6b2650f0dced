"""A private PostgreSQL cluster for tests and benchmarks: Debian's binaries, initdb into a temp dir, a free
loopback port, its unix socket inside that dir, settings that trade durability for speed (never for real
data), stopped and removed at the end. Fresh databases are cloned from one template for speed.

PostgreSQL refuses to run as root: as root the cluster belongs to the ``postgres`` user Debian's package makes.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from server.catalog import Catalog
from server.database import DATABASE_ENV, database_url, dispose_engines
from server.database_copy import copy_catalog
from server.search_changes import install
from tests.helpers.edge_cache import free_port

# A test module runs on SQLite and on PostgreSQL with ``pytestmark = ON_BOTH_ENGINES`` (tests/server/conftest.py's
# fixtures: the module's engine first, so the servers its module fixtures start are on it).
ON_BOTH_ENGINES = pytest.mark.usefixtures("module_database", "database")
SUPERUSER = "legato"
TEMPLATE = "legato_template"
# Durability off: a test cluster that loses its last seconds in a power cut loses nothing anybody needs.
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200",
                  "shared_buffers=32MB")


def binaries() -> Path | None:
    """The folder of Debian's newest PostgreSQL server binaries, if the ``postgresql`` package is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


@dataclass
class Cluster:
    """A running private cluster; ``database()`` hands out a fresh, empty database's URL each time."""

    root: Path
    port: int
    _count: int = 0
    _catalog_template: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                               autocommit=True)

    def stop(self) -> None:
        """Stop the cluster as an operator's restart does (fast: open sessions are ended)."""
        bin_dir = binaries()
        assert bin_dir is not None
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "stop", "-w", "-D", str(self.root / "data"), "-m",
                                  "fast"]), check=True, capture_output=True)

    def start(self) -> None:
        """Start a stopped cluster again on its port."""
        bin_dir = binaries()
        assert bin_dir is not None
        _pg_ctl_start(bin_dir, self.root, self.port)

    def database(self, template: str = TEMPLATE) -> str:
        """A new database cloned from ``template`` (by default an empty one) and its SQLAlchemy URL."""
        with self._lock:
            self._count += 1
            name = f"test_{self._count}"
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def catalog_template(self) -> str:
        """The name of a database holding the catalog's whole schema (made on first use), to clone from: a fresh
        catalog without creating its tables each time."""
        with self._lock:
            if self._catalog_template is None:
                self._catalog_template = _catalog_template(self)
            return self._catalog_template


def copy_data_dir(source: Path, data_dir: Path) -> None:
    """A copy of the data dir ``source`` (the demo's, say) at ``data_dir``; when LEGATO_DATABASE_URL names a
    PostgreSQL database (the ``database`` fixture's), its catalog is copied there too (``db copy``), so a server
    started on ``data_dir`` serves the same catalog on either engine."""
    shutil.copytree(source, data_dir)
    if os.environ.get(DATABASE_ENV):
        copy_catalog(data_dir, database_url(data_dir), progress=lambda _line: None)


def _catalog_template(cluster: Cluster) -> str:
    name = "legato_catalog_template"
    with cluster.admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
    catalog = Catalog.open(cluster.root, database_url(cluster.root, cluster.url(name)))
    install(catalog)
    catalog.close()
    dispose_engines()  # a template must have no connections when it is cloned
    return name


def _as_owner(command: list[str]) -> list[str]:
    """Run ``command`` as the cluster's owner: the ``postgres`` user when we are root, else ourselves."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _start(bin_dir: Path, root: Path) -> int:
    """initdb and start the cluster in ``root``; its port."""
    port = free_port()
    try:
        subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER,
                                  "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]),
                       check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"the test PostgreSQL's initdb failed: {exc.stderr}") from exc
    _pg_ctl_start(bin_dir, root, port)
    return port


def _pg_ctl_start(bin_dir: Path, root: Path, port: int) -> None:
    log = root / "server.log"
    options = " ".join(f"-c {setting}" for setting in (*_FAST_SETTINGS, "listen_addresses=127.0.0.1",
                                                       f"port={port}", f"unix_socket_directories={root}"))
    try:
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "start", "-w", "-D", str(root / "data"), "-l",
                                  str(log), "-o", options]), check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"the test PostgreSQL did not start: {exc.stderr}"
                           f"{log.read_text() if log.exists() else ''}") from exc


@contextmanager
def running_cluster() -> Iterator[Cluster]:
    """Start a private cluster; stopped (immediately: nothing in it is kept) and removed afterwards."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="legato-pg-"))
    try:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster = Cluster(root, _start(bin_dir, root))
        try:
            with cluster.admin() as connection:
                connection.execute(f"CREATE DATABASE {TEMPLATE}")
            yield cluster
        finally:
            subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "stop", "-D", str(root / "data"), "-m",
                                      "immediate"]), capture_output=True, check=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def database_of_its_own(module_database: str, request: pytest.FixtureRequest) -> Iterator[None]:
    """While in the block, on PostgreSQL, LEGATO_DATABASE_URL names a new catalog database: for what a module fixture
    builds beside the module's own servers (each test of a module on both engines gets a database of its own, so it
    reads the fixture's through the URL the fixture records)."""
    with pytest.MonkeyPatch.context() as patch:
        if module_database == "postgresql":
            cluster: Cluster = request.getfixturevalue("postgres_cluster")
            patch.setenv(DATABASE_ENV, cluster.database(cluster.catalog_template()))
        yield

"""Fixtures for the server tests: real audio files written by real encoders, and a small real ingest of them.

- ``sources``: one short tagged stereo clip per input format (WAV, FLAC, MP3, Ogg Opus, M4A AAC) plus its PCM.
- ``ingested``: a data dir holding those clips ingested, and the ingest report (with two bad files in the batch);
  ``ingested_on_engine``: the same on the module's engine (its ``database`` is where to read its catalog).
- ``playlist_server`` and ``clients``: a module's own server with users alice, bob and carol, and a client each.
- ``postgres_cluster``: a private PostgreSQL cluster (session-wide; skips when Debian's postgresql is missing);
  ``postgres_url``: the SQLAlchemy URL of a fresh, empty database on it, a new one for each test.
- ``database``: runs a test on each engine, ``sqlite`` and ``postgresql`` (a module opts in with
  ``pytestmark = pytest.mark.usefixtures("database")``). On PostgreSQL each test gets a fresh catalog database
  through LEGATO_DATABASE_URL, which its ``Catalog.open`` calls and the servers it starts read; the module's own
  servers (``playlist_server``) share one for the module (``module_database``).
- ``server``, ``users`` and ``server_database``: a module's own demo server with users alice, bob and carol, a
  signed-in client of each, and the database it keeps.
- ``demo_server``: the demo catalog served on the module's engine (a copy of ``demo_data``, its catalog ``db copy``'d
  into a PostgreSQL database of its own), the engine-parametrized twin of the session's ``live_server``; its
  ``database`` is the URL of the catalog it serves. ``demo_token``: a bearer token of the demo user on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from client.bundled import BundledServer
from server.auth import create_user
from server.catalog import Catalog
from server.database import DATABASE_ENV, database_url, dispose_engines
from server.ingest import ingest
from tests.conftest import demo_user_token, start_server, stop_server
from tests.helpers.own_server import DemoServer, own_server, signed_in
from tests.helpers.postgres import Cluster, binaries, copy_data_dir, database_of_its_own, running_cluster
from tests.helpers.server_sources import (
    SOURCE_FORMATS,
    SOURCE_SECONDS,
    Ingested,
    Sources,
    stereo_tone,
    tags_for,
    write_audio,
)


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    folder = tmp_path_factory.mktemp("sources")
    pcm16 = stereo_tone(SOURCE_SECONDS)
    paths = {suffix: write_audio(folder / f"tone.{suffix}", pcm16, tags_for(suffix)) for suffix in SOURCE_FORMATS}
    return Sources(paths, pcm16)


def _ingest_batch(sources: Sources, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    """The clips of every format with a corrupt FLAC and a text file among them, ingested into a new data dir (on
    the engine LEGATO_DATABASE_URL names now)."""
    folder = tmp_path_factory.mktemp("bad-sources")
    corrupt = folder / "corrupt.flac"
    corrupt.write_bytes(b"fLaC" + bytes(range(256)) * 8)
    text = folder / "notes.mp3"
    text.write_text("this is a shopping list, not a song\n")
    batch = [sources.paths["wav"], corrupt, sources.paths["flac"], text, sources.paths["mp3"],
             sources.paths["opus"], sources.paths["m4a"]]
    data_dir = tmp_path_factory.mktemp("ingested-data")
    return Ingested(data_dir, ingest(data_dir, batch), (corrupt, text), database_url(data_dir))


@pytest.fixture(scope="session")
def ingested(sources: Sources, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    with pytest.MonkeyPatch.context() as patch:  # an SQLite data dir, whichever engine a module set meanwhile
        patch.delenv(DATABASE_ENV, raising=False)
        return _ingest_batch(sources, tmp_path_factory)


@pytest.fixture(scope="module")
def ingested_on_engine(module_database: str, sources: Sources, tmp_path_factory: pytest.TempPathFactory,
                       request: pytest.FixtureRequest) -> Ingested:
    """``ingested``, on the module's engine (a database of its own on PostgreSQL)."""
    with database_of_its_own(module_database, request):
        return _ingest_batch(sources, tmp_path_factory)


PLAYLIST_USERS = ("alice", "bob", "carol")


ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="module", params=ENGINES)
def module_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The engine of the module's servers: SQLite in their data dirs, or one PostgreSQL catalog for the module."""
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "sqlite":
            patch.delenv(DATABASE_ENV, raising=False)
        else:
            cluster: Cluster = request.getfixturevalue("postgres_cluster")
            patch.setenv(DATABASE_ENV, cluster.database(cluster.catalog_template()))
        yield request.param
        if request.param == "postgresql":
            dispose_engines()


@pytest.fixture
def database(module_database: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test's engine (the module's): on PostgreSQL a fresh catalog database of the test's own."""
    if module_database == "postgresql":
        cluster: Cluster = request.getfixturevalue("postgres_cluster")
        monkeypatch.setenv(DATABASE_ENV, cluster.database(cluster.catalog_template()))
    yield module_database
    if module_database == "postgresql":
        dispose_engines()


@pytest.fixture(scope="module")
def playlist_server(module_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """A real server of the module's own with the users alice, bob and carol (passwords ``NAME-pw``)."""
    data_dir = tmp_path_factory.mktemp("playlist-server")
    catalog = Catalog.open(data_dir)
    for name in PLAYLIST_USERS:
        create_user(catalog, name, f"{name}-pw", "GB")
    catalog.close()
    running = BundledServer(data_dir)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def clients(playlist_server: BundledServer) -> Iterator[dict[str, httpx.Client]]:
    """A logged-in client of ``playlist_server`` per user, by name."""
    sessions = {}
    for name in PLAYLIST_USERS:
        token = httpx.post(f"{playlist_server.url}/auth/login",
                           json={"username": name, "password": f"{name}-pw"}).json()
        sessions[name] = httpx.Client(base_url=playlist_server.url, timeout=30,
                                      headers={"Authorization": f"Bearer {token['token']}"})
    yield sessions
    for session in sessions.values():
        session.close()


@pytest.fixture(scope="module")
def demo_server(module_database: str, demo_data: Path, tmp_path_factory: pytest.TempPathFactory,
                request: pytest.FixtureRequest) -> Iterator[DemoServer]:
    """The demo catalog served on the module's engine, one server per engine. On PostgreSQL in a database of its
    own, not the module's: a module may start servers of its own beside it (each ``db copy`` needs an empty one)."""
    data_dir = tmp_path_factory.mktemp("demo-server") / "data"
    with database_of_its_own(module_database, request):
        copy_data_dir(demo_data, data_dir)
        started = start_server(data_dir)
        server = DemoServer(started.url, data_dir, started.handle, database_url(data_dir))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def demo_token(demo_server: DemoServer) -> str:
    return demo_user_token(demo_server.url)


@pytest.fixture(scope="module")
def server(module_database: str, demo_data: Path, tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[BundledServer]:
    """The module's own demo server, one per engine (so it depends on ``module_database``), users alice, bob and
    carol added (``users``). A module whose tests need another kind of server defines its own ``server``."""
    with own_server(demo_data, tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])) as running:
        yield running


@pytest.fixture(scope="module")
def users(server: BundledServer) -> Iterator[dict[str, httpx.Client]]:
    """A signed-in client for each user of ``server``, by name."""
    with signed_in(server) as sessions:
        yield sessions


@pytest.fixture(scope="module")
def server_database(server: BundledServer) -> sa.URL:
    """The database the module's server keeps (read while the module's engine is set, before any test's own)."""
    return database_url(server.data_dir)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    if binaries() is None:
        pytest.skip("PostgreSQL is not installed: the database tests need a real one (apt-get install postgresql)")
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    return postgres_cluster.database()

"""The ``legato-server`` command line: serve, ingest, demo, user add, release set, edge, warm, recs train,
catalog synth/import-metadata/delete-track, search reindex and db copy/upgrade.

Exit codes: 0 success, 1 partial failure (some files failed; each is printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from server.database import DATABASE_ENV
from server.edge import EDGE_ANNOUNCEMENT
from server.exceptions import ServerError

if TYPE_CHECKING:
    from server.ingest import IngestedTrack

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2
DEFAULT_PORT = 8765
URL_ANNOUNCEMENT = "LEGATO_SERVER_URL"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with _database_for_the_run(args):
            return int(args.run(args))
    except ServerError as exc:
        print(f"legato-server: {exc}", file=sys.stderr)
        return EXIT_PARTIAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="legato-server", description="Legato's bundled reference server.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the HTTP API", description="Serve the HTTP API; prints "
                                f"{URL_ANNOUNCEMENT}=<url> once it accepts connections.")
    _data_option(serve)
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"TCP port (default: {DEFAULT_PORT}; 0 lets the OS pick a free one)")
    serve.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"],
                       help="uvicorn's log level (default: warning)")
    serve.add_argument("--warm-edge", action="append", default=[], metavar="URL",
                       help="an edge to warm by itself with the albums releasing within 24 h (repeatable)")
    serve.set_defaults(run=_serve)

    ingest = commands.add_parser("ingest", help="ingest audio files or folders",
                                 description="Transcode, encrypt and catalog audio files (folders recursively).")
    _data_option(ingest)
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="an audio file or a folder")
    ingest.add_argument("--regions", type=_regions, default=None,
                        help="comma-separated ISO country codes where the tracks may play (default: GB,US,DE,FR,SE)")
    ingest.add_argument("--release-at", type=_instant, default=None, metavar="ISO8601",
                        help="schedule the albums of these files for this instant (e.g. 2026-12-04T00:00:00Z); "
                             "until then they are listed but do not play")
    ingest.set_defaults(run=_ingest)

    release = commands.add_parser("release", help="schedule album releases", description="Schedule releases.")
    release_commands = release.add_subparsers(dest="sub_command", metavar="RELEASE_COMMAND")
    release_set = release_commands.add_parser("set", help="set or move an album's release instant",
                                              description="Set or move an album's release instant.")
    _data_option(release_set)
    release_set.add_argument("--album", type=_positive_int, required=True, metavar="ID", help="the album's id")
    release_set.add_argument("--at", type=_instant, required=True, metavar="ISO8601",
                             help="the instant, with its zone (Z or +01:00)")
    release_set.add_argument("--jitter-ms", type=int, default=None, metavar="MS",
                             help="each client's random wait bound at the release instant (default: 2000)")
    release_set.set_defaults(run=_release_set)

    edge = commands.add_parser("edge", help="run an nginx edge cache in front of an origin",
                               description=f"Write an nginx configuration and run nginx in the foreground as a "
                               f"caching proxy of the origin; prints {EDGE_ANNOUNCEMENT}=<url> once it listens.")
    edge.add_argument("--origin", action="append", required=True, metavar="URL",
                      help="the origin server, http://HOST:PORT; repeat it for several instances on one database")
    edge.add_argument("--listen", required=True, metavar="HOST:PORT", help="where the edge listens")
    edge.add_argument("--cache-dir", type=Path, required=True, metavar="DIR",
                      help="the edge's folder: cache, configuration, pid, temp files and logs")
    edge.add_argument("--size", default="10g", help="the cache's bound (default: 10g)")
    edge.set_defaults(run=_edge)

    warm = commands.add_parser("warm", help="pull albums through edges before their release",
                               description="Pull every slice of an album's files through each edge; resumable.")
    _data_option(warm)
    warm.add_argument("--edge", action="append", required=True, metavar="URL", help="an edge (repeatable)")
    which = warm.add_mutually_exclusive_group(required=True)
    which.add_argument("--album", type=_positive_int, action="append", metavar="ID", help="an album (repeatable)")
    which.add_argument("--releasing-within", type=_duration, metavar="24h",
                       help="every album whose release falls within this time from now (e.g. 24h, 90m)")
    warm.set_defaults(run=_warm)

    demo = commands.add_parser("demo", help="build the synthesized demo catalog and the demo user",
                               description="Render demo albums, ingest them and add the user demo/demo.")
    _data_option(demo)
    demo.add_argument("--albums", type=_positive_int, default=4, help="number of albums (default: 4)")
    demo.add_argument("--seconds-per-track", type=_positive_float, default=90.0,
                      help="approximate track length in seconds (default: 90)")
    demo.add_argument("--sampler-albums", type=int, default=14, help="short albums by more artists, three tracks "
                      "each, so Discover Weekly has 30 fresh picks (default: 14; 0: none)")
    demo.add_argument("--listeners", type=int, default=60,
                      help="synthetic listeners with planted tastes, for recommendations (default: 60; 0: none)")
    demo.set_defaults(run=_demo)

    user = commands.add_parser("user", help="manage users", description="Manage users.")
    user_commands = user.add_subparsers(dest="sub_command", metavar="USER_COMMAND")
    add = user_commands.add_parser("add", help="add a user", description="Add a user. Without --password the "
                                   "password is prompted for on a terminal, or read as one line from stdin.")
    add.add_argument("name", help="the user name")
    _data_option(add)
    add.add_argument("--password", help="the password (prompted for when absent)")
    add.add_argument("--region", type=_region, default="GB", help="ISO country code of the user (default: GB)")
    add.set_defaults(run=_user_add)

    recs = commands.add_parser("recs", help="the recommender", description="The recommender's model.")
    recs_commands = recs.add_subparsers(dest="sub_command", metavar="RECS_COMMAND")
    train = recs_commands.add_parser("train", help="train the recommendation model now",
                                     description="Compute missing audio vectors, train ALS on the listening "
                                     "history, rebuild the nearest-neighbour index, store it in the data dir.")
    _data_option(train)
    train.add_argument("--threads", type=_positive_int, default=None, help="CPU threads (default: every core)")
    train.set_defaults(run=_recs_train)
    _catalog_commands(commands)
    _search_commands(commands)
    _db_commands(commands)
    return parser


def _catalog_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = commands.add_parser("catalog", help="metadata-only tracks and catalog edits",
                                  description="Metadata-only tracks (no audio) and catalog edits.")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", metavar="CATALOG_COMMAND")
    synth = catalog_commands.add_parser(
        "synth", help="add N synthetic metadata-only tracks", description="Add N synthetic metadata-only tracks "
        "(no audio; for benchmarks and load tests) named from /usr/share/dict/words, Zipf popularity.")
    _data_option(synth)
    synth.add_argument("--tracks", type=_positive_int, required=True, metavar="N", help="how many tracks")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    synth.set_defaults(run=_catalog_synth)
    load = catalog_commands.add_parser(
        "import-metadata", help="add metadata-only tracks from a JSON Lines file",
        description="Add metadata-only tracks (no audio) from JSON Lines: one object per line with title, "
        "artist and optionally album, popularity (0-100), regions, popularity_by_region, duration_s.")
    _data_option(load)
    load.add_argument("file", type=Path, metavar="FILE.jsonl", help="the JSON Lines file")
    load.set_defaults(run=_catalog_import)
    delete = catalog_commands.add_parser("delete-track", help="remove a track and its encrypted files",
                                         description="Remove a track, its files, and its album and artist when "
                                         "nothing else is theirs.")
    _data_option(delete)
    delete.add_argument("track_id", type=_positive_int, metavar="TRACK_ID", help="the track's id")
    delete.set_defaults(run=_catalog_delete)


def _search_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = commands.add_parser("search", help="the search index", description="The search index.")
    search_commands = search.add_subparsers(dest="search_command", metavar="SEARCH_COMMAND")
    reindex = search_commands.add_parser("reindex", help="rebuild the search index from the catalog",
                                         description="Rebuild the search index from the catalog (stop the server "
                                         "first: it keeps the index in step by itself).")
    _data_option(reindex)
    reindex.set_defaults(run=_search_reindex)


def _db_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="the server's database (SQLite or PostgreSQL)",
                             description="The server's database: SQLite in the data dir, or PostgreSQL.")
    db_commands = db.add_subparsers(dest="db_command", metavar="DB_COMMAND")
    copy = db_commands.add_parser("copy", help="copy the data dir's SQLite catalog into an empty PostgreSQL",
                                  description="Copy every row of the data dir's SQLite catalog into an empty "
                                  "PostgreSQL database (schema created first, one transaction).")
    _data_option(copy, "the data folder whose catalog.db to copy", database=False)
    copy.add_argument("--to", required=True, metavar="URL", help="the target, postgresql://USER@HOST:PORT/NAME")
    copy.set_defaults(run=_db_copy)
    upgrade = db_commands.add_parser("upgrade", help="bring the database's schema to the current one",
                                     description="Create the tables, columns and indexes the database lacks "
                                     f"(SQLite in the data dir unless --database or {DATABASE_ENV} says else).")
    _data_option(upgrade, "the server's data folder (an existing one)")
    upgrade.set_defaults(run=_db_upgrade)


def _data_option(parser: argparse.ArgumentParser,
                 meaning: str = "the server's data folder (catalog and encrypted origin); created if missing",
                 database: bool = True) -> None:
    """``--data`` and (unless ``database`` is False) ``--database``, which ``main`` applies to the run."""
    parser.add_argument("--data", type=Path, required=True, metavar="DIR", help=meaning)
    if database:
        parser.add_argument("--database", metavar="URL", default=None,
                            help=f"postgresql://USER@HOST:PORT/NAME (default: ${DATABASE_ENV}, else DIR/catalog.db)")


@contextmanager
def _database_for_the_run(args: argparse.Namespace) -> Iterator[None]:
    """Every part of a command (and each process it starts) opens the catalog from the data dir and
    LEGATO_DATABASE_URL, so ``--database`` (checked first) is that while the command runs, and only then."""
    if not getattr(args, "database", None):
        yield
        return
    from server.database import database_url

    before = os.environ.get(DATABASE_ENV)
    os.environ[DATABASE_ENV] = database_url(args.data, args.database).render_as_string(hide_password=False)
    try:
        yield
    finally:
        if before is None:
            del os.environ[DATABASE_ENV]
        else:
            os.environ[DATABASE_ENV] = before


def _serve(args: argparse.Namespace) -> int:
    from server.app import create_app
    from server.catalog import Catalog
    from server.warm import BackgroundWarmer

    Catalog.open(args.data).close()  # an unreachable database is said now, not at the first request
    app = create_app(args.data)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP explicitly: only then does asyncio turn Nagle off on accepted connections (~40 ms/request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(f"legato-server: cannot listen on {args.host}:{args.port} ({exc.strerror})", file=sys.stderr)
        return EXIT_USAGE
    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if family == socket.AF_INET6 else host}:{port}"
    # A bounded graceful shutdown: a client streaming a long file must not hold a stop request hostage.
    config = uvicorn.Config(app, log_level=args.log_level, timeout_graceful_shutdown=5)
    warmer = BackgroundWarmer(args.data, args.warm_edge) if args.warm_edge else None

    def on_exit() -> None:
        app.state.playlist_hub.close()
        if warmer is not None:
            warmer.stop()

    server = _AnnouncingServer(config, url, on_exit=on_exit)
    if warmer is not None:
        warmer.start()
    server.run(sockets=[sock])
    return EXIT_OK


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints its URL on stdout once its socket accepts connections."""

    def __init__(self, config: uvicorn.Config, url: str, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self.url = url
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(f"{URL_ANNOUNCEMENT}={self.url}", flush=True)


def _ingest(args: argparse.Namespace) -> int:
    from server.ingest import DEFAULT_REGIONS, ingest

    report = ingest(args.data, args.paths, regions=args.regions or DEFAULT_REGIONS, progress=print)
    for failure in report.failures:
        print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    if args.release_at is not None:
        _schedule(args.data, report.tracks, args.release_at)
    added = sum(not track.duplicate for track in report.tracks)
    print(f"{added} ingested, {len(report.tracks) - added} already present, {len(report.failures)} failed")
    return EXIT_OK if report.ok else EXIT_PARTIAL


def _schedule(data_dir: Path, tracks: Sequence[IngestedTrack], at: datetime) -> None:
    from server.catalog import Catalog
    from server.releases import format_instant, set_release

    catalog = Catalog.open(data_dir)
    try:
        for album_id in sorted({catalog.track_album_id(track.track_id) for track in tracks}):
            set_release(catalog, album_id, at)
            print(f"album {album_id} releases at {format_instant(at)}")
    finally:
        catalog.close()


def _release_set(args: argparse.Namespace) -> int:
    from server.catalog import Catalog
    from server.releases import format_instant, set_release

    catalog = Catalog.open(args.data)
    try:
        set_release(catalog, args.album, args.at, args.jitter_ms)
    finally:
        catalog.close()
    print(f"album {args.album} releases at {format_instant(args.at)}")
    return EXIT_OK


def _edge(args: argparse.Namespace) -> int:
    from server.edge import EdgeConfig, run

    return run(EdgeConfig.parse(args.origin, args.listen, args.cache_dir, args.size))


def _warm(args: argparse.Namespace) -> int:
    from server.warm import albums_releasing_within, warm

    album_ids = args.album or albums_releasing_within(args.data, args.releasing_within)
    if not album_ids:
        print("no album to warm")
        return EXIT_OK
    warm(args.data, args.edge, album_ids)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from server.demo import build_demo

    build_demo(args.data, albums=args.albums, seconds_per_track=args.seconds_per_track,
               sampler_albums=max(0, args.sampler_albums), listeners=max(0, args.listeners))
    return EXIT_OK


def _recs_train(args: argparse.Namespace) -> int:
    from server.recs.model import Settings
    from server.recs.training import train_data_dir

    print(train_data_dir(args.data, Settings(threads=args.threads or 0)))
    return EXIT_OK


def _user_add(args: argparse.Namespace) -> int:
    from server.auth import create_user
    from server.catalog import Catalog

    password = args.password if args.password is not None else _read_password()
    if not password:
        print("legato-server: the password must not be empty", file=sys.stderr)
        return EXIT_USAGE
    catalog = Catalog.open(args.data)
    try:
        user = create_user(catalog, args.name, password, args.region)
    finally:
        catalog.close()
    print(f"added user {user.name!r} (id {user.id}, region {user.region})")
    return EXIT_OK


def _catalog_synth(args: argparse.Namespace) -> int:
    from server.catalog_synth import synth

    added = synth(args.data, args.tracks, args.seed, progress=lambda n: print(f"{n} tracks added", flush=True))
    print(f"{added} synthetic metadata-only tracks added (no audio; for benchmarks and load tests)")
    return EXIT_OK


def _catalog_import(args: argparse.Namespace) -> int:
    from server.metadata_import import import_file

    try:
        report = import_file(args.data, args.file)
    except OSError as exc:
        print(f"legato-server: cannot read {args.file} ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_USAGE
    for failure in report.failures:
        print(f"failed: {args.file}: {failure}", file=sys.stderr)
    print(f"{report.added} metadata-only tracks added, {report.present} already present, "
          f"{len(report.failures)} lines failed")
    return EXIT_PARTIAL if report.failures else EXIT_OK


def _catalog_delete(args: argparse.Namespace) -> int:
    from server.catalog import Catalog
    from server.origin import origin_path

    catalog = Catalog.open(args.data)
    try:
        exists = catalog.query_one("SELECT id FROM tracks WHERE id = ?", [args.track_id]) is not None
        files = catalog.delete_track(args.track_id)
    finally:
        catalog.close()
    if not exists:
        print(f"legato-server: there is no track with id {args.track_id}", file=sys.stderr)
        return EXIT_PARTIAL
    for file_id in files:
        origin_path(args.data, file_id).unlink(missing_ok=True)
    print(f"deleted track {args.track_id} and {len(files)} files")
    return EXIT_OK


def _search_reindex(args: argparse.Namespace) -> int:
    from server.catalog import Catalog
    from server.search_index import SearchIndex

    catalog = Catalog.open(args.data)
    try:
        index = SearchIndex(args.data)
        print(f"search index {index.rebuild(catalog)}: {index.documents} documents")
    except ValueError as exc:  # tantivy's error for a writer lock held by a running server, among others
        print(f"legato-server: cannot rebuild the search index ({exc}); is a server running on {args.data}?",
              file=sys.stderr)
        return EXIT_PARTIAL
    finally:
        catalog.close()
    return EXIT_OK


def _db_copy(args: argparse.Namespace) -> int:
    from server.database import database_url
    from server.database_copy import copy_catalog

    copied = copy_catalog(args.data, database_url(args.data, args.to), progress=lambda line: print(line, flush=True))
    print(f"copied {sum(copied.values())} rows of {len(copied)} tables")
    return EXIT_OK


def _db_upgrade(args: argparse.Namespace) -> int:
    from server.catalog_connection import upgrade
    from server.database import database_url

    url = database_url(args.data, args.database)
    added = upgrade(args.data, url)
    for change in added:
        print(f"added {change}")
    print(f"{url.render_as_string()}: schema is current")
    return EXIT_OK


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


def _region(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a two-letter ISO country code")
    return value.upper()


def _regions(value: str) -> tuple[str, ...]:
    return tuple(_region(part.strip()) for part in value.split(",") if part.strip())


def _positive_int(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def _instant(value: str) -> datetime:
    from server.releases import parse_instant

    try:
        return parse_instant(value)
    except ServerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _duration(value: str) -> timedelta:
    match = re.fullmatch(r"([0-9]+)([smhd])", value.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration such as 24h, 90m or 2d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number")
    return number

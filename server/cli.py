"""The ``legato-server`` command line: serve, ingest, demo, user add, release set, edge, warm, recs train, and
(``server/cli_admin.py``) catalog synth/import-metadata/delete-track, search reindex and db copy/upgrade.

Exit codes: 0 success, 1 partial failure (some files failed; each is printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from server.cli_admin import add_admin_commands
from server.cli_args import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    data_option,
    database_for_the_run,
    duration,
    instant,
    positive_float,
    positive_int,
    region,
    regions,
)
from server.edge import EDGE_ANNOUNCEMENT
from server.exceptions import ServerError

if TYPE_CHECKING:
    from server.ingest import IngestedTrack

__all__ = ["EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "URL_ANNOUNCEMENT", "main"]

DEFAULT_PORT = 8765
URL_ANNOUNCEMENT = "LEGATO_SERVER_URL"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with database_for_the_run(args):
            return int(args.run(args))
    except ServerError as exc:
        print(f"legato-server: {exc}", file=sys.stderr)
        return EXIT_PARTIAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="legato-server", description="Legato's bundled reference server.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the HTTP API", description="Serve the HTTP API; prints "
                                f"{URL_ANNOUNCEMENT}=<url> once it accepts connections.")
    data_option(serve)
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
    data_option(ingest)
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="an audio file or a folder")
    ingest.add_argument("--regions", type=regions, default=None,
                        help="comma-separated ISO country codes where the tracks may play (default: GB,US,DE,FR,SE)")
    ingest.add_argument("--release-at", type=instant, default=None, metavar="ISO8601",
                        help="schedule the albums of these files for this instant (e.g. 2026-12-04T00:00:00Z); "
                             "until then they are listed but do not play")
    ingest.set_defaults(run=_ingest)

    release = commands.add_parser("release", help="schedule album releases", description="Schedule releases.")
    release_commands = release.add_subparsers(dest="sub_command", metavar="RELEASE_COMMAND")
    release_set = release_commands.add_parser("set", help="set or move an album's release instant",
                                              description="Set or move an album's release instant.")
    data_option(release_set)
    release_set.add_argument("--album", type=positive_int, required=True, metavar="ID", help="the album's id")
    release_set.add_argument("--at", type=instant, required=True, metavar="ISO8601",
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
    data_option(warm)
    warm.add_argument("--edge", action="append", required=True, metavar="URL", help="an edge (repeatable)")
    which = warm.add_mutually_exclusive_group(required=True)
    which.add_argument("--album", type=positive_int, action="append", metavar="ID", help="an album (repeatable)")
    which.add_argument("--releasing-within", type=duration, metavar="24h",
                       help="every album whose release falls within this time from now (e.g. 24h, 90m)")
    warm.set_defaults(run=_warm)

    demo = commands.add_parser("demo", help="build the synthesized demo catalog and the demo user",
                               description="Render demo albums, ingest them and add the user demo/demo.")
    data_option(demo)
    demo.add_argument("--albums", type=positive_int, default=4, help="number of albums (default: 4)")
    demo.add_argument("--seconds-per-track", type=positive_float, default=90.0,
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
    data_option(add)
    add.add_argument("--password", help="the password (prompted for when absent)")
    add.add_argument("--region", type=region, default="GB", help="ISO country code of the user (default: GB)")
    add.set_defaults(run=_user_add)

    recs = commands.add_parser("recs", help="the recommender", description="The recommender's model.")
    recs_commands = recs.add_subparsers(dest="sub_command", metavar="RECS_COMMAND")
    train = recs_commands.add_parser("train", help="train the recommendation model now",
                                     description="Compute missing audio vectors, train ALS on the listening "
                                     "history, rebuild the nearest-neighbour index, store it in the data dir.")
    data_option(train)
    train.add_argument("--threads", type=positive_int, default=None, help="CPU threads (default: every core)")
    train.set_defaults(run=_recs_train)
    add_admin_commands(commands)
    return parser


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


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")

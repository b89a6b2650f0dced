"""The ``legato-server`` command line: serve, ingest, demo, user add, catalog synth/import-metadata/delete-track and
search reindex.

Exit codes: 0 success, 1 partial failure (some files failed; each is printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import re
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import uvicorn

from server.exceptions import ServerError

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
    serve.set_defaults(run=_serve)

    ingest = commands.add_parser("ingest", help="ingest audio files or folders",
                                 description="Transcode, encrypt and catalog audio files (folders recursively).")
    _data_option(ingest)
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="an audio file or a folder")
    ingest.add_argument("--regions", type=_regions, default=None,
                        help="comma-separated ISO country codes where the tracks may play (default: GB,US,DE,FR,SE)")
    ingest.set_defaults(run=_ingest)

    demo = commands.add_parser("demo", help="build the synthesized demo catalog and the demo user",
                               description="Render demo albums, ingest them and add the user demo/demo.")
    _data_option(demo)
    demo.add_argument("--albums", type=_positive_int, default=4, help="number of albums (default: 4)")
    demo.add_argument("--seconds-per-track", type=_positive_float, default=90.0,
                      help="approximate track length in seconds (default: 90)")
    demo.set_defaults(run=_demo)

    user = commands.add_parser("user", help="manage users", description="Manage users.")
    user_commands = user.add_subparsers(dest="user_command", metavar="USER_COMMAND")
    add = user_commands.add_parser("add", help="add a user", description="Add a user. Without --password the "
                                   "password is prompted for on a terminal, or read as one line from stdin.")
    add.add_argument("name", help="the user name")
    _data_option(add)
    add.add_argument("--password", help="the password (prompted for when absent)")
    add.add_argument("--region", type=_region, default="GB", help="ISO country code of the user (default: GB)")
    add.set_defaults(run=_user_add)
    _catalog_commands(commands)
    _search_commands(commands)
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


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, metavar="DIR",
                        help="the server's data folder (catalog and encrypted origin); created if missing")


def _serve(args: argparse.Namespace) -> int:
    from server.app import create_app

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
    server = _AnnouncingServer(config, url, on_exit=app.state.playlist_hub.close)
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
    added = sum(not track.duplicate for track in report.tracks)
    print(f"{added} ingested, {len(report.tracks) - added} already present, {len(report.failures)} failed")
    return EXIT_OK if report.ok else EXIT_PARTIAL


def _demo(args: argparse.Namespace) -> int:
    from server.demo import build_demo

    build_demo(args.data, albums=args.albums, seconds_per_track=args.seconds_per_track)
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


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number")
    return number

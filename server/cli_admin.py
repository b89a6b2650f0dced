"""The operator's catalog, search-index and database commands of ``legato-server`` (``catalog``, ``search``, ``db``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.cli_args import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, data_option, positive_int
from server.database import DATABASE_ENV


def add_admin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``catalog``, ``search`` and ``db`` to the command line's subcommands."""
    _catalog_commands(commands)
    _search_commands(commands)
    _db_commands(commands)


def _catalog_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = commands.add_parser("catalog", help="metadata-only tracks and catalog edits",
                                  description="Metadata-only tracks (no audio) and catalog edits.")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", metavar="CATALOG_COMMAND")
    synth = catalog_commands.add_parser(
        "synth", help="add N synthetic metadata-only tracks", description="Add N synthetic metadata-only tracks "
        "(no audio; for benchmarks and load tests) named from /usr/share/dict/words, Zipf popularity.")
    data_option(synth)
    synth.add_argument("--tracks", type=positive_int, required=True, metavar="N", help="how many tracks")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    synth.set_defaults(run=_catalog_synth)
    load = catalog_commands.add_parser(
        "import-metadata", help="add metadata-only tracks from a JSON Lines file",
        description="Add metadata-only tracks (no audio) from JSON Lines: one object per line with title, "
        "artist and optionally album, popularity (0-100), regions, popularity_by_region, duration_s.")
    data_option(load)
    load.add_argument("file", type=Path, metavar="FILE.jsonl", help="the JSON Lines file")
    load.set_defaults(run=_catalog_import)
    delete = catalog_commands.add_parser("delete-track", help="remove a track and its encrypted files",
                                         description="Remove a track, its files, and its album and artist when "
                                         "nothing else is theirs.")
    data_option(delete)
    delete.add_argument("track_id", type=positive_int, metavar="TRACK_ID", help="the track's id")
    delete.set_defaults(run=_catalog_delete)


def _search_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = commands.add_parser("search", help="the search index", description="The search index.")
    search_commands = search.add_subparsers(dest="search_command", metavar="SEARCH_COMMAND")
    reindex = search_commands.add_parser("reindex", help="rebuild the search index from the catalog",
                                         description="Rebuild the search index from the catalog (stop the server "
                                         "first: it keeps the index in step by itself).")
    data_option(reindex)
    reindex.set_defaults(run=_search_reindex)


def _db_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="the server's database (SQLite or PostgreSQL)",
                             description="The server's database: SQLite in the data dir, or PostgreSQL.")
    db_commands = db.add_subparsers(dest="db_command", metavar="DB_COMMAND")
    copy = db_commands.add_parser("copy", help="copy the data dir's SQLite catalog into an empty PostgreSQL",
                                  description="Copy every row of the data dir's SQLite catalog into an empty "
                                  "PostgreSQL database (schema created first, one transaction).")
    data_option(copy, "the data folder whose catalog.db to copy", database=False)
    copy.add_argument("--to", required=True, metavar="URL", help="the target, postgresql://USER@HOST:PORT/NAME")
    copy.set_defaults(run=_db_copy)
    upgrade = db_commands.add_parser("upgrade", help="bring the database's schema to the current one",
                                     description="Create the tables, columns and indexes the database lacks "
                                     f"(SQLite in the data dir unless --database or {DATABASE_ENV} says else).")
    data_option(upgrade, "the server's data folder (an existing one)")
    upgrade.set_defaults(run=_db_upgrade)


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

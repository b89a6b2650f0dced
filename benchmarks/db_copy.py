"""Benchmark of moving a household catalog to PostgreSQL (issue 18). Not a test: prints figures, then one JSON line.

  python -m benchmarks.db_copy [--tracks 100000] [--seed 18]

Builds a metadata-only catalog with ``catalog synth``, starts a private PostgreSQL cluster (its start cost and a
fresh database's are figures too, the price the test fixtures pay), then times ``db copy`` into an empty
database. Baseline, same run: reading every row of the same tables from SQLite through the same select, the
copy's read half alone.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from server.catalog_synth import synth
from server.database import create_engine, database_url
from server.database_copy import copy_catalog
from server.schema import schema
from tests.helpers.postgres import running_cluster


def _read_every_row(data_dir: Path) -> int:
    engine = create_engine(database_url(data_dir))
    rows = 0
    with engine.connect() as connection:
        for table in schema().sorted_tables:
            result = connection.execution_options(yield_per=5000).execute(sa.select(table).order_by(table.c.id))
            rows += sum(len(batch) for batch in result.partitions())
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="legato-db-copy-") as folder:
        data_dir = Path(folder)
        started = time.perf_counter()
        synth(data_dir, args.tracks, args.seed)
        print(f"catalog synth: {args.tracks} tracks in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        rows = _read_every_row(data_dir)
        read_s = time.perf_counter() - started
        print(f"read every row from SQLite (baseline): {rows} rows in {read_s:.2f} s")
        started = time.perf_counter()
        with running_cluster() as cluster:
            cluster_s = time.perf_counter() - started
            started = time.perf_counter()
            url = cluster.database()
            database_s = time.perf_counter() - started
            print(f"private cluster started in {cluster_s:.2f} s; a fresh database in {database_s * 1000:.0f} ms")
            started = time.perf_counter()
            copied = copy_catalog(data_dir, sa.make_url(url), progress=lambda line: None)
            copy_s = time.perf_counter() - started
    assert sum(copied.values()) == rows, (copied, rows)
    print(f"db copy: {rows} rows in {copy_s:.2f} s ({rows / copy_s:,.0f} rows/s), "
          f"{copy_s / read_s:.1f}x the read alone")
    print(json.dumps({"tracks": args.tracks, "rows": rows, "read_s": round(read_s, 3), "copy_s": round(copy_s, 3),
                      "copy_rows_per_s": round(rows / copy_s), "copy_vs_read": round(copy_s / read_s, 2),
                      "cluster_start_s": round(cluster_s, 3), "fresh_database_ms": round(database_s * 1000, 1)}))


if __name__ == "__main__":
    main()

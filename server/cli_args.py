"""The command line's shared parts: exit codes, argument types, ``--data``/``--database`` and how a run uses them."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from server.database import DATABASE_ENV
from server.exceptions import ServerError

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def data_option(parser: argparse.ArgumentParser,
                 meaning: str = "the server's data folder (catalog and encrypted origin); created if missing",
                 database: bool = True) -> None:
    """``--data`` and (unless ``database`` is False) ``--database``, which ``main`` applies to the run."""
    parser.add_argument("--data", type=Path, required=True, metavar="DIR", help=meaning)
    if database:
        parser.add_argument("--database", metavar="URL", default=None,
                            help=f"postgresql://USER@HOST:PORT/NAME (default: ${DATABASE_ENV}, else DIR/catalog.db)")


@contextmanager
def database_for_the_run(args: argparse.Namespace) -> Iterator[None]:
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


def region(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a two-letter ISO country code")
    return value.upper()


def regions(value: str) -> tuple[str, ...]:
    return tuple(region(part.strip()) for part in value.split(",") if part.strip())


def positive_int(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def instant(value: str) -> datetime:
    from server.releases import parse_instant

    try:
        return parse_instant(value)
    except ServerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def duration(value: str) -> timedelta:
    match = re.fullmatch(r"([0-9]+)([smhd])", value.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration such as 24h, 90m or 2d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number")
    return number

"""Which Discover Weekly week it is for a user: weeks start on Monday at midnight in the user's region.

A region (ISO country code) maps to the first time zone tzdata lists for it (``zone.tab``); unknown: UTC.
"""

from __future__ import annotations

import functools
import importlib.resources
import zoneinfo
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

_UTC = zoneinfo.ZoneInfo("UTC")


def week_of(region: str, now: datetime) -> date:
    """The Monday that starts the week ``now`` (aware) falls in, at the region's local time."""
    local = now.astimezone(zone_of(region)).date()
    return local - timedelta(days=local.weekday())


def zone_of(region: str) -> tzinfo:
    name = _zones().get(region.upper())
    try:
        return zoneinfo.ZoneInfo(name) if name else _UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return _UTC


@functools.cache
def _zones() -> dict[str, str]:
    """Country code -> its first listed zone, from the system's tz database or the tzdata package."""
    for folder in zoneinfo.TZPATH:
        table = Path(folder) / "zone.tab"
        if table.is_file():
            return _parsed(table.read_text(encoding="utf-8"))
    resource = importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab")
    return _parsed(resource.read_text(encoding="utf-8"))


def _parsed(text: str) -> dict[str, str]:
    zones: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            zones.setdefault(fields[0], fields[2])
    return zones

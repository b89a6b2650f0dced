"""A user's listening as pictures need it: time heard per week (weeks start on Monday in the user's region, as
Discover Weekly's do) and the artists and tracks they heard most over the last days. Only the owner reads it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from server import browse
from server.catalog import Catalog
from server.recs.weeks import week_of, zone_of

TOP = 5


def summary(catalog: Catalog, user_id: int, region: str, now: datetime, weeks: int, days: int) -> dict[str, Any]:
    """``weeks`` weeks of time heard (oldest first, this week last, empty weeks included) and the top artists and
    tracks by time heard over the last ``days`` days."""
    first_week = week_of(region, now) - timedelta(weeks=weeks - 1)
    weeks_from = int(datetime.combine(first_week, datetime.min.time(), zone_of(region)).timestamp() * 1000)
    recent_from = int((now - timedelta(days=days)).timestamp() * 1000)
    rows = catalog.query("SELECT track_id, started_ms, ms_played FROM plays WHERE user_id = ? AND started_ms >= ?",
                         [user_id, min(weeks_from, recent_from)])
    per_week = {first_week + timedelta(weeks=n): 0 for n in range(weeks)}
    per_track: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        week = week_of(region, datetime.fromtimestamp(int(row["started_ms"]) / 1000, UTC))
        if week in per_week:
            per_week[week] += int(row["ms_played"])
        if int(row["started_ms"]) >= recent_from:
            heard = per_track[int(row["track_id"])]
            heard[0] += int(row["ms_played"])
            heard[1] += 1
    tracks = browse.tracks_by_id(catalog, sorted(per_track))
    per_track = {track_id: heard for track_id, heard in per_track.items() if track_id in tracks}
    per_artist: dict[int, list[Any]] = {}
    for track_id, (ms, count) in per_track.items():
        track = tracks[track_id]
        artist = per_artist.setdefault(int(track["artist_id"]), [track["artist"], 0, 0])
        artist[1] += ms
        artist[2] += count
    top_tracks = sorted(per_track.items(), key=lambda item: (-item[1][0], item[0]))[:TOP]
    top_artists = sorted(per_artist.items(), key=lambda item: (-item[1][1], item[0]))[:TOP]
    return {
        "weeks": [{"week_of": week.isoformat(), "ms_played": ms} for week, ms in per_week.items()],
        "days": days,
        "top_tracks": [{"track": tracks[track_id], "ms_played": ms, "plays": count}
                       for track_id, (ms, count) in top_tracks],
        "top_artists": [{"artist_id": artist_id, "name": name, "ms_played": ms, "plays": count}
                        for artist_id, (name, ms, count) in top_artists],
    }

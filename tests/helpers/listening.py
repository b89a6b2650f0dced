"""Made-up catalog records and plays for the history tests (real tracks come from the server), and what the server
holds of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from client.api import ApiClient
from client.catalog import Track
from client.listening import PlayContext, PlayEnded

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ALBUM_ONE = PlayContext("album", "1")


def a_track(track_id: int) -> Track:
    return Track(id=track_id, title=f"Song {track_id}", artist_id=1, artist="Artist", album_id=1, album="Album",
                 disc_no=1, track_no=track_id, duration_s=180.0, duration_samples=180 * 48000, sample_rate=48000,
                 popularity=0, loudness_lufs=None, peak_dbfs=None)


def a_play(track: Track, started_at: datetime = START, minutes: int = 0, *, completed: bool = False,
           skipped: bool = True, context: PlayContext = ALBUM_ONE) -> PlayEnded:
    """A play of ``track`` heard for 42 s, ``minutes`` after ``started_at``."""
    return PlayEnded(track=track, context=context, started_at=started_at + timedelta(minutes=minutes),
                     ms_played=42_000, completed=completed, skipped=skipped)


def server_plays(api: ApiClient, among: list[str]) -> list[str]:
    """The ids of the user's plays on the server that are among ``among``, as often as the server has each (the
    copied demo data dir may hold plays of its own)."""
    return [str(play["id"]) for play in api.plays(limit=500)["plays"] if str(play["id"]) in among]

"""Discover Weekly as the server sends it (``GET /me/discover-weekly``): the week's picks, each with its reason.

Parsed once where the JSON arrives; a malformed answer is refused here with what is wrong. Nothing here fetches.
"""

from __future__ import annotations

from dataclasses import dataclass

from client import catalog
from client.catalog import MalformedRecord, Track


@dataclass(frozen=True, slots=True, kw_only=True)
class Pick:
    """One track picked for the user, and why: "Because you played <one of their own tracks>"."""

    track: Track
    reason_text: str
    because_of: int | None  # the track id of the user's own play it stems from


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoverWeekly:
    """This week's playlist made for the user (a real, read-only playlist with ``playlist_id``)."""

    playlist_id: str
    week_of: str  # YYYY-MM-DD
    picks: tuple[Pick, ...]

    @property
    def tracks(self) -> list[Track]:
        return [pick.track for pick in self.picks]


def discover_weekly(raw: object) -> DiscoverWeekly:
    """The API's JSON for Discover Weekly; MalformedRecord naming what it lacks or has wrong."""
    if not isinstance(raw, dict) or not isinstance(raw.get("tracks"), list):
        raise MalformedRecord("the server sent Discover Weekly without its list of tracks")
    picks = []
    for index, item in enumerate(raw["tracks"]):
        if not isinstance(item, dict):
            raise MalformedRecord(f"the server sent Discover Weekly pick {index} as a {type(item).__name__}")
        reason = item.get("reason")
        because = reason.get("track_id") if isinstance(reason, dict) else None
        picks.append(Pick(track=catalog.track(item.get("track")), reason_text=str(item.get("reason_text") or ""),
                          because_of=because if isinstance(because, int) else None))
    return DiscoverWeekly(playlist_id=str(raw.get("playlist_id", "")), week_of=str(raw.get("week_of", "")),
                          picks=tuple(picks))

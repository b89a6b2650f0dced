"""The recommendation endpoints: the caller's Discover Weekly (``/me/discover-weekly``) and track radio.

Discover Weekly is only ever the caller's own; radio needs a login like every catalog read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from server import browse, plays
from server.exceptions import ApiError
from server.playlist_hub import PlaylistHub
from server.recs.service import Recommender
from server.responses import errors
from server.routes import CatalogDep, Id, UserDep

MAX_EXCLUDED = 1000
router = APIRouter()


def recommender_of(request: Request) -> Recommender:
    recommender: Recommender = request.app.state.recommender
    return recommender


@router.get("/me/discover-weekly", responses=errors(401))
def get_discover_weekly(request: Request, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """This week's 30 fresh tracks for the caller, each with the played track it is there because of.

    ``playlist_id`` is a real playlist the caller follows (read-only): GET /playlists lists it.
    """
    hub: PlaylistHub = request.app.state.playlist_hub
    week = recommender_of(request).weekly(catalog, hub, user, datetime.now(UTC))
    ids = sorted({int(pick["track_id"]) for pick in week.picks}
                 | {int(pick["reason_track_id"]) for pick in week.picks if pick["reason_track_id"] is not None})
    tracks = browse.tracks_by_id(catalog, ids)
    listed = []
    for pick in week.picks:
        track = tracks.get(int(pick["track_id"]))
        if track is None:
            continue  # removed from the catalog since the week was made
        reason = tracks.get(pick["reason_track_id"]) if pick["reason_track_id"] is not None else None
        listed.append({"track": track,
                       "reason": None if reason is None else {"track_id": reason["id"], "title": reason["title"],
                                                              "artist": reason["artist"]},
                       "reason_text": f"Because you played {reason['title']}" if reason else "Popular on Legato"})
    return {"playlist_id": week.playlist_id, "generated_at": plays.iso_utc(week.generated_ms),
            "week_of": week.week_of, "tracks": listed}


@router.get("/tracks/{track_id}/radio", responses=errors(401, 404, 422))
def get_radio(track_id: Id, request: Request, catalog: CatalogDep, user: UserDep,
              limit: Annotated[int, Query(ge=1, le=100)] = 25,
              exclude: Annotated[str, Query(max_length=20_000, pattern=r"^[0-9]{0,19}(,[0-9]{0,19})*$",
                                            description="comma-separated track ids never to return")] = "",
              ) -> dict[str, Any]:
    """The track's nearest neighbours (by play patterns and sound), none in ``exclude``, never the same artist
    twice in a row (nor the seed's artist first)."""
    seed = browse.track(catalog, track_id)
    if seed is None:
        raise ApiError(404, "not_found", f"there is no track with id {track_id}")
    excluded = {int(part) for part in exclude.split(",") if part}
    if len(excluded) > MAX_EXCLUDED:
        raise ApiError(422, "invalid_request", f"exclude names {len(excluded)} tracks; at most {MAX_EXCLUDED}")
    neighbours = recommender_of(request).radio(catalog, track_id, limit, excluded)
    tracks = browse.tracks_by_id(catalog, neighbours)
    return {"seed": seed, "tracks": [tracks[n] for n in neighbours if n in tracks]}

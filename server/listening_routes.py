"""The listening endpoints of the signed-in user: play history (``/me/plays``), liked tracks (``/me/likes``) and
what Home shows them (``/me/home``).

Every answer is about the caller alone; nothing here takes a user id from the request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field, StrictBool, StrictInt

from server import browse, home, likes, listening_summary, plays
from server.exceptions import ApiError
from server.plays import MAX_EVENTS_PER_BATCH, PlayEvent
from server.responses import errors
from server.routes import CatalogDep, Id, UserDep

MAX_PLAYS_BODY_BYTES = 512 * 1024  # a full batch of 500 events with long context ids fits
_UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_MAX_ID = 2**63 - 1
_DAY_MS = 24 * 3600 * 1000

router = APIRouter()


class PlayContext(BaseModel):
    kind: Literal["album", "playlist", "search", "radio", "discover_weekly", "library", "queue", "other"]
    id: str | None = Field(default=None, max_length=200)


class PlayEventBody(BaseModel):
    id: str = Field(pattern=_UUID, description="a UUID the client made for this play (resending it is harmless)")
    track_id: StrictInt = Field(ge=1, le=_MAX_ID)
    started_at: AwareDatetime = Field(description="ISO 8601 with a zone, e.g. 2026-12-01T10:00:00Z")
    ms_played: StrictInt = Field(ge=0, le=_DAY_MS)
    completed: StrictBool
    skipped: StrictBool
    context: PlayContext

    def event(self) -> PlayEvent:
        return PlayEvent(self.id.lower(), self.track_id, plays.epoch_ms(self.started_at), self.ms_played,
                         self.completed, self.skipped, self.context.kind, self.context.id)


class PlayBatch(BaseModel):
    events: list[PlayEventBody] = Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)


@router.post("/me/plays", max_body_size=MAX_PLAYS_BODY_BYTES, responses=errors(400, 401, 413, 422))
def post_plays(body: PlayBatch, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """Store a batch of plays (1-500) once each; events for unknown tracks or from the future are ignored."""
    return plays.record(catalog, user.id, [event.event() for event in body.events]).to_json()


@router.get("/me/plays", responses=errors(401, 422))
def get_plays(catalog: CatalogDep, user: UserDep, limit: Annotated[int, Query(ge=1, le=500)] = 50,
              before: Annotated[AwareDatetime | None, Query(description="an ISO 8601 instant with a zone")] = None,
              ) -> dict[str, Any]:
    """The caller's plays, newest first; ``next_before`` pages back."""
    rows, next_ms = plays.history(catalog, user.id, limit, None if before is None else plays.epoch_ms(before))
    tracks = browse.tracks_by_id(catalog, sorted({int(row["track_id"]) for row in rows}))
    return {"plays": [{"id": row["event_id"], "track": tracks[int(row["track_id"])],
                       "started_at": plays.iso_utc(int(row["started_ms"])), "ms_played": row["ms_played"],
                       "completed": bool(row["completed"]), "skipped": bool(row["skipped"]),
                       "context": {"kind": row["context_kind"], "id": row["context_id"]}} for row in rows],
            "next_before": None if next_ms is None else plays.iso_utc(next_ms)}


@router.get("/me/listening", responses=errors(401, 422))
def get_listening(catalog: CatalogDep, user: UserDep, weeks: Annotated[int, Query(ge=1, le=53)] = 12,
                  days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict[str, Any]:
    """The caller's time heard per week (weeks from Monday in their region; this week last) and their top artists
    and tracks by time heard over the last ``days`` days."""
    return listening_summary.summary(catalog, user.id, user.region, datetime.now(UTC), weeks, days)


@router.get("/me/home", responses=errors(401))
def get_home(request: Request, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """Home's rows in one answer: the caller's recently played albums, those they left mid-way (with how many of
    their tracks were heard), their top artists, new and coming releases, and albums popular in their region."""
    return home.rows(catalog, user.id, user.region, request.app.state.now())


@router.delete("/me/plays", status_code=204, responses=errors(401))
def delete_plays(catalog: CatalogDep, user: UserDep) -> Response:
    """Forget the caller's whole history; it no longer feeds their recommendations."""
    plays.clear(catalog, user.id)
    return Response(status_code=204)


@router.put("/me/likes/{track_id}", status_code=204, responses=errors(401, 404, 422))
def put_like(track_id: Id, catalog: CatalogDep, user: UserDep) -> Response:
    if browse.track(catalog, track_id) is None:
        raise ApiError(404, "not_found", f"there is no track with id {track_id}")
    likes.like(catalog, user.id, track_id)
    return Response(status_code=204)


@router.delete("/me/likes/{track_id}", status_code=204, responses=errors(401, 422))
def delete_like(track_id: Id, catalog: CatalogDep, user: UserDep) -> Response:
    likes.unlike(catalog, user.id, track_id)
    return Response(status_code=204)


@router.get("/me/likes", responses=errors(401, 422))
def get_likes(catalog: CatalogDep, user: UserDep, limit: Annotated[int, Query(ge=1, le=500)] = 100,
              offset: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0) -> dict[str, Any]:
    """The caller's liked tracks, newest first, each with ``liked_at``."""
    rows, total = likes.liked(catalog, user.id, limit, offset)
    tracks = browse.tracks_by_id(catalog, sorted({int(row["track_id"]) for row in rows}))
    return {"tracks": [{**tracks[int(row["track_id"])], "liked_at": plays.iso_utc(int(row["liked_ms"]))}
                       for row in rows], "total": total}

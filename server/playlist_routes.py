"""The playlist endpoints: create, list, share, follow, push and pull updates (live events: playlist_streams).

A playlist the caller may not read answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, StrictBool
from starlette.concurrency import run_in_threadpool

from server import playlists
from server.auth import User
from server.catalog import Catalog
from server.exceptions import ApiError
from server.playlist_hub import AccessNews, PlaylistHub, PlaylistNews
from server.playlists import Role
from server.responses import errors, json_object
from server.routes import CatalogDep, UserDep
from server.update_pool import UpdateWorkers
from sync import (
    PUSH_REQUEST_SCHEMA,
    InvalidUpdate,
    MalformedMessage,
    MissingDependencies,
    OversizedUpdate,
    PlaylistTooLarge,
    PullResult,
    PushRequest,
)

MAX_PUSH_BYTES = 8 * 1024 * 1024
_ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
_MAX_SEQ = 2**63 - 1

router = APIRouter()
PlaylistId = Annotated[str, PathParam(pattern=_ID_PATTERN, description="the playlist's id (a UUID)")]
Since = Annotated[int, Query(ge=0, le=_MAX_SEQ, description="the last log seq the caller has seen")]


class NewPlaylist(BaseModel):
    id: str = Field(pattern=_ID_PATTERN, description="chosen by the client (a UUID), so it can work offline")
    public: StrictBool = False


class PlaylistChange(BaseModel):
    public: StrictBool


class Invitation(BaseModel):
    user: str = Field(min_length=1, max_length=200)


def hub_of(request: Request) -> PlaylistHub:
    hub: PlaylistHub = request.app.state.playlist_hub
    return hub


def workers_of(request: Request) -> UpdateWorkers:
    workers: UpdateWorkers = request.app.state.update_workers
    return workers


@router.post("/playlists", responses={
    201: json_object("the playlist was created (200: the caller already owned it)"),
    **errors(400, 401, 404, 409, 413, 422)})
def create_playlist(body: NewPlaylist, request: Request, response: Response, catalog: CatalogDep,
                    user: UserDep) -> dict[str, Any]:
    with hub_of(request).telling(catalog) as tell:
        record, created = playlists.create(catalog, body.id, user.id, body.public)
        if created:
            tell(AccessNews(body.id, frozenset({user.id})))
    response.status_code = 201 if created else 200
    return record.to_json(Role.OWNER)


@router.get("/playlists", responses=errors(401))
def list_playlists(catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    return {"playlists": playlists.visible_to(catalog, user.id)}


@router.get("/playlists/{playlist_id}", responses=errors(401, 404, 422))
def get_playlist(playlist_id: PlaylistId, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    record, role = playlists.readable(catalog, playlist_id, user.id)
    return {**record.to_json(role), **playlists.members(catalog, playlist_id)}


@router.patch("/playlists/{playlist_id}", responses=errors(400, 401, 403, 404, 413, 422))
def change_playlist(playlist_id: PlaylistId, body: PlaylistChange, request: Request, catalog: CatalogDep,
                    user: UserDep) -> dict[str, Any]:
    record = playlists.owned(catalog, playlist_id, user.id)
    with hub_of(request).telling(catalog) as tell:
        playlists.set_public(catalog, record, body.public)
        tell(AccessNews(playlist_id, playlists.member_ids(catalog, playlist_id)))
    return get_playlist(playlist_id, catalog, user)


@router.delete("/playlists/{playlist_id}", status_code=204, responses=errors(401, 403, 404, 422))
def delete_playlist(playlist_id: PlaylistId, request: Request, catalog: CatalogDep, user: UserDep) -> Response:
    hub = hub_of(request)
    with hub.writing(playlist_id):
        with hub.telling(catalog) as tell:
            playlists.delete(catalog, playlists.owned(catalog, playlist_id, user.id))
            tell(PlaylistNews(playlist_id, None, deleted=True))
        workers_of(request).forget(playlist_id)
    return Response(status_code=204)


@router.post("/playlists/{playlist_id}/collaborators", responses=errors(400, 401, 403, 404, 413, 422))
def invite_collaborator(playlist_id: PlaylistId, body: Invitation, request: Request, catalog: CatalogDep,
                        user: UserDep) -> dict[str, Any]:
    record = playlists.owned(catalog, playlist_id, user.id)
    invited = catalog.user_by_name(body.user)
    if invited is None:
        raise ApiError(404, "unknown_user", f"there is no user named {body.user!r}; check the spelling")
    with hub_of(request).telling(catalog) as tell:
        playlists.add_member(catalog, record, int(invited["id"]), Role.COLLABORATOR)
        tell(AccessNews(playlist_id, frozenset({int(invited["id"])})))
    return get_playlist(playlist_id, catalog, user)


@router.post("/playlists/{playlist_id}/followers", responses=errors(401, 404, 422))
def follow_playlist(playlist_id: PlaylistId, request: Request, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    record = playlists.find(catalog, playlist_id)
    if record is None or (not record.public and playlists.role_of(catalog, record, user.id) is None):
        raise playlists.not_found(playlist_id)
    with hub_of(request).telling(catalog) as tell:
        playlists.add_member(catalog, record, user.id, Role.FOLLOWER)
        tell(AccessNews(playlist_id, frozenset({user.id})))
    return get_playlist(playlist_id, catalog, user)


@router.delete("/playlists/{playlist_id}/followers", status_code=204, responses=errors(401, 404, 422))
def unfollow_playlist(playlist_id: PlaylistId, request: Request, catalog: CatalogDep, user: UserDep) -> Response:
    record, _role = playlists.readable(catalog, playlist_id, user.id)
    with hub_of(request).telling(catalog) as tell:
        playlists.remove_follower(catalog, record, user.id)
        tell(AccessNews(playlist_id, frozenset({user.id})))
    return Response(status_code=204)


@router.get("/playlists/{playlist_id}/updates", responses=errors(401, 404, 422))
def pull_updates(playlist_id: PlaylistId, catalog: CatalogDep, user: UserDep, since: Since = 0) -> dict[str, Any]:
    with catalog.read_snapshot():
        record, _role = playlists.readable(catalog, playlist_id, user.id)
        return playlists.since(catalog, record, since).to_json()


@router.post("/playlists/{playlist_id}/updates", max_body_size=MAX_PUSH_BYTES,
             responses=errors(400, 401, 403, 404, 409, 413, 422),
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": PUSH_REQUEST_SCHEMA}}}})
async def push_updates(playlist_id: PlaylistId, request: Request, user: UserDep) -> dict[str, Any]:
    """Store updates (all or none) after validating each; a retried update id gets its first seq back."""
    try:
        push = PushRequest.from_json(await _json_body(request, MAX_PUSH_BYTES))
    except MalformedMessage as exc:
        raise ApiError(422, "malformed_push", f"the push is not valid: {exc}") from None
    return await run_in_threadpool(_push, hub_of(request), workers_of(request), request.app.state.data_dir,
                                   playlist_id, user, push)


def _push(hub: PlaylistHub, workers: UpdateWorkers, data_dir: Path, playlist_id: str, user: User,
          push: PushRequest) -> dict[str, Any]:
    catalog = Catalog.open(data_dir)
    try:
        with hub.writing(playlist_id):
            with playlists.locked(catalog, playlist_id, workers):
                record = playlists.writable(catalog, playlist_id, user.id)
                try:
                    result, logged = playlists.append(catalog, record, workers, list(push.updates), user.id,
                                                      user.name)
                except InvalidUpdate as exc:
                    raise _refusal(exc) from None
                news = PlaylistNews(playlist_id, PullResult(None, record.snapshot_seq, tuple(logged),
                                                            result.last_seq)) if logged else None
                if news is not None:
                    hub.announce_in(catalog, news)  # heard by the other instances when the push commits
            if news is not None:  # once committed: a listener told of it may read it back at once
                hub.publish(news)
        return result.to_json()
    finally:
        catalog.close()


def _refusal(exc: InvalidUpdate) -> ApiError:
    too_large = isinstance(exc, (OversizedUpdate, PlaylistTooLarge))
    status = 413 if too_large else 409 if isinstance(exc, MissingDependencies) else 422
    return ApiError(status, exc.code, f"update refused, nothing was stored: {exc}")


async def _json_body(request: Request, limit_bytes: int) -> Any:
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, "payload_too_large", f"a push may carry at most {limit_bytes} bytes; push fewer "
                         "updates at a time")
    if declared.isdigit() and int(declared) > limit_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit_bytes:
            raise too_large
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError(400, "malformed_json", "the request body is not valid JSON") from None

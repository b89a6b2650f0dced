"""The HTTP endpoints: health, auth, browse, manifests, licences, and the public ciphertext files and covers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from server import auth, browse, covers, licences, licensing, origin
from server.auth import User
from server.byte_range import parse_range
from server.catalog import Catalog
from server.catalog_pool import CatalogPool
from server.exceptions import ApiError
from server.limits import AUTH_BODY_BYTES
from server.responses import binary, errors
from server.search_index import SearchIndex
from server.throttle import LoginThrottle, retry_after

_MAX_ID = 2**63 - 1
_READ_BLOCK_BYTES = 65536
_IMMUTABLE = "public, max-age=31536000, immutable"
_COVER_CACHING = "public, max-age=86400"  # an album's URL keeps its id if it is ever given a new cover

router = APIRouter()
Id = Annotated[int, PathParam(ge=1, le=_MAX_ID, description="a positive integer id")]


async def _catalog(request: Request) -> AsyncIterator[Catalog]:
    """A catalog connection borrowed for the request (server/catalog_pool.py). Async, so borrowing costs no hop to
    a worker thread; only opening a new connection, when every one is lent, runs off the event loop."""
    pool: CatalogPool = request.app.state.catalogs
    catalog = pool.take_idle()
    if catalog is None:
        catalog = await run_in_threadpool(pool.open)
    try:
        yield catalog
    finally:
        pool.give_back(catalog)


CatalogDep = Annotated[Catalog, Depends(_catalog)]


_bearer = HTTPBearer(auto_error=False, description="the token from POST /auth/login")


async def _bearer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    if credentials is None or not credentials.credentials.strip():
        raise ApiError(401, "unauthenticated", "this needs a bearer token: log in at POST /auth/login and send "
                       "'Authorization: Bearer <token>'", {"WWW-Authenticate": "Bearer"})
    return credentials.credentials.strip()


TokenDep = Annotated[str, Depends(_bearer_token)]


async def _current_user(catalog: CatalogDep, token: TokenDep) -> User:
    # On the event loop: one indexed read (~50 us; WAL readers never wait for writers) costs less than the hop
    # to a worker thread it replaces, on every authenticated request.
    user = auth.session_user(catalog, token)
    if user is None:
        raise ApiError(401, "invalid_token", "the bearer token is unknown or expired; log in again",
                       {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return user


UserDep = Annotated[User, Depends(_current_user)]


def _found(record: dict[str, Any] | None, kind: str, record_id: int) -> dict[str, Any]:
    if record is None:
        raise ApiError(404, "not_found", f"there is no {kind} with id {record_id}")
    return record


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=1000)


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/auth/login", max_body_size=AUTH_BODY_BYTES, responses=errors(400, 401, 413, 422, 429))
def login(body: LoginRequest, request: Request, catalog: CatalogDep) -> dict[str, Any]:
    """A bearer token for a user name and password. Failed attempts are throttled per account and address (429)."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    wait_s = throttle.attempt(body.username, address)
    if wait_s > 0:
        raise ApiError(429, "too_many_attempts", f"too many failed logins for {body.username!r}; try again in "
                       f"{retry_after(wait_s)} s", {"Retry-After": retry_after(wait_s)})
    user = auth.authenticate(catalog, body.username, body.password)
    if user is None:
        raise ApiError(401, "invalid_credentials", "wrong user name or password")
    throttle.succeeded(body.username, address)
    return {"token": auth.open_session(catalog, user), "user": _user_json(user)}


@router.post("/auth/logout", status_code=204, max_body_size=AUTH_BODY_BYTES, responses=errors(401))
def logout(catalog: CatalogDep, token: TokenDep, _user: UserDep) -> Response:
    auth.close_session(catalog, token)
    return Response(status_code=204)


@router.get("/me", responses=errors(401))
def me(user: UserDep) -> dict[str, Any]:
    return _user_json(user)


@router.get("/artists", responses=errors(401))
def list_artists(catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    return {"artists": browse.artists(catalog)}


@router.get("/artists/{artist_id}", responses=errors(401, 404, 422))
def get_artist(artist_id: Id, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    return _found(browse.artist(catalog, artist_id), "artist", artist_id)


@router.get("/albums", responses=errors(401))
def list_albums(catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    return {"albums": browse.albums(catalog)}


@router.get("/albums/{album_id}", responses=errors(401, 404, 422))
def get_album(album_id: Id, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    return _found(browse.album(catalog, album_id), "album", album_id)


@router.get("/tracks", responses=errors(401, 422))
def list_tracks(catalog: CatalogDep, user: UserDep, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                offset: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0) -> dict[str, Any]:
    page, total = browse.tracks(catalog, limit, offset)
    return {"tracks": page, "total": total}


@router.get("/tracks/{track_id}", responses=errors(401, 404, 422))
def get_track(track_id: Id, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    return _found(browse.track(catalog, track_id), "track", track_id)


@router.get("/tracks/{track_id}/manifest", responses=errors(401, 404, 422, 503))
async def get_manifest(track_id: Id, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """The hot path of a play, on the event loop as its two indexed reads are cheaper than a thread hop."""
    return _found(browse.manifest(catalog, track_id), "track", track_id)


@router.get("/licences/{file_id}", responses=errors(401, 403, 404, 422, 503))
async def get_licence(file_id: Id, request: Request, catalog: CatalogDep, user: UserDep,
                offline: bool = False) -> dict[str, Any]:
    """A file's key; with ``?offline=true`` also an offline grant that expires (``offline.expires_at``). Before
    its album's release: 403 ``not_yet_released`` with the instant in ``Release-At``. On the event loop (indexed
    reads only); the offline grant, a write, runs on a worker thread."""
    body = licensing.licence(catalog, user, file_id, request.app.state.now())
    if offline:
        grant = await run_in_threadpool(licences.grant, catalog, user.id, file_id)
        body["offline"] = grant.to_json()
    return body


@router.get("/search", responses=errors(401, 422))
async def search(request: Request, catalog: CatalogDep, user: UserDep,
                 q: Annotated[str, Query(min_length=1, max_length=200)],
                 limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict[str, Any]:
    """What ``q`` finds among what is licensed in the user's region: ``tracks``, ``albums`` and ``artists``
    best first (each with ``highlight``: the matched character spans of its names) and the ``top`` result.

    On the event loop: over a caught-up index a search (~0.3 ms at 1M tracks) costs less than the hop to a worker
    thread. Catching up after a catalog change writes the index, so that runs on a worker thread first."""
    index: SearchIndex = request.app.state.search_index
    if index.behind(catalog):
        await run_in_threadpool(index.catch_up, catalog)
    return browse.search(catalog, index, q, user.region, limit)


@router.get("/files/{file_id}", response_class=Response, responses={
    200: binary(("application/octet-stream",), "the whole encrypted file"),
    206: binary(("application/octet-stream",), "the bytes the Range header asked for"),
    304: {"description": "the caller's copy (If-None-Match) is current"}, **errors(404, 416, 422, 503)})
def get_file(file_id: Id, request: Request, catalog: CatalogDep) -> Response:
    """Ciphertext of a transcoded file: public (it is useless without a licence), cacheable, seekable."""
    record = _found(browse.file_record(catalog, file_id), "file", file_id)
    etag = f'"{record["content_sha256"]}"'
    headers = {"ETag": etag, "Cache-Control": _IMMUTABLE, "Accept-Ranges": "bytes"}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    path = origin.origin_path(request.app.state.data_dir, file_id)
    if not path.is_file():
        raise ApiError(500, "origin_missing", f"the encrypted copy of file {file_id} is missing from the origin "
                       "store; re-ingest its source")
    size = int(record["size_bytes"])
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    byte_range = parse_range(range_header, size) if range_header and if_range in (None, etag) else None
    if byte_range is None:
        return StreamingResponse(_read(path, 0, size), headers={**headers, "Content-Length": str(size)},
                                 media_type="application/octet-stream")
    return StreamingResponse(
        _read(path, byte_range.start, byte_range.stop), status_code=206, media_type="application/octet-stream",
        headers={**headers, "Content-Range": byte_range.content_range, "Content-Length": str(byte_range.length)})


@router.get("/albums/{album_id}/cover", response_class=Response, responses={
    200: binary(("image/jpeg", "image/png"), "the cover image"),
    304: {"description": "the caller's copy (If-None-Match) is current"}, **errors(404, 422)})
def get_cover(album_id: Id, request: Request, catalog: CatalogDep) -> Response:
    """An album's cover (JPEG or PNG): public like /files, so edge caches and desktop widgets fetch it tokenless."""
    record = catalog.album_cover(album_id)
    if record is None:
        raise ApiError(404, "not_found", f"album {album_id} has no cover (or there is no such album)")
    etag = f'"{record["sha256"]}"'
    headers = {"ETag": etag, "Cache-Control": _COVER_CACHING}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        data = covers.cover_path(request.app.state.data_dir, album_id, record["mime"]).read_bytes()
    except FileNotFoundError:
        raise ApiError(500, "cover_missing", f"the cover file of album {album_id} is missing from the data dir; "
                       "re-ingest the album") from None
    return Response(data, media_type=record["mime"], headers=headers)


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def _read(path: Path, start: int, stop: int) -> Iterator[bytes]:
    with open(path, "rb") as source:
        source.seek(start)
        remaining = stop - start
        while remaining > 0:
            block = source.read(min(_READ_BLOCK_BYTES, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "region": user.region}

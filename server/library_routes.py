"""The signed-in user's library endpoints: saved albums (``/me/albums``) and followed artists (``/me/artists``).

Every answer is about the caller alone; nothing here takes a user id from the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from server import browse, library, plays
from server.auth import User
from server.catalog import Catalog
from server.responses import errors
from server.routes import CatalogDep, Id, UserDep

router = APIRouter()


@router.put("/me/albums/{album_id}", status_code=204, responses=errors(401, 404, 422))
def put_album(album_id: Id, request: Request, catalog: CatalogDep, user: UserDep) -> Response:
    """Save the album to the caller's library (saving it again keeps when it was first saved)."""
    library.add(catalog, "album", user.id, album_id, request.app.state.now())
    return Response(status_code=204)


@router.delete("/me/albums/{album_id}", status_code=204, responses=errors(401, 422))
def delete_album(album_id: Id, catalog: CatalogDep, user: UserDep) -> Response:
    """Take the album out of the caller's library, its pre-save with it."""
    library.remove(catalog, "album", user.id, album_id)
    return Response(status_code=204)


@router.get("/me/albums", responses=errors(401))
def get_albums(request: Request, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """The caller's saved albums (pre-saved ones from their release), newest first: each album's summary as
    ``/albums`` lists it, with ``added_at``."""
    return {"albums": _shelf(request, catalog, user, "album", browse.albums_by_id)}


@router.put("/me/artists/{artist_id}", status_code=204, responses=errors(401, 404, 422))
def put_artist(artist_id: Id, request: Request, catalog: CatalogDep, user: UserDep) -> Response:
    """Follow the artist (following again keeps when it was first followed)."""
    library.add(catalog, "artist", user.id, artist_id, request.app.state.now())
    return Response(status_code=204)


@router.delete("/me/artists/{artist_id}", status_code=204, responses=errors(401, 422))
def delete_artist(artist_id: Id, catalog: CatalogDep, user: UserDep) -> Response:
    library.remove(catalog, "artist", user.id, artist_id)
    return Response(status_code=204)


@router.get("/me/artists", responses=errors(401))
def get_artists(request: Request, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """The artists the caller follows, newest first: ``id``, ``name``, ``album_count`` and ``added_at``."""
    return {"artists": _shelf(request, catalog, user, "artist", browse.artists_by_id)}


def _shelf(request: Request, catalog: Catalog, user: User, kind: library.Kind,
           by_id: Callable[[Catalog, list[int]], dict[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The caller's albums or artists, newest first, each as ``by_id`` shapes it with its ``added_at``."""
    joined = library.added(catalog, kind, user.id, request.app.state.now())
    found = by_id(catalog, [thing_id for thing_id, _ in joined])
    return [{**found[thing_id], "added_at": plays.iso_utc(ms)} for thing_id, ms in joined if thing_id in found]

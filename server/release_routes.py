"""The HTTP endpoints of release day: pre-saves, the library they fill at release, and the advertised edges.

They never make an album playable early: licences alone decide that (server/releases.py).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request, Response

from server import browse, releases
from server.responses import errors
from server.routes import CatalogDep, Id, UserDep

EDGES_ENV = "LEGATO_EDGES"
router = APIRouter()


@router.put("/me/presaves/{album_id}", status_code=204, responses=errors(401, 404, 422))
def put_presave(album_id: Id, request: Request, catalog: CatalogDep, user: UserDep) -> Response:
    """"Notify me": the album joins the user's library at its release (at once when it is already out)."""
    releases.presave(catalog, user.id, album_id, request.app.state.now())
    return Response(status_code=204)


@router.delete("/me/presaves/{album_id}", status_code=204, responses=errors(401, 422))
def delete_presave(album_id: Id, catalog: CatalogDep, user: UserDep) -> Response:
    releases.forget_presave(catalog, user.id, album_id)
    return Response(status_code=204)


@router.get("/me/presaves", responses=errors(401))
def list_presaves(catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """Every album the user pre-saved, released or not, in the order they were saved."""
    return {"albums": _albums(catalog, releases.presaved_album_ids(catalog, user.id))}


@router.get("/me/library", responses=errors(401))
def library(request: Request, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """The albums in the user's library: the pre-saved ones whose release has come."""
    now = request.app.state.now()
    albums = _albums(catalog, releases.presaved_album_ids(catalog, user.id))
    return {"albums": [album for album in albums
                       if album["release_at"] is None or releases.parse_instant(album["release_at"]) <= now]}


@router.get("/config")
def config(request: Request) -> dict[str, Any]:
    """What a client should know before it plays: the edge caches audio may come from (LEGATO_EDGES, comma
    separated) and the server's clock (UTC), against which release instants are kept."""
    edges = [edge.strip().rstrip("/") for edge in os.environ.get(EDGES_ENV, "").split(",") if edge.strip()]
    return {"edges": edges, "now": releases.format_instant(request.app.state.now())}


def _albums(catalog: CatalogDep, album_ids: list[int]) -> list[dict[str, Any]]:
    return [album for album in (browse.album(catalog, album_id) for album_id in album_ids) if album]

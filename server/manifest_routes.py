"""`POST /manifests`: the manifests of many tracks at once, with the licences of the files the user may play, so a
client knows everything but the audio before a click, and on a cold click the opening chunks of one file too (one
round trip before sound). Licences follow server/licensing.py, never a rule of its own."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from server import browse, licensing, origin
from server.exceptions import ApiError
from server.responses import errors
from server.routes import CatalogDep, UserDep

MAX_BATCH_TRACKS = 500
MAX_OPENING_CHUNKS = 4
_MAX_ID = 2**63 - 1
router = APIRouter()


class ManifestBatch(BaseModel):
    track_ids: list[Annotated[int, Field(ge=1, le=_MAX_ID)]] = Field(
        min_length=1, max_length=MAX_BATCH_TRACKS, description=f"1 to {MAX_BATCH_TRACKS} track ids")
    quality: str | None = Field(default=None, max_length=32,
                                description="licences only for the files of this quality (default: every file)")
    opening_track_id: int | None = Field(default=None, ge=1, le=_MAX_ID, description=(
        "also answer the first `opening_chunks` ciphertext chunks of this track's `quality` file (one of track_ids)"))
    opening_chunks: int = Field(default=1, ge=1, le=MAX_OPENING_CHUNKS)


@router.post("/manifests", responses=errors(400, 401, 413, 422, 503))
def post_manifests(body: ManifestBatch, request: Request, catalog: CatalogDep, user: UserDep) -> dict[str, Any]:
    """Each known track's manifest (as `GET /tracks/{id}/manifest`), in the order asked, and the licences (as
    `GET /licences/{file_id}`) of its files the user is entitled to; `refused` says why the others have none and
    `not_found` lists the unknown track ids."""
    now = request.app.state.now()
    manifests: list[dict[str, Any]] = []
    granted: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    not_found: list[int] = []
    for track_id in dict.fromkeys(body.track_ids):
        manifest = browse.manifest(catalog, track_id)
        if manifest is None:
            not_found.append(track_id)
            continue
        manifests.append(manifest)
        for file in manifest["files"]:
            if body.quality is not None and file["quality"] != body.quality:
                continue
            try:
                granted.append(licensing.licence(catalog, user, int(file["id"]), now))
            except ApiError as refusal:
                refused.append({"file_id": file["id"], "code": refusal.code, "message": refusal.message})
    answer = {"manifests": manifests, "licences": granted, "refused": refused, "not_found": not_found}
    if body.opening_track_id is not None:
        answer["opening"] = _opening(request, body, manifests)
    return answer


def _opening(request: Request, body: ManifestBatch, manifests: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The opening ciphertext of the asked track's file (public bytes, like `/files/{id}`), base64; None when the
    track is not in the batch or has no file of that quality."""
    if body.opening_track_id not in body.track_ids or body.quality is None:
        raise ApiError(422, "invalid_request", "opening_track_id must be one of track_ids, with a quality")
    manifest = next((m for m in manifests if m["track_id"] == body.opening_track_id), None)
    file = next((f for f in manifest["files"] if f["quality"] == body.quality), None) if manifest else None
    if file is None:
        return None
    with open(origin.origin_path(request.app.state.data_dir, int(file["id"])), "rb") as stored:
        data = stored.read(body.opening_chunks * int(file["chunk_size"]))
    return {"file_id": file["id"], "offset": 0, "data": base64.b64encode(data).decode("ascii")}

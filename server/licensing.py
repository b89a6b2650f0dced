"""The licence rules: a file's key goes only to a user whose region the track is licensed in, once its album is
released. One place for them, used by the licence route and the batch of manifests; never grants offline use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server import browse, origin, releases
from server.auth import User
from server.catalog import Catalog
from server.exceptions import ApiError


def licence(catalog: Catalog, user: User, file_id: int, now: datetime) -> dict[str, Any]:
    """The file's key for `user`; ApiError 404 for an unknown file, 403 before its release or outside its regions."""
    record = browse.file_record(catalog, file_id)
    if record is None:
        raise ApiError(404, "not_found", f"there is no file with id {file_id}")
    releases.refuse_before_release(catalog, file_id, now)
    if user.region not in record["regions"]:
        raise ApiError(403, "not_available_in_region",
                       f"file {file_id} is not licensed in your region ({user.region}); it is available in "
                       f"{', '.join(record['regions']) or 'no region'}")
    return {"file_id": file_id, "key": record["key"], "nonce": record["nonce"], "algorithm": origin.ENCRYPTION}

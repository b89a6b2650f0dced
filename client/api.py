"""The HTTP client of Legato's server API (httpx): login, browse, manifests, licences, ciphertext ranges.

Everything the app knows of the server comes through here; it never reads the server's files directly.
"""

from __future__ import annotations

from typing import Any

import httpx

from cache import FileKey, FileManifest

DEFAULT_TIMEOUT_S = 10.0


class ApiError(Exception):
    """The server answered with an error; ``message`` is fit to show to the user."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ServerUnreachable(OSError):
    """The server could not be reached at all (connection refused, timeout, DNS)."""


class ApiClient:
    """A logged-in (or not yet) session with one Legato server. Safe to share between threads."""

    def __init__(self, base_url: str, token: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)
        self.token = token

    def close(self) -> None:
        self._http.close()

    def login(self, username: str, password: str) -> dict[str, Any]:
        body = self._request("POST", "/auth/login", json={"username": username, "password": password})
        self.token = str(body["token"])
        return dict(body["user"])

    def albums(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/albums")["albums"])

    def album(self, album_id: int) -> dict[str, Any]:
        return dict(self._request("GET", f"/albums/{album_id}"))

    def manifest(self, track_id: int) -> dict[str, Any]:
        return dict(self._request("GET", f"/tracks/{track_id}/manifest"))

    def licence(self, file_id: int) -> FileKey:
        body = self._request("GET", f"/licences/{file_id}")
        return FileKey.from_hex(str(body["key"]), str(body["nonce"]))

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes:
        """Ciphertext bytes [start, end) of a file, by HTTP Range (the cache's ChunkFetcher)."""
        try:
            response = self._http.get(manifest.url, headers={"Range": f"bytes={start}-{end - 1}"})
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach {self.base_url}: {exc}") from exc
        if response.status_code != 206:
            raise OSError(f"server answered {response.status_code} for bytes {start}-{end - 1} "
                          f"of {manifest.url}")
        return response.content

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach {self.base_url}: {exc}") from exc
        if response.is_success:
            return response.json() if response.content else None
        try:
            error = response.json()["error"]
            raise ApiError(response.status_code, str(error["code"]), str(error["message"]))
        except (ValueError, KeyError, TypeError):
            raise ApiError(response.status_code, "http_error",
                           f"{method} {path} failed with HTTP {response.status_code}") from None

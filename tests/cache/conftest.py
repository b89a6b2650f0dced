"""Fixtures for the content-store tests, reusable by QA.

- ``api``: a logged-in ``client.api.ApiClient`` on the session's live server (the real ChunkFetcher/LicenceFetcher).
- ``demo_files``: the demo catalog's files at one quality per track, as ``FileManifest``s in catalog order.
- ``master_key``: the cache master key from the real Secret Service (``secret_service``).
(The recording fetcher and the decode helper live in store_harness.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from cache import FileManifest, MasterKey
from client.api import ApiClient


@pytest.fixture
def api(live_server: Any, api_token: str) -> Iterator[ApiClient]:
    client = ApiClient(live_server.url, api_token)
    yield client
    client.close()


def files_at(client: ApiClient, quality: str) -> list[FileManifest]:
    manifests = []
    for album in client.albums():
        for track in client.album(int(album["id"]))["tracks"]:
            files = {f["quality"]: f for f in client.manifest(int(track["id"]))["files"]}
            manifests.append(FileManifest.from_json(files[quality]))
    return manifests


@pytest.fixture(scope="session")
def demo_files(live_server: Any, api_token: str) -> dict[str, list[FileManifest]]:
    client = ApiClient(live_server.url, api_token)
    try:
        return {quality: files_at(client, quality) for quality in ("lossless", "high")}
    finally:
        client.close()


@pytest.fixture
def master_key(secret_service: KeyringBackend) -> MasterKey:
    return MasterKey.from_keystore(secret_service)

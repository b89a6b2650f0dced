"""The content store against the real server: tiers, keys, stats, tamper and server-down play, nothing in clear."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from keyring.backend import KeyringBackend

from cache import (
    ContentStore,
    DecryptingSource,
    DiskCache,
    FileManifest,
    MasterKey,
    PrefetchItem,
)
from cache.keystore import ACCOUNT, SERVICE
from client.api import ApiClient
from tests.helpers.store_harness import WAIT_S, Recorder, decode_all


def read_all(source: Any, manifest: FileManifest) -> bytes:
    return b"".join(source.read_at(offset, 50_000) for offset in range(0, manifest.size_bytes, 50_000))


def test_played_file_decodes_like_the_network_and_replays_from_disk(
        tmp_path: Path, api: ApiClient, demo_files: dict[str, list[FileManifest]], master_key: MasterKey) -> None:
    manifest = demo_files["high"][0]
    recorder = Recorder(api)
    store = ContentStore(tmp_path, recorder, recorder, master_key)
    try:
        expected = decode_all(DecryptingSource(manifest, api.licence(manifest.file_id), api), manifest.frames)
        first = decode_all(store.open(manifest), manifest.frames)
        fetched_bytes = sum(end - start for _, start, end in recorder.ranges)
        second = decode_all(store.open(manifest), manifest.frames)
        np.testing.assert_array_equal(first, expected)
        np.testing.assert_array_equal(second, expected)
        assert fetched_bytes == manifest.size_bytes
        assert sum(end - start for _, start, end in recorder.ranges) == fetched_bytes  # replay: no download
        assert recorder.licences == [manifest.file_id]
        stats = store.stats()
        assert (stats.plays_from_network, stats.plays_from_disk, stats.plays_from_ram) == (1, 1, 0)
        assert stats.hit_ratio == 0.5 and stats.bytes_saved >= manifest.size_bytes // 2
        assert stats.cache_bytes == manifest.size_bytes == stats.bytes_downloaded
    finally:
        store.close()
    stored = b"".join((tmp_path / "chunks" / str(manifest.file_id) / str(i)).read_bytes()
                      for i in range(manifest.chunk_count))
    assert stored == api.fetch(manifest, 0, manifest.size_bytes)  # ciphertext exactly as received


def test_prefetched_next_starts_from_ram(
        tmp_path: Path, api: ApiClient, demo_files: dict[str, list[FileManifest]], master_key: MasterKey) -> None:
    manifest = demo_files["high"][1]
    recorder = Recorder(api)
    store = ContentStore(tmp_path, recorder, recorder, master_key)
    try:
        store.plan_prefetch([PrefetchItem(manifest, manifest.duration_s)])
        assert store.wait_prefetched(WAIT_S)
        requests_before = len(recorder.ranges)
        source = store.open(manifest)
        assert source.read_at(0, 4096)[:4] == b"OggS"
        assert len(recorder.ranges) == requests_before  # no request to start playing
        assert store.stats().plays_from_ram == 1
    finally:
        store.close()


def test_tampered_chunk_on_disk_is_detected_and_fetched_again(
        tmp_path: Path, api: ApiClient, demo_files: dict[str, list[FileManifest]], master_key: MasterKey) -> None:
    manifest = demo_files["lossless"][0]
    plain = read_all(DecryptingSource(manifest, api.licence(manifest.file_id), api), manifest)
    store = ContentStore(tmp_path, api, api, master_key)
    read_all(store.open(manifest), manifest)
    store.close()
    chunk_path = tmp_path / "chunks" / str(manifest.file_id) / "1"
    damaged = bytearray(chunk_path.read_bytes())
    damaged[100] ^= 0xFF
    chunk_path.write_bytes(bytes(damaged))
    recorder = Recorder(api)
    store = ContentStore(tmp_path, recorder, recorder, master_key)
    try:
        assert read_all(store.open(manifest), manifest) == plain
        assert recorder.ranges[0][:2] == (manifest.file_id, manifest.chunk_size)
        assert recorder.licences == []  # the key came unwrapped from disk
    finally:
        store.close()  # the refetched chunk is written behind the player: closing waits for it
    assert chunk_path.read_bytes() == api.fetch(manifest, *manifest.chunk_span(1))


def test_swapped_wrapped_key_is_refused_and_the_licence_fetched_again(
        tmp_path: Path, api: ApiClient, demo_files: dict[str, list[FileManifest]], master_key: MasterKey) -> None:
    one, two = demo_files["high"][:2]
    store = ContentStore(tmp_path, api, api, master_key)
    store.file_key(one)
    store.file_key(two)
    store.close()
    disk = DiskCache(tmp_path)
    blob = disk.wrapped_key(two.file_id)
    assert blob is not None
    disk.store_wrapped_key(one, blob)
    disk.close()
    recorder = Recorder(api)
    store = ContentStore(tmp_path, recorder, recorder, master_key)
    try:
        assert store.file_key(one) == api.licence(one.file_id)
        assert recorder.licences == [one.file_id]
    finally:
        store.close()


def secrets_in_clear(secret: bytes) -> list[bytes]:
    return [secret, secret.hex().encode(), secret.hex().upper().encode(), base64.b64encode(secret),
            base64.b64encode(secret).rstrip(b"=")]


def test_cache_dir_holds_no_decoded_audio_and_no_key_in_clear(
        tmp_path: Path, api: ApiClient, demo_files: dict[str, list[FileManifest]],
        secret_service: KeyringBackend, master_key: MasterKey) -> None:
    played = [demo_files["lossless"][0], demo_files["high"][2]]
    prefetched = demo_files["high"][3]
    store = ContentStore(tmp_path, api, api, master_key)
    encoded: list[bytes] = []
    pcm: list[bytes] = []
    try:
        for manifest in played:
            encoded.append(read_all(store.open(manifest), manifest))
            samples = decode_all(store.open(manifest), manifest.frames)
            pcm += [samples.tobytes(), (samples * 32767).astype(np.int16).tobytes()]
        store.plan_prefetch([PrefetchItem(prefetched, prefetched.duration_s)])
        assert store.wait_prefetched(WAIT_S)
        encoded.append(store.open(prefetched).read_at(0, prefetched.size_bytes))
    finally:
        store.close()
    stored_master = secret_service.get_password(SERVICE, ACCOUNT)
    assert stored_master is not None
    secrets = [base64.b64decode(stored_master), stored_master.encode()]
    for manifest in [*played, prefetched]:
        file_key = api.licence(manifest.file_id)
        secrets += [file_key.key, file_key.nonce]
    needles = [n for s in secrets for n in secrets_in_clear(s)]
    needles += [b"fLaC", b"OggS"]
    windows = [blob[i : i + 64] for blob in encoded + pcm for i in range(4096, len(blob) - 64, len(blob) // 31)]
    needles += [w for w in windows if len(set(w)) >= 16]  # silence or padding would match anything
    assert len(needles) > 100
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == str(played[0].file_id) for p in files)
    for path in files:
        content = path.read_bytes()
        found = [n[:8].hex() for n in needles if n in content]
        assert not found, f"{path} holds plaintext or a key in clear (starting {found})"


def test_cached_tracks_play_with_the_server_stopped(
        tmp_path: Path, demo_data: Path, demo_login: tuple[str, str], master_key: MasterKey,
        request: pytest.FixtureRequest) -> None:
    # tests/conftest.py's start_server/stop_server; "import conftest" would find this folder's conftest.
    shared = request.config.pluginmanager.get_plugin(str(Path(__file__).parents[1] / "conftest.py"))
    start_server, stop_server = shared.start_server, shared.stop_server
    server = start_server(demo_data)
    client = ApiClient(server.url)
    try:
        client.login(*demo_login)
        track = client.album(int(client.albums()[0]["id"]))["tracks"][0]
        files = {f["quality"]: f for f in client.manifest(int(track["id"]))["files"]}
        manifests = [FileManifest.from_json(files[q]) for q in ("high", "lossless")]
        store = ContentStore(tmp_path, client, client, master_key)
        expected = [decode_all(store.open(m), m.frames) for m in manifests]
        store.close()
    finally:
        stop_server(server)
    with pytest.raises(OSError):
        client.fetch(manifests[0], 0, 16)
    store = ContentStore(tmp_path, client, client, master_key)
    try:
        for manifest, samples in zip(manifests, expected, strict=True):
            cached = store.cached_manifest(manifest.file_id)
            assert cached == manifest
            np.testing.assert_array_equal(decode_all(store.open(cached), cached.frames), samples)
        assert store.stats().plays_from_disk == 2
    finally:
        store.close()
        client.close()

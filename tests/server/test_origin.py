"""The encrypted origin: ciphertext + licence key give back the transcoded file; no plaintext is ever stored."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from server import origin
from tests.helpers.server_sources import Ingested, RunningServer

AUDIO_MAGIC = (b"fLaC", b"OggS", b"RIFF", b"ID3")
PLAINTEXT_MARKERS = (b"OpusHead", b"OggS\x00", b"fLaC\x00")


@pytest.fixture(scope="module")
def client(demo_server: RunningServer, demo_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, headers={"Authorization": f"Bearer {demo_token}"},
                      timeout=30) as session:
        yield session


@pytest.fixture(scope="module")
def manifest(client: httpx.Client) -> dict[str, Any]:
    track = client.get("/tracks", params={"limit": 1}).json()["tracks"][0]
    return dict(client.get(f"/tracks/{track['id']}/manifest").json())


def _decrypt_from(ciphertext: bytes, key: bytes, nonce: bytes, offset: int) -> bytes:
    """Decrypt ``ciphertext`` that starts at byte ``offset`` of a file, the way the manifest documents."""
    counter = (int.from_bytes(nonce, "big") + offset // 16) % 2**128
    decryptor = Cipher(algorithms.AES(key), modes.CTR(counter.to_bytes(16, "big"))).decryptor()
    return (decryptor.update(bytes(offset % 16) + ciphertext) + decryptor.finalize())[offset % 16:]


def test_licence_key_decrypts_every_file_into_a_decodable_file_of_the_manifest_length(
        client: httpx.Client, manifest: dict[str, Any]) -> None:
    for file in manifest["files"]:
        ciphertext = client.get(file["url"]).content
        licence = client.get(f"/licences/{file['id']}").json()
        plaintext = _decrypt_from(ciphertext, bytes.fromhex(licence["key"]), bytes.fromhex(licence["nonce"]), 0)
        assert plaintext[:4] == (b"fLaC" if file["codec"] == "flac" else b"OggS")
        with av.open(io.BytesIO(plaintext), "r") as container:
            assert container.streams.audio[0].codec_context.name in (file["codec"], "lib" + file["codec"])
            assert sum(frame.samples for frame in container.decode(container.streams.audio[0])) == file["frames"]


def test_every_chunk_hash_in_the_manifest_matches_the_served_ciphertext(
        client: httpx.Client, manifest: dict[str, Any]) -> None:
    for file in manifest["files"]:
        ciphertext = client.get(file["url"]).content
        size = file["chunk_size"]
        hashes = [hashlib.sha256(ciphertext[i:i + size]).hexdigest() for i in range(0, len(ciphertext), size)]
        assert hashes == file["chunks"]


def test_a_range_decrypts_on_its_own_with_the_counter_at_its_offset(
        client: httpx.Client, manifest: dict[str, Any]) -> None:
    file = max(manifest["files"], key=lambda f: f["size_bytes"])
    licence = client.get(f"/licences/{file['id']}").json()
    key, nonce = bytes.fromhex(licence["key"]), bytes.fromhex(licence["nonce"])
    whole = _decrypt_from(client.get(file["url"]).content, key, nonce, 0)
    start, stop = 65536 + 7, 65536 + 7000
    part = client.get(file["url"], headers={"Range": f"bytes={start}-{stop - 1}"}).content
    assert _decrypt_from(part, key, nonce, start) == whole[start:stop]


@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=2999))
def test_ctr_keystream_is_seekable_at_any_offset(plaintext: bytes, offset: int) -> None:
    encrypted = origin.encrypt(plaintext)
    offset = min(offset, len(plaintext))
    tail = _decrypt_from(encrypted.ciphertext[offset:], encrypted.key, encrypted.nonce, offset)
    assert tail == plaintext[offset:]


def test_nonce_counter_wraps_around_at_2_to_the_128() -> None:
    key, nonce = bytes(range(16)), b"\xff" * 16
    plaintext = bytes(range(64))
    ciphertext = origin.transform(plaintext, key, nonce)
    assert _decrypt_from(ciphertext[32:], key, nonce, 32) == plaintext[32:]


def test_each_file_has_its_own_key_and_nonce(ingested: Ingested) -> None:
    from server.catalog import Catalog
    from server.database import sqlite_url

    catalog = Catalog.open(ingested.data_dir, sqlite_url(ingested.data_dir))  # the session's ingest is on SQLite
    try:
        rows = catalog.query("SELECT key, nonce FROM files")
    finally:
        catalog.close()
    assert len(rows) >= 20
    assert len({row["key"] for row in rows}) == len(rows)
    assert len({row["nonce"] for row in rows}) == len(rows)


def _scan_for_plaintext_audio(data_dir: Path) -> list[Path]:
    """Files that start like an audio file or carry an Ogg/Opus/FLAC marker anywhere (chance in ciphertext ~0)."""
    found = []
    for path in data_dir.rglob("*"):
        if not path.is_file() or path.name.startswith("catalog.db"):
            continue
        data = path.read_bytes()
        if data.startswith(AUDIO_MAGIC) or any(marker in data for marker in PLAINTEXT_MARKERS):
            found.append(path)
    return found


def test_no_plaintext_audio_is_left_in_the_data_dir(ingested: Ingested, demo_data: Path) -> None:
    for data_dir in (ingested.data_dir, demo_data):
        files = [p for p in data_dir.rglob("*") if p.is_file()]
        assert len(files) > 4
        assert _scan_for_plaintext_audio(data_dir) == []
        assert not [p for p in files if p.name.endswith(".tmp")]

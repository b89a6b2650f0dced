"""The seek bar's waveform: computed at ingest (one level a slice: its RMS from -48 dBFS to 0 dBFS as 0..255),
served with the manifest, and filled in by the upgrade step for a track ingested before waveforms existed."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import httpx
import numpy as np

from server.auth import create_user
from server.catalog import Catalog
from server.ingest import ingest
from server.waveform import BINS, FLOOR_DB
from tests.conftest import start_server, stop_server
from tests.helpers.offline_harness import wait_until
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_sources import SOURCE_RATE, write_audio

pytestmark = ON_BOTH_ENGINES
_GAIN = 0.5


def _loud_then_silent(path: Path) -> Path:
    """Two seconds of a full sine at ``_GAIN``, then two of silence."""
    t = np.arange(2 * SOURCE_RATE) / SOURCE_RATE
    tone = _GAIN * np.sin(2 * np.pi * 440 * t)
    pcm = np.concatenate([tone, np.zeros_like(tone)])
    pcm16 = np.round(np.stack([pcm, pcm], axis=1) * 32767).astype(np.int16)
    return write_audio(path, pcm16, {"title": "Half", "artist": "Waves", "album": "Form", "track": "1"})


def _waveform(url: str, token: str, track_id: int) -> bytes | None:
    body = httpx.get(f"{url}/tracks/{track_id}/manifest", headers={"Authorization": f"Bearer {token}"}).json()
    return None if body["waveform"] is None else base64.b64decode(body["waveform"])


def test_the_manifest_carries_the_waveform_and_an_older_catalog_gains_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert ingest(data_dir, [_loud_then_silent(tmp_path / "half.flac")]).ok
    catalog = Catalog.open(data_dir)
    create_user(catalog, "wave", "wave-pw", "GB")
    track_id = int(catalog.query("SELECT id FROM tracks")[0]["id"])
    catalog.close()
    tone_level = round((20 * math.log10(_GAIN / math.sqrt(2)) - FLOOR_DB) / -FLOOR_DB * 255)

    server = start_server(data_dir)
    try:
        token = httpx.post(f"{server.url}/auth/login", json={"username": "wave", "password": "wave-pw"}).json()["token"]
        levels = _waveform(server.url, token, track_id)
    finally:
        stop_server(server)
    assert levels is not None and len(levels) == BINS
    assert all(abs(level - tone_level) <= 1 for level in levels[:BINS // 2 - 1])
    assert set(levels[BINS // 2 + 1:]) == {0}

    catalog = Catalog.open(data_dir)  # as a catalog from before waveforms
    catalog.execute("DELETE FROM waveforms")
    catalog.execute("DELETE FROM schema_migrations WHERE name = 'waveforms'")
    catalog.close()
    server = start_server(data_dir)
    try:
        token = httpx.post(f"{server.url}/auth/login", json={"username": "wave", "password": "wave-pw"}).json()["token"]
        wait_until(lambda: _waveform(server.url, token, track_id) is not None, "the upgrade to compute the waveform")
        assert _waveform(server.url, token, track_id) == levels  # from the lossless origin copy: the same levels
    finally:
        stop_server(server)

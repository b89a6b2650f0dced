"""Fixtures for the server tests: real audio files written by real encoders, and a small real ingest of them.

- ``sources``: one short tagged stereo clip per input format (WAV, FLAC, MP3, Ogg Opus, M4A AAC) plus its PCM.
- ``ingested``: a data dir holding those clips ingested, and the ingest report (with two bad files in the batch).
"""

from __future__ import annotations

import pytest
from server_sources import (
    SOURCE_FORMATS,
    SOURCE_SECONDS,
    Ingested,
    Sources,
    stereo_tone,
    tags_for,
    write_audio,
)

from server.ingest import ingest


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    folder = tmp_path_factory.mktemp("sources")
    pcm16 = stereo_tone(SOURCE_SECONDS)
    paths = {suffix: write_audio(folder / f"tone.{suffix}", pcm16, tags_for(suffix)) for suffix in SOURCE_FORMATS}
    return Sources(paths, pcm16)


@pytest.fixture(scope="session")
def ingested(sources: Sources, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    folder = tmp_path_factory.mktemp("bad-sources")
    corrupt = folder / "corrupt.flac"
    corrupt.write_bytes(b"fLaC" + bytes(range(256)) * 8)
    text = folder / "notes.mp3"
    text.write_text("this is a shopping list, not a song\n")
    batch = [sources.paths["wav"], corrupt, sources.paths["flac"], text, sources.paths["mp3"],
             sources.paths["opus"], sources.paths["m4a"]]
    data_dir = tmp_path_factory.mktemp("ingested-data")
    return Ingested(data_dir, ingest(data_dir, batch), (corrupt, text))

"""Fixtures for the engine's tests, reusable by QA (the helpers live in audio_fixtures.py).

- ``album(codec, seconds=3.0)``: session-cached factory of a gapless album (FLAC, Opus, MP3, AAC-m4a).
- ``pulse``: a user-space PulseAudio with a null sink for the device tests; skips, saying why,
  when pulseaudio/parec are not installed. PortAudio's ALSA "pulse" device reaches it.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator

import pytest

from tests.helpers.audio_fixtures import (
    CODECS,
    SPLITS,
    Album,
    Pulse,
    encode,
    make_signal,
    running_pulse,
)


@pytest.fixture(scope="session")
def album(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Album]:
    made: dict[tuple[str, float], Album] = {}

    def make(codec: str, seconds: float = 3.0) -> Album:
        if (codec, seconds) not in made:
            encoder, suffix, rate, manifest = CODECS[codec]
            signal = make_signal(rate, int(seconds * rate))
            cuts = [round(fraction * len(signal)) for fraction in SPLITS]
            folder = tmp_path_factory.mktemp(f"album-{codec}")
            paths = tuple(
                encode(signal[start:end], rate, folder / f"{number:02d}{suffix}", encoder)
                for number, (start, end) in enumerate(itertools.pairwise(cuts), 1)
            )
            lengths = tuple(end - start for start, end in itertools.pairwise(cuts))
            made[(codec, seconds)] = Album(signal, rate, paths, lengths, manifest)
        return made[(codec, seconds)]

    return make


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pulse]:
    """The session's PulseAudio; this process's PulseAudio clients (the ALSA "pulse" device that
    PortAudio uses, and the output process it spawns) reach it through PULSE_SERVER."""
    if shutil.which("pulseaudio") is None or shutil.which("parec") is None:
        pytest.skip("pulseaudio/parec are not installed (./test installs pulseaudio and pulseaudio-utils)")
    with running_pulse(tmp_path_factory.mktemp("pulse")) as server:
        saved = os.environ.get("PULSE_SERVER")
        os.environ["PULSE_SERVER"] = server.server
        yield server
        if saved is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = saved

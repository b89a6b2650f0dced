"""The demo-music synthesizer: contract, determinism, the seamless live set, and listenable levels."""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import pytest

from server.synth import SAMPLE_RATE, DemoAlbum, demo_albums

SECONDS = 4.0
SEED = 7


@pytest.fixture(scope="module")
def catalog() -> list[DemoAlbum]:
    """The live set plus the first three studio albums, with short tracks."""
    return list(demo_albums(4, seconds_per_track=SECONDS, seed=SEED))


def _rms_dbfs(pcm: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(pcm, dtype=np.float64)))))


def test_albums_follow_the_contract(catalog: list[DemoAlbum]) -> None:
    assert len(catalog) == 4
    for album in catalog:
        assert album.sample_rate == SAMPLE_RATE == 44100
        assert album.title and album.artist and album.genre
        assert 1995 <= album.year <= 2025
        assert [t.track_no for t in album.tracks] == list(range(1, len(album.tracks) + 1))
        assert all(t.disc_no == 1 and t.title for t in album.tracks)
        assert len({t.title for t in album.tracks}) == len(album.tracks)
        for track in album.tracks:
            assert track.pcm.dtype == np.float32
            assert track.pcm.ndim == 2 and track.pcm.shape[1] == 2
            assert not track.pcm.flags.writeable


def test_first_album_is_the_only_gapless_one(catalog: list[DemoAlbum]) -> None:
    live, *studio = catalog
    assert live.gapless and 4 <= len(live.tracks) <= 5
    assert all(not album.gapless and 4 <= len(album.tracks) <= 6 for album in studio)
    assert len({album.genre for album in catalog}) == len(catalog)


def test_same_seed_gives_identical_albums_and_album_i_ignores_count(catalog: list[DemoAlbum]) -> None:
    again = list(demo_albums(3, seconds_per_track=SECONDS, seed=SEED))
    for first, second in zip(catalog, again, strict=False):  # the catalog holds more albums than `again`
        assert (first.title, first.artist, first.year, first.genre) == \
            (second.title, second.artist, second.year, second.genre)
        assert [t.title for t in first.tracks] == [t.title for t in second.tracks]
        for a, b in zip(first.tracks, second.tracks, strict=True):
            np.testing.assert_array_equal(a.pcm, b.pcm)


def test_another_seed_gives_different_music() -> None:
    live_a = next(demo_albums(1, seconds_per_track=2.0, seed=1))
    live_b = next(demo_albums(1, seconds_per_track=2.0, seed=2))
    frames = min(len(live_a.tracks[0].pcm), len(live_b.tracks[0].pcm))
    assert not np.array_equal(live_a.tracks[0].pcm[:frames], live_b.tracks[0].pcm[:frames])


def test_live_set_has_no_discontinuity_at_any_cut(catalog: list[DemoAlbum]) -> None:
    tracks = [t.pcm for t in catalog[0].tracks]
    steps = np.abs(np.diff(np.concatenate(tracks), axis=0))
    typical = np.percentile(steps, 99.9, axis=0)
    for cut in np.cumsum([len(t) for t in tracks])[:-1]:
        assert np.all(steps[cut - 1] <= typical), f"step {steps[cut - 1]} at cut {cut} exceeds {typical}"


def test_live_set_keeps_playing_across_every_cut(catalog: list[DemoAlbum]) -> None:
    """No silence and no fade at a cut: the 5 ms either side is about as loud as the music around it."""
    edge, around = SAMPLE_RATE // 200, SAMPLE_RATE // 10
    tracks = [t.pcm for t in catalog[0].tracks]
    for before, after in itertools.pairwise(tracks):
        level = _rms_dbfs(np.concatenate([before[-around:], after[:around]]))
        assert _rms_dbfs(before[-edge:]) > level - 20
        assert _rms_dbfs(after[:edge]) > level - 20


def test_studio_tracks_fade_in_and_out(catalog: list[DemoAlbum]) -> None:
    for album in catalog[1:]:
        for track in album.tracks:
            assert np.max(np.abs(track.pcm[:8])) < 1e-3
            assert np.max(np.abs(track.pcm[-8:])) < 1e-3


def test_no_clipping_and_peaks_near_full_scale(catalog: list[DemoAlbum]) -> None:
    live_peak = max(float(np.max(np.abs(t.pcm))) for t in catalog[0].tracks)
    studio_peaks = [float(np.max(np.abs(t.pcm))) for album in catalog[1:] for t in album.tracks]
    for peak in [live_peak, *studio_peaks]:
        assert 10 ** (-3.05 / 20) <= peak <= 10 ** (-0.95 / 20)


def test_every_track_is_audible_and_loudness_varies(catalog: list[DemoAlbum]) -> None:
    levels = [_rms_dbfs(t.pcm) for album in catalog for t in album.tracks]
    assert min(levels) > -35
    assert max(levels) - min(levels) > 2.0  # so loudness normalisation has work to do


@pytest.mark.parametrize("seconds", [2.0, SECONDS])
def test_track_lengths_stay_within_twenty_percent(seconds: float) -> None:
    for album in demo_albums(2, seconds_per_track=seconds, seed=3):
        for track in album.tracks:
            assert 0.8 * seconds * SAMPLE_RATE - 1 <= len(track.pcm) <= 1.2 * seconds * SAMPLE_RATE + 1


def test_little_energy_above_16_khz(catalog: list[DemoAlbum]) -> None:
    for album in catalog:
        mono = album.tracks[0].pcm.mean(axis=1, dtype=np.float64)
        power = np.abs(np.fft.rfft(mono)) ** 2
        high = power[np.fft.rfftfreq(len(mono), 1 / SAMPLE_RATE) >= 16000].sum()
        assert high / power.sum() < 10 ** (-50 / 10), album.genre


def test_twenty_albums_have_unique_titles() -> None:
    albums = [(a.title, a.artist) for a in demo_albums(20, seconds_per_track=2.0, seed=SEED)]
    assert len(albums) == 20
    assert len({title for title, _ in albums}) == 20
    assert len({artist for _, artist in albums}) == 20


def test_albums_are_rendered_lazily() -> None:
    assert inspect.isgenerator(demo_albums(50, seconds_per_track=2.0))


@pytest.mark.parametrize("kwargs", [{"count": -1}, {"count": 1, "seconds_per_track": 0.5},
                                    {"count": 1, "seed": -3}])
def test_bad_arguments_raise_a_clear_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be >="):
        demo_albums(**kwargs)  # type: ignore[arg-type]

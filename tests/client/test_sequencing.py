"""How consecutive queue items meet (client/playback/sequencing.py): album order, and the gain each plays with."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from client import catalog
from client.api import ApiClient
from client.catalog import AlbumWithTracks, Track
from client.playback.queue import Entry
from client.playback.sequencing import (
    UNKNOWN,
    BadManifest,
    Loudness,
    Planned,
    album_loudness,
    in_album_order,
    plan,
)
from player.loudness import normalisation_gain
from tests.helpers.gain_render import Rendered, join_steps_db, middle_gains_db, play_through_controller, track_spans

ALBUM = Loudness(-12.0, -0.5)


def track(track_id: int, album_id: int = 1, track_no: int = 1, disc_no: int = 1, lufs: float = -10.0) -> Track:
    return Track(id=track_id, title=f"t{track_id}", artist_id=1, artist="a", album_id=album_id, album=f"al{album_id}",
                 disc_no=disc_no, track_no=track_no, duration_s=60.0, duration_samples=60 * 44100, sample_rate=44100,
                 popularity=1, loudness_lufs=lufs, peak_dbfs=-1.0 + lufs / 100)


def entries(*tracks: Track) -> list[Entry]:
    return [Entry(number, t, False) for number, t in enumerate(tracks, 1)]


def own(t: Track) -> Loudness:
    return Loudness(t.loudness_lufs, t.peak_dbfs)


ALBUM_IN_ORDER = entries(track(1, track_no=1, lufs=-9.0), track(2, track_no=2, lufs=-16.0),
                         track(3, track_no=1, disc_no=2, lufs=-11.0))
FIGURES = {e.track.id: ALBUM for e in ALBUM_IN_ORDER}


def test_album_order_is_the_next_number_or_the_next_discs_first() -> None:
    first, second, next_disc = (e.track for e in ALBUM_IN_ORDER)
    assert in_album_order(first, second) and in_album_order(second, next_disc)
    assert not in_album_order(second, first)
    assert not in_album_order(next_disc, second)
    assert not in_album_order(first, track(9, album_id=2, track_no=2))


def test_auto_plays_an_album_in_order_at_its_album_gain_joined_gapless() -> None:
    assert plan(ALBUM_IN_ORDER, FIGURES, "auto", shuffled=False) == [
        Planned(ALBUM, False), Planned(ALBUM, True), Planned(ALBUM, True)]


def test_auto_gives_a_shuffled_album_each_tracks_own_gain_and_no_joins() -> None:
    shuffled = plan(ALBUM_IN_ORDER, FIGURES, "auto", shuffled=True)
    assert shuffled == [Planned(own(e.track), False) for e in ALBUM_IN_ORDER]


def test_auto_gives_a_mixed_queue_each_tracks_own_gain() -> None:
    mixed = entries(track(1, album_id=1), track(2, album_id=2, track_no=2), track(3, album_id=3, track_no=3))
    assert plan(mixed, {e.track.id: ALBUM for e in mixed}, "auto", shuffled=False) == [
        Planned(own(e.track), False) for e in mixed]


def test_auto_keeps_the_gain_of_the_track_before_through_a_run_so_a_join_never_steps() -> None:
    playing, *rest = ALBUM_IN_ORDER
    # The playing track was planned on its own gain (nothing followed it then); the album run after it keeps it.
    before = (playing, Planned(own(playing.track), False))
    assert plan(rest, FIGURES, "auto", shuffled=False, before=before) == [
        Planned(own(playing.track), True), Planned(own(playing.track), True)]


def test_auto_without_album_figures_uses_each_runs_first_track_gain() -> None:
    assert plan(ALBUM_IN_ORDER, {}, "auto", shuffled=False) == [
        Planned(own(ALBUM_IN_ORDER[0].track), joins) for joins in (False, True, True)]


def test_track_mode_always_plays_each_tracks_own_gain_and_still_joins_the_album() -> None:
    assert plan(ALBUM_IN_ORDER, FIGURES, "track", shuffled=False) == [
        Planned(own(e.track), joins) for e, joins in zip(ALBUM_IN_ORDER, (False, True, True), strict=True)]


def test_album_mode_plays_the_album_gain_whenever_it_is_known_even_shuffled() -> None:
    known = {ALBUM_IN_ORDER[0].track.id: ALBUM}
    assert plan(ALBUM_IN_ORDER, known, "album", shuffled=True) == [
        Planned(ALBUM, False), *(Planned(own(e.track), False) for e in ALBUM_IN_ORDER[1:])]


def test_repeating_one_entry_joins_it_to_itself_on_its_own_gain() -> None:
    again = ALBUM_IN_ORDER[0]
    assert plan([again, again], FIGURES, "auto", shuffled=True) == [
        Planned(own(again.track), False), Planned(own(again.track), True)]


def test_album_figures_come_from_the_manifest_and_a_bad_one_is_refused() -> None:
    assert album_loudness({"album_loudness_lufs": -12.0, "album_peak_dbfs": -0.5}) == ALBUM
    assert album_loudness({"album_loudness_lufs": None}) == UNKNOWN
    with pytest.raises(BadManifest, match="album_peak_dbfs"):
        album_loudness({"album_loudness_lufs": -12.0, "album_peak_dbfs": "loud"})


# -- through the app's own PlaybackController, from the demo server, into a render sink --------------------------

def demo_albums(server: Any, login: tuple[str, str]) -> list[AlbumWithTracks]:
    api = ApiClient(server.url)
    try:
        api.login(*login)
        return [catalog.album_with_tracks(api.album(int(raw["id"]))) for raw in api.albums()]
    finally:
        api.close()


@pytest.fixture(scope="module")
def live_album(live_server: Any, demo_login: tuple[str, str]) -> AlbumWithTracks:
    album = next(a for a in demo_albums(live_server, demo_login) if a.title == "Lantern Room Sessions (Live)")
    assert album.gapless and len(album.tracks) >= 3
    return album


@pytest.fixture(scope="module")
def studio_album(live_server: Any, demo_login: tuple[str, str]) -> AlbumWithTracks:
    return next(a for a in demo_albums(live_server, demo_login) if not a.gapless)


@pytest.fixture
def play(qtbot: QtBot, live_server: Any, demo_login: tuple[str, str]) -> Callable[..., Rendered]:
    """``play(tracks, out, normalise=..., ...)``: the tracks through the app's PlaybackController into ``out``."""
    return functools.partial(play_through_controller, lambda ready: qtbot.waitUntil(ready, timeout=60_000),
                             live_server.url, demo_login)


def expected_db(lufs: float | None, peak: float | None) -> float:
    return 20 * math.log10(normalisation_gain(lufs, peak))


def album_figures(server: Any, login: tuple[str, str], tracks: list[Track]) -> dict[int, Loudness]:
    api = ApiClient(server.url)
    try:
        api.login(*login)
        return {t.id: album_loudness(api.manifest(t.id)) for t in tracks}
    finally:
        api.close()


def test_the_live_album_in_order_keeps_one_gain_across_every_join(
        play: Callable[..., Rendered], live_server: Any, demo_login: tuple[str, str], live_album: AlbumWithTracks,
        tmp_path: Path) -> None:
    tracks = list(live_album.tracks)
    off = play(tracks, tmp_path / "off.wav", normalise=False)
    auto = play(tracks, tmp_path / "auto.wav", normalise=True)
    assert [t.id for t in auto.order] == [t.id for t in tracks] and len(auto.frames) == len(off.frames)
    assert max(abs(step) for step in join_steps_db(auto, off)) < 0.05
    album = album_figures(live_server, demo_login, tracks)[tracks[0].id]
    assert album.lufs is not None
    assert middle_gains_db(auto, off) == pytest.approx([expected_db(album.lufs, album.peak_dbfs)] * len(tracks),
                                                       abs=0.05)
    # Track mode is what stepped before (issue 13): the same joins, each track at its own gain.
    track = play(tracks, tmp_path / "track.wav", normalise=True,
                                    mode="track")
    assert middle_gains_db(track, off) == pytest.approx(
        [expected_db(t.loudness_lufs, t.peak_dbfs) for t in tracks], abs=0.05)
    assert max(abs(step) for step in join_steps_db(track, off)) > 0.1


def test_a_shuffled_mixed_queue_gets_each_tracks_own_gain_and_album_mode_the_albums(
        play: Callable[..., Rendered], live_server: Any, demo_login: tuple[str, str], live_album: AlbumWithTracks,
        studio_album: AlbumWithTracks, tmp_path: Path) -> None:
    tracks = [*live_album.tracks[:3], *studio_album.tracks[:3]]
    albums = album_figures(live_server, demo_login, tracks)
    auto = play(tracks, tmp_path / "auto.wav", normalise=True,
                                   shuffle_seed=5)
    assert sorted(t.id for t in auto.order) == sorted(t.id for t in tracks)
    # The same order unshuffled, normalisation off: the reference each track's gain is measured against.
    off = play(auto.order, tmp_path / "off.wav", normalise=False)
    assert middle_gains_db(auto, off) == pytest.approx(
        [expected_db(t.loudness_lufs, t.peak_dbfs) for t in auto.order], abs=0.05)
    album = play(tracks, tmp_path / "album.wav", normalise=True,
                                    mode="album", shuffle_seed=5)
    assert [t.id for t in album.order] == [t.id for t in auto.order]
    assert middle_gains_db(album, off) == pytest.approx(
        [expected_db(albums[t.id].lufs, albums[t.id].peak_dbfs) for t in auto.order], abs=0.05)


def test_crossfade_leaves_the_album_in_order_gapless_and_fades_into_the_next_album(
        play: Callable[..., Rendered], live_server: Any, demo_login: tuple[str, str], live_album: AlbumWithTracks,
        studio_album: AlbumWithTracks, tmp_path: Path) -> None:
    tracks = [*live_album.tracks, studio_album.tracks[0]]
    plain = play(tracks, tmp_path / "plain.wav", normalise=False)
    faded = play(tracks, tmp_path / "faded.wav", normalise=False,
                                    crossfade_s=2.0)
    album_end = track_spans(plain)[len(live_album.tracks) - 1][1]
    overlap = len(plain.frames) - len(faded.frames)
    assert overlap == round(2.0 * plain.rate)
    assert np.array_equal(faded.frames[:album_end - overlap], plain.frames[:album_end - overlap])
    assert not np.array_equal(faded.frames[album_end - overlap:album_end], plain.frames[album_end - overlap:album_end])
    assert [t.id for t in faded.order] == [t.id for t in tracks]

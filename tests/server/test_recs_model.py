"""The recommender on a planted-taste population in a real catalog: Discover Weekly beats popularity on held-out
plays, keeps its rules (fresh, two per artist, reasons from the user's own plays), places unplayed tracks by their
sound, and radio never repeats within its window."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from server.catalog import Catalog
from server.playlist_hub import PlaylistHub
from server.recs import audio_catalog, population, training
from server.recs.discover_weekly import EXPLORED
from server.recs.population import Listener
from server.recs.service import Recommender
from tests.helpers.planted_catalog import PlantedCatalog, new_track, planted_catalog
from tests.helpers.postgres import ON_BOTH_ENGINES

HELD_OUT_USERS = 30


@pytest.fixture(scope="module")
def planted(module_database: str,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[PlantedCatalog, list[Listener], dict[int, set[int]]]:
    """A catalog, 150 listeners, and for 30 of them the tracks of their latest fifth of plays, held out; one per
    engine, in the module's database (so the tests on it make no database of their own)."""
    built = planted_catalog(tmp_path_factory.mktemp("planted"))
    catalog = Catalog.open(built.data_dir)
    try:
        listeners = population.plant(catalog, built.genre_of, 150, 40, int(time.time() * 1000))
        held_out: dict[int, set[int]] = {}
        for listener in listeners[:HELD_OUT_USERS]:
            rows = catalog.query("SELECT id, track_id FROM plays WHERE user_id = ? ORDER BY started_ms",
                                 [listener.user.id])
            cut = len(rows) * 4 // 5
            kept = {int(row["track_id"]) for row in rows[:cut]}
            with catalog.transaction():
                catalog.execute("DELETE FROM plays WHERE user_id = ? AND id IN ({})".format(",".join(
                    str(int(row["id"])) for row in rows[cut:])), [listener.user.id])
                catalog.execute("DELETE FROM likes WHERE user_id = ?", [listener.user.id])
            held_out[listener.user.id] = {int(row["track_id"]) for row in rows[cut:]} - kept
    finally:
        catalog.close()
    training.train_data_dir(built.data_dir)
    return built, listeners, held_out


def test_discover_weekly_finds_held_out_tracks_far_more_often_than_popularity(
        planted: tuple[PlantedCatalog, list[Listener], dict[int, set[int]]]) -> None:
    built, _listeners, held_out = planted
    recommender = Recommender(built.data_dir)
    catalog = Catalog.open(built.data_dir)
    try:
        counts = Counter(int(row["track_id"]) for row in catalog.query("SELECT track_id FROM plays"))
        dw_hits = pop_hits = 0
        for user_id, hidden in held_out.items():
            played = {int(row["track_id"]) for row in catalog.query("SELECT track_id FROM plays WHERE user_id = ?",
                                                                    [user_id])}
            picks = [int(pick["track_id"]) for pick in recommender.picks(catalog, user_id, random.Random(user_id))]
            popular = [track for track, _n in counts.most_common() if track not in played][:len(picks)]
            dw_hits += len(set(picks) & hidden)
            pop_hits += len(set(popular) & hidden)
    finally:
        catalog.close()
    assert dw_hits >= 2 * max(pop_hits, 1), (dw_hits, pop_hits)


def test_picks_are_fresh_two_per_artist_at_most_and_explained_by_the_users_own_plays(
        planted: tuple[PlantedCatalog, list[Listener], dict[int, set[int]]]) -> None:
    built, listeners, _held_out = planted
    recommender = Recommender(built.data_dir)
    catalog = Catalog.open(built.data_dir)
    in_loved = reachable = 0
    try:
        for listener in listeners[HELD_OUT_USERS:HELD_OUT_USERS + 10]:
            picks = recommender.picks(catalog, listener.user.id, random.Random(1))
            chosen = [int(pick["track_id"]) for pick in picks]
            assert len(chosen) == len(set(chosen)) == 30
            assert not set(chosen) & set(listener.played)
            assert max(Counter(built.artist_of[track] for track in chosen).values()) <= 2
            assert all(pick["reason_track_id"] in listener.played for pick in picks)
            in_loved += sum(built.genre_of[track] in listener.loved for track in chosen)
            fresh_loved = Counter(built.artist_of[track] for track, genre in built.genre_of.items()
                                  if genre in listener.loved and track not in listener.played)
            reachable += min(30 - EXPLORED, sum(min(2, n) for n in fresh_loved.values()))
    finally:
        catalog.close()
    assert in_loved >= 0.8 * reachable, (in_loved, reachable)  # their tastes first, then some exploration


def test_a_track_nobody_played_gets_neighbours_from_its_sound(
        planted: tuple[PlantedCatalog, list[Listener], dict[int, set[int]]], tmp_path: Path) -> None:
    built, _listeners, _held_out = planted
    catalog = Catalog.open(built.data_dir)
    try:
        with catalog.transaction():
            fresh = catalog.insert_track(new_track("Just In", "Newcomer", "Debut", "genre 5"))
        audio_catalog.store_vector(catalog, fresh, built.sound_of_genre[5] + np.random.default_rng(9).normal(
            0, 1, built.sound_of_genre.shape[1]))
        recommender = Recommender(built.data_dir)
        assert recommender.model().row_of(fresh) is None  # ingested after training: placed by sound alone
        before = recommender.radio(catalog, fresh, 10, set())
        training.train_data_dir(built.data_dir)
        recommender = Recommender(built.data_dir)
        assert not recommender.model().warm[recommender.model().row_of(fresh) or 0]
        after = recommender.radio(catalog, fresh, 10, set())
    finally:
        catalog.close()
    for neighbours in (before, after):
        assert len(neighbours) == 10
        assert sum(built.genre_of[track] == 5 for track in neighbours) >= 8, neighbours


def test_radio_never_repeats_within_its_window_nor_one_artist_twice_running(
        planted: tuple[PlantedCatalog, list[Listener], dict[int, set[int]]]) -> None:
    built, _listeners, _held_out = planted
    recommender = Recommender(built.data_dir)
    catalog = Catalog.open(built.data_dir)
    window = 40
    played: list[int] = []
    seed = next(iter(built.genre_of))
    try:
        for _refill in range(8):
            batch = recommender.radio(catalog, seed, 10, set(played[-window:]) | {seed})
            assert batch
            artists = [built.artist_of[seed], *(built.artist_of[track] for track in batch)]
            assert all(a != b for a, b in itertools.pairwise(artists))
            played += batch
    finally:
        catalog.close()
    for start in range(len(played)):
        span = played[start:start + window]
        assert len(span) == len(set(span)), f"a repeat within {window} tracks"


def test_weekly_playlist_is_remade_when_the_week_turns(
        planted: tuple[PlantedCatalog, list[Listener], dict[int, set[int]]]) -> None:
    from datetime import UTC, datetime, timedelta

    built, listeners, _held_out = planted
    recommender = Recommender(built.data_dir)
    hub = PlaylistHub()
    catalog = Catalog.open(built.data_dir)
    try:
        user = listeners[-1].user
        monday = datetime(2026, 11, 30, 12, tzinfo=UTC)
        first = recommender.weekly(catalog, hub, user, monday)
        assert recommender.weekly(catalog, hub, user, monday + timedelta(days=6)) == first
        sunday_night_london = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # 00:30 GMT: Monday in GB
        second = recommender.weekly(catalog, hub, user, sunday_night_london)
        assert (first.week_of, second.week_of) == ("2026-11-30", "2026-12-07")
        assert second.playlist_id == first.playlist_id and second.generated_ms >= first.generated_ms
    finally:
        catalog.close()


@ON_BOTH_ENGINES
def test_an_empty_catalog_trains_a_model_that_loads_and_answers_nothing(tmp_path: Path) -> None:
    from server.recs import model_store

    training.train_data_dir(tmp_path)
    model = model_store.load(tmp_path)
    assert model is not None and len(model.index) == 0
    assert model.index.nearest(np.ones(3, dtype=np.float32), 5) == []

"""The track index finds the largest inner products even when vector norms are very uneven (popular tracks' factors
are far longer than cold ones'), survives a round trip through bytes, and a model file of the first format (one
transform over the whole catalog) still loads, its index built anew."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from server.recs import model_store, training
from server.recs.ann import TrackIndex, norm_bands
from server.recs.model import Settings, train
from tests.helpers.planted_catalog import planted_catalog
from tests.helpers.synthetic_plays import synthetic_catalog, taste_queries

DIMENSION = 24


def _uneven_vectors(count: int, rng: np.random.Generator) -> np.ndarray:
    """Clustered directions with a gamma spread of norms (from 0.01 to 10 and more): the case one transform fails."""
    centres = rng.normal(size=(40, DIMENSION))
    directions = centres[rng.integers(0, len(centres), count)] + 0.6 * rng.normal(size=(count, DIMENSION))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return (directions * rng.gamma(0.7, 1.5, size=(count, 1)) ** 2).astype(np.float32)


def _recall_at_10(index: TrackIndex, vectors: np.ndarray, queries: np.ndarray) -> float:
    hits = 0
    for query in queries:
        exact = set(np.argpartition(-(vectors @ query), 10)[:10].tolist())
        hits += len(exact & {neighbour.track_id for neighbour in index.nearest(query, 10)})
    return hits / (10 * len(queries))


def test_uneven_norms_are_searched_band_by_band_and_recall_the_exact_top_10() -> None:
    rng = np.random.default_rng(3)
    vectors = _uneven_vectors(9000, rng)
    queries = vectors[rng.integers(0, len(vectors), 60)] + 0.3 * rng.normal(size=(60, DIMENSION)).astype(np.float32)
    index = TrackIndex.build(np.arange(len(vectors)), vectors, threads=1)
    assert index.bands > 1 and len(index) == len(vectors)
    assert _recall_at_10(index, vectors, queries) >= 0.95
    found = index.nearest(queries[0], 10)
    exact_scores = vectors[[neighbour.track_id for neighbour in found]] @ queries[0]
    assert np.allclose([neighbour.score for neighbour in found], exact_scores, rtol=1e-3, atol=1e-3)
    assert [neighbour.score for neighbour in found] == sorted((neighbour.score for neighbour in found), reverse=True)


def test_bands_span_a_bounded_ratio_of_norms_unless_they_are_small() -> None:
    norms = np.random.default_rng(4).gamma(0.7, 1.5, size=20_000) ** 2
    bands = norm_bands(norms)
    assert sorted(np.concatenate(bands).tolist()) == list(range(len(norms)))
    for rows in bands[:-1]:
        assert norms[rows].max() <= 2.0 * norms[rows].min() or len(rows) == 2000


def test_an_index_read_back_from_its_bytes_answers_the_same() -> None:
    rng = np.random.default_rng(5)
    vectors = _uneven_vectors(5000, rng)
    index = TrackIndex.build(np.arange(100, 100 + len(vectors)), vectors, threads=1)
    again = TrackIndex.from_bytes(index.to_bytes())
    query = rng.normal(size=DIMENSION).astype(np.float32)
    assert again.bands == index.bands and len(again) == len(index)
    assert again.nearest(query, 50) == index.nearest(query, 50)


def test_zero_vectors_and_an_empty_index_answer_without_failing() -> None:
    zeros = TrackIndex.build(np.arange(5), np.zeros((5, 3), dtype=np.float32), threads=1)
    assert sorted(neighbour.track_id for neighbour in zeros.nearest(np.ones(3, dtype=np.float32), 5)) == list(range(5))
    assert TrackIndex.from_bytes(b"").nearest(np.ones(3, dtype=np.float32), 5) == []


def test_a_model_file_of_the_first_format_loads_with_its_index_built_anew(tmp_path: Path) -> None:
    planted_catalog(tmp_path)
    training.train_data_dir(tmp_path)
    current = model_store.load(tmp_path)
    assert current is not None
    path = model_store.model_path(tmp_path)
    with np.load(path) as arrays:
        old = {name: arrays[name] for name in arrays.files}
    old["format"] = np.array(1)
    old["scalars"] = np.array([*old["scalars"], 1.0])  # format 1 also kept the one transform's largest norm
    old["index"] = np.frombuffer(b"an index of the first format", dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **old)
    path.write_bytes(buffer.getvalue())
    upgraded = model_store.load(tmp_path)
    assert upgraded is not None and len(upgraded.index) == len(current.index)
    taste = current.track_vectors(np.array([0]))[0]
    assert upgraded.index.nearest(taste, 10) == current.index.nearest(taste, 10)


def test_a_trained_models_index_recalls_the_exact_top_10_of_its_users_tastes() -> None:
    """The index the model builds, over the vectors of a model trained on long-tailed plays, queried with the
    taste vectors Discover Weekly uses, finds the exact top 10 by inner product."""
    rng = np.random.default_rng(6)
    plays, audio, _clusters = synthetic_catalog(4000, 20_000, 120_000, rng)
    model = train(np.arange(plays.shape[1], dtype=np.int64), audio, plays, 0, Settings(threads=1))
    vectors = model.track_vectors()
    assert model.index.bands > 1 and len(model.index) == len(vectors)
    assert _recall_at_10(model.index, vectors, taste_queries(model, plays, 60)) >= 0.95

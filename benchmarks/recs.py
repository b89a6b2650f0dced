"""The recommender on real data nobody here made (MovieLens-100K), and at scale on synthetic data.

NDCG@10 over unseen items on a per-user temporal 80/20 split: popularity, plain ALS (``implicit``, best of five
settings), EASE (closed form) and Legato's own recommender serving from its Voyager index. Then training time
on 1M synthetic plays, and ANN recall@10 against exact search and p95 query time at 1M tracks.

MovieLens-100K is read from inside the recbole 1.2.1 wheel (downloaded once with pip, never installed) and
cached under ~/.cache/legato-bench. Run: ``python -m benchmarks.recs`` (a few minutes). Last line: one JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from server.recs import ranking
from server.recs.ann import TrackIndex
from server.recs.audio_features import DIMENSION
from server.recs.discover_weekly import CANDIDATES
from server.recs.interactions import confidence
from server.recs.model import RecsModel, Settings, train
from tests.helpers.synthetic_plays import synthetic_catalog, taste_queries

CACHE = Path.home() / ".cache" / "legato-bench"
_INTER = "recbole/dataset_example/ml-100k/ml-100k.inter"
K = 10
Scorer = Callable[[int], np.ndarray]  # user row -> a score per item


def movielens_100k() -> np.ndarray:
    """(user, item, rating, timestamp) rows, ids as given (ints)."""
    cached = CACHE / "ml-100k.inter"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        wheels = list(CACHE.glob("recbole-1.2.1-*.whl"))
        if not wheels:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "recbole==1.2.1", "-d", str(CACHE)],
                           check=True, capture_output=True)
            wheels = list(CACHE.glob("recbole-1.2.1-*.whl"))
        with zipfile.ZipFile(wheels[0]) as wheel:
            cached.write_bytes(wheel.read(_INTER))
    lines = cached.read_text().splitlines()[1:]
    return np.array([[float(field) for field in line.split("\t")] for line in lines if line.strip()])


def temporal_split(rows: np.ndarray) -> tuple[sp.csr_matrix, list[set[int]], np.ndarray, np.ndarray]:
    """Train matrix (users x items, 1 per interaction), each user's test items (their latest 20%), ratings and
    the rank of each training interaction counted from the user's latest (0 = most recent)."""
    users, user_rows = np.unique(rows[:, 0], return_inverse=True)
    _items, item_cols = np.unique(rows[:, 1], return_inverse=True)
    train_u, train_i, ratings, recency = [], [], [], []
    tests: list[set[int]] = [set() for _ in users]
    for user in range(len(users)):
        mine = np.flatnonzero(user_rows == user)
        mine = mine[np.lexsort((rows[mine, 1], rows[mine, 3]))]
        cut = round(len(mine) * 0.8)
        train_u += [user] * cut
        train_i += list(item_cols[mine[:cut]])
        ratings += list(rows[mine[:cut], 2])
        recency += list(range(cut - 1, -1, -1))
        tests[user] = set(item_cols[mine[cut:]]) - set(item_cols[mine[:cut]])
    matrix = sp.csr_matrix((np.ones(len(train_u), dtype=np.float32), (train_u, train_i)),
                           shape=(len(users), int(item_cols.max()) + 1))
    order = np.lexsort((train_i, train_u))
    return matrix, tests, np.array(ratings)[order], np.array(recency)[order]


def ndcg_at_k(train: sp.csr_matrix, tests: list[set[int]], top: Callable[[int], list[int]]) -> float:
    """Mean NDCG@K over users with test items; ``top(user)`` is their K best unseen items."""
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    scores = []
    for user, relevant in enumerate(tests):
        if not relevant:
            continue
        ranked = top(user)[:K]
        dcg = sum(discounts[rank] for rank, item in enumerate(ranked) if item in relevant)
        scores.append(dcg / discounts[:min(K, len(relevant))].sum())
    return float(np.mean(scores))


def top_from_scores(train: sp.csr_matrix, scorer: Scorer) -> Callable[[int], list[int]]:
    def top(user: int) -> list[int]:
        scores = np.asarray(scorer(user), dtype=np.float64).copy()
        scores[train.indices[train.indptr[user]:train.indptr[user + 1]]] = -np.inf
        best = np.argpartition(-scores, K)[:K]
        return [int(item) for item in best[np.argsort(-scores[best])]]
    return top


def popularity(train: sp.csr_matrix) -> Scorer:
    counts = np.asarray(train.sum(axis=0)).ravel()
    return lambda _user: counts


def plain_als(train: sp.csr_matrix, factors: int, regularization: float, alpha: float) -> Scorer:
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=alpha,
                                        iterations=15, random_state=42)
        model.fit(train, show_progress=False)
    users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return lambda user: items @ users[user]


def ease(train: sp.csr_matrix, regularization: float) -> Scorer:
    gram = (train.T @ train).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += regularization
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    weights[np.diag_indices_from(weights)] = 0.0
    dense = train.toarray()
    return lambda user: dense[user] @ weights


def legato(train: sp.csr_matrix, ratings: np.ndarray, recency: np.ndarray, settings: Settings,
           pool: int) -> Callable[[int], list[int]]:
    """Legato's recommender as it serves Discover Weekly: confidences from plays (every rating one full play, a
    5 also a like), trained by server.recs.model.train, then server.recs.ranking over ``pool`` index candidates
    (taste vector, re-ranked towards the user's latest plays)."""
    values = confidence(np.ones(len(ratings)), np.zeros(len(ratings)), (ratings >= 5).astype(np.float64))
    confidences = sp.csr_matrix((values, train.indices, train.indptr), shape=train.shape)
    model = train_model(confidences, settings)

    def top(user: int) -> list[int]:
        start, stop = confidences.indptr[user], confidences.indptr[user + 1]
        items = confidences.indices[start:stop]
        mine = {int(item): float(value) for item, value in zip(items, confidences.data[start:stop], strict=True)}
        latest_first = [int(item) for item in items[np.argsort(recency[start:stop], kind="stable")]]
        return (ranking.ranked(model, mine, latest_first, mine, pool) or [])[:K]
    return top


def train_model(confidences: sp.csr_matrix, settings: Settings) -> RecsModel:
    n_items = confidences.shape[1]
    return train(np.arange(n_items, dtype=np.int64), np.zeros((n_items, DIMENSION), dtype=np.float32),
                 confidences, 0, settings)


def sampled_vectors(model: RecsModel, track_cluster: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` index vectors drawn from a trained model's own distribution: per group of its tracks (planted
    cluster, played or not) directions from a Gaussian fitted to the group's unit vectors, and norms drawn from
    the group's own, so the catalog keeps the model's spread of sizes (popular tracks' factors are long)."""
    vectors = model.track_vectors()
    norms = np.linalg.norm(vectors, axis=1)
    units = vectors / np.where(norms == 0, 1.0, norms)[:, None]
    groups = track_cluster * 2 + model.warm
    labels, sizes = np.unique(groups, return_counts=True)
    drawn = rng.multinomial(count, sizes / sizes.sum())
    parts = []
    for label, many in zip(labels, drawn, strict=True):
        members = np.flatnonzero(groups == label)
        directions = rng.multivariate_normal(units[members].mean(axis=0), np.cov(units[members], rowvar=False),
                                             size=many, method="cholesky" if len(members) > units.shape[1] else "svd")
        directions /= np.maximum(np.linalg.norm(directions, axis=1), 1e-12)[:, None]
        parts.append(directions * rng.choice(norms[members], size=many)[:, None])
    sampled = np.vstack(parts).astype(np.float32)
    return sampled[rng.permutation(len(sampled))]


def ann_at_scale(vectors: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    """Build the index over ``vectors``; recall@10 and @CANDIDATES of ``queries`` against exact inner-product
    search, and the p95 time of one query for 10 and for CANDIDATES tracks."""
    started = time.perf_counter()
    index = TrackIndex.build(np.arange(len(vectors), dtype=np.int64), vectors)
    build_s = time.perf_counter() - started
    figures: dict[str, float] = {"ann_tracks": len(vectors), "ann_dimension": vectors.shape[1] + 1,
                                 "ann_bands": index.bands, "ann_build_s": round(build_s, 1)}
    for k in (K, CANDIDATES):
        recalls, times = [], []
        for query in queries:
            exact = set(np.argpartition(-(vectors @ query), k)[:k].tolist())
            started = time.perf_counter()
            found = index.nearest(query, k)
            times.append(time.perf_counter() - started)
            recalls.append(len(exact & {neighbour.track_id for neighbour in found}) / k)
        figures[f"ann_recall_at_{k}"] = round(float(np.mean(recalls)), 4)
        figures[f"ann_p95_query_{k}_ms"] = round(float(np.percentile(times, 95)) * 1000, 3)
    return figures


def main() -> None:
    rows = movielens_100k()
    train_matrix, tests, ratings, recency = temporal_split(rows)
    print(f"MovieLens-100K: {train_matrix.shape[0]} users, {train_matrix.shape[1]} items, "
          f"{train_matrix.nnz} training interactions, {sum(map(len, tests))} unseen test items")
    figures: dict[str, float | int | str] = {}
    figures["ndcg_popularity"] = round(ndcg_at_k(train_matrix, tests, top_from_scores(
        train_matrix, popularity(train_matrix))), 4)
    print(f"popularity: NDCG@10 {figures['ndcg_popularity']}")
    als_runs = {}
    for factors, regularization, alpha in ((32, 0.05, 1.0), (64, 0.05, 5.0), (64, 0.5, 10.0), (128, 1.0, 10.0),
                                           (48, 0.05, 2.0)):
        als_runs[f"{factors}/{regularization}/{alpha}"] = ndcg_at_k(train_matrix, tests, top_from_scores(
            train_matrix, plain_als(train_matrix, factors, regularization, alpha)))
    best_als = max(als_runs, key=als_runs.__getitem__)
    figures["ndcg_als"] = round(als_runs[best_als], 4)
    figures["als_best_setting"] = best_als
    print(f"plain ALS (implicit), best of 5 (factors/regularisation/alpha {best_als}): NDCG@10 {figures['ndcg_als']}")
    ease_runs = {reg: ndcg_at_k(train_matrix, tests, top_from_scores(train_matrix, ease(train_matrix, reg)))
                 for reg in (100.0, 300.0, 1000.0)}
    best_ease = max(ease_runs, key=ease_runs.__getitem__)
    figures["ndcg_ease"] = round(ease_runs[best_ease], 4)
    print(f"EASE (lambda {best_ease:g}): NDCG@10 {figures['ndcg_ease']}")
    figures["ndcg_legato"] = round(ndcg_at_k(train_matrix, tests, legato(train_matrix, ratings, recency, Settings(),
                                                                          CANDIDATES)), 4)
    figures["legato_vs_popularity"] = round(figures["ndcg_legato"] / figures["ndcg_popularity"], 3)
    figures["legato_vs_ease"] = round(figures["ndcg_legato"] / figures["ndcg_ease"], 3)
    print(f"Legato (ALS + index): NDCG@10 {figures['ndcg_legato']} = {figures['legato_vs_popularity']}x popularity "
          f"(goal 1.5x), {figures['legato_vs_ease']}x EASE (goal 0.95x)")

    rng = np.random.default_rng(5)
    plays, audio, track_cluster = synthetic_catalog(50_000, 200_000, 1_000_000, rng)
    started = time.perf_counter()
    model = train(np.arange(plays.shape[1], dtype=np.int64), audio, plays, 0, Settings())
    figures["train_1m_plays_s"] = round(time.perf_counter() - started, 1)
    print(f"training on {plays.nnz} (user, track) pairs from 1M synthetic plays (50k users, 200k tracks), "
          f"index included: {figures['train_1m_plays_s']} s")
    figures.update(ann_at_scale(sampled_vectors(model, track_cluster, 1_000_000, rng),
                                taste_queries(model, plays, 200)))
    print(f"ANN at {figures['ann_tracks']} tracks drawn from that model's vectors (dimension {figures['ann_dimension']}"
          f", {figures['ann_bands']} norm bands): built in {figures['ann_build_s']} s; 200 users' tastes: recall@{K} "
          f"{figures[f'ann_recall_at_{K}']} vs exact (p95 query {figures[f'ann_p95_query_{K}_ms']} ms), "
          f"recall@{CANDIDATES} {figures[f'ann_recall_at_{CANDIDATES}']} "
          f"(p95 {figures[f'ann_p95_query_{CANDIDATES}_ms']} ms)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

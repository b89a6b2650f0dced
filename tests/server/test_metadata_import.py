"""Metadata-only catalogs: the JSON Lines import (hostile lines reported, the rest loaded, re-imports skipped) and
``catalog synth`` (deterministic, real words, Zipf popularity, regions, marked as metadata only)."""

from __future__ import annotations

import json
from pathlib import Path

from server.catalog import Catalog
from server.catalog_synth import REGIONS, synth, synthetic_tracks
from server.cli import main as server_cli
from server.metadata_import import MARK, import_file
from tests.helpers.postgres import ON_BOTH_ENGINES

pytestmark = ON_BOTH_ENGINES


def rows(data_dir: Path, sql: str) -> list[dict[str, object]]:
    catalog = Catalog.open(data_dir)
    try:
        return catalog.query(sql)
    finally:
        catalog.close()


def test_bad_lines_are_reported_by_number_and_the_rest_is_loaded(tmp_path: Path) -> None:
    good = {"title": "Fine", "artist": "Someone", "popularity": 40, "regions": ["GB"],
            "popularity_by_region": {"GB": 70}}
    lines = [json.dumps(good), "{not json", "[1, 2]", json.dumps({"title": "", "artist": "x"}),
             json.dumps({**good, "title": "Other", "popularity": 101}), json.dumps({**good, "regions": ["gb"]}),
             json.dumps({**good, "title": "x" * 501}), "", json.dumps({**good, "title": "Also fine"})]
    source = tmp_path / "tracks.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_file(tmp_path / "data", source)
    assert report.added == 2 and [f.line for f in report.failures] == [2, 3, 4, 5, 6, 7]
    assert "popularity must be a whole number from 0 to 100" in str(report.failures[3])
    again = import_file(tmp_path / "data", source)
    assert (again.added, again.present) == (0, 2)
    found = rows(tmp_path / "data", "SELECT tracks.title, tracks.source_sha256, popularity_by_region.popularity AS "
                 "regional FROM tracks JOIN popularity_by_region ON popularity_by_region.track_id = tracks.id")
    assert sorted(str(r["title"]) for r in found) == ["Also fine", "Fine"]
    assert all(str(r["source_sha256"]).startswith(MARK) and r["regional"] == 70 for r in found)
    assert rows(tmp_path / "data", "SELECT COUNT(*) AS n FROM files") == [{"n": 0}]
    assert server_cli(["catalog", "import-metadata", "--data", str(tmp_path / "data"), str(source)]) == 1


def test_synth_is_deterministic_with_real_words_zipf_popularity_and_regions(tmp_path: Path) -> None:
    first, second = list(synthetic_tracks(300, seed=4)), list(synthetic_tracks(300, seed=4))
    assert first == second and first != list(synthetic_tracks(300, seed=5))
    words = set(Path("/usr/share/dict/words").read_text(encoding="utf-8", errors="replace").split())
    assert all(word.lower() in words for track in first for word in track.title.split())
    popularity = sorted((track.popularity for track in first), reverse=True)
    assert popularity[0] == 100 and popularity[len(popularity) // 2] < 50  # a few hits, a long tail
    assert {region for track in first for region in track.regions} <= set(REGIONS)
    assert all(set(track.popularity_by_region) <= set(REGIONS) for track in first)
    assert synth(tmp_path / "data", 300, seed=4) == 300
    assert rows(tmp_path / "data", "SELECT COUNT(*) AS n FROM tracks WHERE genre = 'metadata only'") == [{"n": 300}]

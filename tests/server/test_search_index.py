"""The search index's own shape: what a rebuild leaves on disk decides what every typo'd query costs."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from server.catalog import Catalog
from server.catalog_synth import synth
from server.search_index import SearchIndex


def test_a_rebuild_writes_one_segment(tmp_path: Path) -> None:
    """A fuzzy word walks the term dictionary of every segment, so a rebuild leaves one, holding every document."""
    data_dir = tmp_path / "data"
    synth(data_dir, 3000, seed=15)
    index = SearchIndex(data_dir)
    with closing(Catalog.open(data_dir)) as catalog:
        index.rebuild(catalog)
        albums = catalog.query_one("SELECT COUNT(*) AS n FROM albums")
        artists = catalog.query_one("SELECT COUNT(*) AS n FROM artists")
    assert albums is not None and artists is not None
    searcher = index.searcher()
    assert searcher.num_segments == 1
    assert searcher.num_docs == 3000 + albums["n"] + artists["n"]

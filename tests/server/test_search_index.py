"""The search index's own shape: what a rebuild leaves on disk decides what every typo'd query costs."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from server.catalog import Catalog
from server.catalog_synth import synth
from server.search_index import FORMAT, SearchIndex
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.search_catalog import build_search_catalog

pytestmark = ON_BOTH_ENGINES

_STAMP = "legato-stamp.json"


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


@pytest.mark.parametrize(("stamp", "reason"), [
    (lambda raw: {**raw, "format": FORMAT - 1}, "missing or of an older format"),  # an older server's layout
    (lambda raw: "{not json", "missing or of an older format"),  # a stamp cut short
    # Built from a newer catalog than this one (a backup restored under it): the changes between are unknown.
    (lambda raw: {**raw, "generation": raw["generation"] + 1}, "its change log has a gap"),
])
def test_an_index_of_another_format_or_a_bad_stamp_is_rebuilt_at_start(
        tmp_path: Path, stamp: Callable[[dict[str, Any]], object], reason: str) -> None:
    data_dir = tmp_path / "data"
    build_search_catalog(data_dir)
    with closing(Catalog.open(data_dir)) as catalog:
        index = SearchIndex(data_dir)
        assert index.reconcile(catalog).startswith("rebuilt")
        assert SearchIndex(data_dir).reconcile(catalog) == "up to date"
        path = index.path / _STAMP
        changed = stamp(json.loads(path.read_text()))
        path.write_text(changed if isinstance(changed, str) else json.dumps(changed))
        again = SearchIndex(data_dir)
        assert again.reconcile(catalog) == f"rebuilt ({reason})"
        assert json.loads(path.read_text())["format"] == FORMAT
        assert again.searcher().num_docs == index.searcher().num_docs > 0

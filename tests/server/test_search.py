"""Search through the real server's /search on a small metadata-only catalog: popularity and region, typos,
prefixes, accents, credits, grouping, highlights, hostile queries, and an index that follows the catalog."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.catalog import Catalog
from server.cli import main as server_cli
from server.ingest import ingest
from server.search_index import INDEX_DIR
from tests.conftest import LiveServer, start_server, stop_server
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.search_catalog import build_search_catalog, logged_in
from tests.helpers.server_api import assert_error
from tests.helpers.server_sources import stereo_tone, write_audio

pytestmark = ON_BOTH_ENGINES


@pytest.fixture(scope="module")
def server(module_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The module's server on a search catalog, one per engine."""
    data_dir = tmp_path_factory.mktemp("search") / "data"
    build_search_catalog(data_dir)
    running = start_server(data_dir)
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def gb(server: LiveServer) -> Iterator[httpx.Client]:
    client = logged_in(server.url, "gb")
    yield client
    client.close()


@pytest.fixture(scope="module")
def se(server: LiveServer) -> Iterator[httpx.Client]:
    client = logged_in(server.url, "se")
    yield client
    client.close()


def found(client: httpx.Client, query: str) -> dict[str, Any]:
    response = client.get("/search", params={"q": query})
    assert response.status_code == 200, response.text
    return dict(response.json())


def songs(client: httpx.Client, query: str) -> list[tuple[str, str]]:
    return [(track["title"], track["artist"]) for track in found(client, query)["tracks"]]


def test_the_popular_hello_ranks_above_the_less_popular_one(gb: httpx.Client) -> None:
    assert songs(gb, "hello")[:2] == [("Hello", "Adele"), ("Hello", "Lionel Richie")]


def test_popularity_in_the_users_region_reorders_the_same_titles(se: httpx.Client) -> None:
    assert songs(se, "hello")[:2] == [("Hello", "Lionel Richie"), ("Hello", "Adele")]


def test_a_track_not_licensed_in_the_users_region_never_appears(gb: httpx.Client, se: httpx.Client) -> None:
    for client in (gb, se):
        for query in ("hello", "licensed elsewhere", "far away", "hello licensed"):
            result = found(client, query)
            names = [t["artist"] for t in result["tracks"]] + [a["name"] for a in result["artists"]] + [
                a["title"] for a in result["albums"]]
            assert "Licensed Elsewhere" not in names and "Far Away" not in names


def test_words_match_across_title_and_artist(gb: httpx.Client) -> None:
    assert songs(gb, "hello adele") == [("Hello", "Adele")]
    assert songs(gb, "richie hello") == [("Hello", "Lionel Richie")]


@pytest.mark.parametrize(("query", "expected"), [
    ("smike", ("Smile", "Lily Allen")),  # 1 edit in a 5-letter word
    ("revelutoin", ("Revolution", "The Beatles")),  # 2 edits in a 10-letter word (one a swap)
    ("ahlo", ("Halo", "Beyoncé")),  # a transposition
    ("bluemonday", ("Blue Monday", "New Order")),  # a missing space
    ("beyonce", ("Halo", "Beyoncé")),  # no accent typed
    ("tidewa", ("Tidewater", "Coastal Choir")),  # a prefix, being typed
    ("tidewatr", ("Tidewater", "Coastal Choir")),  # a typo in a long word
    ("hallo adele", ("Hello", "Adele")),  # a typo that spells another word of the catalog
    ("empire alicia", ("Empire State of Mind (feat. Alicia Keys)", "JAY-Z")),  # a credit, "feat." folded away
    ("jay z", ("Empire State of Mind (feat. Alicia Keys)", "JAY-Z")),  # punctuation folded away
])
def test_typos_prefixes_accents_and_credits_find_the_track(gb: httpx.Client, query: str,
                                                           expected: tuple[str, str]) -> None:
    assert songs(gb, query)[0] == expected


def test_no_typo_is_forgiven_in_a_short_word(gb: httpx.Client) -> None:
    assert songs(gb, "25x") == []  # "25" is an album, and 3 letters get no edits


def test_an_exact_match_ranks_above_a_more_popular_near_spelling(gb: httpx.Client) -> None:
    assert songs(gb, "halo")[0] == ("Halo", "Beyoncé")  # "Hallo" is more popular, and one edit away
    assert songs(gb, "hallo")[0] == ("Hallo", "Very Popular Band")
    assert songs(gb, "hall") == [("Hallo", "Very Popular Band")]  # a prefix, never a near spelling of one


def test_results_are_grouped_with_a_top_result_and_highlights(gb: httpx.Client) -> None:
    result = found(gb, "beyonce")
    assert result["top"] == {"kind": "artist", "id": result["artists"][0]["id"]}
    assert result["artists"][0]["name"] == "Beyoncé"
    assert result["artists"][0]["highlight"] == {"name": [[0, 7]]}
    assert [a["title"] for a in result["albums"]] == ["I Am... Sasha Fierce"]
    hello = found(gb, "hello adel")
    assert hello["top"] == {"kind": "track", "id": hello["tracks"][0]["id"]}
    assert hello["tracks"][0]["highlight"] == {"title": [[0, 5]], "artist": [[0, 5]]}


def test_nothing_found_is_empty_groups_and_no_top(gb: httpx.Client) -> None:
    assert found(gb, "zzqqxx") == {"top": None, "tracks": [], "albums": [], "artists": []}


@pytest.mark.parametrize("query", ['"hello', "hel*", "title:hello", "(hello", "hello)", "AND", "-hello", "\x00\x1f",
                                   "hello\x07adele", "\u202ehello", "💿", "'", "feat."])
def test_query_syntax_and_control_characters_are_plain_text(gb: httpx.Client, query: str) -> None:
    result = found(gb, query)
    assert set(result) == {"top", "tracks", "albums", "artists"}


def test_an_empty_or_huge_query_is_a_clear_422(gb: httpx.Client) -> None:
    assert_error(gb.get("/search", params={"q": ""}), 422, "invalid_request")
    huge = assert_error(gb.get("/search", params={"q": "hello " * 1700}), 422, "invalid_request")
    assert "at most 200 characters" in huge["message"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=200))
def test_any_query_string_gets_results_or_a_4xx_never_a_5xx(gb: httpx.Client, query: str) -> None:
    response = gb.get("/search", params={"q": query})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert set(response.json()) == {"top", "tracks", "albums", "artists"}


def test_the_index_follows_ingest_and_deletion(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    build_search_catalog(data_dir)
    running = start_server(data_dir)
    try:
        with closing(logged_in(running.url, "gb")) as client:
            assert songs(client, "zephyrine") == []
            source = write_audio(tmp_path / "new.flac", stereo_tone(1.0), {
                "title": "Zephyrine", "artist": "Fresh Ingest", "album": "Arrivals", "track": "1/1"})
            report = ingest(data_dir, [source])
            assert report.ok
            assert songs(client, "zephyrine") == [("Zephyrine", "Fresh Ingest")]
            assert [a["name"] for a in found(client, "fresh ingest")["artists"]] == ["Fresh Ingest"]
            catalog = Catalog.open(data_dir)
            try:
                catalog.set_popularity(report.tracks[0].track_id, 100)
            finally:
                catalog.close()
            assert songs(client, "hello")[0] == ("Hello", "Adele")  # an edit elsewhere changes nothing here
            assert server_cli(["catalog", "delete-track", "--data", str(data_dir),
                               str(report.tracks[0].track_id)]) == 0
            result = found(client, "zephyrine")
            assert result["tracks"] == [] and found(client, "fresh ingest")["artists"] == []
    finally:
        stop_server(running)


def test_the_index_follows_popularity_and_licence_edits(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    build_search_catalog(data_dir)
    running = start_server(data_dir)
    try:
        with closing(logged_in(running.url, "gb")) as client, closing(Catalog.open(data_dir)) as catalog:
            assert songs(client, "hello")[:2] == [("Hello", "Adele"), ("Hello", "Lionel Richie")]
            ids = {row["name"]: row["id"] for row in catalog.query(
                "SELECT tracks.id, artists.name FROM tracks JOIN artists ON artists.id = tracks.artist_id "
                "WHERE tracks.title = 'Hello'")}
            catalog.set_popularity(ids["Lionel Richie"], 100)
            assert songs(client, "hello")[:2] == [("Hello", "Lionel Richie"), ("Hello", "Adele")]
            with catalog.transaction():  # the licence in GB withdrawn
                catalog.execute("UPDATE tracks SET regions = '[\"US\"]' WHERE id = ?", [ids["Adele"]])
            assert songs(client, "hello") == [("Hello", "Lionel Richie")]
            assert "Adele" not in [artist["name"] for artist in found(client, "adele")["artists"]]
    finally:
        stop_server(running)


def test_a_server_rebuilds_a_missing_or_stale_index_at_start(tmp_path: Path, database: str) -> None:
    data_dir = tmp_path / "data"
    build_search_catalog(data_dir)
    running = start_server(data_dir)
    stop_server(running)
    shutil.rmtree(data_dir / INDEX_DIR)  # missing
    running = start_server(data_dir)
    try:
        with closing(logged_in(running.url, "gb")) as client:
            assert songs(client, "hello")[0] == ("Hello", "Adele")
    finally:
        stop_server(running)
    if database == "postgresql":
        return  # what follows is an older server's SQLite catalog: no server before this one ran on PostgreSQL
    # Stale: an older server, without the change log's triggers or regional popularity, added a track behind
    # the index's back.
    catalog = Catalog.open(data_dir)
    try:
        triggers = [row["name"] for row in catalog.query("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
        for name in triggers:
            catalog.execute(f"DROP TRIGGER {name}")
        catalog.execute("DROP TABLE popularity_by_region")
        catalog.execute("PRAGMA user_version = 0")  # an older server's schema, which Catalog.open brings up
    finally:
        catalog.close()
    (tmp_path / "late.jsonl").write_text('{"title": "Latecomer", "artist": "Old Server", "regions": ["GB"]}\n')
    assert server_cli(["catalog", "import-metadata", "--data", str(data_dir), str(tmp_path / "late.jsonl")]) == 0
    running = start_server(data_dir)
    try:
        with closing(logged_in(running.url, "gb")) as client:
            assert songs(client, "latecomer") == [("Latecomer", "Old Server")]
    finally:
        stop_server(running)

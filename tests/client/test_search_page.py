"""The search page on a real server's small metadata-only catalog: the top result, songs, albums and artists under
their headers, the matched words in bold, the empty states, and stale answers dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from client import catalog
from client.api import ApiClient
from client.catalog import SearchResults
from client.views.search import PROMPT, SearchPage
from client.views.search_marks import HighlightDelegate, marked_html
from client.widgets.cover_cache import CoverCache
from tests.conftest import LiveServer, start_server, stop_server
from tests.helpers.search_catalog import USERS, build_search_catalog


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("client-search") / "data"
    build_search_catalog(data_dir)
    running = start_server(data_dir)
    yield running
    stop_server(running)


@pytest.fixture
def api(server: LiveServer) -> Iterator[ApiClient]:
    client = ApiClient(server.url)
    client.login("gb", USERS["gb"][0])
    yield client
    client.close()


def run_now(work: Callable[[], Any], on_done: Callable[[Any], None], on_failed: Callable[[str], None]) -> None:
    on_done(work())  # the page's runner, synchronous: the test waits on results_shown all the same


@pytest.fixture
def page(qtbot, api: ApiClient) -> SearchPage:
    shown = SearchPage(run_now, lambda query: catalog.search_results(api.search(query)), CoverCache(api.cover))
    qtbot.addWidget(shown)
    shown.resize(1000, 700)
    shown.show()
    return shown


def typed(qtbot, page: SearchPage, query: str) -> None:
    with qtbot.waitSignal(page.results_shown, timeout=10_000, check_params_cb=lambda q: q == query.strip()):
        page.field.setText(query)


def test_results_are_grouped_under_headers_with_the_top_result_first(qtbot, page: SearchPage) -> None:
    typed(qtbot, page, "beyonce")
    assert page.results.top is not None and page.results.top.kind == "artist"
    assert "Top result" in page.top.text() and "<b>Beyoncé</b>" in page.top.text()
    assert [page.artists.item(row).text() for row in range(page.artists.count())] == ["Beyoncé"]
    assert [t.title for t in page.tracks.tracks.tracks] == ["Halo"]
    assert page.albums.albums.rowCount() == 1
    assert all(page.headers[name].isVisibleTo(page) for name in ("Songs", "Albums", "Artists"))


def test_a_section_with_nothing_in_it_hides_its_header(qtbot, page: SearchPage) -> None:
    typed(qtbot, page, "hello adele")
    assert page.headers["Songs"].isVisibleTo(page)
    assert not page.headers["Artists"].isVisibleTo(page) and not page.headers["Albums"].isVisibleTo(page)


def test_the_matched_words_are_in_bold(qtbot, page: SearchPage) -> None:
    typed(qtbot, page, "hello adel")
    track = page.tracks.tracks.tracks[0]
    assert (track.title, track.artist) == ("Hello", "Adele")
    assert page.results.spans("track", track.id, "title") == [(0, 5)]
    assert page.results.spans("track", track.id, "artist") == [(0, 5)]
    assert "<b>Hello</b>" in page.top.text()
    assert isinstance(page.tracks.itemDelegateForColumn(1), HighlightDelegate)
    assert isinstance(page.artists.itemDelegate(), HighlightDelegate)
    assert page.tracks.height() > 0 and not page.tracks.grab().isNull()  # the delegate paints the bold names


def test_marked_html_escapes_names_and_ignores_spans_past_the_end() -> None:
    assert marked_html("<Tom> & Jerry", [(1, 4), (8, 13), (40, 50)]) == "&lt;<b>Tom</b>&gt; &amp; <b>Jerry</b>"


def test_the_empty_states_say_what_to_do(qtbot, page: SearchPage) -> None:
    assert page.summary.text() == PROMPT and not page.top.isVisibleTo(page)
    typed(qtbot, page, "zzqqxx")
    assert "Nothing found for “zzqqxx”" in page.summary.text()
    assert not page.top.isVisibleTo(page) and not page.headers["Songs"].isVisibleTo(page)
    typed(qtbot, page, "hello")
    typed(qtbot, page, "   ")
    assert page.summary.text() == PROMPT and page.tracks.tracks.rowCount() == 0


def test_an_answer_to_an_older_query_is_dropped(qtbot, api: ApiClient) -> None:
    held: list[Callable[[], None]] = []

    def run_later(work: Callable[[], Any], on_done: Callable[[Any], None], _failed: Callable[[str], None]) -> None:
        result = work()
        held.append(lambda: on_done(result))

    page = SearchPage(run_later, lambda query: catalog.search_results(api.search(query)), CoverCache(api.cover))
    qtbot.addWidget(page)
    page.field.setText("hello")
    qtbot.waitUntil(lambda: len(held) == 1, timeout=5_000)
    page.field.setText("halo")
    qtbot.waitUntil(lambda: len(held) == 2, timeout=5_000)
    held[1]()
    held[0]()  # the answer to "hello" arrives last
    assert page.tracks.tracks.tracks[0].title == "Halo"


def test_results_parse_with_their_top_and_highlights(api: ApiClient) -> None:
    raw = api.search("hello")
    results: SearchResults = catalog.search_results(raw)
    assert results.top is not None and (results.top.kind, results.top.id) == ("track", raw["tracks"][0]["id"])
    assert {(h.kind, h.name, h.start, h.end) for h in results.highlights} == {("track", "title", 0, 5)}
    assert len(results.highlights) == len(raw["tracks"])
    del raw["top"]
    with pytest.raises(catalog.MalformedRecord, match="without top"):
        catalog.search_results(raw)

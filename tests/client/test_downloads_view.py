"""The Downloads view, the Download toggle and the offline indicator, driven like a user would, over the real
server and the real download manager."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from cache import ContentStore, FileManifest, MasterKey
from client import catalog
from client.api import ApiClient
from client.downloads.controller import ApiDownloadSource, DownloadsController
from client.downloads.view import DownloadsView, DownloadToggle, OfflineIndicator
from offline import Availability, Backoff, Connectivity, Downloader, PinKey, RangeBody, TrackRef
from server.catalog import Catalog
from server.ingest import ingest
from server.releases import set_release
from tests.helpers.own_server import own_server
from tests.helpers.server_sources import stereo_tone, write_audio

WAIT_MS = 20_000
ARTIST = "Harbour Static"  # the demo catalog's first artist


class GatedSource(ApiDownloadSource):
    """The real download source, except each range request waits for the test to ``allow`` it."""

    def __init__(self, api: ApiClient) -> None:
        super().__init__(api, "lossless")
        self._permits = threading.Semaphore(0)

    def allow(self, count: int = 1) -> None:
        self._permits.release(count)

    def open_range(self, manifest: FileManifest, start: int, end: int) -> AbstractContextManager[RangeBody]:
        if not self._permits.acquire(timeout=WAIT_MS / 1000):
            raise TimeoutError("the test never allowed this range request")
        return super().open_range(manifest, start, end)


@contextmanager
def downloads_on(url: str, folder: Path, login: tuple[str, str],
                 keystore: Any) -> Iterator[tuple[DownloadsController, GatedSource, ApiClient]]:
    """A DownloadsController over the real download manager, fetching from ``url`` through a GatedSource."""
    api = ApiClient(url)
    api.login(*login)
    store = ContentStore(folder / "cache", api, api, MasterKey.from_keystore(keystore))
    connectivity = Connectivity(api.health, Backoff(0.02, 0.2))
    source = GatedSource(api)
    downloader = Downloader(folder / "queue.db", store, source, connectivity, folder / "cache",
                            concurrency=1, request_bytes=64 * 1024, reserve_bytes=0, backoff=Backoff(0.02, 0.2))
    controller = DownloadsController(downloader, connectivity, Availability(downloader.queue, store, connectivity),
                                     api)
    try:
        yield controller, source, api
    finally:
        source.allow(10_000)
        controller.close()
        store.close()
        api.close()


@pytest.fixture
def parts(tmp_path: Path, live_server: Any, demo_login: tuple[str, str],
          secret_service: Any) -> Iterator[tuple[DownloadsController, GatedSource, ApiClient]]:
    with downloads_on(live_server.url, tmp_path, demo_login, secret_service) as made:
        yield made


@pytest.fixture
def artist_server(demo_data: Path, tmp_path: Path) -> Iterator[str]:
    """A server on a copy of the demo catalog where its first artist has two more albums, one still to come."""
    with own_server(demo_data, tmp_path / "server") as server:
        assert server.url is not None
        for title in ("Second Light", "Not Yet"):
            source = write_audio(tmp_path / f"{title}.flac", stereo_tone(1.0),
                                 {"title": f"{title} opener", "artist": ARTIST, "album": title, "track": "1"})
            assert ingest(server.data_dir, [source]).ok
        catalog = Catalog.open(server.data_dir)
        try:
            coming = catalog.query_one("SELECT id FROM albums WHERE title = 'Not Yet'")
            assert coming is not None
            set_release(catalog, int(coming["id"]), datetime(2031, 1, 1, tzinfo=UTC))
        finally:
            catalog.close()
        yield server.url


def first_album(api: ApiClient) -> tuple[int, str, list[TrackRef]]:
    album = catalog.album_with_tracks(api.album(int(api.albums()[0]["id"])))
    return album.id, album.title, [TrackRef(t.id, t.title) for t in album.tracks]


def test_downloads_view_shows_progress_that_moves_and_its_buttons_pause_and_resume(qtbot: Any, parts: Any) -> None:
    controller, source, api = parts
    view = DownloadsView(controller)
    qtbot.addWidget(view)
    view.show()
    album_id, title, tracks = first_album(api)
    first = tracks[0].track_id
    controller.pin_tracks(PinKey("album", str(album_id)), title, tracks[:2])
    qtbot.waitUntil(lambda: view.row(first) is not None and view.row(first).state.text() == "Downloading",
                    timeout=WAIT_MS)
    row = view.row(first)
    assert row.bar.value() == 0 and view.total_bar.value() == 0
    source.allow(1)
    qtbot.waitUntil(lambda: row.bar.value() > 0, timeout=WAIT_MS)
    moved_to = row.bar.value()
    total_moved_to = view.total_bar.value()
    assert total_moved_to > 0 and "MB" in row.bar.format()
    source.allow(1)
    qtbot.waitUntil(lambda: row.bar.value() > moved_to and view.total_bar.value() > total_moved_to,
                    timeout=WAIT_MS)

    assert row.pause_button.objectName() == "pauseButton" and row.pause_button.accessibleName()
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.downloader.queue.item(first).state == "paused", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: row.state.text() == "Paused" and row.resume_button.isEnabled(), timeout=WAIT_MS)
    paused_at = row.bar.value()
    qtbot.mouseClick(row.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.state.text() != "Paused", timeout=WAIT_MS)
    source.allow(10_000)
    qtbot.waitUntil(lambda: row.bar.value() == 1000 and row.state.text() == "Downloaded", timeout=WAIT_MS)
    assert paused_at < 1000
    qtbot.waitUntil(lambda: view.total_bar.value() == 1000, timeout=WAIT_MS)

    view.pause_all_button.click()
    qtbot.waitUntil(lambda: view.resume_all_button.isEnabled() and not view.pause_all_button.isEnabled(),
                    timeout=WAIT_MS)
    assert controller.downloader.paused and view.total_label.text().startswith("Paused")
    view.resume_all_button.click()
    qtbot.waitUntil(lambda: view.pause_all_button.isEnabled(), timeout=WAIT_MS)
    assert not controller.downloader.paused


def test_download_toggle_pins_an_album_shows_its_state_and_unpins_it(qtbot: Any, parts: Any) -> None:
    controller, source, api = parts
    toggle = DownloadToggle(controller)
    qtbot.addWidget(toggle)
    toggle.show()
    album_id, title, tracks = first_album(api)
    toggle.show_album(album_id, title)
    assert toggle.switch.objectName() == "downloadToggle" and title in toggle.switch.accessibleName()
    qtbot.mouseClick(toggle.switch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.pin_status(PinKey("album", str(album_id))) is not None, timeout=WAIT_MS)
    assert toggle.state_label.text() in ("queued", f"0 of {len(tracks)}")
    first_file = next(f for f in api.manifest(tracks[0].track_id)["files"] if f["quality"] == "lossless")
    source.allow(len(first_file["chunks"]))  # one 64 KiB chunk per request: exactly the first track
    qtbot.waitUntil(lambda: toggle.state_label.text() == f"1 of {len(tracks)}", timeout=WAIT_MS)
    source.allow(10_000)
    qtbot.waitUntil(lambda: toggle.state_label.text() == "done", timeout=WAIT_MS)
    assert toggle.switch.isChecked()
    qtbot.mouseClick(toggle.switch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: toggle.state_label.text() == "" and not controller.snapshot.pins, timeout=WAIT_MS)
    assert not toggle.switch.isChecked()


def test_an_artists_download_toggle_pins_its_released_albums_as_one_download(
        qtbot: Any, artist_server: str, tmp_path: Path, demo_login: tuple[str, str], secret_service: Any) -> None:
    with downloads_on(artist_server, tmp_path / "client", demo_login, secret_service) as (controller, source, api):
        artist = catalog.artist(api.artist(1))
        assert artist.name == ARTIST and len(artist.albums) == 3
        released = [album for album in artist.albums if album.title != "Not Yet"]
        tracks = [t.id for album in released for t in catalog.album_with_tracks(api.album(album.id)).tracks]
        toggle = DownloadToggle(controller, "artistDownloadToggle", "artistDownloadState")
        qtbot.addWidget(toggle)
        toggle.show()
        toggle.show_artist(artist.id, artist.name)
        assert artist.name in toggle.switch.accessibleName() and not toggle.switch.isChecked()
        qtbot.mouseClick(toggle.switch, Qt.MouseButton.LeftButton)
        key = PinKey("artist", str(artist.id))
        qtbot.waitUntil(lambda: controller.pin_status(key) is not None, timeout=WAIT_MS)
        assert [pin.key for pin in controller.snapshot.pins] == [key]  # one download, not one per album
        assert sorted(item.track_id for item in controller.snapshot.items) == sorted(tracks)  # not "Not Yet"
        source.allow(10_000)
        qtbot.waitUntil(lambda: toggle.state_label.text() == "done", timeout=WAIT_MS * 3)
        qtbot.mouseClick(toggle.switch, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not controller.snapshot.pins, timeout=WAIT_MS)


def test_a_failed_download_reads_clearly_in_the_view_and_the_toggle(qtbot: Any, parts: Any) -> None:
    controller, _, _ = parts
    view = DownloadsView(controller)
    toggle = DownloadToggle(controller)
    qtbot.addWidget(view)
    qtbot.addWidget(toggle)
    toggle.show_playlist("gone", "Gone", [TrackRef(999_999, "No such track")])
    controller.pin_playlist("gone", "Gone", [TrackRef(999_999, "No such track")])
    qtbot.waitUntil(lambda: "there is no track with id 999999" in view.error_label.text(), timeout=WAIT_MS)
    assert view.error_label.objectName() == "downloadsError"
    assert "No such track" in view.error_label.text()
    qtbot.waitUntil(lambda: toggle.state_label.text() == "error", timeout=WAIT_MS)
    assert "there is no track" in toggle.state_label.toolTip()
    assert view.row(999_999).resume_button.text() == "Retry"


def test_offline_indicator_follows_offline_mode_and_reachability(qtbot: Any, parts: Any) -> None:
    controller, _, _ = parts
    indicator = OfflineIndicator(controller)
    qtbot.addWidget(indicator)
    indicator.show()
    assert indicator.label.objectName() == "offlineIndicator" and indicator.label.text() == "Online"
    with qtbot.waitSignal(controller.connectivity_changed, timeout=WAIT_MS):
        qtbot.mouseClick(indicator.mode_switch, Qt.MouseButton.LeftButton)
    assert indicator.label.text().startswith("Offline mode") and not controller.online
    with qtbot.waitSignal(controller.connectivity_changed, timeout=WAIT_MS):
        qtbot.mouseClick(indicator.mode_switch, Qt.MouseButton.LeftButton)
    assert indicator.label.text() == "Online" and controller.online

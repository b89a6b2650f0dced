"""Legato's main window: sidebar, pages, queue panel and now-playing bar. Thin: behaviour lives in controllers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from client import catalog
from client.catalog import Album, AlbumWithTracks, Artist, Track
from client.downloads import (
    DownloadsController,
    DownloadsUnavailablePage,
    DownloadsView,
    DownloadToggle,
    OfflineIndicator,
)
from client.history import HistoryPage, LikedSongsPage, ListeningPage
from client.library import FollowButton, SaveButton, SavedLibrary
from client.listening import PlayContext
from client.playback import PlaybackController
from client.playlists import PlaylistsPage
from client.recommendations import discover_weekly
from client.release_jitter import utc_now
from client.release_watch import ReleaseWatch
from client.session import Session
from client.settings import Settings
from client.tasks import run_task
from client.views.home import HomePage
from client.views.home_rows import HomeRows
from client.views.keys import add_menus, add_shortcuts
from client.views.library import AlbumGrid, LibraryPage
from client.views.now_playing import NowPlayingBar
from client.views.queue_panel import QueuePanel
from client.views.search import SearchPage
from client.views.sidebar import Sidebar
from client.views.status_line import StatusLine
from client.views.welcome import WelcomeBanner
from client.views.your_library import YourLibraryPage
from client.widgets.track_table import TrackTable
from client.widgets.words import count

POSITION_POLL_MS = 200
QUEUE_SHOWN = 200
# The pages' area may be narrower than its widest page asks (Playlists' two columns): the window's minimum is
# what the sidebar, the queue and the now-playing bar need, so it still fits a small screen.
PAGES_MIN_WIDTH_PX = 400
# On a first start (no saved geometry) the window takes this much of the screen, at most FIRST_SIZE_PX.
FIRST_SCREEN_SHARE = 0.9
FIRST_SIZE_PX = (1400, 880)


class MainWindow(QMainWindow):
    """The app's one window. Pages: Home, Search, Library (Your library, all albums, album, artist), Liked Songs,
    History, Your listening, Playlists, Downloads.

    Signals:
        settings_requested(): the user asked for the Settings dialog.
        closing(): the window is about to close (save what must survive the restart).
        welcome_dismissed(): the first-run welcome was closed (it is not to be shown again).
    """

    settings_requested = Signal()
    closing = Signal()
    welcome_dismissed = Signal()

    PAGES = ("Home", "Search", "Library", "Liked Songs", "History", "Your listening", "Playlists", "Downloads")

    def __init__(self, session: Session, settings: Settings, clock: Callable[[], datetime] = utc_now) -> None:
        """A window on a complete ``session``, its controls showing ``settings``; starts loading the catalog.
        ``clock`` (UTC) is what scheduled releases are kept against."""
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Legato")
        self._fit_screen()
        self.session = session
        self.playback = session.playback
        self._api = session.api

        self.sidebar = Sidebar(self.PAGES)
        self.home = HomePage(session.covers, session.api.user_name, run_task,
                             lambda: HomeRows.from_json(session.api.home()))
        self._start_reading()
        if not settings.welcomed:
            welcome = WelcomeBanner()
            welcome.dismissed.connect(self.welcome_dismissed)
            self.home.show_welcome(welcome)
        self.search = SearchPage(run_task, lambda query: catalog.search_results(session.api.search(query)),
                                 session.covers)
        self.search.tracks.context = PlayContext("search")
        self.saved = SavedLibrary(session.api, run_task)
        self.your_library = YourLibraryPage(session, self.saved, dict(settings.library_sort))
        self.library = LibraryPage(session.covers, self.your_library, clock=clock)
        self.release_watch = ReleaseWatch(session.api, run_task, clock)
        self.liked = LikedSongsPage(session.history)
        self.history = HistoryPage(session.history)
        self.listening = ListeningPage(session.api)
        self.playlists = PlaylistsPage(session.playlists,
                                       lambda ids: [catalog.track(session.api.track(i)) for i in ids], run_task)
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.pages.setMinimumWidth(PAGES_MIN_WIDTH_PX)
        self.queue_panel = QueuePanel()
        self.now_playing = NowPlayingBar(session.covers)
        self.now_playing.show_options(settings)
        self.status_line = StatusLine(self.statusBar(), session.playback.cache_stats)
        self.warning_label = self.status_line.warning_label
        self.cache_label = self.status_line.cache_label
        self._add_pages(self.home, self.search, self.library, self.liked, self.history, self.listening,
                        self.playlists)
        self.downloads = session.downloads
        self.download_toggle: DownloadToggle | None = None
        self.playlist_download_toggle: DownloadToggle | None = None
        self.artist_download_toggle: DownloadToggle | None = None
        if session.downloads is not None:
            self._add_downloads(session.downloads)
        else:
            self._add_pages(DownloadsUnavailablePage(session.store_problem))
        self._lay_out()

        for grid in self._album_grids():
            grid.album_opened.connect(self.open_album)
            grid.album_play_requested.connect(self.play_album)
        self.home.artist_grid.artist_opened.connect(self.open_artist)
        self.library.album_page.artist_opened.connect(self.open_artist)
        self._connect_releases()
        self._connect_your_library()
        self.search.artist_opened.connect(self.open_artist)
        self.search.failed.connect(self.show_message)
        self._connect_tables()
        self._connect_playback(session.playback)
        self._connect_history()
        self._poll = QTimer(self)
        self._poll.setInterval(POSITION_POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)
        add_shortcuts(self)
        add_menus(self)
        if session.store_problem:
            self.show_warning(session.store_problem)
        self.show_message("Loading the catalog…")
        self._poll.start()
        self.status_line.start()

    # -- building -------------------------------------------------------------------------------------

    def _start_reading(self) -> None:
        """Read Home's rows, Discover Weekly and the catalog off the UI thread while the rest of the window builds
        (a tenth of a cold start): the answers are queued to this thread, so they are shown once it is built."""
        api = self._api
        self.home.refresh()
        self.load_discover_weekly()
        run_task(lambda: ([catalog.album(a) for a in api.albums()], [catalog.track(t) for t in api.tracks()["tracks"]]),
                 self._on_catalog_loaded, self.show_message)

    def _add_pages(self, *pages: QWidget) -> None:
        for page in pages:
            self.pages.addWidget(page)
            self.sidebar.add_page(self.PAGES[self.pages.count() - 1])

    def _add_downloads(self, downloads: DownloadsController) -> None:
        """The Downloads page, the album, artist and playlists pages' Download toggles, the offline indicator."""
        self.downloads_view = DownloadsView(downloads)
        self._add_pages(self.downloads_view)
        self.download_toggle = DownloadToggle(downloads)
        self.library.album_page.actions_row.insertWidget(1, self.download_toggle)
        self.artist_download_toggle = DownloadToggle(downloads, "artistDownloadToggle", "artistDownloadState")
        self.library.artist_page.actions_row.insertWidget(1, self.artist_download_toggle)
        # Pinned playlists follow their tracks: gained ones download, removed ones are released.
        self.playlist_download_toggle = DownloadToggle(downloads, "playlistDownloadToggle", "playlistDownloadState")
        self.playlists.status_row.addWidget(self.playlist_download_toggle)
        self.playlists.playlist_shown.connect(self.playlist_download_toggle.show_playlist)
        self.offline_indicator = OfflineIndicator(downloads)
        self.statusBar().addPermanentWidget(self.offline_indicator)
        downloads.error_occurred.connect(self.show_message)
        for table in self._track_tables():
            table.download_requested.connect(self._on_track_table_download_requested)

    def _lay_out(self) -> None:
        splitter = QSplitter()
        splitter.addWidget(self.pages)
        splitter.addWidget(self.queue_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        body = QHBoxLayout()
        body.addWidget(self.sidebar)
        body.addWidget(splitter, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(body, 1)
        layout.addWidget(self.now_playing)
        self.setCentralWidget(central)
        self.sidebar.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.sidebar.setCurrentRow(0)

    def _connect_tables(self) -> None:
        playback, page, radio = self.playback, self.playlists, self.session.radio
        for table in self._track_tables():
            table.play_requested.connect(functools.partial(self._on_track_table_play_requested, table))
            table.like_toggled.connect(self.session.history.toggle_liked)
            table.radio_requested.connect(radio.start)
            table.rows_shown.connect(playback.fetch_ahead)
            table.play_next_requested.connect(playback.add_next)
            table.queue_requested.connect(playback.add_to_end)
            table.album_requested.connect(self.open_album)
            table.artist_requested.connect(self.open_artist)
            table.playlist_add_requested.connect(lambda tracks, playlist_id: page.add_tracks(playlist_id, tracks))
        page.play_requested.connect(
            lambda tracks, start: playback.play_context(tracks, start, PlayContext("playlist", page.current_id)))
        page.radio_requested.connect(radio.start)
        radio.started.connect(lambda seed: self.show_message(f"Radio of “{seed.title}” by {seed.artist}"))
        radio.failed.connect(self.show_message)
        page.error_occurred.connect(self.show_message)
        page.playlists_changed.connect(self._on_playlists_changed)

    def _connect_releases(self) -> None:
        """"Notify me" on an album page, and what its release brings (the app adds the desktop notification)."""
        watch, page = self.release_watch, self.library.album_page
        page.presave_requested.connect(watch.set_presaved)
        watch.presave_changed.connect(page.show_presaved)
        watch.released.connect(self._on_release_watch_released)
        watch.failed.connect(self.show_message)

    def _connect_your_library(self) -> None:
        """Your library, the album page's Save and the artist page's Follow, all over SavedLibrary (read now)."""
        page, saved, library = self.your_library, self.saved, self.library
        self.save_button = SaveButton(saved)
        library.album_page.actions_row.insertWidget(1, self.save_button)
        self.follow_button = FollowButton(saved)
        library.artist_page.actions_row.insertWidget(1, self.follow_button)
        page.album_opened.connect(self.open_album)
        page.artist_opened.connect(self.open_artist)
        page.playlist_opened.connect(self._on_your_library_playlist_opened)
        page.browse_requested.connect(lambda: library.setCurrentWidget(library.grid))
        # The sidebar's Library always leads back to Your library, from an album or artist too.
        self.sidebar.itemClicked.connect(self._on_sidebar_item_clicked)
        self.release_watch.released.connect(lambda _album: saved.load())
        saved.failed.connect(self.show_message)
        saved.load()

    def _connect_playback(self, playback: PlaybackController) -> None:
        bar = self.now_playing
        bar.play_pause_clicked.connect(playback.toggle_pause)
        bar.next_clicked.connect(playback.next)
        bar.previous_clicked.connect(playback.previous)
        bar.seek_requested.connect(playback.seek)
        bar.volume_changed.connect(playback.engine.set_volume)
        bar.shuffle_toggled.connect(playback.set_shuffle)
        bar.repeat_changed.connect(playback.set_repeat)
        bar.normalisation_toggled.connect(playback.engine.set_normalisation)
        bar.album_opened.connect(self.open_album)
        bar.artist_opened.connect(self.open_artist)
        bar.device_clicked.connect(self.settings_requested)
        bar.queue_toggled.connect(self.queue_panel.setVisible)
        playback.track_changed.connect(self._on_playback_track_changed)
        playback.state_changed.connect(self._on_playback_state_changed)
        playback.queue_changed.connect(self._on_playback_queue_changed)
        playback.error_occurred.connect(self.show_message)
        playback.notice.connect(self.show_message)
        self.queue_panel.model.move_requested.connect(playback.move)
        self.queue_panel.remove_requested.connect(playback.remove)
        self.queue_panel.clear_requested.connect(playback.clear_queue)

    def _connect_history(self) -> None:
        history = self.session.history
        self.now_playing.like_clicked.connect(history.toggle_liked)
        history.likes_changed.connect(self._on_history_likes_changed)
        history.failed.connect(self.show_message)
        self._on_history_likes_changed()

    # -- what the app and tests call ------------------------------------------------------------------

    def show_message(self, message: str) -> None:
        self.status_line.show_message(message)

    def show_warning(self, message: str) -> None:
        """A lasting condition (e.g. no disk cache), kept in view until the app restarts."""
        self.status_line.show_warning(message)

    def go_to(self, page: str) -> None:
        """Show a page by its sidebar name (the sidebar's rows and the page stack stay in step)."""
        self.sidebar.setCurrentRow(self.sidebar.names().index(page))

    def load_discover_weekly(self) -> None:
        """Fetch this week's Discover Weekly off the UI thread and show it on Home (or why it cannot be shown)."""
        api, card = self._api, self.home.discover_weekly
        run_task(lambda: discover_weekly(api.discover_weekly()), card.show_weekly, card.show_problem)

    def open_album(self, album_id: int) -> None:
        api = self._api
        run_task(lambda: catalog.album_with_tracks(api.album(album_id)), self._on_album_loaded, self.show_message)

    def play_album(self, album_id: int) -> None:
        """Play an album from its first track (its tracks read off the UI thread)."""
        api = self._api
        run_task(lambda: catalog.album_with_tracks(api.album(album_id)), self._on_album_to_play_loaded,
                 self.show_message)

    def open_artist(self, artist_id: int) -> None:
        api = self._api
        run_task(lambda: catalog.artist(api.artist(artist_id)), self._on_artist_loaded, self.show_message)

    # -- slots ----------------------------------------------------------------------------------------

    def _on_catalog_loaded(self, catalog: tuple[list[Album], list[Track]]) -> None:
        albums, tracks = catalog
        self.home.show_catalog(tracks)
        self.library.grid.albums.set_albums(albums)
        self.show_message(f"{count(len(albums), 'album')}, {count(len(tracks), 'track')}")

    def _on_album_to_play_loaded(self, album: AlbumWithTracks) -> None:
        self.playback.play_context(list(album.tracks), 0, PlayContext("album", str(album.id)))

    def _on_track_table_play_requested(self, table: TrackTable, tracks: list[Track], start: int) -> None:
        self.playback.play_context(tracks, start, table.context)

    def _on_history_likes_changed(self) -> None:
        liked = self.session.history.liked_ids()
        for table in self._track_tables():
            table.tracks.set_liked(liked)
        current = self.playback.current_track
        self.now_playing.show_liked(current is not None and current.id in liked)

    def _on_release_watch_released(self, album: Album) -> None:
        self.library.album_page.refresh_release()
        self.show_message(f"“{album.title}” is out: now in your library")

    def _on_album_loaded(self, album: AlbumWithTracks) -> None:
        self.library.show_album(album)
        self.library.album_page.show_presaved(album.id, album.id in self.release_watch.saved)
        self.save_button.show_album(album)
        if self.download_toggle is not None:
            self.download_toggle.show_album(album.id, album.title)
        self.go_to("Library")

    def _on_track_table_download_requested(self, tracks: list[Track]) -> None:
        if self.downloads is not None:
            for album_id, title in {t.album_id: t.album for t in tracks}.items():
                self.downloads.pin_album(album_id, title)

    def _on_playlists_changed(self, playlists: list[tuple[str, str]]) -> None:
        for table in self._track_tables():
            table.playlists = list(playlists)

    def _on_artist_loaded(self, artist: Artist) -> None:
        self.library.show_artist(artist)
        self.follow_button.show_artist(artist)
        if self.artist_download_toggle is not None:
            self.artist_download_toggle.show_artist(artist.id, artist.name)
        self.go_to("Library")

    def _on_sidebar_item_clicked(self, item: QListWidgetItem) -> None:
        if item.text() == "Library":
            self.library.setCurrentWidget(self.your_library)

    def _on_your_library_playlist_opened(self, playlist_id: str) -> None:
        self.playlists.select(playlist_id)
        self.go_to("Playlists")

    def _on_playback_track_changed(self, track: Track) -> None:
        self.now_playing.show_track(track)
        self.now_playing.show_waveform(self.playback.waveform(track.id))
        self.now_playing.show_liked(self.session.history.is_liked(track.id))
        self.now_playing.show_state(self.playback.engine.state)
        self.setWindowTitle(f"{track.title} — {track.artist} · Legato")

    def _on_playback_state_changed(self, state: str) -> None:
        self.now_playing.show_state(state)

    def _on_playback_queue_changed(self) -> None:
        self.queue_panel.model.set_entries(self.playback.queue.upcoming()[:QUEUE_SHOWN])

    def _on_poll_timeout(self) -> None:
        self.now_playing.show_position(self.playback.position_seconds())

    # -- parts ----------------------------------------------------------------------------------------

    def _album_grids(self) -> list[AlbumGrid]:
        return [*self.home.grids(), self.search.albums, self.library.grid, self.library.artist_page.grid]

    def _track_tables(self) -> list[TrackTable]:
        return [self.home.popular, self.home.discover_weekly.table, self.search.tracks,
                self.library.album_page.tracks, self.liked.tracks]

    def _fit_screen(self) -> None:
        room = self.screen().availableGeometry()
        self.resize(min(FIRST_SIZE_PX[0], round(room.width() * FIRST_SCREEN_SHARE)),
                    min(FIRST_SIZE_PX[1], round(room.height() * FIRST_SCREEN_SHARE)))

    def closeEvent(self, event: Any) -> None:
        self.closing.emit()
        self._poll.stop()
        self.status_line.stop()
        self.session.close()
        super().closeEvent(event)


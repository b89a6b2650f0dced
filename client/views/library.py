"""The Library: Your library first, every album as a cover grid, an album's page (cover, tracks) and an artist's page
(albums)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStackedWidget,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from client.catalog import Album, AlbumWithTracks, Artist
from client.listening import PlayContext
from client.release_jitter import RECENT_S, release_instant, utc_now
from client.widgets.controls import named
from client.widgets.cover_cache import CoverCache
from client.widgets.cover_play import CoverPlayDelegate, button_rect, cover_rect
from client.widgets.models import ID_ROLE, RECORD_ROLE, AlbumListModel, format_duration
from client.widgets.theme import heading
from client.widgets.track_table import TrackTable
from client.widgets.words import count

ALBUM_COVER_PX = 200
_MAX_TIMER_MS = 2**31 - 1  # QTimer's bound (~24 days); a later release is looked at again then


class AlbumGrid(QListView):
    """Albums as covers with their titles; hovering a card shows a play button on its cover (none for an album still
    to come). Enter or a double-click opens the album; Ctrl+Enter or that button plays it from its first track.

    Signals: album_opened(int album id); album_play_requested(int album id).
    """

    album_opened = Signal(int)
    album_play_requested = Signal(int)

    def __init__(self, object_name: str, covers: CoverCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, object_name, "Albums",
              "Albums: double-click or Enter opens one; Ctrl+Enter or the play button on a hovered cover plays it")
        self.albums = AlbumListModel(covers)
        self.setModel(self.albums)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(AlbumListModel.COVER_PX, AlbumListModel.COVER_PX))
        self.setGridSize(QSize(170, 200))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.viewport().setMouseTracking(True)  # hover moves reach mouseMoveEvent with no button held
        self._hovered = QPersistentModelIndex()
        self.setItemDelegate(CoverPlayDelegate(self.shows_play_button, self))
        self.activated.connect(self._on_activated)

    def play_button_rect(self, index: QModelIndex) -> QRect:
        """Where the hover play button of the card at ``index`` is, in the viewport's coordinates."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        delegate = self.itemDelegate()
        assert isinstance(delegate, CoverPlayDelegate)
        delegate.initStyleOption(option, index)
        return button_rect(cover_rect(option, self))

    def playable(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        """Whether the card's album can be played now (it is not a release still to come)."""
        album = index.data(RECORD_ROLE)
        instant = release_instant(album.release_at) if isinstance(album, Album) else None
        return index.isValid() and (instant is None or instant <= utc_now())

    def shows_play_button(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        """Whether the card at ``index`` shows its play button now (it is hovered and playable)."""
        return index == self._hovered and self.playable(index)

    def _show_hovered(self, index: QModelIndex) -> None:
        if index != self._hovered:
            for row in (self._hovered.row(), index.row()):
                if row >= 0:
                    self.viewport().update(self.visualRect(self.albums.index(row)))
            self._hovered = QPersistentModelIndex(index)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._show_hovered(self.indexAt(event.position().toPoint()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._show_hovered(QModelIndex())
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self._play_button_at(event)
        if index is not None:
            self._show_hovered(index)
            self.album_play_requested.emit(int(index.data(ID_ROLE)))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._play_button_at(event) is not None:
            event.accept()  # the press already played it; a double-click on the button does not also open it
            return
        super().mouseDoubleClickEvent(event)

    def _play_button_at(self, event: QMouseEvent) -> QModelIndex | None:
        """The card whose play button a left click of ``event`` is on, if any."""
        point = event.position().toPoint()
        index = self.indexAt(point)
        if (event.button() == Qt.MouseButton.LeftButton and self.playable(index)
                and self.play_button_rect(index).contains(point)):
            return index
        return None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier and self.playable(index)):
            self.album_play_requested.emit(int(index.data(ID_ROLE)))
            event.accept()
            return
        super().keyPressEvent(event)

    def _on_activated(self, index: QModelIndex) -> None:
        self.album_opened.emit(int(index.data(ID_ROLE)))


class AlbumPage(QWidget):
    """One album: big cover, title, artist, year, length, Play; its tracks in a TrackTable. Before a scheduled
    release the album shows as "Coming <date, time in the user's zone>", not playable, with "Notify me" beside, and
    turns playable at the instant (on ``clock``, the UTC time).

    Signals: artist_opened(int artist id); presave_requested(Album, bool saved): "Notify me" was clicked (on or off).
    """

    artist_opened = Signal(int)
    presave_requested = Signal(object, bool)

    def __init__(self, covers: CoverCache, parent: QWidget | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(parent)
        self.setObjectName("albumPage")
        self.album: AlbumWithTracks | None = None
        self._clock = clock
        self._covers = covers
        covers.cover_ready.connect(self._on_covers_cover_ready)
        self.cover = named(QLabel(), "albumCover", "Album cover")
        self.title = heading(named(QLabel(), "albumTitle", "Album title"), "page")
        self.details = named(QLabel(), "albumDetails", "Album details")
        self.artist_button = named(QPushButton(), "albumArtistButton", "Go to the artist")
        self.artist_button.setFlat(True)
        self.artist_button.setStyleSheet("text-align: left; font-size: 15px")
        self.play_button = named(QPushButton("Play"), "playAlbumButton", "Play the album")
        self.notify_button = named(QPushButton("Notify me"), "notifyMeButton",
                                   "Notify me: add the album to your library at its release")
        self.notify_button.setCheckable(True)
        self.notify_button.hide()
        self.tracks = TrackTable("albumTrackTable", "Album tracks")
        self.actions_row = QHBoxLayout()
        self.actions_row.addWidget(self.play_button)
        self.actions_row.addWidget(self.notify_button)
        self.actions_row.addStretch(1)
        header_text = QVBoxLayout()
        header_text.addStretch(1)
        header_text.addWidget(self.title)
        header_text.addWidget(self.artist_button)
        header_text.addWidget(self.details)
        header_text.addLayout(self.actions_row)
        header = QHBoxLayout()
        header.addWidget(self.cover)
        header.addLayout(header_text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.tracks, 1)
        self.play_button.clicked.connect(self._on_play_button_clicked)
        self.notify_button.clicked.connect(self._on_notify_button_clicked)
        self.artist_button.clicked.connect(self._on_artist_button_clicked)
        self._release_timer = QTimer(self)
        self._release_timer.setSingleShot(True)
        self._release_timer.timeout.connect(self._on_release_timer_timeout)

    def show_album(self, album: AlbumWithTracks) -> None:
        self.album = album
        self.show_presaved(album.id, False)
        self.cover.setPixmap(self._cover_pixmap(album))
        self.title.setText(album.title)
        self.artist_button.setText(album.artist)
        gapless = " · gapless" if album.gapless else ""
        self.details.setText(f"{album.year} · {count(album.track_count, 'track')} · "
                             f"{format_duration(album.duration_s)}{gapless}")
        self.tracks.context = PlayContext("album", str(album.id))
        self.tracks.set_tracks(album.tracks)
        self._show_release(album)

    def show_presaved(self, album_id: int, saved: bool) -> None:
        """Whether the user asked to be notified of ``album_id`` (as the server confirmed it)."""
        if self.album is not None and self.album.id == album_id:
            self.notify_button.setChecked(saved)
            self.notify_button.setText("Notify me ✓" if saved else "Notify me")

    def _show_release(self, album: AlbumWithTracks) -> None:
        instant = release_instant(album.release_at)
        wait_ms = 0 if instant is None else int((instant - self._clock()).total_seconds() * 1000) + 1
        coming = instant is not None and wait_ms > 0
        self.play_button.setEnabled(not coming)
        self.tracks.setEnabled(not coming)
        self.notify_button.setVisible(coming)
        just_out = instant is not None and not coming and wait_ms > -RECENT_S * 1000
        self.play_button.setText(f"Coming {instant.astimezone():%a %d %b %Y, %H:%M}" if instant and coming
                                 else "Available · Play" if just_out else "Play")
        if coming:
            self._release_timer.start(min(wait_ms, _MAX_TIMER_MS))
        else:
            self._release_timer.stop()

    def refresh_release(self) -> None:
        """Show the album as the clock says now ("Coming …" or playable), e.g. when the clock jumped."""
        if self.album is not None:
            self._show_release(self.album)

    def _on_release_timer_timeout(self) -> None:
        self.refresh_release()

    def _on_play_button_clicked(self) -> None:
        if self.album is not None:
            self.tracks.play_requested.emit(self.tracks.visible_tracks(), 0)

    def _on_notify_button_clicked(self, checked: bool) -> None:
        if self.album is not None:
            self.notify_button.setChecked(not checked)  # shown as asked only once the server has it
            self.presave_requested.emit(self.album, checked)

    def _on_artist_button_clicked(self) -> None:
        if self.album is not None:
            self.artist_opened.emit(self.album.artist_id)

    def _on_covers_cover_ready(self, album_id: int) -> None:
        if self.album is not None and self.album.id == album_id:
            self.cover.setPixmap(self._cover_pixmap(self.album))

    def _cover_pixmap(self, album: Album) -> QPixmap:
        return self._covers.pixmap(album.id, album.title, album.artist, ALBUM_COVER_PX, has_cover=album.has_cover)


class ArtistPage(QWidget):
    """One artist: name (``actions_row`` beside it) and albums. Signals: album_opened(int)."""

    album_opened = Signal(int)

    def __init__(self, covers: CoverCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("artistPage")
        self.name = heading(named(QLabel(), "artistName", "Artist name"), "page")
        self.grid = AlbumGrid("artistAlbumGrid", covers)
        self.actions_row = QHBoxLayout()
        self.actions_row.addWidget(self.name)
        self.actions_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.actions_row)
        layout.addWidget(self.grid, 1)
        self.grid.album_opened.connect(self.album_opened)

    def show_artist(self, artist: Artist) -> None:
        self.name.setText(artist.name)
        self.grid.albums.set_albums(artist.albums)


class LibraryPage(QStackedWidget):
    """``start`` (Your library, shown first), the album grid, an album page and an artist page, one at a time."""

    def __init__(self, covers: CoverCache, start: QWidget, parent: QWidget | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPage")
        self.start = start
        self.grid = AlbumGrid("albumGrid", covers)
        self.album_page = AlbumPage(covers, clock=clock)
        self.artist_page = ArtistPage(covers)
        for page in (start, self.grid, self.album_page, self.artist_page):
            self.addWidget(page)

    def show_album(self, album: AlbumWithTracks) -> None:
        self.album_page.show_album(album)
        self.setCurrentWidget(self.album_page)

    def show_artist(self, artist: Artist) -> None:
        self.artist_page.show_artist(artist)
        self.setCurrentWidget(self.artist_page)

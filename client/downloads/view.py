"""The Downloads view, the per-album/playlist Download toggle and the offline indicator: thin widgets over a
DownloadsController. Every control has a stable objectName and an accessible name for QA."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from client.downloads.controller import DownloadsController
from client.widgets.controls import named
from client.widgets.theme import heading
from offline import DownloadsSnapshot, ItemStatus, PinKey, Progress, TrackRef

KEYSTORE_FIX = ("Downloaded and cached music is kept encrypted on this computer, its key held by the system keystore. "
                "Install and unlock one (gnome-keyring or KWallet on Linux; macOS and Windows have theirs built in), "
                "then restart Legato: the Downloads page and the disk cache come back. Until then every track "
                "plays straight from the server.")
_STATE_WORDS = {"queued": "Queued", "downloading": "Downloading", "waiting": "Waiting", "paused": "Paused",
                "done": "Downloaded", "failed": "Failed"}


def describe(progress: Progress) -> str:
    """'3.2 of 10.0 MB (32%) · 1.5 MB/s · 5 s left' — what a progress line says."""
    mb = 1024 * 1024
    text = f"{progress.bytes_done / mb:.1f} of {progress.bytes_total / mb:.1f} MB ({progress.percent:.0f}%)"
    if progress.rate_bps > 0:
        text += f" · {progress.rate_bps / mb:.1f} MB/s"
    if progress.eta_s is not None:
        text += f" · {progress.eta_s:.0f} s left"
    return text


def _set_bar(bar: QProgressBar, progress: Progress) -> None:
    bar.setRange(0, 1000)
    bar.setValue(round(progress.percent * 10))


class _ItemRow(QWidget):
    """One track of the queue: title, state, a progress bar and pause/resume/cancel buttons."""

    def __init__(self, controller: DownloadsController, item: ItemStatus) -> None:
        super().__init__()
        self.track_id = item.track_id
        named(self, f"downloadItem-{item.track_id}", f"Download of {item.title}", tooltip="")
        self.title = named(QLabel(item.title), "itemTitle", f"Title of {item.title}")
        self.state = named(QLabel(), "itemState", f"State of {item.title}")
        self.bar = named(QProgressBar(), "itemProgress", f"Progress of {item.title}")
        self.pause_button = named(QPushButton("Pause"), "pauseButton", f"Pause {item.title}")
        self.resume_button = named(QPushButton("Resume"), "resumeButton", f"Resume {item.title}")
        self.cancel_button = named(QPushButton("Cancel"), "cancelButton", f"Cancel {item.title}")
        self.pause_button.clicked.connect(lambda: controller.pause(self.track_id))
        self.resume_button.clicked.connect(lambda: controller.resume(self.track_id))
        self.cancel_button.clicked.connect(lambda: controller.cancel(self.track_id))
        layout = QHBoxLayout(self)
        for widget in (self.title, self.state, self.bar, self.pause_button, self.resume_button, self.cancel_button):
            layout.addWidget(widget)
        self.show_item(item)

    def show_item(self, item: ItemStatus) -> None:
        words = _STATE_WORDS[item.state]
        self.state.setText(f"{words}: {item.error}" if item.error else words)
        self.state.setToolTip(item.error or "")
        _set_bar(self.bar, item.progress)
        self.bar.setFormat(describe(item.progress))
        self.pause_button.setEnabled(item.state in ("queued", "downloading", "waiting"))
        self.resume_button.setEnabled(item.state in ("paused", "failed"))
        self.resume_button.setText("Retry" if item.state == "failed" else "Resume")


class DownloadsUnavailablePage(QWidget):
    """The Downloads page when there is no disk cache: why downloads cannot be kept, and how to make them possible."""

    def __init__(self, problem: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "downloadsView", "Downloads", tooltip="")
        title = QLabel("Downloads need the system keystore")
        heading(title, "page")
        why = named(QLabel(problem or "Playing without a disk cache."), "downloadsUnavailableReason",
                    "Why downloads are unavailable", "")
        how = named(QLabel(KEYSTORE_FIX), "downloadsUnavailableFix", "How to enable downloads", "")
        layout = QVBoxLayout(self)
        for label in (title, why, how):
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addStretch(1)


class DownloadsView(QWidget):
    """The Downloads page: total progress, pause/resume all, and a row per track in the queue."""

    def __init__(self, controller: DownloadsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        named(self, "downloadsView", "Downloads", tooltip="")
        self.total_bar = named(QProgressBar(), "totalProgress", "Total download progress")
        self.total_label = named(QLabel(), "totalLabel", "Total download status")
        self.pause_all_button = named(QPushButton("Pause all"), "pauseAllButton", "Pause all downloads")
        self.resume_all_button = named(QPushButton("Resume all"), "resumeAllButton", "Resume all downloads")
        self.error_label = named(QLabel(), "downloadsError", "Download errors")
        self.error_label.setWordWrap(True)
        self.pause_all_button.clicked.connect(controller.pause_all)
        self.resume_all_button.clicked.connect(controller.resume_all)
        header = QHBoxLayout()
        for widget in (self.total_bar, self.total_label, self.pause_all_button, self.resume_all_button):
            header.addWidget(widget)
        self._rows_box = QWidget()
        self._rows_layout = QVBoxLayout(self._rows_box)
        self._rows_layout.addStretch(1)
        scroll = QScrollArea()
        named(scroll, "downloadsList", "Downloads list", tooltip="")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._rows_box)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.error_label)
        layout.addWidget(scroll)
        self._rows: dict[int, _ItemRow] = {}
        controller.snapshot_changed.connect(self._on_controller_snapshot_changed)
        controller.error_occurred.connect(self.error_label.setText)
        self._on_controller_snapshot_changed(controller.snapshot)

    def row(self, track_id: int) -> _ItemRow | None:
        return self._rows.get(track_id)

    def _on_controller_snapshot_changed(self, snapshot: DownloadsSnapshot) -> None:
        _set_bar(self.total_bar, snapshot.total)
        self.total_label.setText(("Paused · " if snapshot.paused else "") + describe(snapshot.total))
        self.pause_all_button.setEnabled(not snapshot.paused)
        self.resume_all_button.setEnabled(snapshot.paused or any(
            item.state in ("paused", "failed") for item in snapshot.items))
        failed = [item for item in snapshot.items if item.state == "failed"]
        self.error_label.setText("\n".join(f"{item.title}: {item.error}" for item in failed[:3]))
        seen = set()
        for item in snapshot.items:
            seen.add(item.track_id)
            row = self._rows.get(item.track_id)
            if row is None:
                row = self._rows[item.track_id] = _ItemRow(self._controller, item)
                self._rows_layout.insertWidget(self._rows_layout.count() - 1, row)
            else:
                row.show_item(item)
        for track_id in set(self._rows) - seen:
            self._rows.pop(track_id).deleteLater()


def _side_by_side(owner: QWidget, *widgets: QWidget) -> None:
    """Lay ``widgets`` out in one row filling ``owner`` edge to edge: a switch and the label saying its state."""
    layout = QHBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)


class DownloadToggle(QWidget):
    """The "Download" switch of one album, artist or playlist, with its state: queued / n of m / done / error.

    Point it at an album with ``show_album``, an artist with ``show_artist`` or a playlist with ``show_playlist``
    (again when its tracks change).
    """

    def __init__(self, controller: DownloadsController, switch_name: str = "downloadToggle",
                 state_name: str = "downloadState", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._key: PinKey | None = None
        self._title = ""
        self._playlist_tracks: list[TrackRef] = []
        self.switch = named(QCheckBox("Download"), switch_name, "Download for offline listening")
        self.state_label = named(QLabel(), state_name, "Download state")
        _side_by_side(self, self.switch, self.state_label)
        self.switch.clicked.connect(self._on_switch_clicked)
        controller.snapshot_changed.connect(self._on_controller_snapshot_changed)
        self.setEnabled(False)

    def show_album(self, album_id: int, title: str) -> None:
        self._show(PinKey("album", str(album_id)), title)

    def show_artist(self, artist_id: int, name: str) -> None:
        """Show an artist; if it is pinned, its downloads take in the albums released since it was pinned."""
        key = PinKey("artist", str(artist_id))
        if self._controller.pin_status(key) is not None:
            self._controller.pin_artist(artist_id, name)
        self._show(key, name)

    def show_playlist(self, playlist_id: str, title: str, tracks: Sequence[TrackRef]) -> None:
        """Show a playlist; if it is pinned, its downloads follow ``tracks`` (gained ones download, lost ones go)."""
        key = PinKey("playlist", playlist_id)
        self._playlist_tracks = list(tracks)
        if self._controller.pin_status(key) is not None:
            self._controller.pin_playlist(playlist_id, title, tracks)
        self._show(key, title)

    def _show(self, key: PinKey, title: str) -> None:
        self._key, self._title = key, title
        self.switch.setAccessibleName(f"Download {title} for offline listening")
        self.setEnabled(True)
        self._on_controller_snapshot_changed(self._controller.snapshot)

    def _on_switch_clicked(self, checked: bool) -> None:
        key = self._key
        if key is None:
            return
        if not checked:
            self._controller.unpin(key)
        elif key.kind == "album":
            self._controller.pin_album(int(key.ident), self._title)
        elif key.kind == "artist":
            self._controller.pin_artist(int(key.ident), self._title)
        else:
            self._controller.pin_playlist(key.ident, self._title, self._playlist_tracks)
        self.state_label.setText("queued" if checked else "")

    def _on_controller_snapshot_changed(self, snapshot: DownloadsSnapshot) -> None:
        if self._key is None:
            return
        status = next((pin for pin in snapshot.pins if pin.key == self._key), None)
        self.switch.setChecked(status is not None)
        self.state_label.setText("" if status is None else status.label)
        self.state_label.setToolTip(status.error or "" if status is not None else "")


class OfflineIndicator(QWidget):
    """Online / offline (server unreachable) / offline mode, and the switch for offline mode."""

    def __init__(self, controller: DownloadsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self.label = named(QLabel(), "offlineIndicator", "Connection state")
        self.mode_switch = named(QCheckBox("Offline mode"), "offlineModeToggle", "Offline mode")
        _side_by_side(self, self.label, self.mode_switch)
        self.mode_switch.clicked.connect(controller.set_offline_mode)
        controller.connectivity_changed.connect(self._on_controller_connectivity_changed)
        self._on_controller_connectivity_changed(controller.online, controller.forced_offline)

    def _on_controller_connectivity_changed(self, online: bool, forced: bool) -> None:
        self.mode_switch.setChecked(forced)
        if forced:
            text = "Offline mode: only downloaded and cached music plays"
        elif online:
            text = "Online"
        else:
            text = "Offline: the server cannot be reached; downloaded and cached music still plays"
        self.label.setText(text)
        self.setProperty("online", online)

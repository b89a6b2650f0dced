"""The Settings dialog: edits a Settings record and hands it back; it never touches the disk, the keystore or the net.

The password typed here is only handed to the caller (``password()``), who keeps it in the OS keystore.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from client.playback import GAIN_MODES
from client.settings import (
    MAX_CACHE_CAP_BYTES,
    MIN_CACHE_CAP_BYTES,
    QUALITIES,
    InvalidSetting,
    Settings,
    check_server_url,
    check_username,
)
from client.widgets.controls import named
from client.widgets.theme import THEME_LABELS
from player import MAX_CROSSFADE_S

_MIB = 1024**2
_GIB = 1024**3
_QUALITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "lossless": "Lossless (FLAC)"}
_GAIN_MODE_LABELS = {"auto": "Auto (album when played in order)", "track": "Track", "album": "Album"}
_PROBLEM_STYLE = "color: #c62828;"


def _problem_label(name: str, accessible: str) -> QLabel:
    label = named(QLabel(), name, accessible, tooltip="")
    label.setStyleSheet(_PROBLEM_STYLE)
    label.hide()
    return label


class SettingsDialog(QDialog):
    """The user's settings: server and account, qualities, cache, normalisation and crossfade, output device,
    offline mode, theme.

    Signals:
        settings_applied(object): the edited Settings, on OK or Apply (only when every field is valid).
        clear_cache_requested(): the user pressed "Clear cache".
    """

    settings_applied = Signal(object)
    clear_cache_requested = Signal()

    def __init__(self, settings: Settings, devices: list[str], cache_stats_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = settings
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.addWidget(self._server_group(settings))
        layout.addWidget(self._playback_group(settings, devices))
        layout.addWidget(self._cache_group(settings, cache_stats_text))
        layout.addWidget(self._general_group(settings))
        self._buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                         | QDialogButtonBox.StandardButton.Apply)
        self._buttons.setObjectName("settingsButtons")
        self._ok = self._button(QDialogButtonBox.StandardButton.Ok, "okButton", "Save the settings and close")
        self._apply_button = self._button(QDialogButtonBox.StandardButton.Apply, "applyButton",
                                          "Save the settings and keep this window open")
        self._button(QDialogButtonBox.StandardButton.Cancel, "cancelButton", "Close without saving the changes")
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        self._apply_button.clicked.connect(self._apply)
        layout.addWidget(self._buttons)
        self._refresh_problems()

    # -- building the groups ------------------------------------------------------------------------------

    def _server_group(self, settings: Settings) -> QGroupBox:
        group = QGroupBox("Server and account")
        form = QFormLayout(group)
        self._use_bundled = QCheckBox("Use the &bundled server")
        named(self._use_bundled, "useBundledCheck", "Use the bundled server",
                  "Play the catalog of the server that comes with Legato, started on this computer")
        self._use_bundled.setChecked(settings.server_url is None)
        self._server_url = QLineEdit(settings.server_url or "")
        named(self._server_url, "serverUrlEdit", "Server URL",
                  "The address of a Legato server, for example https://music.example.org")
        self._server_url.setPlaceholderText("https://music.example.org")
        self._server_url_problem = _problem_label("serverUrlProblem", "Server URL problem")
        self._username = QLineEdit(settings.username)
        named(self._username, "usernameEdit", "Account name", "The account name you sign in with")
        self._username_problem = _problem_label("usernameProblem", "Account name problem")
        self._password = QLineEdit()
        named(self._password, "passwordEdit", "Password",
                  "Your password, kept only in the system keystore; leave empty to keep the current one")
        self._password.setEchoMode(QLineEdit.EchoMode.Password)
        self._password.setPlaceholderText("unchanged")
        form.addRow(self._use_bundled)
        form.addRow("Server &URL:", self._server_url)
        form.addRow("", self._server_url_problem)
        form.addRow("&Account:", self._username)
        form.addRow("", self._username_problem)
        form.addRow("&Password:", self._password)
        self._use_bundled.toggled.connect(self._refresh_problems)
        self._server_url.textChanged.connect(self._refresh_problems)
        self._username.textChanged.connect(self._refresh_problems)
        return group

    def _playback_group(self, settings: Settings, devices: list[str]) -> QGroupBox:
        group = QGroupBox("Playback")
        form = QFormLayout(group)
        self._streaming_quality = self._quality_combo(
            settings.streaming_quality, "streamingQualityCombo", "Streaming quality",
            "The quality played from the server: higher sounds better and uses more data")
        self._download_quality = self._quality_combo(
            settings.download_quality, "downloadQualityCombo", "Download quality",
            "The quality kept for offline listening: higher sounds better and uses more disk space")
        self._normalisation = QCheckBox("&Normalise loudness")
        named(self._normalisation, "normalisationCheck", "Normalise loudness",
                  "Play every track at the same perceived loudness")
        self._normalisation.setChecked(settings.normalisation)
        self._gain_mode = QComboBox()
        named(self._gain_mode, "gainModeCombo", "Normalisation gain",
              "Auto: one gain for a whole album played in order, each track's own otherwise; "
              "Track: each track's own; Album: its album's whenever it is measured")
        for mode in GAIN_MODES:
            self._gain_mode.addItem(_GAIN_MODE_LABELS[mode], mode)
        self._gain_mode.setCurrentIndex(self._gain_mode.findData(settings.gain_mode))
        self._gain_mode.setEnabled(settings.normalisation)
        self._normalisation.toggled.connect(self._gain_mode.setEnabled)
        self._crossfade = QSpinBox()
        named(self._crossfade, "crossfadeSpin", "Crossfade",
              "Fade each track into the next over this many seconds; never between tracks of an album "
              "played in order, which stay gapless")
        self._crossfade.setRange(0, int(MAX_CROSSFADE_S))
        self._crossfade.setSuffix(" s")
        self._crossfade.setSpecialValueText("Off")
        self._crossfade.setValue(round(settings.crossfade_s))
        self._output_device = QComboBox()
        named(self._output_device, "outputDeviceCombo", "Output device", "Where Legato plays its sound")
        self._output_device.addItem("System default", None)
        for device in devices:
            self._output_device.addItem(device, device)
        chosen = settings.output_device
        if chosen is not None and chosen not in devices:
            # Keep a device that is unplugged right now rather than silently forgetting the user's choice.
            self._output_device.addItem(f"{chosen} (not connected)", chosen)
        self._output_device.setCurrentIndex(self._output_device.findData(chosen) if chosen is not None else 0)
        form.addRow("&Streaming quality:", self._streaming_quality)
        form.addRow("&Download quality:", self._download_quality)
        form.addRow(self._normalisation)
        form.addRow("Normalisation &gain:", self._gain_mode)
        form.addRow("C&rossfade:", self._crossfade)
        form.addRow("&Output device:", self._output_device)
        return group

    def _cache_group(self, settings: Settings, cache_stats_text: str) -> QGroupBox:
        group = QGroupBox("Cache")
        form = QFormLayout(group)
        self._cache_cap = QSpinBox()
        named(self._cache_cap, "cacheCapSpin", "Cache size limit",
                  "The most disk space the cache of played music may use; "
                  "downloaded music is never evicted to make room")
        self._cache_cap_unit = QComboBox()
        named(self._cache_cap_unit, "cacheCapUnitCombo", "Cache size unit",
                  "The unit of the cache size limit (1 GB = 1024 MB)")
        self._cache_cap_unit.addItem("MB", _MIB)
        self._cache_cap_unit.addItem("GB", _GIB)
        unit = _GIB if settings.cache_cap_bytes % _GIB == 0 else _MIB
        self._cache_cap_unit.setCurrentIndex(self._cache_cap_unit.findData(unit))
        self._set_cap_range(unit)
        self._cache_cap.setValue(round(settings.cache_cap_bytes / unit))
        self._cap_unit_bytes = unit
        self._cache_cap_unit.currentIndexChanged.connect(self._on_cache_cap_unit_changed)
        self._cache_stats = QLabel(cache_stats_text)
        self._cache_stats.setObjectName("cacheStatsLabel")
        self._cache_stats.setAccessibleName("Cache statistics")
        self._cache_stats.setWordWrap(True)
        clear = QPushButton("&Clear cache")
        named(clear, "clearCacheButton", "Clear cache", "Delete the cached music now; it refills as you play")
        clear.clicked.connect(self.clear_cache_requested)
        size_row = QHBoxLayout()
        size_row.addWidget(self._cache_cap, 1)
        size_row.addWidget(self._cache_cap_unit)
        # A row holding a layout gets no buddy from QFormLayout, so the label's shortcut is wired by hand.
        size_label = QLabel("Cache size &limit:")
        size_label.setBuddy(self._cache_cap)
        form.addRow(size_label, size_row)
        form.addRow(self._cache_stats)
        form.addRow(clear)
        return group

    def _general_group(self, settings: Settings) -> QGroupBox:
        group = QGroupBox("General")
        column = QVBoxLayout(group)
        self._offline_mode = QCheckBox("&Offline mode")
        named(self._offline_mode, "offlineModeCheck", "Offline mode",
                  "Play only downloaded and cached music and do not contact the server")
        self._offline_mode.setChecked(settings.offline_mode)
        self._notifications = QCheckBox("Show a notification when the &track changes")
        named(self._notifications, "notificationsCheck", "Track change notifications",
                  "Show a desktop notification with the title and artist of each new track")
        self._notifications.setChecked(settings.notifications)
        self._theme = named(QComboBox(), "themeCombo", "Theme",
                            "Dark, light, or the system's colour scheme (followed as it changes)")
        for name, label in THEME_LABELS.items():
            self._theme.addItem(label, name)
        self._theme.setCurrentIndex(self._theme.findData(settings.theme))
        theme_row = QHBoxLayout()
        theme_label = QLabel("&Theme:")
        theme_label.setBuddy(self._theme)
        theme_row.addWidget(theme_label)
        theme_row.addWidget(self._theme, 1)
        column.addWidget(self._offline_mode)
        column.addWidget(self._notifications)
        column.addLayout(theme_row)
        return group

    def _quality_combo(self, current: str, name: str, accessible: str, tip: str) -> QComboBox:
        combo = QComboBox()
        named(combo, name, accessible, tip)
        for quality in QUALITIES:
            combo.addItem(_QUALITY_LABELS[quality], quality)
        combo.setCurrentIndex(combo.findData(current))
        return combo

    def _button(self, which: QDialogButtonBox.StandardButton, name: str, tip: str) -> QAbstractButton:
        button = self._buttons.button(which)
        named(button, name, button.text().replace("&", ""), tip)
        return button

    # -- the cache size in MB or GB -------------------------------------------------------------------------

    def _set_cap_range(self, unit_bytes: int) -> None:
        self._cache_cap.setRange(-(-MIN_CACHE_CAP_BYTES // unit_bytes), MAX_CACHE_CAP_BYTES // unit_bytes)

    def _on_cache_cap_unit_changed(self) -> None:
        cap_bytes = self._cache_cap.value() * self._cap_unit_bytes
        self._cap_unit_bytes = int(self._cache_cap_unit.currentData())
        self._set_cap_range(self._cap_unit_bytes)
        self._cache_cap.setValue(round(cap_bytes / self._cap_unit_bytes))

    # -- validation and results -----------------------------------------------------------------------------

    def _problems(self) -> dict[QLabel, str]:
        found: dict[QLabel, str] = {}
        if not self._use_bundled.isChecked():
            try:
                check_server_url(self._server_url.text())
            except InvalidSetting as exc:
                found[self._server_url_problem] = str(exc)
        try:
            check_username(self._username.text())
        except InvalidSetting as exc:
            found[self._username_problem] = str(exc)
        return found

    def _refresh_problems(self) -> None:
        self._server_url.setEnabled(not self._use_bundled.isChecked())
        problems = self._problems()
        for label in (self._server_url_problem, self._username_problem):
            label.setText(problems.get(label, ""))
            label.setVisible(label in problems)
        self._ok.setEnabled(not problems)
        self._apply_button.setEnabled(not problems)

    def _apply(self) -> bool:
        if self._problems():
            return False
        self.settings_applied.emit(self.settings())
        return True

    def accept(self) -> None:
        if self._apply():
            super().accept()

    def settings(self) -> Settings:
        """The settings as edited; raises InvalidSetting while a field shows a problem."""
        return replace(
            self._base,
            server_url=None if self._use_bundled.isChecked() else check_server_url(self._server_url.text()),
            username=check_username(self._username.text()),
            streaming_quality=self._streaming_quality.currentData(),
            download_quality=self._download_quality.currentData(),
            cache_cap_bytes=self._cache_cap.value() * self._cap_unit_bytes,
            normalisation=self._normalisation.isChecked(),
            gain_mode=self._gain_mode.currentData(),
            crossfade_s=float(self._crossfade.value()),
            output_device=self._output_device.currentData(),
            offline_mode=self._offline_mode.isChecked(),
            notifications=self._notifications.isChecked(),
            theme=self._theme.currentData(),
        )

    def password(self) -> str | None:
        """The password typed in the dialog, or None when the field was left empty (keep the current one)."""
        return self._password.text() or None

    def set_cache_stats_text(self, text: str) -> None:
        """Show fresh cache statistics, e.g. after the cache was cleared."""
        self._cache_stats.setText(text)

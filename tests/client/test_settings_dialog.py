"""The Settings dialog driven like a user would: edit through the widgets, press OK/Apply/Cancel, read the result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from client.settings import Settings, SettingsStore
from client.views.settings_dialog import SettingsDialog

DEVICES = ["Built-in Audio Analog Stereo", "USB DAC: Analog (hw:1,0)"]
STARTING = Settings(volume=0.3, shuffle=True, repeat="all", window_geometry=b"\x01\xd9\xd0\xcb",
                    last_queue=(4, 5), last_position_s=12.0)
CONTROLS = ["serverUrlEdit", "useBundledCheck", "usernameEdit", "passwordEdit", "streamingQualityCombo",
            "downloadQualityCombo", "cacheCapSpin", "cacheCapUnitCombo", "clearCacheButton", "normalisationCheck",
            "gainModeCombo", "crossfadeSpin", "outputDeviceCombo",
            "offlineModeCheck", "notificationsCheck", "themeCombo", "okButton", "applyButton", "cancelButton"]

MakeDialog = Callable[..., SettingsDialog]
W = TypeVar("W", bound=QWidget)


@pytest.fixture
def make_dialog(qtbot: QtBot) -> MakeDialog:
    def make(settings: Settings = STARTING, devices: list[str] = DEVICES) -> SettingsDialog:
        dialog = SettingsDialog(settings, devices, "Cache: 120 MB of 2 GB, 7 plays from disk")
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog
    return make


def child(dialog: SettingsDialog, name: str, kind: type[W]) -> W:
    found = dialog.findChild(kind, name)
    assert isinstance(found, kind), f"no {kind.__name__} named {name}"
    return found


def click(qtbot: QtBot, dialog: SettingsDialog, name: str) -> None:
    control = child(dialog, name, QWidget)
    # A check box stretched by its layout answers clicks on its box and label only, which start at its left.
    spot = QPoint(8, control.height() // 2) if isinstance(control, QCheckBox) else control.rect().center()
    qtbot.mouseClick(control, Qt.MouseButton.LeftButton, pos=spot)


def type_into(qtbot: QtBot, dialog: SettingsDialog, name: str, text: str) -> None:
    edit = child(dialog, name, QLineEdit)
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def choose(dialog: SettingsDialog, name: str, text: str) -> None:
    combo = child(dialog, name, QComboBox)
    index = combo.findText(text)
    assert index >= 0, f"{name} offers no “{text}”"
    combo.setCurrentIndex(index)


def cache_cap_shown(dialog: SettingsDialog) -> tuple[int, str]:
    return child(dialog, "cacheCapSpin", QSpinBox).value(), child(dialog, "cacheCapUnitCombo", QComboBox).currentText()


def test_every_control_has_an_accessible_name_and_a_tooltip(make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    for name in CONTROLS:
        control = child(dialog, name, QWidget)
        assert control.accessibleName(), f"{name} has no accessible name"
        assert control.toolTip(), f"{name} has no tooltip"


def test_dialog_shows_the_given_settings(make_dialog: MakeDialog) -> None:
    dialog = make_dialog(Settings(server_url="https://music.example.org", username="ann",
                                  streaming_quality="low", cache_cap_bytes=300 * 1024**2,
                                  output_device=DEVICES[1], offline_mode=True))
    assert child(dialog, "serverUrlEdit", QLineEdit).text() == "https://music.example.org"
    assert not child(dialog, "useBundledCheck", QCheckBox).isChecked()
    assert child(dialog, "usernameEdit", QLineEdit).text() == "ann"
    assert child(dialog, "streamingQualityCombo", QComboBox).currentText() == "Low"
    assert cache_cap_shown(dialog) == (300, "MB")
    assert child(dialog, "outputDeviceCombo", QComboBox).currentText() == DEVICES[1]
    assert child(dialog, "offlineModeCheck", QCheckBox).isChecked()
    assert child(dialog, "gainModeCombo", QComboBox).currentText().startswith("Auto")
    assert child(dialog, "crossfadeSpin", QSpinBox).text() == "Off"
    assert "7 plays from disk" in child(dialog, "cacheStatsLabel", QLabel).text()


def test_edits_made_through_the_widgets_come_back_on_ok(qtbot: QtBot, make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    assert child(dialog, "useBundledCheck", QCheckBox).isChecked()
    assert not child(dialog, "serverUrlEdit", QLineEdit).isEnabled()
    click(qtbot, dialog, "useBundledCheck")
    type_into(qtbot, dialog, "serverUrlEdit", "https://music.example.org:8443/")
    type_into(qtbot, dialog, "usernameEdit", "ann")
    type_into(qtbot, dialog, "passwordEdit", "correct horse")
    choose(dialog, "streamingQualityCombo", "Lossless (FLAC)")
    choose(dialog, "downloadQualityCombo", "Normal")
    choose(dialog, "cacheCapUnitCombo", "MB")
    assert child(dialog, "cacheCapSpin", QSpinBox).value() == 2048
    spin = child(dialog, "cacheCapSpin", QSpinBox)
    spin.selectAll()
    qtbot.keyClicks(spin, "512")
    choose(dialog, "gainModeCombo", "Track")
    crossfade = child(dialog, "crossfadeSpin", QSpinBox)
    crossfade.selectAll()
    qtbot.keyClicks(crossfade, "6")
    click(qtbot, dialog, "normalisationCheck")
    assert not child(dialog, "gainModeCombo", QComboBox).isEnabled()  # nothing to choose with normalisation off
    choose(dialog, "outputDeviceCombo", DEVICES[1])
    click(qtbot, dialog, "offlineModeCheck")
    click(qtbot, dialog, "notificationsCheck")
    choose(dialog, "themeCombo", "Same as the system")

    with qtbot.waitSignal(dialog.settings_applied, timeout=5_000) as applied:
        click(qtbot, dialog, "okButton")

    expected = Settings(server_url="https://music.example.org:8443", username="ann", streaming_quality="lossless",
                        download_quality="normal", cache_cap_bytes=512 * 1024**2, normalisation=False,
                        gain_mode="track", crossfade_s=6.0, output_device=DEVICES[1],
                        offline_mode=True, notifications=False, theme="system", volume=0.3, shuffle=True,
                        repeat="all", window_geometry=b"\x01\xd9\xd0\xcb", last_queue=(4, 5), last_position_s=12.0)
    assert applied.args == [expected]
    assert dialog.settings() == expected
    assert dialog.result() == SettingsDialog.DialogCode.Accepted and not dialog.isVisible()
    assert dialog.password() == "correct horse"


def test_password_typed_in_the_dialog_never_reaches_the_settings_file(
        qtbot: QtBot, make_dialog: MakeDialog, tmp_path: Path) -> None:
    dialog = make_dialog()
    type_into(qtbot, dialog, "passwordEdit", "correct horse")
    with qtbot.waitSignal(dialog.settings_applied, timeout=5_000) as applied:
        click(qtbot, dialog, "okButton")
    store = SettingsStore(tmp_path / "settings.json")
    store.save(applied.args[0])
    assert b"correct horse" not in store.path.read_bytes()


def test_empty_password_field_means_keep_the_current_one(make_dialog: MakeDialog) -> None:
    assert make_dialog().password() is None


def test_choosing_system_default_output_gives_no_device(make_dialog: MakeDialog) -> None:
    dialog = make_dialog(Settings(output_device=DEVICES[0]))
    choose(dialog, "outputDeviceCombo", "System default")
    assert child(dialog, "outputDeviceCombo", QComboBox).itemText(0) == "System default"
    assert dialog.settings().output_device is None


def test_a_disconnected_output_device_stays_chosen(make_dialog: MakeDialog) -> None:
    dialog = make_dialog(Settings(output_device="Bluetooth headphones"))
    assert child(dialog, "outputDeviceCombo", QComboBox).currentText() == "Bluetooth headphones (not connected)"
    assert dialog.settings().output_device == "Bluetooth headphones"


def test_switching_the_cache_unit_keeps_the_size(make_dialog: MakeDialog) -> None:
    dialog = make_dialog(Settings(cache_cap_bytes=3 * 1024**3))
    assert cache_cap_shown(dialog) == (3, "GB")
    choose(dialog, "cacheCapUnitCombo", "MB")
    assert child(dialog, "cacheCapSpin", QSpinBox).value() == 3072
    assert dialog.settings().cache_cap_bytes == 3 * 1024**3


def test_invalid_server_url_blocks_ok_with_a_message(qtbot: QtBot, make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    problem = child(dialog, "serverUrlProblem", QLabel)
    assert not problem.isVisible()
    click(qtbot, dialog, "useBundledCheck")
    type_into(qtbot, dialog, "serverUrlEdit", "ftp://music.example.org")
    ok = child(dialog, "okButton", QAbstractButton)
    assert problem.isVisible() and "http:// or https://" in problem.text()
    assert not ok.isEnabled() and not child(dialog, "applyButton", QAbstractButton).isEnabled()

    emitted: list[Settings] = []
    dialog.settings_applied.connect(emitted.append)
    click(qtbot, dialog, "okButton")
    dialog.accept()
    assert dialog.isVisible() and emitted == []

    type_into(qtbot, dialog, "serverUrlEdit", "http://127.0.0.1:8000")
    assert not problem.isVisible() and ok.isEnabled()
    click(qtbot, dialog, "okButton")
    assert [applied.server_url for applied in emitted] == ["http://127.0.0.1:8000"]


def test_rechecking_the_bundled_server_clears_the_url_problem(qtbot: QtBot, make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    click(qtbot, dialog, "useBundledCheck")
    assert child(dialog, "serverUrlProblem", QLabel).isVisible()
    click(qtbot, dialog, "useBundledCheck")
    assert not child(dialog, "serverUrlProblem", QLabel).isVisible()
    assert child(dialog, "okButton", QAbstractButton).isEnabled()
    assert dialog.settings().server_url is None


def test_empty_account_name_blocks_ok_with_a_message(qtbot: QtBot, make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    type_into(qtbot, dialog, "usernameEdit", "   ")
    assert child(dialog, "usernameProblem", QLabel).isVisible()
    assert "account name" in child(dialog, "usernameProblem", QLabel).text()
    assert not child(dialog, "okButton", QAbstractButton).isEnabled()


def test_apply_emits_the_settings_and_keeps_the_dialog_open(qtbot: QtBot, make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    click(qtbot, dialog, "offlineModeCheck")
    with qtbot.waitSignal(dialog.settings_applied, timeout=5_000) as applied:
        click(qtbot, dialog, "applyButton")
    assert applied.args[0] == Settings(**{**STARTING.__dict__, "offline_mode": True})
    assert dialog.isVisible()


def test_cancel_closes_without_applying(qtbot: QtBot, make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    emitted: list[object] = []
    dialog.settings_applied.connect(emitted.append)
    click(qtbot, dialog, "offlineModeCheck")
    click(qtbot, dialog, "cancelButton")
    assert emitted == []
    assert dialog.result() == SettingsDialog.DialogCode.Rejected and not dialog.isVisible()


def test_clear_cache_button_emits_its_signal_and_stats_can_be_refreshed(
        qtbot: QtBot, make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    with qtbot.waitSignal(dialog.clear_cache_requested, timeout=5_000):
        click(qtbot, dialog, "clearCacheButton")
    dialog.set_cache_stats_text("Cache: empty")
    assert child(dialog, "cacheStatsLabel", QLabel).text() == "Cache: empty"
    assert dialog.isVisible()

"""Legato's user settings: the Settings record and its human-readable JSON file, validated on load, saved atomically.

Never holds a password: a remembered password lives only in the OS keystore (``remember_password``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import keyring

from cache import DEFAULT_CAP_BYTES
from client.playback import GAIN_MODES, GainMode
from durable import write_atomically
from player import MAX_CROSSFADE_S

log = logging.getLogger(__name__)

Quality = Literal["low", "normal", "high", "lossless"]
Repeat = Literal["off", "all", "one"]
ThemeName = Literal["dark", "light", "system"]
LibrarySection = Literal["liked", "albums", "artists", "playlists"]
LibrarySort = Literal["recent", "title", "artist"]
QUALITIES: tuple[Quality, ...] = get_args(Quality)
REPEAT_MODES: tuple[Repeat, ...] = get_args(Repeat)
THEMES: tuple[ThemeName, ...] = get_args(ThemeName)
LIBRARY_SECTIONS: tuple[LibrarySection, ...] = get_args(LibrarySection)
LIBRARY_SORTS: tuple[LibrarySort, ...] = get_args(LibrarySort)
MIN_CACHE_CAP_BYTES = 100 * 1024**2
MAX_CACHE_CAP_BYTES = 1024**4
PASSWORD_SERVICE = "legato-account"
_KEYSTORE_HOW_TO = (
    "Install gnome-keyring (or KWallet) and run Legato in a desktop session; macOS uses the Keychain and "
    "Windows the Credential Locker. Until then, enter the password each time you sign in"
)


class InvalidSetting(ValueError):
    """A value a user gave for a setting is not usable; the message says how to fix it."""


class SettingsSaveError(RuntimeError):
    """The settings file could not be written; the previous file is left as it was."""


class PasswordStoreUnavailable(RuntimeError):
    """No usable OS keystore to remember or recall an account password (it is never kept anywhere else)."""


@dataclass(frozen=True)
class Settings:
    """Everything Legato remembers between runs, except the password.

    ``server_url`` None means the bundled server; ``output_device`` None the system default;
    ``window_geometry`` is the blob of QWidget.saveGeometry; ``last_queue`` holds track ids; ``theme`` "system"
    follows the platform's colour scheme; ``welcomed`` once the first-run welcome was dismissed; ``library_sort``
    the order chosen for each section of Your library, as (section, sort) pairs.
    """

    server_url: str | None = None
    edge_url: str | None = None  # an HTTP cache for audio and covers; None: one the server advertises, or none
    username: str = "demo"
    streaming_quality: Quality = "high"
    download_quality: Quality = "high"
    cache_cap_bytes: int = DEFAULT_CAP_BYTES
    normalisation: bool = True
    gain_mode: GainMode = "auto"
    crossfade_s: float = 0.0
    output_device: str | None = None
    offline_mode: bool = False
    notifications: bool = True
    theme: ThemeName = "dark"
    welcomed: bool = False
    library_sort: tuple[tuple[LibrarySection, LibrarySort], ...] = ()
    volume: float = 0.8  # the slider's level, kept while muted (the level unmuting comes back to)
    muted: bool = False
    shuffle: bool = False
    repeat: Repeat = "off"
    window_geometry: bytes | None = None
    last_queue: tuple[int, ...] = ()
    last_position_s: float = 0.0


def check_server_url(text: str) -> str:
    """The server address ``text`` names (trimmed, no trailing slash), or InvalidSetting saying what is wrong."""
    url = text.strip().rstrip("/")
    if not url:
        raise InvalidSetting("Enter the server's address, for example https://music.example.org")
    # The messages leave the address out: they show next to it, and the file loader logs the raw value.
    if any(char.isspace() for char in url):
        raise InvalidSetting("The server address must not contain spaces")
    try:
        parts = urlsplit(url)
        port = parts.port  # urlsplit checks the port only when asked
    except ValueError as exc:
        raise InvalidSetting(f"Not a valid server address: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidSetting("The server address must start with http:// or https://")
    if not parts.hostname:
        raise InvalidSetting("The address names no server; write it like https://music.example.org")
    if parts.query or parts.fragment or port == 0:
        raise InvalidSetting("Not a server address; write it like https://music.example.org:8000")
    return url


def check_username(text: str) -> str:
    """The account name ``text`` names (trimmed), or InvalidSetting when it is empty."""
    name = text.strip()
    if not name:
        raise InvalidSetting("Enter the account name you sign in with")
    return name


# -- reading the file: each field's parser takes the JSON value and returns the typed one or raises ValueError --

def _text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise ValueError("expected non-empty text")
    return raw


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda raw: None if raw is None else parse(raw)


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if raw not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return str(raw)
    return parse


def _flag(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise ValueError("expected true or false")
    return raw


def _number(low: float, high: float) -> Callable[[Any], float]:
    def parse(raw: Any) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) \
                or not low <= raw <= high:
            raise ValueError(f"expected a number from {low} to {high}")
        return float(raw)
    return parse


def _cache_cap(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not MIN_CACHE_CAP_BYTES <= raw <= MAX_CACHE_CAP_BYTES:
        raise ValueError(f"expected a whole number of bytes from {MIN_CACHE_CAP_BYTES} to {MAX_CACHE_CAP_BYTES}")
    return raw


def _geometry(raw: Any) -> bytes:
    if not isinstance(raw, str):
        raise ValueError("expected base64 text")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"expected base64 text ({exc})") from exc


def _track_ids(raw: Any) -> tuple[int, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, int) and not isinstance(item, bool) and item > 0
                                            for item in raw):
        raise ValueError("expected a list of track ids (positive whole numbers)")
    return tuple(raw)


def _library_sort(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not all(section in LIBRARY_SECTIONS and sort in LIBRARY_SORTS
                                            for section, sort in raw.items()):
        raise ValueError(f"expected an object of sections ({', '.join(LIBRARY_SECTIONS)}) to orders "
                         f"({', '.join(LIBRARY_SORTS)})")
    return tuple(sorted(raw.items()))


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "server_url": _optional(lambda raw: check_server_url(_text(raw))),
    "edge_url": _optional(lambda raw: check_server_url(_text(raw))),
    "username": lambda raw: check_username(_text(raw)),
    "streaming_quality": _choice(QUALITIES),
    "download_quality": _choice(QUALITIES),
    "cache_cap_bytes": _cache_cap,
    "normalisation": _flag,
    "gain_mode": _choice(GAIN_MODES),
    "crossfade_s": _number(0.0, MAX_CROSSFADE_S),
    "output_device": _optional(_text),
    "offline_mode": _flag,
    "notifications": _flag,
    "theme": _choice(THEMES),
    "welcomed": _flag,
    "library_sort": _library_sort,
    "volume": _number(0.0, 1.0),
    "muted": _flag,
    "shuffle": _flag,
    "repeat": _choice(REPEAT_MODES),
    "window_geometry": _optional(_geometry),
    "last_queue": _track_ids,
    "last_position_s": _number(0.0, math.inf),
}


def _from_json(raw: dict[str, Any], path: Path) -> Settings:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in raw.items():
        parse = _PARSERS.get(name)
        if parse is None:
            problems.append(f"unknown setting “{name}” ignored")
            continue
        try:
            values[name] = parse(value)
        except ValueError as exc:
            problems.append(f"{name} {json.dumps(value)[:80]} is unusable ({exc}), using the default")
    if problems:
        log.warning("The settings file %s has problems: %s", path, "; ".join(problems))
    return Settings(**values)


def _to_json(settings: Settings) -> dict[str, Any]:
    fields = {field.name: getattr(settings, field.name) for field in dataclasses.fields(settings)}
    geometry = settings.window_geometry
    return {**fields, "window_geometry": None if geometry is None else base64.b64encode(geometry).decode("ascii"),
            "last_queue": list(settings.last_queue), "library_sort": dict(settings.library_sort)}


class SettingsStore:
    """One settings file. ``load`` never fails; ``save`` replaces the file whole or leaves the old one."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> Settings:
        """The saved settings; defaults for a missing file, and for each unusable field (with a logged warning)."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings()
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("Cannot read the settings file %s (%s); using the default settings", self._path, exc)
            return Settings()
        try:
            raw = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            log.warning("The settings file %s is not valid JSON (%s); using the default settings", self._path, exc)
            return Settings()
        if not isinstance(raw, dict):
            log.warning("The settings file %s does not hold a JSON object; using the default settings", self._path)
            return Settings()
        return _from_json(raw, self._path)

    def save(self, settings: Settings) -> None:
        """Write ``settings`` atomically: a crash leaves either the old file or the new one, never a mix."""
        text = json.dumps(_to_json(settings), indent=2, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                write_atomically(self._path, text.encode())
            except OSError as exc:
                raise SettingsSaveError(
                    f"Could not save the settings to {self._path}: {exc}. Check that the folder is writable "
                    "and the disk is not full; the previous settings are kept") from exc


# -- the account password: only ever in the OS keystore -----------------------------------------------------

def remember_password(username: str, password: str) -> None:
    """Keep ``password`` for ``username`` in the OS keystore (service "legato-account"), never in a file."""
    try:
        keyring.set_password(PASSWORD_SERVICE, username, password)
        # Read it back: an empty or null backend accepts the write and keeps nothing.
        kept = keyring.get_password(PASSWORD_SERVICE, username)
    # Backends fail in their own ways (D-Bus errors, locked collections, OSError on the socket).
    except Exception as exc:
        raise PasswordStoreUnavailable(
            f"Legato could not remember the password for “{username}”: no usable OS keystore ({exc}). "
            f"{_KEYSTORE_HOW_TO}") from exc
    if kept != password:
        raise PasswordStoreUnavailable(
            f"Legato could not remember the password for “{username}”: the OS keystore did not keep it. "
            f"{_KEYSTORE_HOW_TO}")


def recall_password(username: str) -> str | None:
    """The password remembered for ``username`` in the OS keystore, or None when none is."""
    try:
        return keyring.get_password(PASSWORD_SERVICE, username)
    # Backends fail in their own ways (D-Bus errors, locked collections, OSError on the socket).
    except Exception as exc:
        raise PasswordStoreUnavailable(
            f"Legato could not read the remembered password for “{username}”: no usable OS keystore ({exc}). "
            f"{_KEYSTORE_HOW_TO}") from exc

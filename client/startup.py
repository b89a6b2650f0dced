"""Connecting off the UI thread: start the bundled server if asked, log in, open the content store.

What it hands back (a Connection) holds no Qt object: client.session builds the rest on the UI thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cache import ContentStore, KeystoreUnavailable, MasterKey
from client.api import ApiClient, advertised_edge
from client.bundled import BundledServer
from client.settings import PasswordStoreUnavailable, recall_password
from client.tasks import run_task
from offline import Backoff

BUNDLED_DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class Connection:
    """A logged-in server session and the content store (None when the OS keystore is unavailable)."""

    api: ApiClient
    store: ContentStore | None
    store_problem: str | None


class Startup(QObject):
    """Connects to the server (building and starting the bundled one if asked), logs in, opens the cache.

    Signals:
        progress(str): a line to show while starting.
        connected(object): the Connection.
        failed(str): why the app cannot reach its server.
    """

    progress = Signal(str)
    connected = Signal(object)
    failed = Signal(str)

    def __init__(self, cache_dir: Path, bundled: BundledServer | None, url: str | None,
                 username: str, password: str | None, cache_cap_bytes: int | None = None, *,
                 edge_url: str | None = None) -> None:
        """``edge_url``: the edge cache audio comes through; None takes one the server advertises (if any)."""
        super().__init__()
        self._cache_dir = cache_dir
        self._bundled = bundled
        self._url = url
        self._username = username
        self._password = password
        self._cache_cap_bytes = cache_cap_bytes
        self._edge_url = edge_url

    def start(self) -> None:
        run_task(self._connect, self.connected.emit, self.failed.emit)

    def _connect(self) -> Connection:
        with ThreadPoolExecutor(2, thread_name_prefix="connect") as helpers:
            # The keystore's D-Bus round trips, the edge's and the login's HTTP ones overlap: none needs another.
            asked = helpers.submit(MasterKey.from_keystore)
            api = self._login(helpers)
            try:
                master_key = asked.result()
            except KeystoreUnavailable as exc:
                return Connection(api, None, f"Playing without a disk cache: {exc}")
        store = ContentStore(self._cache_dir, api, api, master_key, cap_bytes=self._cache_cap_bytes, busy=Backoff())
        return Connection(api, store, None)

    def _login(self, helpers: ThreadPoolExecutor) -> ApiClient:
        url = self._url
        if self._bundled is not None:
            if not self._bundled.has_catalog:
                self.progress.emit("Creating the demo catalog (first run only)…")
                self._bundled.prepare_demo(self.progress.emit)
            self.progress.emit("Starting the bundled server…")
            url = self._bundled.start()
        assert url is not None
        advertised = None if self._edge_url else helpers.submit(advertised_edge, url, self._username)
        api = ApiClient(url, edge_url=self._edge_url)
        api.login(self._username, self._password_to_use())
        if advertised is not None and (edge_url := advertised.result()) is not None:
            api.use_edge(edge_url)
        return api

    def _password_to_use(self) -> str:
        if self._password is not None:
            return self._password
        try:
            remembered = recall_password(self._username)
        except PasswordStoreUnavailable:
            remembered = None
        if remembered is not None:
            return remembered
        if self._bundled is not None:
            return BUNDLED_DEMO_PASSWORD
        raise PermissionError(f"no password for {self._username}: enter it in Settings (Ctrl+,) and sign in again")

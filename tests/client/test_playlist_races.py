"""Devices of two users racing the background sync, Share and edits through the real server, with a slow listing.

Nothing a device made may ever vanish from it, and after healing every edit is on every device that sees the
playlist. Set LEGATO_LONG=1 for a long run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from client.api import ApiClient
from client.playlists import PlaylistSync
from tests.helpers.playlist_server import PlaylistServer, SlowListing

LONG = os.environ.get("LEGATO_LONG") == "1"
LISTING_DELAY_S = 0.1
DEVICE_USERS = (0, 0, 1)  # two devices of the first user, one of the second
device_index = st.integers(0, len(DEVICE_USERS) - 1)
fraction = st.floats(0, 1, exclude_max=True)
_server: PlaylistServer | None = None


@pytest.fixture(scope="module", autouse=True)
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    global _server
    _server = PlaylistServer(tmp_path_factory.mktemp("race-server"), ())
    yield
    _server.stop()
    _server = None


class RacingDevices(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert _server is not None
        tag = uuid.uuid4().hex[:8]
        self.users = [f"first-{tag}", f"second-{tag}"]
        for user in self.users:
            _server.add_user(user)
        self.folder = Path(tempfile.mkdtemp(prefix="racing-"))
        self.sessions: list[ApiClient] = []
        self.devices: list[PlaylistSync] = []
        for number, user in enumerate(DEVICE_USERS):
            self.sessions.append(_server.session(self.users[user], transport=SlowListing(LISTING_DELAY_S)))
            self.devices.append(PlaylistSync(self.sessions[-1], self.folder / str(number)))
            self.devices[-1].start()
        self.made_on: dict[str, int] = {}  # playlist id -> the device that created it
        self.members: dict[str, set[int]] = {}  # playlist id -> users who may edit it
        self.added: set[str] = set()
        self.removed: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._failures: list[BaseException] = []
        self._lock = threading.Lock()

    def visible(self, device: int) -> list[str]:
        return sorted(info.playlist_id for info in self.devices[device].playlists())

    def in_background(self, work: Callable[[], None]) -> None:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread, which fails with it
                with self._lock:
                    self._failures.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()

    @rule(device=device_index)
    def create(self, device: int) -> None:
        playlist_id = self.devices[device].create("Racing", collaborative=True)
        self.made_on[playlist_id] = device
        self.members[playlist_id] = {DEVICE_USERS[device]}

    @rule(device=device_index, which=fraction, track=st.integers(1, 30))
    def add(self, device: int, which: float, track: int) -> None:
        playlists = self.visible(device)
        if playlists:
            playlist_id = playlists[int(which * len(playlists))]
            self.added.add(self.devices[device].add(playlist_id, track).entry_id)

    @rule(device=device_index, which=fraction, where=fraction)
    def remove(self, device: int, which: float, where: float) -> None:
        playlists = self.visible(device)
        if playlists:
            entries = self.devices[device].state(playlists[int(which * len(playlists))]).entries
            if entries:
                entry = entries[int(where * len(entries))]
                self.devices[device].remove(playlists[int(which * len(playlists))], entry.entry_id)
                self.removed.add(entry.entry_id)

    @rule(device=device_index)
    def background_sync(self, device: int) -> None:
        self.in_background(self.devices[device].sync)

    @rule(device=device_index, which=fraction)
    def share(self, device: int, which: float) -> None:
        owned = [playlist_id for playlist_id, maker in sorted(self.made_on.items())
                 if DEVICE_USERS[maker] == DEVICE_USERS[device] and playlist_id in self.visible(device)]
        if owned:
            playlist_id, other = owned[int(which * len(owned))], 1 - DEVICE_USERS[device]

            def invite() -> None:
                self.devices[device].invite(playlist_id, self.users[other])
                with self._lock:
                    self.members[playlist_id].add(other)

            self.in_background(invite)

    @rule()
    def join(self) -> None:
        for thread in self._threads:
            thread.join(30)
        self._threads.clear()
        with self._lock:
            failures, self._failures = list(self._failures), []
        if failures:
            raise failures[0]

    @invariant()
    def nothing_made_here_vanishes(self) -> None:
        for playlist_id, device in self.made_on.items():
            assert playlist_id in self.visible(device), f"device {device} forgot playlist {playlist_id} it made"

    def teardown(self) -> None:
        try:
            self.join()
            for device in self.devices:
                assert device.wait_idle(30)
            for _ in range(2):
                for device in self.devices:
                    device.sync()
            for playlist_id, members in self.members.items():
                seeing = [device for number, device in enumerate(self.devices) if DEVICE_USERS[number] in members]
                states = [device.state(playlist_id) for device in seeing]
                assert all(state == states[0] for state in states)
                ids = [entry.entry_id for entry in states[0].entries]
                assert len(ids) == len(set(ids))
            everywhere = {entry.entry_id for device in self.devices for info in device.playlists()
                          for entry in device.state(info.playlist_id).entries}
            assert everywhere == self.added - self.removed
            assert all(info.unpushed_edits == 0 and not info.detached
                       for device in self.devices for info in device.playlists())
        finally:
            for device, session in zip(self.devices, self.sessions, strict=True):
                device.close()
                session.close()
            shutil.rmtree(self.folder, ignore_errors=True)


RacingDevices.TestCase.settings = settings(
    max_examples=200 if LONG else 8, stateful_step_count=30 if LONG else 15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_no_edit_is_lost_while_sync_share_and_edits_race = RacingDevices.TestCase

"""Three PlaylistSync replicas through the real server: random edits, partitions, reconnects and server restarts.

After healing and flushing: all replicas equal, each entry once, visible = added - removed, no moved entry lost.
Set LEGATO_LONG=1 for a long run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from client.api import ServerUnreachable
from client.playlists import PlaylistSync
from tests.helpers.playlist_server import PlaylistServer

LONG = os.environ.get("LEGATO_LONG") == "1"
USERS = ("alice", "bob", "carol")
replica_index = st.integers(0, len(USERS) - 1)
fraction = st.floats(0, 1, exclude_max=True)
_server: PlaylistServer | None = None


@pytest.fixture(scope="module", autouse=True)
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    global _server
    _server = PlaylistServer(tmp_path_factory.mktemp("stateful-server"), USERS)
    yield
    _server.stop()
    _server = None


class SyncedReplicas(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert _server is not None
        self.server = _server
        self.folder = Path(tempfile.mkdtemp(prefix="replicas-"))
        self.sessions = [self.server.session(user) for user in USERS]
        self.replicas = [PlaylistSync(api, self.folder / api.user_name) for api in self.sessions]
        owner = self.replicas[0]
        self.playlist_id = owner.create("Shared", collaborative=True)
        for other in self.replicas[1:]:
            owner.invite(self.playlist_id, other.user)
            other.sync()
        self.added: set[str] = set()
        self.removed: set[str] = set()
        self.moved: set[str] = set()
        self.restarts = 0

    def ids(self, who: int) -> list[str]:
        return [entry.entry_id for entry in self.replicas[who].state(self.playlist_id).entries]

    @rule(who=replica_index, where=fraction, track=st.integers(1, 30))
    def add(self, who: int, where: float, track: int) -> None:
        count = len(self.ids(who))
        self.added.add(self.replicas[who].add(self.playlist_id, track, int(where * (count + 1))).entry_id)

    @rule(who=replica_index, where=fraction)
    def remove(self, who: int, where: float) -> None:
        ids = self.ids(who)
        if ids:
            entry_id = ids[int(where * len(ids))]
            self.replicas[who].remove(self.playlist_id, entry_id)
            self.removed.add(entry_id)

    @rule(who=replica_index, where=fraction, to=fraction)
    def move(self, who: int, where: float, to: float) -> None:
        ids = self.ids(who)
        if len(ids) > 1:
            entry_id = ids[int(where * len(ids))]
            self.replicas[who].move(self.playlist_id, entry_id, int(to * len(ids)))
            self.moved.add(entry_id)

    @rule(who=replica_index, name=st.sampled_from(["A", "B"]))
    def rename(self, who: int, name: str) -> None:
        self.replicas[who].rename(self.playlist_id, name)

    @rule(who=replica_index, online=st.booleans())
    def partition_or_heal(self, who: int, online: bool) -> None:
        self.replicas[who].set_online(online)

    @rule(who=replica_index)
    def sync(self, who: int) -> None:
        try:
            self.replicas[who].sync(self.playlist_id)
        except ServerUnreachable:
            assert not self.replicas[who].online

    @precondition(lambda self: self.restarts < 1)
    @rule()
    def restart_server(self) -> None:
        self.restarts += 1
        self.server.restart()

    def teardown(self) -> None:
        try:
            for replica in self.replicas:
                replica.set_online(True)
            for _ in range(2):
                for replica in self.replicas:
                    replica.sync(self.playlist_id)
            states = [replica.state(self.playlist_id) for replica in self.replicas]
            assert states[0] == states[1] == states[2]
            ids = self.ids(0)
            assert len(ids) == len(set(ids))
            assert set(ids) == self.added - self.removed
            assert self.moved - self.removed <= set(ids)
            assert all(info.unpushed_edits == 0 for replica in self.replicas for info in replica.playlists())
        finally:
            for replica, api in zip(self.replicas, self.sessions, strict=True):
                replica.close()
                api.close()
            shutil.rmtree(self.folder, ignore_errors=True)


SyncedReplicas.TestCase.settings = settings(
    max_examples=300 if LONG else 40, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_replicas_converge_through_the_server = SyncedReplicas.TestCase

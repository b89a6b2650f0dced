"""Random schedules of edits and partial exchanges between in-memory replicas: they converge, nothing is lost.

Set LEGATO_LONG=1 for a long run (many more schedules).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sync import PlaylistDoc

LONG = os.environ.get("LEGATO_LONG") == "1"
REPLICAS = 3
replica_index = st.integers(0, REPLICAS - 1)
fraction = st.floats(0, 1, exclude_max=True)


def pick(items: list[str], where: float) -> str:
    return items[int(where * len(items))]


class ReplicasMachine(RuleBasedStateMachine):
    """Three replicas edit concurrently; any one may send another everything it lacks, at any time."""

    def __init__(self) -> None:
        super().__init__()
        first = PlaylistDoc.create("stateful")
        self.docs = [first] + [PlaylistDoc.from_updates("stateful", [first.snapshot()]) for _ in range(REPLICAS - 1)]
        self.added: set[str] = set()
        self.removed: set[str] = set()
        self.moved: set[str] = set()

    @rule(who=replica_index, where=fraction, track=st.integers(1, 50))
    def add(self, who: int, where: float, track: int) -> None:
        doc = self.docs[who]
        self.added.add(doc.add(track, f"user{who}", int(where * (len(doc) + 1))).entry_id)

    @rule(who=replica_index, where=fraction)
    def remove(self, who: int, where: float) -> None:
        doc = self.docs[who]
        if len(doc):
            entry_id = pick(doc.entry_ids(), where)
            doc.remove(entry_id)
            self.removed.add(entry_id)

    @rule(who=replica_index, where=fraction, to=fraction)
    def move(self, who: int, where: float, to: float) -> None:
        doc = self.docs[who]
        if len(doc) > 1:
            entry_id = pick(doc.entry_ids(), where)
            doc.move(entry_id, int(to * len(doc)))
            self.moved.add(entry_id)

    @rule(who=replica_index, name=st.sampled_from(["A", "B", "C"]))
    def rename(self, who: int, name: str) -> None:
        self.docs[who].rename(name)

    @rule(source=replica_index, to_replica=replica_index)
    def deliver(self, source: int, to_replica: int) -> None:
        if source != to_replica:
            update = self.docs[source].export_since(self.docs[to_replica].version())
            self.docs[to_replica].import_updates([update], max_bytes=1 << 24)

    @invariant()
    def each_replica_holds_each_entry_at_most_once_and_only_added_ones(self) -> None:
        for doc in self.docs:
            ids = doc.entry_ids()
            assert len(ids) == len(set(ids))
            assert set(ids) <= self.added

    def teardown(self) -> None:
        for _ in range(2):
            for source in range(REPLICAS):
                for target in range(REPLICAS):
                    self.deliver(source, target)
        states = [doc.state() for doc in self.docs]
        assert states[0] == states[1] == states[2]
        visible = set(self.docs[0].entry_ids())
        assert visible == self.added - self.removed
        assert self.moved - self.removed <= visible


ReplicasMachine.TestCase.settings = settings(
    max_examples=10000 if LONG else 2000, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_replicas_converge_without_losing_or_duplicating_entries = ReplicasMachine.TestCase

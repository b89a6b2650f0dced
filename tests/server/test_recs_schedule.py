"""``serve`` trains the recommender by itself: at once when it has no model, again when enough new plays arrive,
hostile batches before them included; and ``recs train`` does the same from the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from client.bundled import BundledServer
from server import fleet_lock
from server.catalog import Catalog
from server.database import sqlite_url
from server.recs import model_store
from server.recs.schedule import LOCK_JOB
from tests.helpers.offline_harness import wait_until
from tests.helpers.own_server import own_server, pids_running
from tests.helpers.postgres import ON_BOTH_ENGINES, copy_data_dir

_WAIT_S = 90.0  # a training run in a child process on a busy 2-core machine
_HELD_S = 5.0


@pytest.fixture(scope="module")
def server(module_database: str, demo_data: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """The module's server, one per engine (so it depends on ``module_database``)."""
    # The session's demo data dir may hold plays and a model other tests' requests made: this one starts with
    # neither, so nothing is due until a request needs a model. They go from the SQLite copy, which own_server
    # copies on (into the module's PostgreSQL database on that engine).
    untrained = tmp_path_factory.mktemp("untrained") / "data"
    shutil.copytree(demo_data, untrained, ignore=lambda folder, names: [
        name for name in names if Path(folder, name) == demo_data / model_store.MODEL_FILE.parent])
    catalog = Catalog.open(untrained, sqlite_url(untrained))
    try:
        with catalog.transaction():
            catalog.execute("DELETE FROM plays")
            catalog.execute("DELETE FROM likes")
    finally:
        catalog.close()
    environ = {"LEGATO_RECS_CHECK_S": "0.2", "LEGATO_RECS_RETRAIN_PLAYS": "3"}
    with own_server(untrained, tmp_path_factory.mktemp("recs-schedule"), environ) as running:
        yield running


def trained_ms(data_dir: Path) -> int:
    model = model_store.load(data_dir)
    return 0 if model is None else model.trained_ms


def test_serve_retrains_after_new_plays_and_hostile_batches_leave_nothing_behind(server: BundledServer) -> None:
    token = httpx.post(f"{server.url}/auth/login", json={"username": "alice", "password": "alice-pw"}).json()
    alice = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token['token']}"}, timeout=60)
    assert trained_ms(server.data_dir) == 0  # no plays: nothing to train on until a request needs a model
    assert alice.get("/tracks/2/radio").json()["tracks"]  # that request trains one from the audio alone
    first = model_store.load(server.data_dir)
    assert first is not None and not first.warm.any()
    now = datetime.now(UTC)

    def event(track_id: object, started: datetime, **extra: object) -> dict[str, object]:
        return {"id": str(uuid.uuid4()), "track_id": track_id, "started_at": started.isoformat(), "ms_played": 90_000,
                "completed": True, "skipped": False, "context": {"kind": "search", "id": None}, **extra}

    assert alice.post("/me/plays", json={"events": [event("1; DROP TABLE plays", now)]}).status_code == 422
    assert alice.post("/me/plays", content=b'{"events": [{"id": ', headers={
        "Content-Type": "application/json"}).status_code == 400
    ignored = alice.post("/me/plays", json={"events": [event(424242, now), event(1, now + timedelta(days=1))]})
    assert ignored.json()["accepted"] == 0
    assert trained_ms(server.data_dir) == first.trained_ms  # nothing was stored, so nothing is due
    recent = [event(track, now - timedelta(minutes=track)) for track in (1, 2, 3)]
    good = alice.post("/me/plays", json={"events": recent})
    assert good.json()["accepted"] == 3
    wait_until(lambda: trained_ms(server.data_dir) > first.trained_ms, "a retrain after three new plays", _WAIT_S)
    second = model_store.load(server.data_dir)
    assert second is not None and {int(t) for t in second.track_ids[second.warm]} == {1, 2, 3}
    assert alice.get("/tracks/1/radio").status_code == 200
    alice.close()


@contextmanager
def taken(data_dir: Path, job: str) -> Iterator[None]:
    """The job's lock held by this test, as another instance would, once the schedule's round lets go of it."""
    deadline = time.monotonic() + _WAIT_S
    while time.monotonic() < deadline:
        with fleet_lock.held(data_dir, job) as mine:
            if mine:
                yield
                return
        time.sleep(0.01)
    raise AssertionError(f"the {job} lock was never free")


def test_while_another_instance_holds_the_job_this_one_does_not_train(server: BundledServer) -> None:
    token = httpx.post(f"{server.url}/auth/login", json={"username": "bob", "password": "bob-pw"}).json()
    bob = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token['token']}"}, timeout=60)
    assert bob.get("/tracks/2/radio").status_code == 200  # a model exists, so only new plays make a round due
    before = trained_ms(server.data_dir)
    now = datetime.now(UTC)
    with taken(server.data_dir, LOCK_JOB):
        plays = [{"id": str(uuid.uuid4()), "track_id": track, "ms_played": 90_000, "completed": True,
                  "started_at": (now - timedelta(minutes=track)).isoformat(), "skipped": False,
                  "context": {"kind": "search", "id": None}} for track in (4, 5, 6)]
        assert bob.post("/me/plays", json={"events": plays}).json()["accepted"] == 3
        deadline = time.monotonic() + _HELD_S  # 25 of the schedule's rounds, each of which would start a child
        while time.monotonic() < deadline:
            assert not pids_running("recs", "train", "--data", server.data_dir)
            time.sleep(0.02)
    assert trained_ms(server.data_dir) == before
    wait_until(lambda: trained_ms(server.data_dir) > before, "a retrain once the lock was let go", _WAIT_S)
    bob.close()


@ON_BOTH_ENGINES
def test_recs_train_on_the_command_line_stores_a_model(demo_data: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    copy_data_dir(demo_data, data_dir)
    (data_dir / model_store.MODEL_FILE).unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "server", "recs", "train", "--data", str(data_dir)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "trained on" in done.stdout
    model = model_store.load(data_dir)
    assert model is not None and len(model.index) == len(model.track_ids) > 0

"""``serve``'s recommender schedule: a daemon thread that retrains in a child process when the model is missing,
a week old, or enough new plays arrived, and remakes Discover Weeklies whose week has passed. Across several
instances each round runs on one of them (server/fleet_lock.py); the others load the model it stores.

Training runs in its own process (``legato-server recs train``), so it never holds the GIL a request needs;
a failed run is logged and retried at the next check, never raised into the server.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from server import fleet_lock
from server.auth import User
from server.catalog import Catalog
from server.playlist_hub import PlaylistHub
from server.plays import plays_since
from server.recs.service import Recommender
from server.recs.weeks import week_of

_log = logging.getLogger(__name__)
LOCK_JOB = "recs"
WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class SchedulePolicy:
    check_s: float = 300.0  # how often the thread looks
    retrain_plays: int = 500  # new plays that make a retrain due
    train_timeout_s: float = 3600.0

    @classmethod
    def from_environment(cls) -> SchedulePolicy:
        return cls(float(os.environ.get("LEGATO_RECS_CHECK_S", cls.check_s)),
                   int(os.environ.get("LEGATO_RECS_RETRAIN_PLAYS", cls.retrain_plays)),
                   float(os.environ.get("LEGATO_RECS_TRAIN_TIMEOUT_S", cls.train_timeout_s)))


class RecsSchedule:
    """Start with ``start()``, end with ``close()`` (which also ends a training run in progress)."""

    def __init__(self, data_dir: Path, recommender: Recommender, hub: PlaylistHub, policy: SchedulePolicy) -> None:
        self._data_dir = data_dir
        self._recommender = recommender
        self._hub = hub
        self._policy = policy
        self._stop = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._child_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="recs-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with self._child_lock:
            if self._child is not None:
                self._child.terminate()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with fleet_lock.held(self._data_dir, LOCK_JOB) as mine:
                    if mine and self.training_due():
                        self._train()
                    if mine and not self._stop.is_set():
                        self.refresh_weeks(datetime.now(UTC))
            except Exception:  # noqa: BLE001 - the schedule must outlive any one failure; it is logged
                _log.exception("the recommender schedule failed this round; it tries again in %.0f s",
                               self._policy.check_s)
            self._stop.wait(self._policy.check_s)

    def training_due(self) -> bool:
        """A week-old model, enough plays since it, or plays and no model yet (with none, the first request
        that needs a model trains one from the audio alone)."""
        model = self._recommender.models.current()
        if model is not None and time.time() * 1000 - model.trained_ms >= WEEK_MS:
            return True
        catalog = Catalog.open(self._data_dir)
        try:
            if model is None:
                return plays_since(catalog, 0) > 0
            return plays_since(catalog, model.newest_received_ms) >= self._policy.retrain_plays
        finally:
            catalog.close()

    def _train(self) -> None:
        command = [sys.executable, "-m", "server", "recs", "train", "--data", str(self._data_dir), "--threads", "1"]
        with self._child_lock:
            if self._stop.is_set():
                return
            self._child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            output, _ = self._child.communicate(timeout=self._policy.train_timeout_s)
            if self._child.returncode != 0 and not self._stop.is_set():
                _log.error("training the recommender failed (exit %s): %s", self._child.returncode,
                           output.decode(errors="replace")[-2000:])
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.communicate()
            _log.error("training the recommender took over %.0f s and was stopped", self._policy.train_timeout_s)
        finally:
            with self._child_lock:
                self._child = None

    def refresh_weeks(self, now: datetime) -> int:
        """Remake every Discover Weekly whose week has ended in its user's region; returns how many."""
        catalog = Catalog.open(self._data_dir)
        remade = 0
        try:
            rows = catalog.query("SELECT users.id, users.name, users.region, discover_weekly.week_of FROM "
                                 "discover_weekly JOIN users ON users.id = discover_weekly.user_id")
            for row in rows:
                if self._stop.is_set():
                    break
                user = User.from_row(row)
                if row["week_of"] != week_of(user.region, now).isoformat():
                    self._recommender.weekly(catalog, self._hub, user, now)
                    remade += 1
        finally:
            catalog.close()
        return remade

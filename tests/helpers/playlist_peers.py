"""The real server as a child process that tests may SIGKILL, and the peers that push to it over HTTP.

- ``ServerProcess(data_dir, users)``: ``legato-server serve`` on loopback; ``kill()`` (SIGKILL), ``start()`` again.
- ``Peer``: one user's logged-in HTTP client with push/pull helpers.
- ``Device``: a ``sync.PlaylistDoc`` replica that queues its edits and syncs them like the app does.
- ``Listener``: one live event stream read on a thread; ``push_together``: writers pushing to one playlist at once.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import httpx

from client.playlists.events import close_stream, parse_events
from server.auth import create_user
from server.catalog import Catalog
from sync import MAX_SNAPSHOT_BYTES, MAX_UPDATE_BYTES, OutgoingUpdate, PlaylistDoc, PullResult, PushRequest
from tests.helpers.own_server import parent_pid, pids_running
from tests.helpers.server_api import edit

URL_ANNOUNCEMENT = "LEGATO_SERVER_URL="


class ServerProcess:
    """``python -m server serve`` on 127.0.0.1, restartable on the data dir it was given."""

    def __init__(self, data_dir: Path, users: Iterable[str], env: dict[str, str] | None = None) -> None:
        catalog = Catalog.open(data_dir)
        for name in users:
            create_user(catalog, name, f"{name}-pw", "GB")
        catalog.close()
        self.data_dir = data_dir
        self._env = {**os.environ, **(env or {})}
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.start()

    def start(self) -> None:
        command = [sys.executable, "-m", "server", "serve", "--data", str(self.data_dir), "--host", "127.0.0.1",
                   "--port", "0"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=self._env)
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(URL_ANNOUNCEMENT):
                self.url = line[len(URL_ANNOUNCEMENT):].strip()
                threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
                self._process = process
                return
        raise RuntimeError(f"the server exited with code {process.wait()} before it was ready")

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def update_worker_pids(self) -> list[int]:
        """The server's update-worker processes now: its children running ``server.update_worker``."""
        assert self._process is not None
        return [pid for pid in pids_running("server.update_worker") if parent_pid(pid) == self._process.pid]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no lifespan; what a power cut or the OOM killer does."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(30)

    def peer(self, user: str) -> Peer:
        response = httpx.post(f"{self.url}/auth/login", json={"username": user, "password": f"{user}-pw"})
        response.raise_for_status()
        return Peer(user, httpx.Client(base_url=self.url, timeout=60,
                                       headers={"Authorization": f"Bearer {response.json()['token']}"}))


class Peer:
    def __init__(self, user: str, client: httpx.Client) -> None:
        self.user = user
        self.client = client

    def create(self, playlist_id: str | None = None, public: bool = False) -> str:
        playlist_id = playlist_id or str(uuid.uuid4())
        response = self.client.post("/playlists", json={"id": playlist_id, "public": public})
        assert response.status_code == 201, response.text
        return playlist_id

    def invite(self, playlist_id: str, user: str) -> None:
        response = self.client.post(f"/playlists/{playlist_id}/collaborators", json={"user": user})
        assert response.status_code == 200, response.text

    def push(self, playlist_id: str, *updates: bytes, ids: list[str] | None = None) -> httpx.Response:
        update_ids = ids or [str(uuid.uuid4()) for _ in updates]
        body = PushRequest(tuple(OutgoingUpdate(i, data) for i, data in zip(update_ids, updates, strict=True)))
        return self.client.post(f"/playlists/{playlist_id}/updates", json=body.to_json())

    def pull(self, playlist_id: str, since: int = 0) -> PullResult:
        response = self.client.get(f"/playlists/{playlist_id}/updates", params={"since": since})
        assert response.status_code == 200, response.text
        return PullResult.from_json(response.json())

    def close(self) -> None:
        self.client.close()


class Device:
    """A replica with an outbox: every edit is queued until a push of it is answered 200 (retries keep ids)."""

    def __init__(self, user: str, playlist_id: str, rng: random.Random) -> None:
        self.user = user
        self.doc = PlaylistDoc.create(playlist_id)
        self.outbox: list[OutgoingUpdate] = []
        self.seen_seq = 0
        self._rng = rng

    def edit(self) -> None:
        version = self.doc.version()
        ids = self.doc.entry_ids()
        roll = self._rng.random()
        if ids and roll < 0.25:
            self.doc.move(self._rng.choice(ids), self._rng.randrange(len(ids)))
        elif ids and roll < 0.4:
            self.doc.remove(self._rng.choice(ids))
        elif roll < 0.45:
            self.doc.rename(f"{self.user}'s pick {self._rng.randrange(1000)}")
        else:
            self.doc.add(self._rng.randrange(1, 500), self.user, self._rng.randrange(len(ids) + 1))
        if self.doc.version() != version:
            self.outbox.append(OutgoingUpdate(str(uuid.uuid4()), self.doc.export_since(version)))

    def sync(self, peer: Peer) -> None:
        """Push the outbox (raises httpx errors as they come), then pull and merge what the server has."""
        if self.outbox:
            response = peer.client.post(f"/playlists/{self.doc.playlist_id}/updates",
                                        json=PushRequest(tuple(self.outbox)).to_json())
            assert response.status_code == 200, response.text
            self.outbox.clear()
        pull = peer.pull(self.doc.playlist_id, self.seen_seq)
        limit = MAX_UPDATE_BYTES if pull.snapshot is None else MAX_SNAPSHOT_BYTES
        self.doc.import_updates(pull.blobs(), max_bytes=limit)
        self.seen_seq = pull.last_seq


def assert_log_consistent(data_dir: Path) -> int:
    """Check every playlist's log as the (killed) servers left it in the catalog of ``data_dir`` (or of
    LEGATO_DATABASE_URL): seqs contiguous, data dropped only under the snapshot; returns the longest log's length."""
    catalog = Catalog.open(data_dir)
    try:
        longest = 0
        for playlist in catalog.query("SELECT id, last_seq, snapshot_seq, CASE WHEN snapshot IS NULL THEN 0 "
                                      "ELSE 1 END AS has_snapshot FROM playlists"):
            playlist_id, last_seq, snapshot_seq = playlist["id"], playlist["last_seq"], playlist["snapshot_seq"]
            rows = catalog.query("SELECT seq, CASE WHEN data IS NULL THEN 1 ELSE 0 END AS compacted "
                                 "FROM playlist_updates WHERE playlist_id = ? ORDER BY seq", [playlist_id])
            assert [row["seq"] for row in rows] == list(range(1, last_seq + 1)), f"playlist {playlist_id}'s seqs"
            assert all(row["seq"] <= snapshot_seq for row in rows if row["compacted"])
            assert bool(playlist["has_snapshot"]) == (snapshot_seq > 0) and snapshot_seq <= last_seq
            longest = max(longest, last_seq)
        return longest
    finally:
        catalog.close()


Event = tuple[str, Any]


class Listener:
    """Reads one SSE stream on a thread; ``next_event`` waits (with a timeout) for what it read, in order."""

    def __init__(self, client: httpx.Client, path: str, **params: Any) -> None:
        self._events: queue.Queue[Event | None] = queue.Queue()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._read, args=(client, path, params), daemon=True)
        self._thread.start()

    def _read(self, client: httpx.Client, path: str, params: dict[str, Any]) -> None:
        try:
            with client.stream("GET", path, params=params) as response:
                self._response = response
                for event in parse_events(response.iter_lines()):
                    self._events.put(event)
        except httpx.HTTPError:
            pass  # closed by the test
        finally:
            self._events.put(None)  # the stream ended

    def next_event(self, timeout_s: float = 10.0) -> Event | None:
        """The next event, or None when the stream has ended."""
        return self._events.get(timeout=timeout_s)

    def until(self, done: Callable[[Event], bool], timeout_s: float = 10.0) -> list[Event]:
        """Every event up to and including the first for which ``done`` holds."""
        seen: list[Event] = []
        while True:
            event = self.next_event(timeout_s)
            assert event is not None, f"the stream ended after {seen}"
            seen.append(event)
            if done(event):
                return seen

    def close(self) -> None:
        if self._response is not None:
            close_stream(self._response)
        self._thread.join(10)
        assert not self._thread.is_alive()


def is_event(name: str, playlist_id: str) -> Callable[[Event], bool]:
    return lambda event: event[0] == name and event[1].get("id") == playlist_id


def push_together(playlist_id: str, peers: list[Peer], writers_per_peer: int,
                  pushes_per_writer: int) -> list[list[tuple[str, int]]]:
    """Each writer (a replica of its own, ``writers_per_peer`` on each peer) pushes its edits one at a time, all
    starting at once; the (update id, seq) each push was answered, per writer."""
    writers = [peer for peer in peers for _ in range(writers_per_peer)]
    start = threading.Barrier(len(writers))
    results: list[list[tuple[str, int]]] = [[] for _ in writers]
    failures: list[str] = []

    def write(index: int, peer: Peer) -> None:
        doc = PlaylistDoc.create(playlist_id)
        start.wait()
        for step in range(pushes_per_writer):
            update_id = f"writer-{index}-push-{step}"
            response = peer.push(playlist_id, edit(doc, index * 100 + step + 1), ids=[update_id])
            if response.status_code != 200:
                failures.append(f"{update_id}: {response.status_code} {response.text}")
                return
            results[index].append((update_id, int(response.json()["seqs"][0])))

    threads = [threading.Thread(target=write, args=(index, peer)) for index, peer in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return results


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass

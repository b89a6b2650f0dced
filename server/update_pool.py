"""A small pool of update-worker processes that check pushed playlist updates where a crash cannot reach the server.

Each playlist's jobs go to one worker (which keeps the playlist in memory); a worker that dies, breaks the
protocol or overruns its time limit is killed and replaced, and that push is refused. Never calls loro itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from server.update_frames import Frame, FrameError, FrameTimeout, read_frame, write_frame
from sync import (
    DecoderFault,
    ForeignUpdate,
    InvalidState,
    InvalidUpdate,
    MalformedUpdate,
    MissingDependencies,
    OversizedUpdate,
    PlaylistTooLarge,
)

DEFAULT_WORKERS = 2
DEFAULT_MEMORY_BYTES = 2 * 1024**3
DEFAULT_JOB_SECONDS = 20.0
_STOP_SECONDS = 5.0
_REFUSALS: dict[str, type[InvalidUpdate]] = {error.code: error for error in (
    DecoderFault, ForeignUpdate, InvalidState, InvalidUpdate, MalformedUpdate, MissingDependencies,
    OversizedUpdate, PlaylistTooLarge)}
_log = logging.getLogger(__name__)


class UpdateUnprocessable(InvalidUpdate):
    """Checking the update crashed or overran its worker's time limit; the update is refused."""

    code = "update_unprocessable"


class StoredLogUnloadable(RuntimeError):
    """A playlist's stored log does not load any more: a server-side fault, not the pusher's."""


@dataclass(frozen=True)
class Verdict:
    """A push a worker applied and proved: the playlist's size after it, each update as loro exported it again
    once applied (what the log stores), and the playlist's snapshot when asked for."""

    entries: int
    snapshot_bytes: int
    updates: tuple[bytes, ...]
    snapshot: bytes | None


class UpdateWorkers:
    """The pool: ``merge`` checks a push in the playlist's worker; ``forget`` drops what a worker remembers."""

    def __init__(self, size: int = DEFAULT_WORKERS, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 job_seconds: float = DEFAULT_JOB_SECONDS) -> None:
        if size < 1 or memory_bytes < 64 * 1024**2 or job_seconds <= 0:
            raise ValueError("the update pool needs at least one worker, 64 MB each and a positive time limit")
        self._workers = [_Worker(memory_bytes, job_seconds) for _ in range(size)]

    @classmethod
    def from_environment(cls) -> UpdateWorkers:
        """Sized by LEGATO_PUSH_WORKERS, LEGATO_PUSH_WORKER_MEMORY_MB and LEGATO_PUSH_JOB_SECONDS when set."""
        size = int(os.environ.get("LEGATO_PUSH_WORKERS", DEFAULT_WORKERS))
        memory_mb = int(os.environ.get("LEGATO_PUSH_WORKER_MEMORY_MB", DEFAULT_MEMORY_BYTES // 1024**2))
        job_seconds = float(os.environ.get("LEGATO_PUSH_JOB_SECONDS", DEFAULT_JOB_SECONDS))
        return cls(size, memory_mb * 1024**2, job_seconds)

    def start(self) -> None:
        for worker in self._workers:
            worker.start()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()

    def worker_pids(self) -> list[int | None]:
        return [worker.pid for worker in self._workers]

    def slot_of(self, playlist_id: str) -> int:
        digest = hashlib.sha256(playlist_id.encode()).digest()
        return int.from_bytes(digest[:8], "big") % len(self._workers)

    def merge(self, playlist_id: str, last_seq: int, author: str, updates: Sequence[bytes],
              load_log: Callable[[], list[bytes]], want_snapshot: bool) -> Verdict:
        """Apply ``updates`` (by ``author``) to the playlist as its log stands at ``last_seq``, in isolation.

        ``load_log`` is called only when the worker does not hold the playlist at ``last_seq``. Raises an
        ``InvalidUpdate`` subclass when the push is refused (``UpdateUnprocessable`` when checking crashed).
        """
        header = {"op": "push", "playlist": playlist_id, "seq": last_seq, "author": author,
                  "want_snapshot": want_snapshot, "log": None}
        worker = self._workers[self.slot_of(playlist_id)]
        with worker.lock:
            reply = worker.call(Frame(header, tuple(updates)))
            if reply.header.get("status") == "need_log":
                log = load_log()
                reply = worker.call(Frame({**header, "log": len(log)}, (*log, *updates)))
        return _verdict(playlist_id, reply, len(updates))

    def forget(self, playlist_id: str) -> None:
        """Make the playlist's worker reload it from the log next time (a write failed after it was checked)."""
        worker = self._workers[self.slot_of(playlist_id)]
        # If the worker died, it took what it remembered with it: nothing is left to forget.
        with worker.lock, contextlib.suppress(UpdateUnprocessable):
                worker.call(Frame({"op": "forget", "playlist": playlist_id}))


def _verdict(playlist_id: str, reply: Frame, expected: int) -> Verdict:
    status = reply.header.get("status")
    if status == "ok":
        with_snapshot = bool(reply.header.get("snapshot"))
        if len(reply.blobs) != expected + with_snapshot:
            raise UpdateUnprocessable(f"the update worker answered {len(reply.blobs)} blobs for {expected} updates")
        updates = reply.blobs[:expected]
        return Verdict(int(reply.header["entries"]), int(reply.header["snapshot_bytes"]), updates,
                       reply.blobs[expected] if with_snapshot else None)
    message = str(reply.header.get("message", "no reason given"))
    if status == "refused":
        raise _REFUSALS.get(str(reply.header.get("code")), InvalidUpdate)(message)
    if status == "log_invalid":
        raise StoredLogUnloadable(f"the stored log of playlist {playlist_id} no longer loads: {message}")
    raise UpdateUnprocessable(f"checking the update failed ({message}); nothing was stored")


class _Worker:
    """One worker process and the lock that gives it one job at a time; restarted on demand."""

    def __init__(self, memory_bytes: int, job_seconds: float) -> None:
        self.lock = threading.Lock()
        self._memory_bytes = memory_bytes
        self._job_seconds = job_seconds
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False

    @property
    def pid(self) -> int | None:
        process = self._process
        return None if process is None or process.poll() is not None else process.pid

    def start(self) -> None:
        command = [sys.executable, "-m", "server.update_worker", "--memory-bytes", str(self._memory_bytes)]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        assert process.stdin is not None and process.stdout is not None
        os.set_blocking(process.stdin.fileno(), False)
        os.set_blocking(process.stdout.fileno(), False)
        self._process = process

    def call(self, request: Frame) -> Frame:
        """Send one request and wait for its reply; hold ``lock``. Raises UpdateUnprocessable if the worker fails."""
        if self._process is None or self._process.poll() is not None:
            self._reap()
            if self._stopped:
                raise UpdateUnprocessable("the server is stopping; push again once it is back")
            self.start()
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        deadline = time.monotonic() + self._job_seconds
        try:
            write_frame(process.stdin.fileno(), request, deadline)
            reply = read_frame(process.stdout.fileno(), deadline)
        except FrameTimeout:
            self._replace(f"it ran past the {self._job_seconds:g} s limit")
            raise UpdateUnprocessable(f"checking the update took longer than {self._job_seconds:g} s; "
                                      "nothing was stored") from None
        except (EOFError, FrameError) as exc:
            self._replace(f"it crashed or broke the protocol ({exc})")
            raise UpdateUnprocessable("checking the update crashed its worker process; nothing was stored, and "
                                      "the server carries on") from None
        if reply.header.get("code") == DecoderFault.code:
            self._reap()  # it exits by itself after a loro panic; the next job starts a fresh one
        return reply

    def stop(self) -> None:
        """End the worker: at once if a job still runs (that push is refused), else once its input ends."""
        self._stopped = True
        if not self.lock.acquire(timeout=_STOP_SECONDS):
            process = self._process
            if process is not None:
                process.kill()  # the job's own thread sees the worker die and reaps it
            return
        try:
            process = self._process
            if process is None:
                return
            assert process.stdin is not None
            process.stdin.close()  # end of input: the worker exits
            try:
                process.wait(_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
            self._reap()
        finally:
            self.lock.release()

    def _replace(self, reason: str) -> None:
        process = self._process
        _log.warning("update worker %s replaced: %s", None if process is None else process.pid, reason)
        if process is not None and process.poll() is None:
            process.kill()
        self._reap()

    def _reap(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        process.wait()

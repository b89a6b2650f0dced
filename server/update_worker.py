"""An update worker, the only process of the server that hands pushed bytes to loro (``-m server.update_worker``).

It runs under a memory limit, answers one frame per request on stdout, keeps recently used playlists in memory,
and exits after loro panics, since a panic may poison state that every doc in the process shares.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from collections import OrderedDict

from server.update_frames import Frame, FrameError, read_frame, write_frame
from sync import MAX_SNAPSHOT_BYTES, DecoderFault, InvalidUpdate, PlaylistDoc

EXIT_AFTER_FAULT = 70
_CACHED_DOCS = 16


class _Docs:
    """Recently used playlists, each valid at one log seq; dropped when the worker's memory runs high."""

    def __init__(self, memory_bytes: int) -> None:
        self._docs: OrderedDict[str, tuple[int, PlaylistDoc]] = OrderedDict()
        self._high_water_bytes = memory_bytes // 2

    def get(self, playlist_id: str, seq: int) -> PlaylistDoc | None:
        cached = self._docs.get(playlist_id)
        if cached is None or cached[0] != seq:
            return None
        self._docs.move_to_end(playlist_id)
        return cached[1]

    def put(self, playlist_id: str, seq: int, doc: PlaylistDoc) -> None:
        self._docs[playlist_id] = (seq, doc)
        self._docs.move_to_end(playlist_id)
        while len(self._docs) > _CACHED_DOCS or (len(self._docs) > 1 and _resident_bytes() > self._high_water_bytes):
            self._docs.popitem(last=False)

    def drop(self, playlist_id: str) -> None:
        self._docs.pop(playlist_id, None)


def handle(request: Frame, docs: _Docs) -> tuple[Frame, bool]:
    """The reply to one request, and whether the worker must exit after sending it."""
    header = request.header
    if header.get("op") == "forget":
        docs.drop(str(header["playlist"]))
        return Frame({"status": "ok"}), False
    if header.get("op") != "push":
        return Frame({"status": "failed", "message": f"unknown request {header.get('op')!r}"}), False
    playlist_id, seq, log_count = str(header["playlist"]), int(header["seq"]), header.get("log")
    log = request.blobs[:log_count] if isinstance(log_count, int) else ()
    updates = request.blobs[len(log):]
    doc = docs.get(playlist_id, seq)
    if doc is None:
        if log_count is None:
            return Frame({"status": "need_log"}), False
        try:
            doc = PlaylistDoc.from_updates(playlist_id, list(log), max_bytes=MAX_SNAPSHOT_BYTES)
        except InvalidUpdate as exc:
            return Frame({"status": "log_invalid", "message": str(exc)}), isinstance(exc, DecoderFault)
    try:
        merged = doc.merge_push(list(updates), str(header["author"]))
    except InvalidUpdate as exc:
        return Frame({"status": "refused", "code": exc.code, "message": str(exc)}), isinstance(exc, DecoderFault)
    docs.put(playlist_id, seq + len(updates), merged.doc)
    reply = {"status": "ok", "entries": len(merged.doc), "snapshot_bytes": len(merged.snapshot),
             "snapshot": bool(header.get("want_snapshot"))}
    return Frame(reply, (*merged.updates, *((merged.snapshot,) if reply["snapshot"] else ()))), False


def serve(requests: int, replies: int, memory_bytes: int) -> int:
    docs = _Docs(memory_bytes)
    while True:
        try:
            request = read_frame(requests)
        except EOFError:
            return 0  # the server closed the channel: it is stopping, or it died
        try:
            reply, must_exit = handle(request, docs)
        except Exception as exc:  # noqa: BLE001 - a bug or MemoryError: answer, then leave (state unknown)
            print(f"update worker: failed on a {request.header.get('op')!r} request: {exc!r}", file=sys.stderr)
            reply, must_exit = Frame({"status": "failed", "message": f"{type(exc).__name__}: {exc}"}), True
        try:
            write_frame(replies, reply)
        except FrameError:
            return 0  # the server went away mid-job (stopped, or killed): nobody waits for the answer
        if must_exit:
            return EXIT_AFTER_FAULT


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0  # no procfs: rely on the count limit alone


def main() -> int:
    parser = argparse.ArgumentParser(description="Validate pushed playlist updates for the Legato server.")
    parser.add_argument("--memory-bytes", type=int, required=True, help="address-space limit (RLIMIT_AS)")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (args.memory_bytes, args.memory_bytes))
    replies = os.dup(1)
    os.dup2(2, 1)  # a stray print must never land in the reply channel
    code = serve(0, replies, args.memory_bytes)
    if code == EXIT_AFTER_FAULT:
        sys.stderr.flush()
        os._exit(code)  # skip tearing down docs whose shared state the panic may have poisoned
    return code


if __name__ == "__main__":
    raise SystemExit(main())

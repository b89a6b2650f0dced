"""A real nginx edge started by ``legato-server edge`` in front of the real origin: a chunk is fetched from the
origin once, a file the app streams through the edge is bit-exact, cached chunks are served with the origin stopped, and
warming pulls every slice once, resumably. The origin's request log counts what reached it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cache import FileManifest
from client.api import ApiClient
from client.bundled import BundledServer
from server import origin, warm
from server.catalog import Catalog
from server.edge import SLICE_BYTES, EdgeConfig
from server.exceptions import EdgeError
from tests.helpers.edge_cache import OriginRequest, origin_requests, running_edge
from tests.helpers.own_server import own_server


@dataclass(frozen=True)
class EdgeRig:
    """A fresh edge in front of an origin whose request log counts from ``log_from`` (the lines before it are
    other tests')."""

    origin: BundledServer
    edge_url: str
    log: Path
    log_from: int

    @property
    def data_dir(self) -> Path:
        return self.origin.data_dir

    def file_requests(self) -> list[OriginRequest]:
        return origin_requests(self.log, "/files/")[self.log_from:]


def start_rig(server: BundledServer, log: Path, cache_dir: Path) -> AbstractContextManager[str]:
    assert server.url is not None
    return running_edge([server.url], cache_dir)


@pytest.fixture(scope="module")
def shared_origin(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BundledServer, Path]]:
    folder = tmp_path_factory.mktemp("edge-origin")
    log = folder / "origin-requests.log"
    with own_server(demo_data, folder, {"LEGATO_REQUEST_LOG": str(log)}) as server:
        yield server, log


@pytest.fixture
def rig(shared_origin: tuple[BundledServer, Path], tmp_path: Path) -> Iterator[EdgeRig]:
    server, log = shared_origin
    with start_rig(server, log, tmp_path / "edge") as edge_url:
        yield EdgeRig(server, edge_url, log, len(origin_requests(log, "/files/")))


@pytest.fixture
def own_rig(demo_data: Path, tmp_path: Path) -> Iterator[EdgeRig]:
    """An origin of the test's own, which it may stop."""
    log = tmp_path / "origin-requests.log"
    with own_server(demo_data, tmp_path, {"LEGATO_REQUEST_LOG": str(log)}) as server, \
            start_rig(server, log, tmp_path / "edge") as edge_url:
        yield EdgeRig(server, edge_url, log, 0)


def test_a_chunk_is_fetched_from_the_origin_once_then_served_by_the_edge(rig: EdgeRig) -> None:
    chunk = {"Range": f"bytes={origin.CHUNK_SIZE_BYTES}-{2 * origin.CHUNK_SIZE_BYTES - 1}"}
    first = httpx.get(f"{rig.edge_url}/files/1", headers=chunk)
    second = httpx.get(f"{rig.edge_url}/files/1", headers=chunk)
    assert first.status_code == second.status_code == 206
    assert first.content == second.content == origin.origin_path(rig.data_dir, 1).read_bytes()[
        origin.CHUNK_SIZE_BYTES:2 * origin.CHUNK_SIZE_BYTES]
    assert (first.headers["x-cache-status"], second.headers["x-cache-status"]) == ("MISS", "HIT")
    assert [(r.path, r.byte_range) for r in rig.file_requests()] == [("/files/1", f"bytes=0-{SLICE_BYTES - 1}")]


def test_a_file_streamed_through_the_edge_by_the_app_is_bit_exact(rig: EdgeRig) -> None:
    assert rig.origin.url is not None
    api = ApiClient(rig.origin.url, edge_url=rig.edge_url)
    try:
        api.login("alice", "alice-pw")
        track_id = api.album(1)["tracks"][0]["id"]
        for file in api.manifest(track_id)["files"]:
            size, chunk = int(file["size_bytes"]), int(file["chunk_size"])
            manifest = FileManifest.from_json(file)
            pieces = [api.fetch(manifest, start, min(start + chunk, size)) for start in range(0, size, chunk)]
            assert [hashlib.sha256(piece).hexdigest() for piece in pieces] == file["chunks"]
            assert b"".join(pieces) == origin.origin_path(rig.data_dir, int(file["id"])).read_bytes()
    finally:
        api.close()
    fetched = rig.file_requests()
    assert fetched and len({(r.path, r.byte_range) for r in fetched}) == len(fetched)  # each slice once


def test_the_edge_serves_cached_chunks_with_the_origin_stopped(own_rig: EdgeRig) -> None:
    rig = own_rig
    report = warm.warm(rig.data_dir, [rig.edge_url], [1], progress=lambda line: None)
    assert report.fetched > 0 and report.covers == 1
    rig.origin.stop()
    catalog = Catalog.open(rig.data_dir)
    try:
        files = catalog.query("SELECT files.id, size_bytes FROM files JOIN tracks ON tracks.id = files.track_id "
                              "WHERE tracks.album_id = 1")
    finally:
        catalog.close()
    with httpx.Client(base_url=rig.edge_url) as client:
        for file in files:
            body = client.get(f"/files/{file['id']}", headers={"Range": f"bytes=0-{file['size_bytes'] - 1}"})
            assert body.status_code == 206 and body.headers["x-cache-status"] == "HIT"
            assert body.content == origin.origin_path(rig.data_dir, int(file["id"])).read_bytes()
        cover = client.get("/albums/1/cover")
        assert cover.status_code == 200 and cover.headers["x-cache-status"] == "HIT"
        assert client.get("/health").status_code == 502  # what is not cached needs the origin


def test_warming_is_idempotent_and_fetches_each_slice_once(rig: EdgeRig) -> None:
    lines: list[str] = []
    first = warm.warm(rig.data_dir, [rig.edge_url], [1], progress=lines.append)
    again = warm.warm(rig.data_dir, [rig.edge_url], [1], progress=lines.append)
    assert first.fetched > 0 and (again.fetched, again.skipped) == (0, first.fetched)
    assert any("slices warm" in line for line in lines)
    fetched = rig.file_requests()
    assert len(fetched) == first.fetched == len({(r.path, r.byte_range) for r in fetched})


def test_bad_edge_arguments_are_named() -> None:
    with pytest.raises(EdgeError, match="--origin"):
        EdgeConfig.parse(["ftp://origin"], "127.0.0.1:8080", Path("/tmp/edge"), "1g")
    with pytest.raises(EdgeError, match="--listen"):
        EdgeConfig.parse(["http://127.0.0.1:8765"], "nowhere", Path("/tmp/edge"), "1g")
    with pytest.raises(EdgeError, match="--size"):
        EdgeConfig.parse(["http://127.0.0.1:8765"], "127.0.0.1:8080", Path("/tmp/edge"), "lots")

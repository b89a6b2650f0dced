"""Album covers: taken at ingest from an attached picture or a folder image, served with ETag; bad ones ignored."""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import sqlalchemy as sa

from server import browse, covers
from server.auth import create_user
from server.catalog import Catalog
from server.database import database_url
from server.ingest import ingest
from server.synth.artwork import cover_png
from tests.conftest import start_server, stop_server
from tests.helpers.own_server import DemoServer
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_sources import RunningServer, stereo_tone

pytestmark = ON_BOTH_ENGINES

RATE = 44100
ALBUMS = ("Embedded Art", "Folder Art", "No Art")


def jpeg(rgb: tuple[int, int, int], size: int = 64) -> bytes:
    """A real baseline JPEG of one colour, encoded by FFmpeg's mjpeg encoder."""
    out = io.BytesIO()
    with av.open(out, "w", format="mjpeg") as container:
        stream = container.add_stream("mjpeg", rate=1)
        stream.width = stream.height = size
        stream.pix_fmt = "yuvj420p"
        frame = av.VideoFrame.from_ndarray(np.full((size, size, 3), rgb, np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()


def write_flac(path: Path, album: str, picture: bytes | None = None) -> Path:
    """A one-second tagged FLAC; with ``picture``, a JPEG attached the way taggers embed front covers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = stereo_tone(1.0, RATE)
    with av.open(str(path), "w", format="flac") as container:
        container.metadata.update({"TITLE": f"{album} one", "ARTIST": "Painters", "ALBUM": album, "DATE": "2020"})
        audio = container.add_stream("flac", rate=RATE, layout="stereo")
        audio.format = "s16"
        if picture is not None:
            art = container.add_stream("mjpeg", rate=1)
            art.width = art.height = 64
            art.pix_fmt = "yuvj420p"
            art.disposition = av.stream.Disposition.attached_pic
            packet = av.Packet(picture)
            packet.stream = art
            container.mux(packet)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm.reshape(1, -1)), format="s16", layout="stereo")
        frame.sample_rate = RATE
        container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return path


def album_ids(data_dir: Path, url: sa.URL | None = None) -> dict[str, dict[str, object]]:
    """The albums of ``data_dir``'s catalog by title (in the database ``url`` when given, else the test's)."""
    catalog = Catalog.open(data_dir, url)
    try:
        return {str(album["title"]): album for album in browse.albums(catalog)}
    finally:
        catalog.close()


@pytest.fixture(scope="module")
def pictures() -> dict[str, bytes]:
    return {"embedded": jpeg((200, 40, 40)), "folder": jpeg((30, 90, 220)), "decoy": cover_png("decoy")}


@pytest.fixture(scope="module")
def art_server(module_database: str, tmp_path_factory: pytest.TempPathFactory,
               pictures: dict[str, bytes]) -> Iterator[RunningServer]:
    """The module's server on three albums of real art, one per engine (so it depends on ``module_database``)."""
    sources = tmp_path_factory.mktemp("art-sources")
    embedded = write_flac(sources / "embedded" / "01.flac", "Embedded Art", pictures["embedded"])
    (embedded.parent / "cover.png").write_bytes(pictures["decoy"])  # the file's own picture wins
    folder = write_flac(sources / "folder" / "01.flac", "Folder Art")
    (folder.parent / "folder.jpg").write_bytes(pictures["folder"])
    bare = write_flac(sources / "bare" / "01.flac", "No Art")
    data_dir = tmp_path_factory.mktemp("art-data")
    report = ingest(data_dir, [embedded, folder, bare])
    assert report.ok, report.failures
    catalog = Catalog.open(data_dir)
    try:
        create_user(catalog, "painter", "brush", "GB")
    finally:
        catalog.close()
    server = start_server(data_dir)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def art_database(art_server: RunningServer) -> sa.URL:
    """The database ``art_server`` keeps (read while the module's engine is set, before any test's own)."""
    return database_url(art_server.data_dir)


@pytest.fixture(scope="module")
def anonymous(art_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=art_server.url, timeout=30) as session:
        yield session


def test_an_attached_picture_becomes_the_album_cover_byte_for_byte(
        art_server: RunningServer, art_database: sa.URL, anonymous: httpx.Client, pictures: dict[str, bytes]) -> None:
    album = album_ids(art_server.data_dir, art_database)["Embedded Art"]
    assert album["has_cover"] is True
    response = anonymous.get(f"/albums/{album['id']}/cover")
    assert response.status_code == 200
    assert response.content == pictures["embedded"]
    assert response.headers["content-type"] == "image/jpeg"
    assert "max-age" in response.headers["cache-control"]


def test_a_folder_image_beside_the_file_becomes_the_cover(
        art_server: RunningServer, art_database: sa.URL, anonymous: httpx.Client, pictures: dict[str, bytes]) -> None:
    album = album_ids(art_server.data_dir, art_database)["Folder Art"]
    response = anonymous.get(f"/albums/{album['id']}/cover")
    assert response.content == pictures["folder"]
    assert (art_server.data_dir / "covers" / f"{album['id']}.jpg").read_bytes() == pictures["folder"]


def test_a_cover_revalidates_with_its_etag(art_server: RunningServer, art_database: sa.URL,
                                           anonymous: httpx.Client) -> None:
    album = album_ids(art_server.data_dir, art_database)["Folder Art"]
    first = anonymous.get(f"/albums/{album['id']}/cover")
    etag = first.headers["etag"]
    again = anonymous.get(f"/albums/{album['id']}/cover", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content and again.headers["etag"] == etag
    stale = anonymous.get(f"/albums/{album['id']}/cover", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_an_album_without_art_has_no_cover_and_its_cover_is_a_json_404(
        art_server: RunningServer, art_database: sa.URL, anonymous: httpx.Client) -> None:
    album = album_ids(art_server.data_dir, art_database)["No Art"]
    assert album["has_cover"] is False
    for path in (f"/albums/{album['id']}/cover", "/albums/999999/cover"):
        response = anonymous.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_album_summaries_in_lists_and_artist_pages_say_whether_there_is_a_cover(
        art_server: RunningServer, anonymous: httpx.Client) -> None:
    login = anonymous.post("/auth/login", json={"username": "painter", "password": "brush"}).json()
    headers = {"Authorization": f"Bearer {login['token']}"}
    listed = anonymous.get("/albums", headers=headers).json()["albums"]
    artist = anonymous.get(f"/artists/{listed[0]['artist_id']}", headers=headers).json()
    expected = {"Embedded Art": True, "Folder Art": True, "No Art": False}
    assert {album["title"]: album["has_cover"] for album in listed} == expected
    assert {album["title"]: album["has_cover"] for album in artist["albums"]} == expected


@pytest.mark.parametrize("name, data", [
    ("cover.jpg", b"this is a shopping list, not a picture\n"),
    ("cover.png", b"GIF89a" + bytes(64)),
    ("folder.jpg", b""),
    ("cover.png", b"\x89PNG\r\n\x1a\n" + bytes(2000)),  # over the (lowered) size limit
])
def test_a_bad_cover_is_ignored_with_a_warning_and_the_track_still_ingests(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        name: str, data: bytes) -> None:
    monkeypatch.setattr(covers, "MAX_COVER_BYTES", 1000)
    source = write_flac(tmp_path / "src" / "01.flac", "Bad Art")
    (source.parent / name).write_bytes(data)
    with caplog.at_level(logging.WARNING, logger="server.covers"):
        report = ingest(tmp_path / "data", [source])
    assert report.ok and len(report.tracks) == 1
    assert album_ids(tmp_path / "data")["Bad Art"]["has_cover"] is False
    assert not (tmp_path / "data" / "covers").exists() or not any((tmp_path / "data" / "covers").iterdir())
    assert any(name in record.getMessage() for record in caplog.records)


def test_a_bad_attached_picture_falls_back_to_the_folder_image(tmp_path: Path, pictures: dict[str, bytes]) -> None:
    source = write_flac(tmp_path / "src" / "01.flac", "Mixed Art", picture=b"not a jpeg at all")
    (source.parent / "cover.jpg").write_bytes(pictures["folder"])
    assert ingest(tmp_path / "data", [source]).ok
    album = album_ids(tmp_path / "data")["Mixed Art"]
    assert (tmp_path / "data" / "covers" / f"{album['id']}.jpg").read_bytes() == pictures["folder"]


def test_reingesting_a_known_file_gives_its_album_a_cover_it_lacked(tmp_path: Path,
                                                                    pictures: dict[str, bytes]) -> None:
    source = write_flac(tmp_path / "src" / "01.flac", "Late Art")
    assert ingest(tmp_path / "data", [source]).ok
    assert album_ids(tmp_path / "data")["Late Art"]["has_cover"] is False
    (source.parent / "cover.jpg").write_bytes(pictures["folder"])
    report = ingest(tmp_path / "data", [source])
    assert report.tracks[0].duplicate
    assert album_ids(tmp_path / "data")["Late Art"]["has_cover"] is True


def test_every_demo_album_has_its_generated_512px_png_cover(demo_server: DemoServer) -> None:
    albums = album_ids(demo_server.data_dir, demo_server.database)
    assert albums and all(album["has_cover"] for album in albums.values())
    with httpx.Client(base_url=demo_server.url, timeout=30) as session:
        for title, album in albums.items():
            served = session.get(f"/albums/{album['id']}/cover").content
            assert served == cover_png(title)
            width, height = struct.unpack(">II", served[16:24])
            assert (width, height) == (512, 512)


def test_demo_covers_differ_between_albums_and_are_stable() -> None:
    assert cover_png("Tidal Glass") == cover_png("Tidal Glass")
    assert cover_png("Tidal Glass") != cover_png("Late Bus Home")

"""A small metadata-only catalog whose names exercise search (same titles of different popularity, a track licensed
elsewhere, accents, credits, long words), loaded through the real JSON Lines import, and users in two regions."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from server import auth
from server.catalog import Catalog
from server.metadata_import import import_file

USERS = {"gb": ("gb-pw", "GB"), "se": ("se-pw", "SE")}
EVERYWHERE = ["GB", "US", "SE"]
TRACKS = [
    {"title": "Hello", "artist": "Adele", "album": "25", "popularity": 99, "regions": EVERYWHERE,
     "popularity_by_region": {"SE": 10}},
    {"title": "Hello", "artist": "Lionel Richie", "album": "Can't Slow Down", "popularity": 80,
     "regions": EVERYWHERE, "popularity_by_region": {"SE": 100}},
    {"title": "Hello", "artist": "Licensed Elsewhere", "album": "Far Away", "popularity": 100, "regions": ["JP"]},
    {"title": "Halo", "artist": "Beyoncé", "album": "I Am... Sasha Fierce", "popularity": 90,
     "regions": EVERYWHERE},
    {"title": "Hallo", "artist": "Very Popular Band", "album": "Greetings", "popularity": 100,
     "regions": EVERYWHERE},
    {"title": "Smile", "artist": "Lily Allen", "album": "Alright, Still", "popularity": 70, "regions": EVERYWHERE},
    {"title": "Revolution", "artist": "The Beatles", "album": "Hey Jude", "popularity": 75, "regions": EVERYWHERE},
    {"title": "Tidewater", "artist": "Coastal Choir", "album": "Estuaries", "popularity": 20, "regions": EVERYWHERE},
    {"title": "Blue Monday", "artist": "New Order", "album": "Substance", "popularity": 60, "regions": EVERYWHERE},
    {"title": "Empire State of Mind (feat. Alicia Keys)", "artist": "JAY-Z", "album": "The Blueprint 3",
     "popularity": 85, "regions": EVERYWHERE},
]


def build_search_catalog(data_dir: Path) -> None:
    """Import TRACKS into ``data_dir`` and add the USERS."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lines = data_dir.parent / "search-catalog.jsonl"
    lines.write_text("".join(json.dumps(track) + "\n" for track in TRACKS), encoding="utf-8")
    report = import_file(data_dir, lines)
    assert report.added == len(TRACKS) and not report.failures, report
    catalog = Catalog.open(data_dir)
    try:
        for name, (password, region) in USERS.items():
            auth.create_user(catalog, name, password, region)
    finally:
        catalog.close()


def logged_in(url: str, user: str) -> httpx.Client:
    """An HTTP client logged in as one of the USERS (close it when done: ``contextlib.closing``)."""
    client = httpx.Client(base_url=url, timeout=30)
    response = client.post("/auth/login", json={"username": user, "password": USERS[user][0]})
    response.raise_for_status()
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client

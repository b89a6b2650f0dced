"""Offline licences on a clock the test moves: past the expiry a download stays on disk but refuses to play,
with the reason, until the app has been online once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cache import MasterKey
from client.api import ApiClient
from offline import LicenceExpired, PinKey
from tests.helpers.offline_harness import (
    WAIT_S,
    Clock,
    RecordingSource,
    album_tracks,
    disk_matches,
    make_parts,
    wait_until,
)

DAY_S = 86400.0


def test_expired_offline_licence_refuses_play_until_online_once(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    clock = Clock()
    parts = make_parts(tmp_path, api, RecordingSource(api), master_key, clock=clock)
    try:
        _, tracks = album_tracks(api)
        track = tracks[0]
        parts.downloader.pin(PinKey("playlist", "p"), "P", [track])
        assert parts.downloader.wait_idle(WAIT_S)
        manifest = parts.availability.local_manifest(track.track_id)
        expiry = parts.downloader.queue.licence_expiry(manifest.file_id)
        assert expiry is not None and expiry == pytest.approx(clock.now + 30 * DAY_S, abs=60)

        parts.connectivity.set_forced_offline(True)
        clock.now += 29 * DAY_S
        assert parts.availability.local_manifest(track.track_id) == manifest
        clock.now += 2 * DAY_S
        with pytest.raises(LicenceExpired, match="connect once to renew"):
            parts.availability.local_manifest(track.track_id)
        verdict = parts.availability.playability(track.track_id)
        assert not verdict.playable and "licence expired" in verdict.reason
        assert disk_matches(tmp_path / "cache", manifest)  # still on disk

        parts.connectivity.set_forced_offline(False)  # online once: the licences are renewed
        wait_until(lambda: (parts.downloader.queue.licence_expiry(manifest.file_id) or 0) > clock.now,
                   "the offline licence to be renewed")
        parts.connectivity.set_forced_offline(True)
        assert parts.availability.playability(track.track_id).playable
        assert parts.downloader.queue.licence_expiry(manifest.file_id) == pytest.approx(clock.now + 30 * DAY_S,
                                                                                        abs=60)
    finally:
        parts.close()

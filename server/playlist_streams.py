"""Live playlist events as server-sent events: one stream per device for all its playlists, or one per playlist.

Access is checked again whenever it may have changed: a stream never delivers a playlist its user may not read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from server import playlists
from server.catalog import Catalog
from server.playlist_feeds import AccessNews, Feed, News
from server.playlist_hub import PlaylistHub
from server.playlist_routes import PlaylistId, Since, hub_of
from server.responses import errors, server_sent_events
from server.routes import UserDep
from sync import PullResult

HEARTBEAT_S = 15.0
_KEEP_ALIVE = ": keep-alive\n\n"
_SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

router = APIRouter()


@router.get("/me/playlist-events", response_class=StreamingResponse, responses={
    200: server_sent_events("``playlists``, then ``updates``, ``playlist`` and ``removed``, each with JSON data",
                            ("playlists", "updates", "playlist", "removed")),
    **errors(401)})
async def my_playlist_events(request: Request, user: UserDep) -> StreamingResponse:
    """Server-sent events for every playlist the caller sees, on one connection.

    First ``playlists`` (``{"playlists": [...]}``, as GET /playlists). Then ``updates`` (``{"id", ...}`` a pull
    result of entries logged since), ``playlist`` (one listing item: newly visible, or its role or publicity
    changed) and ``removed`` (``{"id"}``: deleted, made private, unfollowed: the caller no longer sees it).
    """
    stream = _DeviceStream(hub_of(request), request.app.state.data_dir, user.id)
    return StreamingResponse(stream.events(), media_type="text/event-stream", headers=_SSE_HEADERS)


@router.get("/playlists/{playlist_id}/events", response_class=StreamingResponse, responses={
    200: server_sent_events("``updates`` (data: a pull result as JSON) and ``deleted`` (data: {\"id\": ...})",
                            ("updates", "deleted")),
    **errors(401, 404, 422)})
async def playlist_events(playlist_id: PlaylistId, request: Request, user: UserDep,
                          since: Since = 0) -> StreamingResponse:
    """Server-sent events of one playlist: ``updates`` (a pull result, first the catch-up after ``since``), and
    ``deleted`` when the playlist is gone or the caller may no longer read it (then the stream ends)."""
    data_dir = request.app.state.data_dir
    if await run_in_threadpool(_listing_item, data_dir, playlist_id, user.id) is None:
        raise playlists.not_found(playlist_id)
    return StreamingResponse(_playlist_stream(hub_of(request), data_dir, playlist_id, user.id, since),
                             media_type="text/event-stream", headers=_SSE_HEADERS)


class _DeviceStream:
    """One device's stream: what its user sees (with the last seq sent of each) and the news it has to pass on."""

    def __init__(self, hub: PlaylistHub, data_dir: Path, user_id: int) -> None:
        self._hub = hub
        self._data_dir = data_dir
        self._user_id = user_id
        self._seen: dict[str, dict[str, Any]] = {}  # playlist id -> its listing item, last_seq as sent

    async def events(self) -> AsyncIterator[str]:
        # Subscribe before listing, so nothing logged in between is missed (the feed gets all news until then).
        with self._hub.feeds.subscribe(self._user_id) as feed:
            listing = await run_in_threadpool(_listing, self._data_dir, self._user_id)
            self._seen = {item["id"]: dict(item) for item in listing}
            self._hub.feeds.watch_only(feed, self._seen)
            yield _event("playlists", {"playlists": listing})
            async for news in _news_of(feed):
                if news is None:
                    yield _KEEP_ALIVE
                    continue
                for event in await self._translate(feed, news):
                    yield event

    async def _translate(self, feed: Feed, news: News) -> list[str]:
        playlist_id = news.playlist_id
        if isinstance(news, AccessNews):
            item = await run_in_threadpool(_listing_item, self._data_dir, playlist_id, self._user_id)
            if item is None:
                return self._remove(feed, playlist_id)
            known = self._seen.get(playlist_id)
            if known is not None and (known["role"], known["public"]) == (item["role"], item["public"]):
                return []
            self._seen[playlist_id] = {**item, "last_seq": known["last_seq"] if known else item["last_seq"]}
            self._hub.feeds.watch(feed, playlist_id)
            return [_event("playlist", item)]
        if news.deleted or news.pull is None:
            return self._remove(feed, playlist_id)
        known = self._seen.get(playlist_id)
        if known is None:
            return []  # heard while listing, of a playlist this user does not see
        pull = await _news_after(self._data_dir, playlist_id, news.pull, known["last_seq"])
        if pull is None:
            return []
        known["last_seq"] = pull.last_seq
        return [_event("updates", {"id": playlist_id, **pull.to_json()})]

    def _remove(self, feed: Feed, playlist_id: str) -> list[str]:
        if self._seen.pop(playlist_id, None) is None:
            return []
        self._hub.feeds.unwatch(feed, playlist_id)
        return [_event("removed", {"id": playlist_id})]


async def _news_of(feed: Feed) -> AsyncIterator[News | None]:
    """The feed's news as it arrives, and None after each HEARTBEAT_S of silence (time for a keep-alive);
    ends when the server shuts the feed."""
    while True:
        try:
            news = await asyncio.wait_for(feed.queue.get(), HEARTBEAT_S)
        except TimeoutError:
            yield None
            continue
        if news is None:
            return
        yield news


async def _playlist_stream(hub: PlaylistHub, data_dir: Path, playlist_id: str, user_id: int,
                           since: int) -> AsyncIterator[str]:
    # Subscribe before reading the catch-up, so nothing logged in between is missed.
    with hub.feeds.subscribe(user_id) as feed:
        hub.feeds.watch_only(feed, [playlist_id])
        pull = await run_in_threadpool(_pull, data_dir, playlist_id, since)
        if pull is None:
            yield _event("deleted", {"id": playlist_id})
            return
        yield _event("updates", pull.to_json())
        seen = pull.last_seq
        async for news in _news_of(feed):
            if news is None:
                yield _KEEP_ALIVE
                continue
            if news.playlist_id != playlist_id:
                continue
            if isinstance(news, AccessNews):
                if await run_in_threadpool(_listing_item, data_dir, playlist_id, user_id) is None:
                    yield _event("deleted", {"id": playlist_id})
                    return
                continue
            if news.deleted or news.pull is None:
                yield _event("deleted", {"id": playlist_id})
                return
            following = await _news_after(data_dir, playlist_id, news.pull, seen)
            if following is not None:
                yield _event("updates", following.to_json())
                seen = following.last_seq


async def _news_after(data_dir: Path, playlist_id: str, pull: PullResult, seen: int) -> PullResult | None:
    """What a stream that has sent the log up to ``seen`` passes on of ``pull``: None when it holds nothing newer;
    its new entries when they follow on, the whole of it when it starts with a snapshot past ``seen``; else what
    the database holds after ``seen`` (news from other instances may arrive out of order, or skip a seq)."""
    if pull.last_seq <= seen:
        return None
    if pull.snapshot is not None and pull.snapshot_seq > seen:
        return pull
    fresh = tuple(update for update in pull.updates if update.seq > seen)
    if fresh and fresh[0].seq == seen + 1:
        return PullResult(None, pull.snapshot_seq, fresh, fresh[-1].seq)
    caught_up = await run_in_threadpool(_pull, data_dir, playlist_id, seen)
    return None if caught_up is None or caught_up.last_seq <= seen else caught_up


def _listing(data_dir: Path, user_id: int) -> list[dict[str, Any]]:
    catalog = Catalog.open(data_dir)
    try:
        return playlists.visible_to(catalog, user_id)
    finally:
        catalog.close()


def _listing_item(data_dir: Path, playlist_id: str, user_id: int) -> dict[str, Any] | None:
    """The playlist as GET /playlists lists it to this user, or None when the user may not see it."""
    catalog = Catalog.open(data_dir)
    try:
        record = playlists.find(catalog, playlist_id)
        role = None if record is None else playlists.role_of(catalog, record, user_id)
        return None if record is None or role is None else record.to_json(role)
    finally:
        catalog.close()


def _pull(data_dir: Path, playlist_id: str, seq: int) -> PullResult | None:
    catalog = Catalog.open(data_dir)
    try:
        return playlists.pull(catalog, playlist_id, seq)
    finally:
        catalog.close()


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"

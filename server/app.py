"""The FastAPI application factory; every error leaves as JSON ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.admission import AdmissionControl
from server.catalog import Catalog
from server.catalog_pool import CatalogPool
from server.exceptions import ApiError, DatabaseError
from server.library_routes import router as library_router
from server.limits import (
    DEFAULT_BODY_BYTES,
    BodyRefused,
    JsonDepthLimit,
    declared_size_within_limit,
    too_large_message,
)
from server.listening_routes import router as listening_router
from server.manifest_routes import router as manifest_router
from server.playlist_fleet import fleet_news
from server.playlist_hub import PlaylistHub
from server.playlist_routes import router as playlist_router
from server.playlist_streams import router as playlist_stream_router
from server.recs.schedule import RecsSchedule, SchedulePolicy
from server.recs.service import Recommender
from server.recs_routes import router as recs_router
from server.release_routes import router as release_router
from server.releases import Clock, utc_now
from server.request_log import RequestLog
from server.routes import router
from server.search_index import SearchIndex
from server.throttle import LoginThrottle, ThrottlePolicy
from server.update_pool import UpdateWorkers
from server.upgrades import BackgroundUpgrades

_log = logging.getLogger(__name__)
DATABASE_RETRY_AFTER_S = 2
_STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 406: "not_acceptable", 413: "payload_too_large",
                 415: "unsupported_media_type", 422: "invalid_request", 503: "server_busy"}
_ROUTERS = (router, manifest_router, playlist_router, playlist_stream_router, release_router, listening_router,
            library_router, recs_router)
_CLOSE = {"Connection": "close"}  # the rest of a refused body is never read: the connection cannot be reused


def create_app(data_dir: Path, now: Clock = utc_now) -> FastAPI:
    """The reference server's API over the catalog and origin store in ``data_dir`` (created if missing);
    ``now`` is the clock releases are kept against (tests move it)."""
    catalog = Catalog.open(data_dir)
    search_index = SearchIndex(data_dir)
    try:
        _log.info("search index: %s", search_index.reconcile(catalog))
    finally:
        catalog.close()
    app = _LegatoApi(title="Legato reference server", lifespan=_update_workers_running,
                     description="Catalog, manifests, licences and encrypted files for the Legato player.",
                     max_body_size=DEFAULT_BODY_BYTES, dependencies=[Depends(declared_size_within_limit)])
    app.state.data_dir = data_dir
    app.state.now = now
    app.state.search_index = search_index
    app.state.catalogs = CatalogPool(data_dir)
    app.state.playlist_hub = PlaylistHub(fleet_news(data_dir))
    app.state.update_workers = UpdateWorkers.from_environment()
    app.state.login_throttle = LoginThrottle(ThrottlePolicy.from_environment())
    app.state.recommender = Recommender(data_dir)
    app.state.recs_schedule = RecsSchedule(data_dir, app.state.recommender, app.state.playlist_hub,
                                           SchedulePolicy.from_environment())
    app.add_middleware(JsonDepthLimit)
    app.add_middleware(AdmissionControl, respond=error_response)
    app.add_middleware(RequestLog)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unreachable in (DatabaseError, sa.exc.OperationalError, sa.exc.InterfaceError):
        app.add_exception_handler(unreachable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
    for api_router in _ROUTERS:
        app.include_router(api_router)
    return app


@asynccontextmanager
async def _update_workers_running(app: FastAPI) -> AsyncIterator[None]:
    """The processes that check pushed playlist updates, the thread that upgrades an older data dir
    (server/upgrades.py) while the app already serves it, the recommender's schedule and the fleet's playlist
    news (server/playlist_fleet.py) live as long as the app serves."""
    workers: UpdateWorkers = app.state.update_workers
    schedule: RecsSchedule = app.state.recs_schedule
    hub: PlaylistHub = app.state.playlist_hub
    upgrades = BackgroundUpgrades(app.state.data_dir)
    workers.start()
    upgrades.start()
    schedule.start()
    hub.start()
    try:
        yield
    finally:
        hub.close()
        schedule.close()
        upgrades.close()
        workers.close()
        app.state.catalogs.close()


class _LegatoApi(FastAPI):
    """FastAPI with every 413 in the API's JSON error format (see _JsonTooLarge)."""

    def build_middleware_stack(self) -> ASGIApp:
        return _JsonTooLarge(super().build_middleware_stack())


class _JsonTooLarge:
    """Starlette's body limiter answers a body *declared* over the limit with its own plain-text 413, sent from
    inside the limiter past every exception handler; this turns that one answer into the API's JSON error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replacing = False

        async def sending(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start" and message["status"] == 413 and (
                    b"content-type", b"text/plain; charset=utf-8") in message.get("headers", ()):
                replacing = True
            elif not replacing:
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                response = error_response(413, "payload_too_large", too_large_message(scope), _CLOSE)
                await response(scope, receive, send)

        await self.app(scope, receive, sending)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    # A message may quote what the client sent; whatever that held, the answer must still encode.
    printable = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return JSONResponse({"error": {"code": code, "message": printable}}, status_code=status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(400, "malformed_json", "the request body is not valid JSON")
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}" for error in errors)
    return error_response(422, "invalid_request", f"the request is not valid: {problems}")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = exc.code if isinstance(exc, BodyRefused) else _STATUS_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = f"there is nothing at {request.url.path}"
    elif exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
        message = f"{request.url.path} does not answer {request.method}; it answers {headers['Allow']}"
    elif exc.status_code == 413:
        message = message if isinstance(exc, BodyRefused) else too_large_message(request.scope)
        headers.update(_CLOSE)
    return error_response(exc.status_code, code, message, headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers (Starlette's own Allow names only the first route whose path matched)."""
    methods = {method for api_router in _ROUTERS for route in api_router.routes
               if isinstance(route, APIRoute) and route.matches(request.scope)[0] is not Match.NONE
               for method in route.methods or ()}
    return ", ".join(sorted(methods))


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database is down, restarting or unreachable (or SQLite stayed locked past its timeout): nothing was
    done, so the client may try again; the pool's pre-ping replaces dead connections once it is back. Any other
    database error (a wrong statement, a missing table) is a bug and answers as one."""
    if not _unreachable(exc):
        return await _unexpected_error(request, exc)
    _log.warning("the database is unavailable answering %s %s: %s", request.method, request.url.path,
                 str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return error_response(503, "database_unavailable", "the server's database cannot be reached just now; "
                          "try again shortly", {"Retry-After": str(DATABASE_RETRY_AFTER_S)})


def _unreachable(exc: Exception) -> bool:
    if isinstance(exc, DatabaseError) or getattr(exc, "connection_invalidated", False):
        return True
    cause = getattr(exc, "orig", None)
    return isinstance(cause, psycopg.OperationalError) or (
        isinstance(cause, sqlite3.OperationalError) and ("locked" in str(cause) or "busy" in str(cause)))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """The last resort, for real bugs only: every known bad input is answered with a 4xx before it gets here."""
    client = request.client.host if request.client else "unknown"
    _log.error("unexpected %s answering %s %s for %s (query %r, %s bytes declared)", type(exc).__name__,
               request.method, request.url.path, client, request.url.query[:200],
               request.headers.get("content-length", "no"), exc_info=exc)
    return error_response(500, "internal_error", "the server failed unexpectedly; see its log")

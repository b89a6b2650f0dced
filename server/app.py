"""The FastAPI application factory; every error leaves as JSON ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.catalog import Catalog
from server.exceptions import ApiError
from server.playlist_hub import PlaylistHub
from server.playlist_routes import router as playlist_router
from server.routes import router
from server.update_pool import UpdateWorkers

_log = logging.getLogger(__name__)
_STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 406: "not_acceptable", 413: "payload_too_large",
                 415: "unsupported_media_type"}


def create_app(data_dir: Path) -> FastAPI:
    """The reference server's API over the catalog and origin store in ``data_dir`` (created if missing)."""
    Catalog.open(data_dir).close()
    app = FastAPI(title="Legato reference server", lifespan=_update_workers_running,
                  description="Catalog, manifests, licences and encrypted files for the Legato player.")
    app.state.data_dir = data_dir
    app.state.playlist_hub = PlaylistHub()
    app.state.update_workers = UpdateWorkers.from_environment()
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.include_router(router)
    app.include_router(playlist_router)
    return app


@asynccontextmanager
async def _update_workers_running(app: FastAPI) -> AsyncIterator[None]:
    """The processes that check pushed playlist updates live as long as the app serves."""
    workers: UpdateWorkers = app.state.update_workers
    workers.start()
    try:
        yield
    finally:
        workers.close()


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


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
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404:
        message = f"there is nothing at {request.url.path}"
    return error_response(exc.status_code, code, message, dict(exc.headers or {}))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "the server failed unexpectedly; see its log")

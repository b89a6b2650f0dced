"""The documented answers of the API: the JSON error body every error has, and the OpenAPI ``responses=`` of each
error status an operation can give. Documentation only: it never decides a status.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="a stable snake_case code, e.g. not_found, invalid_credentials")
    message: str = Field(description="what went wrong, in words a user can act on")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


_MEANINGS = {
    400: "the body is not valid JSON",
    401: "no bearer token was sent, or it is unknown or expired: log in at POST /auth/login",
    403: "the caller may see this but not do this (e.g. a track not licensed in their region, a follower editing)",
    404: "there is no such thing, or none the caller may see (the two get one answer)",
    409: "the request conflicts with what the server holds",
    413: "the body is larger than this endpoint accepts",
    416: "the range lies outside the file; Content-Range gives its size",
    422: "a parameter or the body is not valid (too deeply nested JSON included)",
    429: "too many failed logins: wait Retry-After seconds",
    503: "the server is at its limit for this endpoint: wait Retry-After seconds (plus a random bit) and retry",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    416: {"Content-Range": {"description": "bytes */<size>", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait before the next attempt",
                          "schema": {"type": "integer", "minimum": 1}}},
    503: {"Retry-After": {"description": "seconds to wait before the next attempt",
                          "schema": {"type": "integer", "minimum": 1}}},
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for an operation that can answer each of ``statuses`` with an ErrorBody."""
    return {status: {"model": ErrorBody, "description": _MEANINGS[status],
                     **({"headers": _HEADERS[status]} if status in _HEADERS else {})} for status in statuses}


def binary(media_types: tuple[str, ...], description: str) -> dict[str, Any]:
    """One documented response whose body is raw bytes of one of ``media_types``."""
    return {"description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types}}


def json_object(description: str) -> dict[str, Any]:
    """One documented response whose body is a JSON object."""
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


def server_sent_events(description: str, names: tuple[str, ...]) -> dict[str, Any]:
    """A documented ``text/event-stream`` response, each event one of ``names`` with its data as text."""
    event = {"type": "object", "required": ["event", "data"],
             "properties": {"event": {"type": "string", "enum": list(names)}, "data": {"type": "string"}}}
    return {"description": description, "content": {"text/event-stream": {"schema": event}}}

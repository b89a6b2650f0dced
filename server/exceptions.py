"""The server's exceptions, each carrying a message a user or operator can act on.

    ServerError
    ├── IngestError          a source file could not be ingested (names the file and the reason)
    │   └── TranscodeError   an output failed to encode or did not decode back to the expected length
    ├── AlbumLoudnessError   an album's stored lossless files could not be read to measure its loudness
    ├── UpgradeError         an upgrade step of an older data dir failed (names the step)
    ├── UserExistsError      `user add` for a name that is taken
    ├── DemoError            the demo catalog could not be built
    ├── ReleaseError         a release instant or album given to `release set` / `ingest --release-at` is wrong
    ├── EdgeError            an edge cache (nginx) could not be configured, started or warmed
    ├── DatabaseError        a database URL is wrong, its server unreachable, or `db copy`'s target not empty
    └── ApiError             an HTTP error with a status, a snake_case code and a message
"""

from __future__ import annotations

from pathlib import Path


class ServerError(Exception):
    """Base of every error the reference server raises on purpose."""


class IngestError(ServerError):
    """A source file could not be ingested; ``path`` names it and ``reason`` says why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class TranscodeError(IngestError):
    """An output quality failed to encode, or its decoded length differs from what was encoded."""


class AlbumLoudnessError(ServerError):
    """An album's loudness could not be measured from its stored lossless files."""


class UpgradeError(ServerError):
    """An upgrade step of an older data dir failed; the step runs again at the next start."""


class UserExistsError(ServerError):
    """A user with this name already exists."""


class DemoError(ServerError):
    """The demo catalog could not be built (a rendered album failed to ingest)."""


class ReleaseError(ServerError):
    """A scheduled release could not be set: the instant or the album is wrong (the message says which)."""


class EdgeError(ServerError):
    """An edge cache could not be configured, started or warmed (the message names what to fix)."""


class DatabaseError(ServerError):
    """A database could not be used as asked: a wrong URL, an unreachable server, a copy into a non-empty one."""


class ApiError(ServerError):
    """An error answered as JSON ``{"error": {"code", "message"}}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

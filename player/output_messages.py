"""What the app and its device output process say to each other (player.output_process is the other end), and
the process's entry point, which imports the output side only in the process itself."""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.connection import Connection


@dataclass(frozen=True)
class OpenStream:
    """Have a stream open at `rate` on `device` (kept if one already is); answered "opened" or "failed"."""

    channels: int
    rate: int
    device: int | str | None
    latency: str | float


@dataclass(frozen=True)
class Attach:
    """Play the ring `ring_name` from now on; answered "attached"."""

    ring_name: str
    capacity: int
    channels: int


@dataclass(frozen=True)
class Detach:
    """Stop reading the ring (the stream plays silence, what the device holds plays out); answered "detached"."""


@dataclass(frozen=True)
class Quit:
    """Play out what the device holds, close the stream and end the process."""


def run_output(connection: Connection) -> None:
    """The output process's target: serve `connection` until told to quit."""
    from player.output_process import serve

    serve(connection)

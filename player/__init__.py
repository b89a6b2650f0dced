"""Legato's audio engine: decode, trim, resample, gain, gapless sequencing, output sinks.

Imports nothing of the project; runs and tests without a display.
"""

from player.crossfade import MAX_CROSSFADE_S
from player.decoder import DecodeError, Decoder
from player.device import DeviceError, DeviceSink, OutputDevice, list_output_devices
from player.engine import Engine
from player.events import (
    Event,
    Listener,
    PlaybackError,
    Position,
    QueueFinished,
    QueueItem,
    Reconnected,
    Reconnecting,
    State,
    StateChanged,
    TrackEnded,
    TrackStarted,
)
from player.sinks import RenderSink, Sink
from player.source import BytesSource, FileSource, Source, SourceError, SourceReader, SourceUnavailable

__all__ = [
    "MAX_CROSSFADE_S",
    "BytesSource",
    "DecodeError",
    "Decoder",
    "DeviceError",
    "DeviceSink",
    "Engine",
    "Event",
    "FileSource",
    "Listener",
    "OutputDevice",
    "PlaybackError",
    "Position",
    "QueueFinished",
    "QueueItem",
    "Reconnected",
    "Reconnecting",
    "RenderSink",
    "Sink",
    "Source",
    "SourceError",
    "SourceReader",
    "SourceUnavailable",
    "State",
    "StateChanged",
    "TrackEnded",
    "TrackStarted",
    "list_output_devices",
]

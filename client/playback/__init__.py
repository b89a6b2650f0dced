"""Playback: the play queue (what plays next, a strategy free of Qt) and the controller that feeds it to the engine.

Never touches a widget: the views connect to the controller's signals.
"""

from client.playback.controller import PlaybackController
from client.playback.queue import Entry, PlayQueue, Repeat
from client.playback.sequencing import GAIN_MODES, GainMode

__all__ = ["GAIN_MODES", "Entry", "GainMode", "PlayQueue", "PlaybackController", "Repeat"]

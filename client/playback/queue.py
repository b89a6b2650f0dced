"""What plays next: the listening context (an album or playlist, maybe shuffled) behind the user's queue.

A strategy, not a widget: no Qt and no settings reads. Explicit "next" (the user pressed Next) and implicit
"next" (the track ended) differ only under repeat-one, as in Quod Libet; the user's queue always plays before
the rest of the context, as in Spotify.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from client.catalog import Track


class Repeat(Enum):
    OFF = "off"
    ALL = "all"
    ONE = "one"


@dataclass(frozen=True)
class Entry:
    """One place in the play order; the same track may hold several places."""

    entry_id: int
    track: Track
    queued: bool  # added by the user with "play next" / "add to queue", not part of the context


class PlayQueue:
    """The context's tracks in play order, a cursor in it, and the user's queue in front of the rest."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._ids = itertools.count(1)
        self._context: list[Entry] = []
        self._order: list[int] = []  # indexes into _context, in play order
        self._cursor = -1  # position in _order of the context entry last played
        self._queued: list[Entry] = []
        self.current: Entry | None = None
        self.shuffle = False
        self.repeat = Repeat.OFF

    # -- building ---------------------------------------------------------------------------------

    def play_context(self, tracks: Sequence[Track], start: int = 0) -> Entry:
        """Make ``tracks`` the context and start at ``tracks[start]``; the user's queue is kept."""
        self._context = [Entry(next(self._ids), track, False) for track in tracks]
        self._order = list(range(len(self._context)))
        if self.shuffle:
            self._shuffle_order(first=start)
            self._cursor = 0
        else:
            self._cursor = start
        self.current = self._context[start]
        return self.current

    def add_next(self, tracks: Sequence[Track]) -> list[Entry]:
        entries = [Entry(next(self._ids), track, True) for track in tracks]
        self._queued[0:0] = entries
        return entries

    def add_to_end(self, tracks: Sequence[Track]) -> list[Entry]:
        entries = [Entry(next(self._ids), track, True) for track in tracks]
        self._queued.extend(entries)
        return entries

    def extend_context(self, tracks: Sequence[Track]) -> list[Entry]:
        """Add ``tracks`` to the end of the context, in this order (a radio's next neighbours)."""
        entries = [Entry(next(self._ids), track, False) for track in tracks]
        self._order.extend(range(len(self._context), len(self._context) + len(entries)))
        self._context.extend(entries)
        return entries

    def remove(self, entry_ids: Sequence[int]) -> None:
        """Remove upcoming entries (the one playing stays until it ends)."""
        doomed = set(entry_ids)
        self._queued = [e for e in self._queued if e.entry_id not in doomed]
        rest = [i for i in self._order[self._cursor + 1:] if self._context[i].entry_id not in doomed]
        self._order = self._order[: self._cursor + 1] + rest

    def move(self, entry_id: int, to_position: int) -> None:
        """Move an upcoming entry to ``to_position`` of ``upcoming()`` (0 = next).

        The user's queue and the rest of the context stay two sections, as in Spotify: an entry moves
        within its own section, so a target beyond that section puts it at the section's edge.
        """
        queued_ids = [e.entry_id for e in self._queued]
        if entry_id in queued_ids:
            entry = self._queued.pop(queued_ids.index(entry_id))
            self._queued.insert(max(0, min(to_position, len(self._queued))), entry)
            return
        rest = self._order[self._cursor + 1:]
        index = next(i for i in rest if self._context[i].entry_id == entry_id)
        rest.remove(index)
        rest.insert(max(0, min(to_position - len(self._queued), len(rest))), index)
        self._order = self._order[: self._cursor + 1] + rest

    def clear(self) -> None:
        """Forget everything upcoming (queue and context); the playing entry stays."""
        self._queued = []
        self._order = self._order[: self._cursor + 1]

    def set_shuffle(self, on: bool) -> None:
        self.shuffle = on
        played = self._order[: self._cursor + 1]
        rest = self._order[self._cursor + 1:]
        if on:
            self._rng.shuffle(rest)
        else:
            rest.sort()
        self._order = played + rest

    # -- reading ----------------------------------------------------------------------------------

    def upcoming(self) -> list[Entry]:
        """Entries in the order they will play after the current one when it ends on its own.

        Under repeat-one that is the current entry again; under repeat-all the context gets one more lap.
        """
        rest = [self._context[i] for i in self._order[self._cursor + 1:]]
        if self.repeat is Repeat.ALL:
            rest += [self._context[i] for i in self._order]
        again = [self.current] if self.repeat is Repeat.ONE and self.current is not None else []
        return again + self._queued + rest

    # -- advancing --------------------------------------------------------------------------------

    def next_implicit(self) -> Entry | None:
        """The track ended: what plays now (None: the queue is over)."""
        if self.repeat is Repeat.ONE and self.current is not None:
            return self.current
        return self.next_explicit()

    def next_explicit(self) -> Entry | None:
        """The user pressed Next: what plays now (None: nothing left)."""
        if self._queued:
            self.current = self._queued.pop(0)
            return self.current
        if self._cursor + 1 < len(self._order):
            self._cursor += 1
        elif self.repeat is Repeat.ALL and self._order:
            if self.shuffle:
                self._shuffle_order(first=None)
            self._cursor = 0
        else:
            self.current = None
            return None
        self.current = self._context[self._order[self._cursor]]
        return self.current

    def previous(self) -> Entry | None:
        """Back one context entry (the user's queue is not replayed); None at the start."""
        if self._cursor <= 0:
            return None
        self._cursor -= 1
        self.current = self._context[self._order[self._cursor]]
        return self.current

    def advance_to(self, entry: Entry) -> None:
        """The engine moved on to ``entry``: follow it through ``upcoming()``.

        An entry the queue no longer holds (edited away while the engine had it lined up) plays as it is,
        and the queue keeps its place.
        """
        if self.current is not None and self.current.entry_id == entry.entry_id:
            return
        if entry.entry_id not in {e.entry_id for e in self.upcoming()}:
            self.current = entry
            return
        while (moved := self.next_explicit()) is not None and moved.entry_id != entry.entry_id:
            pass

    def _shuffle_order(self, first: int | None) -> None:
        rest = [i for i in range(len(self._context)) if i != first]
        self._rng.shuffle(rest)
        self._order = ([first] if first is not None else []) + rest

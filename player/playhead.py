"""The consumer end of the ring: copies frames out, ramps gain (volume, pause, stop, seek) and
counts underruns. Called from the real-time callback: no I/O, no locks, no allocation per call."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from player.ring import Ring


class Playhead:
    """Fills output blocks of at most `max_block_frames` from `ring`."""

    def __init__(self, ring: Ring, max_block_frames: int) -> None:
        self._ring = ring
        self._steps = np.arange(1, max_block_frames + 1, dtype=np.float32)
        self._gains = np.empty((max_block_frames, 1), np.float32)

    def fill(self, out: npt.NDArray[np.float32]) -> int:
        """Device side: fill all of `out`; silence where there is no audio, counting an underrun
        when audio was due (playing, not at the end of the queue) but had not arrived. Returns the
        frames that came from the ring."""
        step = len(self._steps)
        filled = 0
        while filled < len(out):
            produced = self.produce(out[filled:filled + step], stop_at_event=False)
            filled += produced
            if produced < min(step, len(out) - filled + produced):
                break
        if filled < len(out):
            out[filled:] = 0.0
            if self.wants_audio() and not self.at_end():
                self._ring.count_underrun()
        return filled

    def produce(self, out: npt.NDArray[np.float32], stop_at_event: bool) -> int:
        """Write up to len(out) frames of gained audio to the front of `out`; returns how many.

        Produces nothing while held (faded to zero and asked to stay there). With `stop_at_event`
        it stops at the next event frame so the caller can deliver the event at that exact frame.
        """
        ring = self._ring
        current = ring.current_gain
        target = ring.target_gain
        if current == 0.0 and target == 0.0:
            return 0
        limit = len(out)
        ramp_frames = max(1.0, ring.ramp_frames)
        if current != target:
            frames_to_target = int(np.ceil(abs(target - current) * ramp_frames))
            if target == 0.0:
                limit = min(limit, frames_to_target)
        if stop_at_event:
            event_at = ring.event_at
            if event_at >= 0:
                limit = min(limit, max(0, event_at - ring.consumed))
        count = ring.read_into(out, limit)
        if count == 0:
            return 0
        audio = out[:count]
        if current == target:
            if current != 1.0:
                np.multiply(audio, np.float32(current), out=audio)
        else:
            gains = self._gains[:count]
            step = (1.0 if target > current else -1.0) / ramp_frames
            np.multiply(self._steps[:count, None], np.float32(step), out=gains)
            np.add(gains, np.float32(current), out=gains)
            if step > 0:
                np.minimum(gains, np.float32(target), out=gains)
            else:
                np.maximum(gains, np.float32(target), out=gains)
            np.multiply(audio, gains, out=audio)
            last = gains[count - 1, 0]
            ring.current_gain = target if last == np.float32(target) else float(last)
        ring.count_played(count)
        return count

    def wants_audio(self) -> bool:
        ring = self._ring
        return ring.target_gain != 0.0 or ring.current_gain != 0.0

    def at_end(self) -> bool:
        return self._ring.at_end()

    def holding(self) -> bool:
        """True once faded to zero and told to stay silent (paused, stopped, seeking)."""
        return not self.wants_audio()

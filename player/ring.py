"""A single-producer/single-consumer float32 ring of stereo frames in shared memory, with the
lock-free counters and control values the producer and the real-time consumer share.

The producer only advances `write`; the consumer only advances `read`. Each counter is one aligned
int64 store, so either side may live in another process (the device output process)."""

from __future__ import annotations

from multiprocessing import shared_memory

import numpy as np
import numpy.typing as npt

# int64 slots of the control block
WRITE = 0            # frames ever written (producer)
READ = 1             # frames ever consumed (consumer)
FLUSH_TO = 2         # consumer jumps `read` up to this (producer drops what is queued)
END = 3              # `write` at the end of the queue, -1 while more may come
UNDERRUNS = 4        # output blocks that found the ring short of audio (consumer)
PLAYED = 5           # frames of audio handed to the output (consumer)
EVENT_AT = 6         # next frame an event is due at, -1 for none (render sinks stop there)
CALLBACKS = 7         # output callbacks so far (consumer): the device's heartbeat
JUMPING = 8          # 1 while the worker moves playback elsewhere (a hold is not a pause then)
LATE = 9             # callbacks the device reported as late (output underflow), not the ring's fault
_INTS = 10
# float64 slots
TARGET_GAIN = 0      # where the consumer ramps to (volume, or 0 for pause/stop/seek)
CURRENT_GAIN = 1     # where the consumer's ramp is (consumer)
RAMP_FRAMES = 2      # frames for a full-scale gain ramp
_FLOATS = 4
_HEADER_BYTES = 8 * (_INTS + _FLOATS)


class Ring:
    """The shared block: `capacity` stereo float32 frames plus the control counters."""

    def __init__(self, memory: shared_memory.SharedMemory, capacity: int, channels: int, owner: bool) -> None:
        self._memory = memory
        self._owner = owner
        self.capacity = capacity
        self.channels = channels
        buffer = memory.buf
        assert buffer is not None
        self.ints: npt.NDArray[np.int64] = np.ndarray((_INTS,), np.int64, buffer, 0)
        self.floats: npt.NDArray[np.float64] = np.ndarray((_FLOATS,), np.float64, buffer, 8 * _INTS)
        self.frames: npt.NDArray[np.float32] = np.ndarray((capacity, channels), np.float32, buffer, _HEADER_BYTES)

    @classmethod
    def create(cls, capacity: int, channels: int = 2) -> Ring:
        size = _HEADER_BYTES + capacity * channels * 4
        ring = cls(shared_memory.SharedMemory(create=True, size=size), capacity, channels, owner=True)
        ring.ints[:] = 0
        ring.ints[END] = -1
        ring.ints[EVENT_AT] = -1
        ring.floats[:] = 0.0
        return ring

    @classmethod
    def attach(cls, name: str, capacity: int, channels: int) -> Ring:
        """The same block, opened by name in another process."""
        return cls(shared_memory.SharedMemory(name=name), capacity, channels, owner=False)

    @property
    def name(self) -> str:
        return self._memory.name

    # -- the control block, by name: other modules never index its slots -------------------------

    @property
    def written(self) -> int:
        """Frames ever written (the producer's counter)."""
        return int(self.ints[WRITE])

    @property
    def consumed(self) -> int:
        """Frames ever consumed (the consumer's counter)."""
        return int(self.ints[READ])

    @property
    def end(self) -> int:
        """`written` at the end of the queue, -1 while more may come."""
        return int(self.ints[END])

    @end.setter
    def end(self, frame: int) -> None:
        self.ints[END] = frame

    def at_end(self) -> bool:
        """The consumer has played the queue's last frame."""
        end = int(self.ints[END])
        return 0 <= end <= int(self.ints[READ])

    @property
    def jumping(self) -> bool:
        """True while the worker moves playback elsewhere (a hold is not a pause then)."""
        return bool(self.ints[JUMPING])

    @jumping.setter
    def jumping(self, value: bool) -> None:
        self.ints[JUMPING] = 1 if value else 0

    @property
    def event_at(self) -> int:
        """The frame the next event is due at, -1 for none (render sinks stop there)."""
        return int(self.ints[EVENT_AT])

    @event_at.setter
    def event_at(self, frame: int) -> None:
        self.ints[EVENT_AT] = frame

    @property
    def target_gain(self) -> float:
        """Where the consumer ramps to (the volume, or 0 for pause/stop/seek)."""
        return float(self.floats[TARGET_GAIN])

    @target_gain.setter
    def target_gain(self, gain: float) -> None:
        self.floats[TARGET_GAIN] = gain

    @property
    def current_gain(self) -> float:
        """Where the consumer's ramp is."""
        return float(self.floats[CURRENT_GAIN])

    @current_gain.setter
    def current_gain(self, gain: float) -> None:
        self.floats[CURRENT_GAIN] = gain

    @property
    def ramp_frames(self) -> float:
        """Frames for a full-scale gain ramp."""
        return float(self.floats[RAMP_FRAMES])

    @ramp_frames.setter
    def ramp_frames(self, frames: float) -> None:
        self.floats[RAMP_FRAMES] = frames

    @property
    def played(self) -> int:
        """Frames of audio handed to the output."""
        return int(self.ints[PLAYED])

    @property
    def underruns(self) -> int:
        """Output blocks that found the ring short of audio."""
        return int(self.ints[UNDERRUNS])

    @property
    def late(self) -> int:
        """Callbacks the device reported as late (output underflow), not the ring's fault."""
        return int(self.ints[LATE])

    @property
    def callbacks(self) -> int:
        """Output callbacks so far: the device's heartbeat."""
        return int(self.ints[CALLBACKS])

    def count_played(self, frames: int) -> None:
        """Consumer: `frames` more were handed to the output."""
        self.ints[PLAYED] += frames

    def count_underrun(self) -> None:
        self.ints[UNDERRUNS] += 1

    def count_late(self) -> None:
        self.ints[LATE] += 1

    def count_callback(self) -> None:
        self.ints[CALLBACKS] += 1

    def available(self) -> int:
        """Frames queued and not yet consumed, as the consumer will see them."""
        ints = self.ints
        return int(ints[WRITE] - max(int(ints[READ]), int(ints[FLUSH_TO])))

    def free(self) -> int:
        return self.capacity - int(self.ints[WRITE] - self.ints[READ])

    def write(self, data: npt.NDArray[np.float32]) -> int:
        """Producer: queue as many frames of `data` as fit; returns how many."""
        write = int(self.ints[WRITE])
        count = min(len(data), self.free())
        if count <= 0:
            return 0
        start = write % self.capacity
        first = min(count, self.capacity - start)
        self.frames[start:start + first] = data[:first]
        self.frames[:count - first] = data[first:count]
        self.ints[WRITE] = write + count
        return count

    def truncate(self, frame: int) -> None:
        """Producer: take back what was queued from `frame` on. Only for frames the consumer cannot be
        reading yet (the caller keeps a margin of more than one output block above `read`)."""
        if frame < int(self.ints[WRITE]):
            self.ints[WRITE] = frame

    def drop_queued(self) -> int:
        """Producer: make the consumer skip everything queued so far; returns the new start frame."""
        write = int(self.ints[WRITE])
        self.ints[FLUSH_TO] = write
        return write

    def read_into(self, out: npt.NDArray[np.float32], limit: int) -> int:
        """Consumer: copy up to `limit` frames into `out`; returns how many it had. Allocates nothing."""
        ints = self.ints
        read = int(ints[READ])
        flush_to = int(ints[FLUSH_TO])
        if flush_to > read:
            read = flush_to
            ints[READ] = read
        count = min(limit, len(out), int(ints[WRITE]) - read)
        if count <= 0:
            return 0
        start = read % self.capacity
        first = min(count, self.capacity - start)
        out[:first] = self.frames[start:start + first]
        out[first:count] = self.frames[:count - first]
        ints[READ] = read + count
        return count

    def close(self) -> None:
        # Views into the block must go before the block itself can close.
        del self.ints, self.floats, self.frames
        self._memory.close()
        if self._owner:
            self._memory.unlink()

"""Sample-rate conversion to the output rate with one `av.AudioResampler` that carries across
track boundaries of the same rate, so a boundary adds no discontinuity. Pass-through when rates match."""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt

from player.decoder import CHANNELS, LAYOUT

_EMPTY = np.zeros((0, CHANNELS), np.float32)


class RateConverter:
    """Converts stereo float32 chunks of any input rate to `output_rate`, never resampling twice."""

    def __init__(self, output_rate: int) -> None:
        self.output_rate = output_rate
        self._input_rate: int | None = None
        self._resampler: av.AudioResampler | None = None

    def convert(self, chunk: npt.NDArray[np.float32], input_rate: int) -> npt.NDArray[np.float32]:
        """Converted frames available so far; when the input rate changes the previous
        resampler's tail comes first."""
        tail = self.flush() if input_rate != self._input_rate else _EMPTY
        self._input_rate = input_rate
        if input_rate == self.output_rate:
            return chunk if len(tail) == 0 else np.concatenate([tail, chunk])
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="flt", layout=LAYOUT, rate=self.output_rate)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk).reshape(1, -1), format="flt", layout=LAYOUT)
        frame.sample_rate = input_rate
        return self._joined(tail, self._resampler.resample(frame))

    def flush(self) -> npt.NDArray[np.float32]:
        """The resampler's remaining tail (end of queue, or before a rate change)."""
        resampler, self._resampler = self._resampler, None
        self._input_rate = None
        if resampler is None:
            return _EMPTY
        return self._joined(_EMPTY, resampler.resample(None))

    def reset(self) -> None:
        """Forget buffered audio (after a seek or a jump to another track)."""
        self._resampler = None
        self._input_rate = None

    @staticmethod
    def _joined(head: npt.NDArray[np.float32], frames: list[av.AudioFrame]) -> npt.NDArray[np.float32]:
        parts = [head] + [frame.to_ndarray().reshape(-1, CHANNELS) for frame in frames]
        return np.concatenate(parts) if len(parts) > 1 else head

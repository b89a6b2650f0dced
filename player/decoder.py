"""Decodes one track with PyAV into stereo float32 at the file's own rate, trimmed to the exact
original length, with sample-accurate seek. Runs on the engine's worker thread, never the callback."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import av
import av.container
import av.error
import numpy as np
import numpy.typing as npt

from player.source import Source, SourceError, SourceReader, SourceUnavailable

CHANNELS = 2
LAYOUT = "stereo"
Samples = npt.NDArray[np.float32]

# Lossy decoders need some packets before the seek target to reproduce the steady state.
_LOSSY_PREROLL_S = 0.1
# How far short of its declared length a track may end before it counts as truncated
# (container durations of lossy files are approximate).
_LENGTH_SLACK_FRAMES = 4096
_LOSSLESS = frozenset({"flac", "alac", "wavpack", "ape", "tta", "mlp", "truehd"})
# The AAC encoder's priming, which is still in front of the audio when the container has no edit
# list to skip it (ADTS, or MP4 muxed without timestamps): its first packet starts at pts >= 0.
_AAC_PRIMING_FRAMES = 1024


class DecodeError(Exception):
    """A track cannot be decoded: not audio, corrupt, truncated, or its bytes are unavailable."""


class StreamInterrupted(DecodeError):
    """The track's bytes stopped arriving (the source raised SourceUnavailable). A new Decoder on the
    same source, seeked to the frames read so far, continues exactly where this one stopped; not before
    `retry_after_s` when the server asked for that."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _source_failure(name: str, error: SourceError) -> DecodeError:
    if isinstance(error, SourceUnavailable):
        return StreamInterrupted(f"{name}: {error}", error.retry_after_s)
    return DecodeError(f"{name}: {error}")


class Decoder:
    """The first audio stream of a `Source`, as stereo float32 chunks at `sample_rate`.

    `frames` is the exact original length at the file's own rate (the server's manifest); without
    it the length is what the container declares (MP4) or what the decoder's own trimming gives.
    """

    def __init__(self, source: Source, frames: int | None = None, name: str = "track") -> None:
        self._source = source
        self._name = name
        self._manifest_frames = frames
        self._container, self._stream = self._open()
        codec = self._stream.codec_context
        self.sample_rate: int = int(codec.sample_rate)
        if self.sample_rate <= 0:
            self.close()
            raise DecodeError(f"{name}: the audio stream declares no sample rate")
        self.codec_name: str = codec.name
        self._time_base = self._stream.time_base or Fraction(1, self.sample_rate)
        self._origin_pts: int | None = None
        self._first_packet_pts: int | None = None
        self._lead_frames = 0
        self.length_frames: int | None = frames
        self._position: int | None = 0
        self._drop_until = 0
        self._frames = self._decoded()
        self._pending: Samples | None = None
        self._prime()

    def read_all(self) -> Samples:
        """The rest of the track in one array, then the decoder is closed (for tools and tests)."""
        try:
            chunks = []
            while (chunk := self.read()) is not None:
                chunks.append(chunk)
            return np.concatenate(chunks) if chunks else np.zeros((0, CHANNELS), np.float32)
        finally:
            self.close()

    def read(self) -> Samples | None:
        """The next chunk (frames x 2), or None at the end of the track."""
        while True:
            if self._pending is not None:
                chunk, self._pending = self._pending, None
            else:
                try:
                    pts, chunk = next(self._frames)
                except StopIteration:
                    self._check_complete()
                    return None
                if self._position is None:
                    if pts is None or self._frame_of(pts) > self._drop_until:
                        # Landed past the target, or cannot tell where: decode through from the start.
                        self._restart()
                        continue
                    self._position = self._frame_of(pts)
            assert self._position is not None
            start = self._position
            self._position = end = start + len(chunk)
            if self.length_frames is not None:
                if start >= self.length_frames:
                    return None
                end = min(end, self.length_frames)
            low = max(start, self._drop_until)
            if end > low:
                return chunk[low - start:end - start]

    def _check_complete(self) -> None:
        expected = self._manifest_frames if self._manifest_frames is not None else self._declared_frames()
        decoded = self._position
        if expected is None or decoded is None:
            return
        if expected - decoded > max(_LENGTH_SLACK_FRAMES, expected // 100):
            raise DecodeError(f"{self._name}: the audio ends after {decoded} of {expected} frames; "
                              "the file is truncated")

    def seek(self, frame: int) -> None:
        """Continue from exactly `frame` (at the file's own rate)."""
        frame = max(0, frame if self.length_frames is None else min(frame, self.length_frames))
        preroll = 0 if self.codec_name in _LOSSLESS else round(_LOSSY_PREROLL_S * self.sample_rate)
        seek_frame = frame + self._lead_frames - preroll
        self._pending = None
        if seek_frame <= 0 or self._origin_pts is None:
            self._restart()
        else:
            target_pts = self._origin_pts + int(seek_frame / self.sample_rate / self._time_base)
            try:
                self._container.seek(target_pts, stream=self._stream, backward=True)
                self._frames = self._decoded()
                self._position = None
            except SourceError as error:
                raise _source_failure(self._name, error) from error
            except av.error.FFmpegError:
                # Some files cannot seek near their end (FLAC without a seek table): decode through.
                self._restart()
        self._drop_until = frame

    def close(self) -> None:
        self._container.close()

    def _open(self) -> tuple[av.container.InputContainer, av.AudioStream]:
        # With the length known, opening never reads the file's tail (seeks later may: they need its size).
        reader = SourceReader(self._source, hide_end=self._manifest_frames is not None)
        try:
            container = av.open(reader, mode="r")
            reader.hide_end = False
        except SourceError as error:
            raise _source_failure(self._name, error) from error
        except (av.error.FFmpegError, ValueError, EOFError) as error:
            raise DecodeError(f"{self._name}: not a readable audio file ({error})") from error
        if not container.streams.audio:
            container.close()
            raise DecodeError(f"{self._name}: the file holds no audio stream")
        return container, container.streams.audio[0]

    def _restart(self) -> None:
        self._container.close()
        self._container, self._stream = self._open()
        self._frames = self._decoded()
        self._position = -self._lead_frames

    def _prime(self) -> None:
        """Decode the first frame: proves the file decodes and fixes the timeline's origin."""
        try:
            pts, chunk = next(self._frames)
        except StopIteration as error:
            self.close()
            raise DecodeError(f"{self._name}: the audio stream holds no decodable audio") from error
        except DecodeError:
            self.close()
            raise
        self._origin_pts = pts
        if self.codec_name == "aac":
            if self._first_packet_pts is not None and self._first_packet_pts >= 0:
                self._lead_frames = _AAC_PRIMING_FRAMES
            declared = self._declared_frames()
            if self._manifest_frames is None and declared is not None:
                # The container's duration is the best length there is without a manifest.
                self.length_frames = max(0, declared - self._lead_frames)
        self._position = -self._lead_frames
        self._pending = chunk

    def _declared_frames(self) -> int | None:
        duration = self._stream.duration
        if duration is None or duration <= 0:
            return None
        return round(duration * self._time_base * self.sample_rate)

    def _frame_of(self, pts: int) -> int:
        origin = self._origin_pts or 0
        return round((pts - origin) * self._time_base * self.sample_rate) - self._lead_frames

    def _decoded(self) -> Iterator[tuple[int | None, Samples]]:
        # A mono source plays as the same samples on both channels: FFmpeg's mono-to-stereo mix would put it
        # at -3 dB on each (a centred pan), so a mono lossless track would not come out bit-exact.
        mono = self._stream.codec_context.channels == 1
        resampler: av.AudioResampler | None = None  # built on first need: its filter graph costs ms to set up
        try:
            for packet in self._container.demux(self._stream):
                if self._origin_pts is None and self._first_packet_pts is None:
                    self._first_packet_pts = packet.pts
                for frame in packet.decode():
                    pts = frame.pts
                    if _planar_float(frame, self.sample_rate, mono):
                        # What lossy decoders give: the resampler would only interleave it, the same samples.
                        yield pts, _stereo(np.asarray(frame.to_ndarray(), np.float32).T, mono)
                        continue
                    if resampler is None:
                        resampler = av.AudioResampler(format="flt", layout="mono" if mono else LAYOUT,
                                                      rate=self.sample_rate)
                    for converted in resampler.resample(frame):
                        samples = np.asarray(converted.to_ndarray(), np.float32)
                        yield pts, _stereo(samples.reshape(-1, 1 if mono else CHANNELS), mono)
                        pts = None
        except SourceError as error:
            raise _source_failure(self._name, error) from error
        except (av.error.FFmpegError, ValueError) as error:
            raise DecodeError(f"{self._name}: corrupt audio data ({error})") from error


def _planar_float(frame: av.AudioFrame, rate: int, mono: bool) -> bool:
    return (frame.format.name == "fltp" and frame.sample_rate == rate
            and frame.layout.nb_channels == (1 if mono else CHANNELS))


def _stereo(samples: Samples, mono: bool) -> Samples:
    """Frames x 2 float32 from frames x 1 (mono: the same samples on both channels) or frames x 2."""
    if mono:
        return np.repeat(samples.reshape(-1, 1), CHANNELS, axis=1)
    return np.ascontiguousarray(samples)

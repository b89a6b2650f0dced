"""Decode any audio file PyAV reads to float PCM, and encode it into Legato's delivery qualities.

Every output keeps the exact length: one resampler per output, flushed at the end, and the encoded
file is decoded once more to prove its sample count before anyone relies on it. Ogg Vorbis decodes
through libvorbis (soundfile), whose length is the final granule position: FFmpeg's is not always.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import av
import av.error
import numpy as np
import soundfile
from av.audio.stream import AudioStream

from server.exceptions import IngestError, TranscodeError

_FRAME_SAMPLES = 4096
_RESAMPLER_TAIL_FRAMES = 1024
_INTEGER_FORMATS_16 = {"u8", "u8p", "s16", "s16p"}
_INTEGER_FORMATS_32 = {"s32", "s32p"}


@dataclass(frozen=True)
class DecodedAudio:
    """A whole track as float32 PCM, shape (frames, channels), with 1 or 2 channels."""

    pcm: np.ndarray
    sample_rate: int
    source_bits: int  # 16 or 24: chooses the lossless output's sample width

    @property
    def frames(self) -> int:
        return int(self.pcm.shape[0])

    @property
    def channels(self) -> int:
        return int(self.pcm.shape[1])

    @property
    def layout(self) -> str:
        return "mono" if self.channels == 1 else "stereo"


@dataclass(frozen=True)
class Quality:
    """One delivery quality: codec, container and target bitrate (0 for lossless)."""

    name: str
    codec: str
    container: str
    mime: str
    bitrate: int
    sample_rate: int | None  # None keeps the source rate


@dataclass(frozen=True)
class EncodedFile:
    """An encoded output in memory; ``frames`` is its proven decoded length in samples per channel."""

    quality: Quality
    data: bytes
    sample_rate: int
    channels: int
    frames: int
    bitrate: int


_OPUS_RATE = 48000
QUALITIES: tuple[Quality, ...] = (
    Quality("lossless", "flac", "flac", "audio/flac", 0, None),
    Quality("high", "opus", "ogg", "audio/ogg; codecs=opus", 192_000, _OPUS_RATE),
    Quality("normal", "opus", "ogg", "audio/ogg; codecs=opus", 96_000, _OPUS_RATE),
    Quality("low", "opus", "ogg", "audio/ogg; codecs=opus", 24_000, _OPUS_RATE),
)
_ENCODERS = {"flac": "flac", "opus": "libopus"}
# Constrained VBR: each quality's bitrate is a bandwidth promise (low must stay <= 32 kbps even on noisy
# music), which libopus' unconstrained VBR overshoots by 50 % on dense passages.
_ENCODER_OPTIONS = {"flac": {}, "opus": {"vbr": "constrained"}}


def decode(path: Path) -> DecodedAudio:
    """Decode the first audio stream of ``path``; more than two channels are downmixed to stereo."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise IngestError(path, "no audio stream (is this an audio file?)")
            stream = container.streams.audio[0]
            if _is_vorbis(container, stream) and stream.codec_context.channels <= 2:
                return _decode_vorbis(path)
            layout = "mono" if stream.codec_context.channels == 1 else "stereo"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=stream.codec_context.sample_rate)
            blocks: list[np.ndarray] = []
            source_format = ""
            for frame in container.decode(stream):
                source_format = source_format or frame.format.name
                blocks.extend(f.to_ndarray() for f in resampler.resample(frame))
            blocks.extend(f.to_ndarray() for f in resampler.resample(None))
            sample_rate = stream.codec_context.sample_rate
            # More than two Vorbis channels take FFmpeg's downmix; libvorbis's length still trims its end padding.
            declared = vorbis_frames(path) if _is_vorbis(container, stream) else _declared_frames(container, stream)
    except av.error.FFmpegError as exc:
        raise IngestError(path, f"not a readable audio file ({exc.strerror or exc})") from exc
    if not blocks or sum(block.shape[1] for block in blocks) == 0:
        raise IngestError(path, "the audio stream holds no samples")
    pcm = np.ascontiguousarray(np.concatenate(blocks, axis=1).T[:declared], dtype=np.float32)
    bits = 24 if source_format in _INTEGER_FORMATS_32 else 16
    return DecodedAudio(pcm, sample_rate, bits)


def _is_vorbis(container: av.container.InputContainer, stream: AudioStream) -> bool:
    return "ogg" in container.format.name.split(",") and stream.codec_context.name == "vorbis"


def vorbis_frames(path: Path) -> int | None:
    """libvorbis's length of ``path`` when it is Ogg Vorbis (its final granule position less the start offset)."""
    try:
        info = soundfile.info(str(path))
    except soundfile.LibsndfileError:
        return None  # libsndfile cannot read it, so it is no Ogg Vorbis file
    return int(info.frames) if (info.format, info.subtype) == ("OGG", "VORBIS") else None


def _decode_vorbis(path: Path) -> DecodedAudio:
    """Ogg Vorbis, mono or stereo, decoded by libvorbis: exactly its final granule position's frames.

    FFmpeg drops the last packet's samples of some files and keeps the encoder's end padding on others.
    """
    try:
        pcm, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as exc:
        raise IngestError(path, f"not a readable Ogg Vorbis file ({exc})") from exc
    if pcm.shape[0] == 0:
        raise IngestError(path, "the audio stream holds no samples")
    return DecodedAudio(np.ascontiguousarray(pcm), int(sample_rate), 16)


def _declared_frames(container: av.container.InputContainer, stream: AudioStream) -> int | None:
    """The exact length an MP4/M4A declares: its AAC decodes with the encoder's end padding still on."""
    if "mp4" not in container.format.name or not stream.duration or stream.time_base is None:
        return None
    return round(stream.duration * stream.time_base * stream.codec_context.sample_rate)


def transcode(audio: DecodedAudio, source: Path) -> tuple[EncodedFile, ...]:
    """Encode ``audio`` into every quality in ``QUALITIES``; ``source`` only names the file in errors."""
    return tuple(encode(audio, quality, source) for quality in QUALITIES)


def encode(audio: DecodedAudio, quality: Quality, source: Path) -> EncodedFile:
    """Encode ``audio`` as ``quality`` in memory and check the result decodes to the samples fed in."""
    rate = quality.sample_rate or audio.sample_rate
    sample_format = _sample_format(quality, audio)
    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format=quality.container) as container:
            stream = cast(AudioStream, container.add_stream(
                _ENCODERS[quality.codec], rate=rate, layout=audio.layout, options=_ENCODER_OPTIONS[quality.codec]))
            stream.format = sample_format
            if quality.bitrate:
                stream.bit_rate = quality.bitrate
            resampler = av.AudioResampler(format=sample_format, layout=audio.layout, rate=rate)
            fed = 0
            for frame in _resampled(audio, resampler, rate):
                fed += frame.samples
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    except av.error.FFmpegError as exc:
        raise TranscodeError(source, f"encoding {quality.name} ({quality.codec}) failed: {exc}") from exc
    data = buffer.getvalue()
    decoded = decoded_frames(data)
    if decoded != fed:
        raise TranscodeError(
            source, f"{quality.name} output decodes to {decoded} samples but {fed} were encoded; refusing a "
                    "file whose length would break gapless playback")
    bitrate = quality.bitrate or round(len(data) * 8 * rate / max(fed, 1))
    return EncodedFile(quality, data, rate, audio.channels, fed, bitrate)


def decoded_frames(data: bytes) -> int:
    """Number of samples per channel that ``data`` (a whole encoded file) decodes to."""
    with av.open(io.BytesIO(data), "r") as container:
        return sum(frame.samples for frame in container.decode(container.streams.audio[0]))


def _sample_format(quality: Quality, audio: DecodedAudio) -> str:
    if quality.codec == "flac":
        return "s16" if audio.source_bits == 16 else "s32"
    return "flt"


def _resampled(audio: DecodedAudio, resampler: av.AudioResampler, rate: int) -> Iterator[av.AudioFrame]:
    """``audio`` at ``rate``: exactly its length in time, rounded to a whole frame.

    A rate change is fed a little silence past the end and cut at that length: FFmpeg's resampler holds back
    its filter's delay, so without it a clip of a few dozen frames would come out empty.
    """
    planar = np.ascontiguousarray(audio.pcm.T)
    if rate != audio.sample_rate:
        planar = np.concatenate([planar, np.zeros((planar.shape[0], _RESAMPLER_TAIL_FRAMES), planar.dtype)], axis=1)
    wanted = audio.frames if rate == audio.sample_rate else max(round(audio.frames * rate / audio.sample_rate), 1)
    given = 0
    for frame in _chunks(planar, audio, resampler):
        keep = min(frame.samples, wanted - given)
        if keep <= 0:
            return
        given += keep
        yield frame if keep == frame.samples else _head(frame, keep, audio.layout)


def _chunks(planar: np.ndarray, audio: DecodedAudio, resampler: av.AudioResampler) -> Iterator[av.AudioFrame]:
    for start in range(0, planar.shape[1], _FRAME_SAMPLES):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(planar[:, start:start + _FRAME_SAMPLES]), format="fltp", layout=audio.layout)
        frame.sample_rate = audio.sample_rate
        frame.pts = start
        yield from resampler.resample(frame)
    yield from resampler.resample(None)


def _head(frame: av.AudioFrame, frames: int, layout: str) -> av.AudioFrame:
    """The first ``frames`` of a resampled frame (packed or planar), at its rate."""
    # The frame holds float32, int16 or int32 samples (QUALITIES' sample formats); the stub cannot know which.
    samples: Any = frame.to_ndarray()
    head = samples[:, :frames] if frame.format.is_planar else samples[:, :frames * len(frame.layout.channels)]
    cut = av.AudioFrame.from_ndarray(np.ascontiguousarray(head), format=frame.format.name, layout=layout)
    cut.sample_rate = frame.sample_rate
    cut.pts = frame.pts
    return cut

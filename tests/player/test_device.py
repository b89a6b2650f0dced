"""The real device path: the engine plays through sounddevice (PortAudio -> ALSA -> a private
PulseAudio null sink) from its output process, and the sink's monitor captures what was played."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from player import DeviceSink, Engine, PlaybackError, QueueItem, list_output_devices
from tests.helpers.audio_fixtures import Album, Pulse, running_pulse
from tests.helpers.own_server import pids_running
from tests.helpers.render_harness import TIMEOUT_S, Recorder, as_float, assert_faded_in, ramp_frames

pytestmark = pytest.mark.device


def _captured_bytes(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _heard(frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """`frames` without the silent ones. On a loaded machine the sound server now and then plays a period of
    silence of its own, a late wake-up our ring never saw (`engine.underruns` stays 0; it shows before stream
    restarts existed as well): what is heard must still be every frame, in order and unaltered."""
    return frames[np.abs(frames).max(axis=1) > 0]


def _play_and_capture(pulse: Pulse, items: list[QueueItem], capture: Path, sink: DeviceSink,
                      while_playing: Callable[[Engine], None] = lambda _: None) -> tuple[
        npt.NDArray[np.float32], Engine]:
    recorder = Recorder()
    engine = Engine(sink, recorder)
    recorder.engine = engine
    parec = pulse.record(capture)
    try:
        assert _wait_for(lambda: _captured_bytes(capture) > 0), "parec captured nothing"
        engine.set_queue(items)
        engine.play()
        while_playing(engine)
        assert recorder.finished.wait(TIMEOUT_S), f"playback did not finish: {recorder.events}"
        engine.close()
        tail_bytes = _captured_bytes(capture) + int(0.5 * 44100) * 8
        assert _wait_for(lambda: _captured_bytes(capture) > tail_bytes), "parec stopped capturing"
    finally:
        parec.terminate()
        parec.wait(10)
    assert recorder.of_type(PlaybackError) == []
    captured = np.frombuffer(capture.read_bytes(), "<f4")
    return captured[:len(captured) // 2 * 2].reshape(-1, 2), engine


def _assert_faded_in_then_bit_exact(captured: npt.NDArray[np.float32], reference: npt.NDArray[np.float32]) -> None:
    heard, expected = _heard(captured), _heard(reference)
    assert len(heard), "nothing was captured"
    assert len(heard) == len(expected), "frames of the album are missing from the capture, or extra ones in it"
    assert np.abs(expected[0]).max() > 0.1  # without the fade, the first frame would be a step
    assert_faded_in(heard, expected, 44100)


@contextmanager
def _busy_python_thread() -> Iterator[None]:
    """A thread that holds the GIL as much as the interpreter lets it (pure-Python loop)."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(i * i for i in range(10_000))

    thread = threading.Thread(target=spin, name="gil-hog", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_gapless_flac_album_reaches_the_device_faded_in_then_bit_exact(
        pulse: Pulse, album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    captured, engine = _play_and_capture(pulse, tracks.items(), tmp_path / "capture.raw", DeviceSink("pulse"))
    _assert_faded_in_then_bit_exact(captured, as_float(tracks.signal))
    assert engine.underruns == 0
    assert engine.frames_played == len(tracks.signal)


def test_a_gil_busy_thread_in_the_app_causes_no_underrun(
        pulse: Pulse, album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    with _busy_python_thread():
        # A 0.2 s device buffer: the GIL no longer matters (the output has its own process), but on
        # a 2-core machine with one core spinning, a shorter one can still miss on plain CPU load.
        captured, engine = _play_and_capture(pulse, tracks.items(), tmp_path / "capture.raw",
                                           DeviceSink("pulse", latency=0.2))
    _assert_faded_in_then_bit_exact(captured, as_float(tracks.signal))
    assert engine.underruns == 0


def _scheduling_policies(pid: int) -> dict[int, int]:
    """Each thread of ``pid`` and its scheduling policy (the 41st field of its stat line; 0 normal, 1 SCHED_FIFO)."""
    policies = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        policies[int(task.name)] = int(fields[38])
    return policies


def _realtime_allowed() -> bool:
    def probe(allowed: list[bool]) -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except PermissionError:
            return
        allowed.append(True)

    allowed: list[bool] = []
    thread = threading.Thread(target=probe, args=(allowed,))  # a thread of its own: the policy dies with it
    thread.start()
    thread.join()
    return bool(allowed)


def test_the_stream_threads_run_real_time_and_the_rest_of_the_output_process_does_not(pulse: Pulse) -> None:
    if not _realtime_allowed():
        pytest.skip("this machine does not allow real-time scheduling (no CAP_SYS_NICE or RLIMIT_RTPRIO)")
    sink = DeviceSink("pulse")
    sink.prepare(44100)
    try:
        def children() -> list[int]:  # the output process, once it has exec'd (spawn may return before that)
            return [pid for pid in pids_running("--multiprocessing-fork")
                    if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid()]

        assert _wait_for(lambda: len(children()) == 1), children()
        output = children()[0]

        def stream_open_real_time() -> bool:  # the process's own loop back to normal once the stream started
            policies = _scheduling_policies(output)
            return list(policies.values()).count(os.SCHED_FIFO) >= 2 and policies[output] == os.SCHED_OTHER

        assert _wait_for(stream_open_real_time), (
            f"PortAudio's callback and PulseAudio's client threads not SCHED_FIFO: {_scheduling_policies(output)}")
    finally:
        sink.close()


def test_the_pulse_device_is_listed(pulse: Pulse) -> None:
    assert "pulse" in [device.name for device in list_output_devices()]


_PLAY_PROBE = """
import sys, threading
from player import DeviceSink, Engine, FileSource, QueueItem, QueueFinished
finished = threading.Event()
sink = DeviceSink("pulse")
sink.prepare(int(sys.argv[2]))  # as the app does at start-up, at the rate it expects to play
engine = Engine(sink, lambda event: isinstance(event, QueueFinished) and finished.set())
engine.set_queue([QueueItem("probe", lambda: FileSource(sys.argv[1]))])
engine.play()
assert finished.wait(30), "the track did not play to its end"
engine.close()
print("sounddevice" in sys.modules)
"""


def test_the_app_process_plays_through_the_device_without_loading_portaudio_itself(
        pulse: Pulse, album: Callable[..., Album]) -> None:
    """sounddevice's import initialises PortAudio (tens of ms of a cold start): with the stream prepared at the
    track's rate, only the output process needs it."""
    tracks = album("flac", seconds=1.0)
    played = subprocess.run([sys.executable, "-c", _PLAY_PROBE, str(tracks.paths[0]), str(tracks.rate)],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PULSE_SERVER=pulse.server), check=True)
    assert played.stdout.strip() == "False", played.stderr


def test_an_unknown_device_is_a_clear_error_not_a_hang(
        pulse: Pulse, album: Callable[..., Album]) -> None:
    recorder = Recorder()
    engine = Engine(DeviceSink("no such device"), recorder)
    engine.set_queue(album("flac").items())
    engine.play()
    assert _wait_for(lambda: bool(recorder.of_type(PlaybackError)) and engine.state == "stopped")
    engine.close()
    error = recorder.of_type(PlaybackError)[0]
    assert error.index == -1 and "no such device" in error.message  # type: ignore[attr-defined]


def test_a_device_that_disappears_stops_playback_with_an_error(
        pulse: Pulse, album: Callable[..., Album], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracks = album("flac", seconds=20.0)
    with running_pulse(tmp_path) as doomed:
        monkeypatch.setenv("PULSE_SERVER", doomed.server)
        recorder = Recorder()
        engine = Engine(DeviceSink("pulse"), recorder)
        engine.set_queue(tracks.items())
        engine.play()
        assert _wait_for(lambda: engine.frames_played > 44100)
        doomed.daemon.kill()
        assert _wait_for(lambda: engine.state == "stopped")
    engine.close()
    errors = recorder.of_type(PlaybackError)
    assert errors and errors[0].index == -1, recorder.events  # type: ignore[attr-defined]
    assert not recorder.finished.is_set()


def _wait_for(condition: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> bool:
    """Poll `condition` until true or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _stream_ids(pulse: Pulse) -> list[str]:
    """The ids of the streams playing into the PulseAudio server now (its sink inputs)."""
    listed = subprocess.run(["pactl", "list", "short", "sink-inputs"], env=pulse.env, capture_output=True,
                            text=True, check=True).stdout
    return [line.split()[0] for line in listed.splitlines() if line.strip()]


def test_the_stream_is_open_before_the_first_play_and_survives_pause_and_stop(
        pulse: Pulse, album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac", seconds=20.0)
    sink = DeviceSink("pulse")
    sink.prepare(tracks.rate)
    assert _wait_for(lambda: len(_stream_ids(pulse)) == 1), "no stream opened before the first play"
    recorder = Recorder()
    engine = Engine(sink, recorder)
    recorder.engine = engine
    capture = tmp_path / "capture.raw"
    parec = pulse.record(capture)
    try:
        engine.set_queue(tracks.items())
        engine.play()
        assert _wait_for(lambda: engine.frames_played > 4410)
        engine.pause()
        assert _wait_for(lambda: engine.state == "paused")
        assert len(_stream_ids(pulse)) == 1
        engine.resume()
        played = engine.frames_played
        assert _wait_for(lambda: engine.frames_played > played + 4410), "resume did not play on"
        engine.stop()
        assert _wait_for(lambda: engine.state == "stopped")
        # ALSA's pulse plugin makes a new PulseAudio stream on an underrun recovery: count them, not their ids.
        assert len(_stream_ids(pulse)) == 1, "stop closed the device stream"
        engine.play()
        played = engine.frames_played
        assert _wait_for(lambda: engine.frames_played > played + 4410), "a second play did not play"
        assert len(_stream_ids(pulse)) == 1
    finally:
        engine.close()
        parec.terminate()
        parec.wait(10)
    assert recorder.of_type(PlaybackError) == []
    captured = np.frombuffer(capture.read_bytes(), "<f4")
    assert np.any(captured), "nothing reached the device"


def _sounding_runs(frames: npt.NDArray[np.float32], quiet_frames: int) -> list[tuple[int, int]]:
    """(start, end) of the stretches of `frames` not silent for longer than `quiet_frames`."""
    loud = np.flatnonzero(np.abs(frames).max(axis=1) > 0)
    if not loud.size:
        return []
    breaks = np.flatnonzero(np.diff(loud) > quiet_frames)
    starts = np.concatenate(([loud[0]], loud[breaks + 1]))
    ends = np.concatenate((loud[breaks] + 1, [loud[-1] + 1]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def test_a_play_and_a_resume_on_an_idle_stream_restart_it_and_lose_no_frame(
        pulse: Pulse, album: Callable[..., Album], tmp_path: Path) -> None:
    """The device holds only silence when the play and the resume come: each restarts the stream so its audio is
    heard at once, not after a buffer of silence, and no frame is lost or repeated around either restart."""
    tracks = album("flac")
    reference = as_float(tracks.signal)
    sink = DeviceSink("pulse")
    sink.prepare(tracks.rate)
    time.sleep(0.5)  # the stream opens and plays far more silence than its buffer holds

    def pause_and_resume(engine: Engine) -> None:
        assert _wait_for(lambda: sink.restarts == 1), "the play did not restart the idle stream"
        assert _wait_for(lambda: engine.frames_played > tracks.rate)
        engine.pause()
        time.sleep(0.5)  # faded out, and the device has played out all it held
        engine.resume()
        assert _wait_for(lambda: sink.restarts == 2), "the resume did not restart the idle stream"

    captured, engine = _play_and_capture(pulse, tracks.items(), tmp_path / "capture.raw", sink, pause_and_resume)
    assert sink.restarts == 2
    # Before the pause and after the resume: 0.5 s apart, far more than a period the sound server may miss.
    (a_start, a_end), (b_start, b_end) = _sounding_runs(captured, quiet_frames=44100 // 10)
    before, after = _heard(captured[a_start:a_end]), _heard(captured[b_start:b_end])
    resumed_at = len(reference) - len(after)  # the album's end is heard as it is: the resume came from there
    ramp = ramp_frames(44100)
    assert_faded_in(before[:-ramp], reference[:len(before) - ramp], 44100)
    assert 0 <= resumed_at - len(before) <= 1, "frames were lost or repeated around the pause"  # one at gain 0
    assert_faded_in(after, reference[resumed_at:], 44100)
    late = engine.late_callbacks  # which kind, if any: the ring's shortfall or the device's late callback
    assert engine.underruns == 0, f"{engine.underruns - late} ring shortfalls, {late} late device callbacks"


def test_a_pulseaudio_restart_reopens_the_stream_and_playback_goes_on(
        pulse: Pulse, album: Callable[..., Album], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracks = album("flac", seconds=20.0)
    root = tmp_path / "restarted"
    with running_pulse(root) as first:
        monkeypatch.setenv("PULSE_SERVER", first.server)
        recorder = Recorder()
        sink = DeviceSink("pulse")
        engine = Engine(sink, recorder)
        engine.set_queue(tracks.items())
        engine.play()
        assert _wait_for(lambda: engine.frames_played > 44100)
        first.daemon.kill()
        first.daemon.wait(10)
    try:
        with running_pulse(root) as second:
            assert _wait_for(lambda: sink.reopened == 1), "the stream was not reopened on the new server"
            assert _wait_for(lambda: len(_stream_ids(second)) == 1)
            played = engine.frames_played
            assert _wait_for(lambda: engine.frames_played > played + 44100), "playback did not go on"
            assert engine.state == "playing"
    finally:
        engine.close()
    assert recorder.of_type(PlaybackError) == [], recorder.events

"""The engine in real time: JACK (dummy driver) and the wall clock, frames over real OSC."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from installation.analysis.taps import TAPS
from installation.config import ShowConfig
from installation.engine.live import LiveEngine, TapRing
from installation.osc.transport import FeatureReceiver
from conftest import sine


def test_tap_ring_hands_over_rows_in_order_and_counts_losses():
    ring = TapRing(capacity=4)
    for i in range(3):
        ring.writer_view()[:] = i
        ring.commit()
    assert [int(r[0]) for r in ring.take()] == [0, 1, 2]
    for i in range(3, 10):
        ring.writer_view()[:] = i
        ring.commit()
    assert [int(r[0]) for r in ring.take()] == [6, 7, 8, 9]
    assert ring.lost == 3 and ring.take() == []
    assert ring.rows.shape == (4, len(TAPS))


def _run_live(backend: str, path, duration: float):
    receiver = FeatureReceiver("127.0.0.1", 0)
    frames = []
    lock = threading.Lock()

    def collect(frame):
        with lock:
            frames.append(frame)

    engine = LiveEngine(ShowConfig(), backend, file=path,
                        targets=[("127.0.0.1", receiver.port)], on_frame=collect)
    try:
        engine.start()
        assert engine.finished.wait(timeout=duration + 10), "the file never finished"
        assert receiver.wait_frames(len(frames) - 5, timeout=5)
    finally:
        engine.stop()
        receiver.close()
    return engine, frames, receiver


@pytest.mark.jack
def test_a_running_jack_server_is_found_and_a_missing_one_quietly_is_not(jack_server):
    """Through the system's libjack, with no JACK tool (Debian 13 moved jack_wait out of
    jackd2): the dummy server answers; a server of another name does not, and asking for
    it prints nothing."""
    import os
    import subprocess
    import sys

    from installation.engine.server import choose_backend, jack_running

    assert jack_running() and choose_backend("auto") == "jack"
    probe = ("from installation.engine.server import jack_running; "
             "print(jack_running())")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "JACK_DEFAULT_SERVER": "her-nobody"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False" and res.stderr == ""


@pytest.mark.jack
def test_jack_dummy_real_time_file_to_osc(jack_server, wav):
    path = wav(sine(440, 1.5, 48000), 48000)
    engine, frames, receiver = _run_live("jack", path, 1.5)
    assert engine.sample_rate == 48000 and engine.block_size == 256
    blocks = [f.block for f in frames]
    assert blocks == list(range(len(blocks)))  # nothing lost, nothing reordered
    assert len(frames) >= 1.5 * 48000 / 256
    pitched = [f.pitch_hz for f in frames if 0.2 < f.time < 1.4]
    assert np.median(pitched) == pytest.approx(440, rel=0.01)
    assert receiver.counters.malformed == 0
    assert receiver.latest().block >= frames[-1].block - 5


def test_silent_backend_runs_on_the_wall_clock(wav):
    """Past the first fill of the file player's ring (1.4 s at 48 kHz): the clock thread's
    blocks refill it too, so the end of the file is the file, not the ring going round."""
    x = np.concatenate([sine(220, 1.5, 48000), sine(330, 1.5, 48000)])
    engine, frames, _ = _run_live("silent", wav(x, 48000), 3.0)
    assert frames[-1].time >= 3.0
    assert np.median([f.pitch_hz for f in frames if 0.2 < f.time < 1.4]) == pytest.approx(
        220, rel=0.01)
    assert np.median([f.pitch_hz for f in frames if 1.7 < f.time < 2.9]) == pytest.approx(
        330, rel=0.01)


def test_a_live_mp3_plays_and_a_stopped_rehearsal_stops_its_decoder(tmp_path):
    """An MP3 rehearsed live: ffmpeg decodes it on the prefetch thread while the clock
    thread plays it, and the engine hears both notes where they are. A rehearsal stopped
    early (20 s of file, stopped after one) stops the decoder, which was waiting eight
    pieces ahead, and its ffmpeg child."""
    import soundfile as sf

    x = np.concatenate([sine(220, 1.5, 48000), sine(330, 1.5, 48000)])
    path = tmp_path / "notes.mp3"
    sf.write(str(path), x, 48000, subtype="MPEG_LAYER_III")
    engine, frames, _ = _run_live("silent", path, 3.0)
    assert frames[-1].time >= 2.9
    assert np.median([f.pitch_hz for f in frames if 0.2 < f.time < 1.4]) == pytest.approx(
        220, rel=0.01)
    assert np.median([f.pitch_hz for f in frames if 1.7 < f.time < 2.8]) == pytest.approx(
        330, rel=0.01)

    long = tmp_path / "long.mp3"
    sf.write(str(long), np.tile(x, 7), 48000, subtype="MPEG_LAYER_III")
    engine = LiveEngine(ShowConfig(), "silent", file=long)
    try:
        engine.start()
        time.sleep(1.0)
    finally:
        engine.stop()
    assert not engine.source._pieces._thread.is_alive()


@pytest.mark.jack
def test_jack_live_frames_equal_the_offline_analysis(jack_server, wav):
    """The same file through JACK in real time and through the offline server gives the same
    frames, gap bands included (the TableFill hands the band meter each block once)."""
    from installation.engine.offline import analyse_file
    from test_gaps_engine import sequence

    y, _ = sequence([0.3, 0.15], sr=48000)
    # One sample more: a table this long, read at rate / length, steps a few parts in 10^8
    # off one sample and interpolates (0.001 off by the end). Both paths read through a
    # power-of-two ring (sources.StreamSource), which reads every sample as it is.
    y = np.append(y, 0.0)
    path = wav(y, 48000)
    _, live, _ = _run_live("jack", path, len(y) / 48000)
    offline = analyse_file(path)
    n = min(len(live), len(offline)) - 2
    assert n > 0.9 * len(offline) - 2
    got = np.array([f.values() for f in live[:n]])
    want = np.array([f.values() for f in offline[:n]])
    # The offline path takes logarithms of whole columns (numpy), the live one of each
    # value (math): numpy 2.4's log10 differs from libm's in the last bit for a fifth of
    # all inputs, so a level can differ by 1e-14 dB. Anything more is a real difference.
    np.testing.assert_allclose(np.nan_to_num(got, nan=-7.0), np.nan_to_num(want, nan=-7.0),
                               rtol=0.0, atol=1e-9)
    assert max(f.word_start for f in live) >= 0.5  # it heard the words

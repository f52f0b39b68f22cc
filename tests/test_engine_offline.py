"""The pyo analysis graph in offline mode, against known answers and the bundled piece."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from installation.engine.offline import analyse_file
from installation.engine.sources import SourceError
from conftest import BUNDLED, sine

BLOCK = 256 / 48000


def median(frames, attr, start=0.2, end=None):
    vals = [getattr(f, attr) for f in frames if f.time >= start and (end is None or f.time <= end)]
    return float(np.median(vals))


@pytest.mark.parametrize("sr", [48000, 44100, 16000])
def test_440_hz_sine_has_pitch_440(wav, sr):
    frames = analyse_file(wav(sine(440, 1.5, sr), sr))
    assert median(frames, "pitch_hz") == pytest.approx(440, rel=0.01)
    assert median(frames, "voicing") > 0.95


@pytest.mark.parametrize("freq", [98.0, 196.0, 660.0])
def test_other_pitches(wav, freq):
    frames = analyse_file(wav(sine(freq, 1.5, 48000, 0.3), 48000))
    assert median(frames, "pitch_hz") == pytest.approx(freq, rel=0.01)


def test_minus_6_dbfs_sine_reads_minus_6(wav):
    # AES17 convention: RMS re a full-scale sine, so peak 0.5 → -6.02 dBFS RMS and peak.
    frames = analyse_file(wav(sine(1000, 1.0, 48000, peak=10 ** (-6 / 20)), 48000))
    assert median(frames, "level_rms_db") == pytest.approx(-6.0, abs=0.5)
    assert median(frames, "level_peak_db") == pytest.approx(-6.0, abs=0.5)


def test_noise_is_unvoiced(wav):
    rng = np.random.default_rng(8316)
    frames = analyse_file(wav(0.2 * rng.standard_normal(48000), 48000))
    assert median(frames, "voicing") < 0.5
    assert median(frames, "pitch_hz") == 0.0


def test_clicks_are_onsets_at_their_times(wav):
    sr = 48000
    x = np.zeros(3 * sr)
    times = [0.3, 0.75, 1.2, 1.9, 2.5]
    for t in times:
        i = int(t * sr)
        x[i:i + 48] = 0.8 * np.hanning(48)
    frames = analyse_file(wav(x, sr))
    onsets = [f.time for f in frames if f.onset]
    assert len(onsets) == len(times), onsets
    for got, want in zip(onsets, times):
        # A frame's time is the end of its block; the click lies in that block or the one
        # before (the taps are read at the start of a block): ± 1 block around it.
        assert want - BLOCK <= got - BLOCK <= want + BLOCK, (got, want)


@pytest.mark.parametrize("freq, band", [(80.0, "band_low_db"), (1000.0, "band_mid_db"),
                                        (6000.0, "band_high_db")])
def test_band_of_a_tone_dominates(wav, freq, band):
    frames = analyse_file(wav(sine(freq, 1.0, 48000, 0.3), 48000))
    bands = {b: median(frames, b) for b in ("band_low_db", "band_mid_db", "band_high_db")}
    assert max(bands, key=bands.get) == band, bands
    others = [v for b, v in bands.items() if b != band]
    assert bands[band] > max(others) + 6


def test_centroid_follows_the_tone(wav):
    low = median(analyse_file(wav(sine(500, 1.0, 48000, 0.3), 48000, "a.wav")), "centroid_hz")
    high = median(analyse_file(wav(sine(4000, 1.0, 48000, 0.3), 48000, "b.wav")), "centroid_hz")
    assert low == pytest.approx(500, rel=0.15) and high == pytest.approx(4000, rel=0.15)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """Real synthetic speech from espeak-ng, then 1.5 s of digital silence."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (./setup.sh installs it)")
    d = tmp_path_factory.mktemp("speech")
    raw = d / "raw.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "the space between the words"], check=True)
    x, sr = sf.read(str(raw))
    # Speech ends where the 10 ms envelope last reaches -50 dB re its peak.
    env = np.sqrt(np.convolve(x ** 2, np.ones(sr // 100) / (sr // 100), mode="same"))
    loud = np.flatnonzero(env > np.max(env) * 10 ** (-50 / 20))
    x = x[: loud[-1]]
    end = len(x) / sr
    x = np.concatenate([np.zeros(sr // 2), x, np.zeros(int(1.5 * sr))])
    path = d / "speech_then_silence.wav"
    sf.write(str(path), x, sr)
    return path, 0.5 + end, len(x) / sr


def test_speech_then_silence_is_a_gap_that_starts_at_the_silence_and_grows(spoken):
    path, silence_start, duration = spoken
    frames = analyse_file(path)
    speaking = [f for f in frames if 0.8 < f.time < silence_start - 0.2]
    assert np.mean([f.voice for f in speaking]) > 0.8
    assert all(f.gap_s == 0.0 for f in speaking if f.voice)
    after = [f for f in frames if f.time > silence_start + 0.2]
    assert all(not f.voice for f in after)
    starts = [f.time - f.gap_s for f in after]
    assert np.ptp(starts) < 1e-6  # one gap, one start
    assert starts[0] == pytest.approx(silence_start, abs=0.030)
    assert after[-1].gap_s == pytest.approx(duration - silence_start, abs=0.03)
    assert all(b.gap_s > a.gap_s for a, b in zip(after, after[1:]))
    assert median(frames, "pitch_hz", 0.6, silence_start - 0.1) == pytest.approx(120, rel=0.5)


def test_bundled_piece_frames_match_its_length():
    info = sf.info(str(BUNDLED))
    frames = analyse_file(BUNDLED)
    assert len(frames) == math.ceil(info.duration * 48000 / 256)
    assert frames[0].time == pytest.approx(BLOCK)
    assert frames[-1].time == pytest.approx(info.duration, abs=BLOCK)
    times = np.array([f.time for f in frames])
    assert np.allclose(np.diff(times), BLOCK)
    assert [f.block for f in frames] == list(range(len(frames)))
    assert 60 <= info.duration <= 120


def test_seconds_limits_the_analysis():
    frames = analyse_file(BUNDLED, seconds=2.0)
    assert frames[-1].time == pytest.approx(2.0, abs=BLOCK)


def test_silence_reads_silence_after_a_stream_that_began_on_a_loud_sample(wav):
    """pyo's Average never takes its input's first sample back out of its sum: a file cut
    mid-note (or a line input booted while the music plays) read -28 dBFS in digital
    silence ever after, from a first sample of 0.9. The graph hears its first block as
    silence."""
    sr = 48000
    x = np.zeros(3 * sr)
    x[:sr] = np.random.default_rng(1).standard_normal(sr) * 0.3
    x[0] = 0.9
    last = analyse_file(wav(x, sr), sample_rate=sr)[-5]
    for name in ("level_rms_db", "band_low_db", "band_mid_db", "band_high_db"):
        assert getattr(last, name) == -120.0, name


def test_analysis_is_deterministic(wav):
    rng = np.random.default_rng(641)
    path = wav(0.1 * rng.standard_normal(24000) + sine(300, 0.5, 48000, 0.2), 48000)
    assert analyse_file(path) == analyse_file(path)


@pytest.mark.parametrize("sr", [48000, 16000, 8000])
def test_the_correlation_taps_read_whole_sample_lags(wav, sr):
    """The taps the pitch is refined from correlate the decimated signal with itself at the
    YIN lag L and one sample either side. On a 200 Hz sine (a whole period of L samples at
    the pitch rate: 12 kHz at 48 kHz, 8 kHz at 8) x(t)x(t - L) averages to x(t)^2 itself,
    and the two neighbours ripple about cos(2 pi 200 / rate) of it, their mean on it (the
    window is not a whole number of half periods). Half a sample off, the lag reads 0.3 %
    low; a sample off, 1.2 % at 8 kHz."""
    from installation.analysis.taps import TAP_INDEX
    from installation.engine.offline import analyse_taps

    rows, pitch_rate = analyse_taps(wav(sine(200.0, 1.0, sr, 0.5), sr), sample_rate=sr)
    steady = rows[len(rows) // 2:-2]  # the sine's second half, before its end
    lag = steady[:, TAP_INDEX["lag"]]
    assert np.all(lag == pitch_rate / 200.0)
    xx = steady[:, TAP_INDEX["xx"]]
    for name in ("xy", "dd"):
        np.testing.assert_allclose(steady[:, TAP_INDEX[name]] / xx, 1.0, atol=1e-4,
                                   err_msg=name)
    beside = (steady[:, TAP_INDEX["xy_lo"]] + steady[:, TAP_INDEX["xy_hi"]]) / (2 * xx)
    np.testing.assert_allclose(beside, math.cos(2 * math.pi * 200.0 / pitch_rate), atol=1e-4)


def test_taps_stay_finite_over_a_heap_that_held_nans(wav):
    """What a buffer's neighbour held must never reach a tap. pyo's interpolating Delay read
    one sample past its buffer (weighted 0, but a NaN there times 0 is NaN, and a running
    mean keeps a NaN for ever). Here every analysis starts on a heap whose freed blocks
    held NaNs: with the Delay, 9 of 10 analyses at 8 kHz had a tap NaN to the end, and this
    test failed in each of its runs. (How often depends on how glibc hands freed blocks
    back: with eight blocks of each size freed instead of two, it caught none.)"""
    import ctypes
    import ctypes.util

    from installation.engine.offline import analyse_taps

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
    except OSError:
        pytest.skip("no C library to allocate from")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]

    def fill_heap_with_nans() -> None:
        blocks = []
        for size in range(16, 4096, 4):
            for _ in range(2):
                block = libc.malloc(size)
                ctypes.memset(block, 0xFF, size)  # every float32 0xFFFFFFFF is a NaN
                blocks.append(block)
        for block in blocks:
            libc.free(block)

    rate = 8000
    voiced = sine(150.0, 1.0, rate, 0.3) + sine(210.0, 1.0, rate, 0.2)
    path = wav(voiced, rate)
    for _ in range(10):
        fill_heap_with_nans()
        rows, _ = analyse_taps(path, sample_rate=rate)
        assert np.isfinite(rows).all()


def test_one_process_analyses_more_files_than_pyo_keeps_servers(tmp_path):
    """pyo keeps at most 256 servers alive in a process; each analysis boots one and must
    free it (a callback that led back to the server kept every one alive: the 256th file
    analysed in one process failed). A fresh process, so that no other test's count it."""
    code = (
        "import sys; import numpy as np; import soundfile as sf\n"
        "from installation.engine.offline import analyse_taps\n"
        "path = sys.argv[1]\n"
        "sf.write(path, np.zeros(800, dtype=np.float32), 8000)\n"
        "for _ in range(300):\n"
        "    analyse_taps(path, sample_rate=8000)\n"
        "print('300 analysed')\n")
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "quiet.wav")],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYO_GUI_WX": "0"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert "300 analysed" in res.stdout


@pytest.mark.parametrize("name, content, message", [
    ("missing.wav", None, "no such audio file"),
    ("notes.txt", b"hello", "expected one of"),
    ("broken.wav", b"RIFF1234WAVEjunk", "cannot read audio"),
])
def test_bad_audio_files_are_named(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        analyse_file(path)


def test_seconds_decodes_only_a_prefix_and_gives_the_same_frames(wav):
    from installation.engine.sources import load_mono

    rng = np.random.default_rng(2013)
    x = 0.2 * rng.standard_normal(16000 * 4) + sine(220, 4.0, 16000, 0.3)
    path = wav(x, 16000)  # resampled to 48 kHz: the cut must not change what is analysed
    whole = load_mono(path, 48000)
    part = load_mono(path, 48000, seconds=1.5)
    assert len(part) == pytest.approx(1.6 * 48000, abs=48)
    # identical except near the cut, where the resampler sees the end of the data
    assert np.array_equal(part[: int(1.55 * 48000)], whole[: int(1.55 * 48000)])
    short = analyse_file(path, seconds=1.5)
    assert short == analyse_file(path)[: len(short)]


def test_nan_and_infinite_samples_are_read_as_silence_and_counted(wav, caplog):
    # A float file can hold NaN or inf; left in, one would stay in pyo's filters and
    # running sums for the rest of the file (level, pitch and onsets gone for good).
    sr = 48000
    x = sine(440, 2.0, sr, 0.5)
    x[int(0.8 * sr)] = np.nan
    x[int(0.9 * sr)] = np.inf
    x[int(0.9 * sr) + 7] = -np.inf
    with caplog.at_level("WARNING", logger="installation.engine.sources"):
        frames = analyse_file(wav(x, sr))
    assert "3 samples are not finite (NaN or infinite), read as silence" in caplog.text
    assert "signal.wav" in caplog.text
    values = [[getattr(f, name) for name in ("level_rms_db", "pitch_hz", "voicing",
                                             "gap_depth")] for f in frames]
    assert np.isfinite(values).all()
    # after the bad samples the tone reads as it did before them
    assert median(frames, "level_rms_db", 1.2) == pytest.approx(
        median(frames, "level_rms_db", 0.2, 0.7), abs=0.2)
    assert median(frames, "pitch_hz", 1.2) == pytest.approx(440, rel=0.01)


def test_an_mp3_is_read_like_its_wav(tmp_path):
    """libsndfile (in soundfile's wheel) decodes MP3: an artist's rehearsal recording need
    not be converted. The decoder's delay is compensated: the gaps land where the WAV's do."""
    from conftest import REPO
    from installation.analysis.gaps import gaps_from_frames

    wav = REPO / "tests" / "data" / "eval_subset" / "ktuberling_seq11.wav"
    y, sr = sf.read(str(wav))
    mp3 = tmp_path / "words.mp3"
    sf.write(str(mp3), y, sr, compression_level=0.0)
    assert sf.info(str(mp3)).format == "MP3"
    ref = gaps_from_frames(analyse_file(wav))
    got = gaps_from_frames(analyse_file(mp3))
    assert len(got) == len(ref) == 5
    for a, b in zip(got, ref):
        assert a["start"] == pytest.approx(b["start"], abs=0.015)
        assert a["end"] == pytest.approx(b["end"], abs=0.015)


def _guarded_frames(x: np.ndarray, sr: int = 48000, block: int = 256):
    """``x`` played through a live input's guard into the analysis graph on pyo's offline
    server (as the live engine runs it, the audio callback polling the guard): the frames,
    the guarded samples and the guard."""
    import tempfile

    import pyo

    from installation.analysis.frames import FrameBuilder
    from installation.analysis.taps import TAPS
    from installation.engine.graph import AnalysisGraph
    from installation.engine.server import boot_server, shut_down
    from installation.engine.sources import InputGuard

    n_blocks = len(x) // block
    rows = np.zeros((n_blocks, len(TAPS)))
    server = boot_server("offline", sample_rate=sr, block_size=block)
    fd, scratch = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    try:
        table = pyo.DataTable(size=len(x))
        np.asarray(table.getBuffer())[:] = x
        raw = pyo.TableRead(table, freq=table.getRate(), interp=1).play()
        guard = InputGuard(raw)
        graph = AnalysisGraph(server, guard.signal, sr)
        out = pyo.DataTable(size=len(x))
        keep = pyo.TableFill(guard.signal, out)
        count = 0

        def on_block():
            nonlocal count
            if 0 < count <= n_blocks:
                graph.read(rows[count - 1])
            guard.poll()
            count += 1

        server.setCallback(on_block)
        server.recordOptions(dur=(n_blocks + 1) * block / sr, filename=scratch)
        server.start()
        guarded = np.array(out.getBuffer(), dtype=np.float64)
        pitch_rate = graph.pitch_rate
        graph.stop()
        keep.stop()
    finally:
        shut_down(server)
        os.unlink(scratch)
    return FrameBuilder(sr, block, pitch_rate).push_many(rows), guarded, guard


def test_a_live_inputs_nan_and_infinite_samples_are_read_as_silence_and_counted():
    """A JACK client upstream can send NaN or inf (a sound card cannot): the live input's
    guard reads them as 0 before any pyo filter sees them, and counts the blocks."""
    sr = 48000
    x = sine(440, 2.0, sr, 0.5).astype(np.float32)
    bad = [int(0.8 * sr), int(0.8 * sr) + 3, int(0.9 * sr), int(1.1 * sr)]
    x[bad] = np.nan, np.inf, -np.inf, 3e4  # three blocks
    frames, guarded, guard = _guarded_frames(x, sr)
    want = np.where(np.isin(np.arange(len(x)), bad), 0.0, x)
    start = 4 * 256  # (the table fill begins a few blocks in)
    assert np.array_equal(guarded[start:], want[start:])
    assert guard.bad_blocks == 3
    values = [[getattr(f, name) for name in ("level_rms_db", "pitch_hz", "voicing",
                                             "gap_depth", "centroid_hz")] for f in frames]
    assert np.isfinite(values).all()
    # after the bad samples the tone reads as it did before them
    assert median(frames, "level_rms_db", 1.3) == pytest.approx(
        median(frames, "level_rms_db", 0.2, 0.7), abs=0.2)
    assert median(frames, "pitch_hz", 1.3) == pytest.approx(440, rel=0.01)

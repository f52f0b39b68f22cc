"""The gap detector through the real pyo graph: known pauses, levels, rates, music."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import soxr

from installation.analysis.gaps import gaps_from_frames
from installation.engine.offline import analyse_file
from conftest import REPO

SUBSET = REPO / "tests" / "data" / "eval_subset"
WORDS_FILE = SUBSET / "ktuberling_seq11.wav"  # real isolated words, exact labels


def _words(sr: int = 16000) -> list[np.ndarray]:
    x, rate = sf.read(str(WORDS_FILE), dtype="float64")
    labels = json.loads(WORDS_FILE.with_suffix(".json").read_text())
    words = [x[int(w["start"] * rate): int(w["end"] * rate)] for w in labels["words"]]
    if sr != rate:
        words = [soxr.resample(w, rate, sr) for w in words]
    return words


def sequence(pauses_s: list[float], *, sr: int = 16000, level_db: float = 0.0,
             lead_s: float = 0.5) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Words of WORDS_FILE separated by ``pauses_s`` (digital silence); returns the signal
    and the true pauses (start, end) in s. ``level_db`` scales the whole file."""
    words = _words(sr)
    parts = [np.zeros(int(lead_s * sr))]
    t = lead_s
    truth = []
    for i, pause in enumerate(pauses_s):
        w = words[i % len(words)]
        parts.append(w)
        t += len(w) / sr
        parts.append(np.zeros(int(round(pause * sr))))
        truth.append((t, t + round(pause * sr) / sr))
        t = truth[-1][1]
    parts.append(words[len(pauses_s) % len(words)])
    parts.append(np.zeros(int(0.5 * sr)))
    return np.concatenate(parts) * 10 ** (level_db / 20), truth


def detect(wav_path, sample_rate: int = 48000):
    frames = analyse_file(wav_path, sample_rate=sample_rate)
    return frames, gaps_from_frames(frames)


def _check(gaps, truth, tol_s=0.04):
    assert len(gaps) == len(truth), (gaps, truth)
    for g, (s, e) in zip(gaps, truth):
        assert g["start"] == pytest.approx(s, abs=tol_s)
        assert g["end"] == pytest.approx(e, abs=tol_s)


def test_known_pauses_are_found_where_they_are(wav):
    pauses = [0.15, 0.4, 0.25, 1.0, 0.12, 0.6]
    x, truth = sequence(pauses)
    frames, gaps = detect(wav(x, 16000))
    _check(gaps, truth)
    for g in gaps:  # emitted live, shortly after the true start
        assert 0.0 < g["emitted_at"] - g["start"] < 0.12


@pytest.mark.parametrize("pause_s, is_gap", [(0.06, False), (0.15, True)])
def test_short_pause_is_not_a_gap(wav, pause_s, is_gap):
    x, truth = sequence([0.4, pause_s, 0.4])
    _, gaps = detect(wav(x, 16000))
    middle = [g for g in gaps if abs(g["start"] - truth[1][0]) < 0.1]
    assert bool(middle) is is_gap, gaps
    assert len(gaps) == 2 + int(is_gap)


@pytest.mark.parametrize("level", ["rms-45", "rms-30", "rms-18", "peak0"])
def test_level_sweep_gives_the_same_gaps(wav, level):
    pauses = [0.3, 0.15, 0.5]
    x, truth = sequence(pauses, level_db=0.0)
    if level == "peak0":
        x = x / np.max(np.abs(x)) * 0.999
    else:  # the words' RMS (AES17 dBFS: +3 dB over the raw mean square)
        active = x[np.abs(x) > 1e-4]
        rms_db = 10 * np.log10(np.mean(active ** 2)) + 3.01
        x = x * 10 ** ((float(level[3:]) - rms_db) / 20)
    _, gaps = detect(wav(x, 16000))
    _check(gaps, truth)


@pytest.mark.parametrize("file_sr", [8000, 16000, 44100, 48000])
def test_file_rate_sweep_gives_the_same_gaps(wav, file_sr):
    x, truth = sequence([0.3, 0.15, 0.5], sr=file_sr)
    _, gaps = detect(wav(x, file_sr))
    _check(gaps, truth)


@pytest.mark.parametrize("engine_sr", [8000, 16000, 22050, 32000, 44100, 48000, 96000,
                                       192000])
def test_engine_rate_sweep_gives_the_same_gaps(wav, engine_sr):
    x, truth = sequence([0.3, 0.15, 0.5])
    _, gaps = detect(wav(x, 16000), sample_rate=engine_sr)
    # a boundary is known to a block: 32 ms at 8 kHz
    _check(gaps, truth, tol_s=0.04 + 256 / engine_sr)


@pytest.mark.parametrize("engine_sr, block", [(16000, 64), (16000, 128), (8000, 64),
                                              (48000, 64), (48000, 1024)])
def test_block_size_sweep_gives_the_same_gaps(wav, engine_sr, block):
    """The models were fitted at 256-sample blocks; other block sizes (64-2048 are
    allowed) must hear the same gaps. At 16 kHz with 64-sample blocks, spectral flux over
    one 4 ms block once read as no voice at all (1 s errors)."""
    x, truth = sequence([0.3, 0.15, 0.5])
    frames = analyse_file(wav(x, 16000), sample_rate=engine_sr, block_size=block)
    _check(gaps_from_frames(frames), truth, tol_s=0.04 + block / engine_sr)


@pytest.mark.parametrize("engine_sr, block", [(48000, 256), (48000, 1024), (16000, 256),
                                              (8000, 256), (96000, 256), (192000, 256)])
def test_boundaries_are_not_a_block_early(wav, engine_sr, block):
    """Gap starts and ends land on the true pauses, not a block before them, at every rate
    and block size: the median signed error of six pauses' starts and of their ends is
    within 15 ms (once, with the lag counting a whole block, 24 ms early at 48 kHz with
    1024-sample blocks and 30 ms at 8 kHz)."""
    x, truth = sequence([0.3, 0.15, 0.5, 0.25, 0.4, 0.2])
    frames = analyse_file(wav(x, 16000), sample_rate=engine_sr, block_size=block)
    gaps = gaps_from_frames(frames)
    assert len(gaps) == len(truth), (gaps, truth)
    starts = [g["start"] - s for g, (s, _) in zip(gaps, truth)]
    ends = [g["end"] - e for g, (_, e) in zip(gaps, truth)]
    assert abs(np.median(starts)) < 0.015, starts
    assert abs(np.median(ends)) < 0.015, ends


def _chord(seconds: float, sr: int, freqs=(196.0, 246.9, 293.7, 392.0), decay_s=3.0):
    t = np.arange(int(seconds * sr)) / sr
    x = np.zeros_like(t)
    for f in freqs:
        for k in range(1, 8):  # a string's partials, the upper ones fading faster
            if f * k < sr / 2:
                x += np.sin(2 * np.pi * f * k * t) * np.exp(-t * k / decay_s) / k
    return 0.2 * x / np.max(np.abs(x))


@pytest.mark.parametrize("decay_s", [2.0, 1e9])
def test_sustained_chord_is_not_speech(wav, decay_s):
    sr = 48000
    x = np.concatenate([np.zeros(sr // 2), _chord(3.0, sr, decay_s=decay_s), np.zeros(sr // 2)])
    frames, gaps = detect(wav(x, sr))
    assert not gaps
    assert sum(f.word_start for f in frames) == 0


def test_event_order_and_gap_depth(wav):
    x, truth = sequence([0.3, 0.15, 0.5, 0.2])
    frames, gaps = detect(wav(x, 16000))
    events = []
    for f in frames:
        # Within one block a gap ends as the next word is confirmed, and a word's end is
        # confirmed with the gap's start: that is the order they happen in.
        for name in ("gap_end", "word_start", "word_end", "gap_start"):
            if getattr(f, name):
                events.append((name, f))
    names = [n for n, _ in events]
    # word start < word end <= gap start < gap end, repeating; the last word has no gap.
    pattern = ["word_start", "word_end", "gap_start", "gap_end"]
    assert names[:4 * len(truth)] == pattern * len(truth), names
    # Live, the silence after the last word also starts a gap (no word ends it).
    assert sum(f.gap_start for f in frames) == len(truth) + 1
    assert sum(f.gap_end for f in frames) == len(truth)
    for (_, ws), (_, we), (_, gs), (_, ge) in zip(*[iter(events[:4 * len(truth)])] * 4):
        assert ws.time < we.time <= gs.time < ge.time
        assert we.word_duration > 0 and gs.gap_start_time <= gs.gap_emit_time
        assert ge.gap_start_time == gs.gap_start_time and ge.gap_duration > 0.1

    # gap_depth moves within one block of the voice stopping (taps lag ~half a window).
    block = 256 / 48000
    for s, _ in truth:
        before = [f for f in frames if s - 0.15 < f.time < s - 0.03]
        after = [f for f in frames if s + 0.011 + block < f.time <= s + 0.011 + 2 * block]
        base = max(f.gap_depth for f in before)
        assert after and after[0].gap_depth > base + 0.1, (s, base, after[0].gap_depth)
    # Back-dated start is before emission; gap_s (elapsed) counts from the start.
    for f in frames:
        if f.gap_start:
            assert f.gap_start_time < f.gap_emit_time == pytest.approx(f.time)
            assert f.gap_s == pytest.approx(f.time - f.gap_start_time, abs=0.02)
        if f.voice:
            assert f.gap_s == 0.0


def test_expected_gap_follows_the_speakers_rhythm(wav):
    x, truth = sequence([0.5] * 6 + [0.5])
    frames, _ = detect(wav(x, 16000))
    expected = [f.gap_expected for f in frames if f.gap_start]
    assert expected[0] == pytest.approx(0.4, rel=0.01)  # no history yet: the default
    assert expected[-1] == pytest.approx(0.5, abs=0.06)
    rate = [f.speech_rate for f in frames][-1]
    assert 20 < rate < 200


def test_expected_gap_grows_through_a_long_pause(wav):
    # after pauses of 0.3 s, one of 2.5 s: the guess starts near the speaker's 0.3 s and
    # grows with the time elapsed, always ahead of it
    x, truth = sequence([0.3] * 4 + [2.5])
    frames, gaps = detect(wav(x, 16000))
    assert len(gaps) == 5
    start, end = gaps[-1]["start"], gaps[-1]["end"]
    inside = [f for f in frames if start + 0.1 < f.time < end and f.gap_s > 0.0]
    elapsed = np.array([f.gap_s for f in inside])
    expected = np.array([f.gap_expected for f in inside])
    assert expected[0] == pytest.approx(0.33, abs=0.06)
    assert np.all(expected > elapsed) and np.all(np.diff(expected) >= 0.0)
    assert expected[-1] > 2.0


@pytest.mark.parametrize("rate,factor", [(48000, 4), (44100, 4), (96000, 8), (32000, 2),
                                         (22050, 1), (16000, 1), (8000, 1)])
def test_gap_band_decimation_rule(rate, factor):
    from installation.analysis.taps import gap_band_decimation
    assert gap_band_decimation(rate) == factor


@pytest.mark.parametrize("rate", [48000, 44100, 16000])
def test_each_gap_band_hears_its_own_octave(tmp_path, rate):
    """A tone in each band, through the real graph (decimated at 44.1 and 48 kHz): the band
    it belongs to reads the most of the five, by at least 4 dB (2nd-order octave filters:
    their neighbours are only ~5 dB down at the centre)."""
    from installation.analysis.taps import TAP_INDEX
    from installation.engine.offline import analyse_taps

    bands = ["b250_ms", "b500_ms", "b1k_ms", "b2k_ms", "air_ms"]
    tones = {"b250_ms": 350.0, "b500_ms": 700.0, "b1k_ms": 1400.0, "b2k_ms": 2800.0,
             "air_ms": 5000.0 if rate > 16000 else 6000.0}
    t = np.arange(int(0.6 * rate)) / rate
    for band, freq in tones.items():
        path = tmp_path / f"tone{int(freq)}.wav"
        sf.write(str(path), 0.3 * np.sin(2 * np.pi * freq * t), rate)
        rows, _ = analyse_taps(path, sample_rate=rate)
        levels = {b: 10 * np.log10(np.median(rows[20:-5, TAP_INDEX[b]]) + 1e-30)
                  for b in bands}
        loudest = max(levels, key=levels.get)
        others = max(v for b, v in levels.items() if b != band)
        assert loudest == band, (freq, levels)
        assert levels[band] - others >= 4.0, (freq, levels)


def test_graph_bands_are_the_meter_over_the_file(tmp_path):
    """The graph's band taps are the BandMeter run over the file's samples, block for block
    (the TableFill hands the meter each computed block once, in order)."""
    from installation.analysis.bands import FIRST_TAP, SHORT_BANDS, BandMeter
    from installation.analysis.taps import TAPS
    from installation.engine.offline import analyse_taps
    from installation.engine.sources import load_mono

    rate, block = 48000, 256
    path = tmp_path / "words.wav"
    y, _ = sequence([0.3, 0.15], sr=rate)
    sf.write(str(path), y, rate)
    rows, _ = analyse_taps(path, sample_rate=rate, block_size=block)
    samples = load_mono(path, rate).astype(np.float32)
    meter = BandMeter(rate, block)
    want = np.zeros((len(rows), len(TAPS)))
    for r in range(len(rows)):
        chunk = samples[r * block:(r + 1) * block]
        meter.measure(np.pad(chunk, (0, block - len(chunk))), block, want[r])
    cols = slice(FIRST_TAP, FIRST_TAP + len(SHORT_BANDS))
    assert rows[:, cols].any()
    np.testing.assert_allclose(rows[:, cols], want[:, cols], rtol=1e-9, atol=1e-18)


def test_band_filters_are_pyos_butterworths(tmp_path):
    """The meter's coefficients are pyo's own ButBP and ButHP: the same filters in pyo,
    on the same noise, give the same output (to pyo's float32)."""
    import math

    import pyo
    from scipy.signal import lfilter

    from installation.analysis.bands import AIR_HZ, OCTAVES_HZ, band_coefficients
    from installation.engine.server import boot_server, shut_down

    rate, n = 12000, 4096
    server = boot_server("offline", sample_rate=rate, block_size=256)
    try:
        x = (np.random.default_rng(5).standard_normal(n) * 0.2).astype(np.float32)
        source_table = pyo.DataTable(size=n, init=x.tolist())
        source = pyo.TableRead(source_table, freq=source_table.getRate(), loop=0).play()
        filters = [pyo.ButBP(source, freq=lo * math.sqrt(2), q=math.sqrt(2))
                   for lo in OCTAVES_HZ] + [pyo.ButHP(source, freq=AIR_HZ)]
        tables = [pyo.DataTable(size=n) for _ in filters]
        fills = [pyo.TableFill(f, t) for f, t in zip(filters, tables)]
        server.recordOptions(dur=n / rate, filename=str(tmp_path / "out.wav"), fileformat=0,
                             sampletype=0)
        server.start()
        for coef, table in zip(band_coefficients(rate)[1:], tables):
            got = np.asarray(table.getBuffer(), dtype=np.float64)
            want = lfilter(coef[:3], [1.0, coef[3], coef[4]], x.astype(np.float64))
            np.testing.assert_allclose(got[:n - 256], want[:n - 256], rtol=0, atol=1e-5)
        del fills
    finally:
        shut_down(server)


@pytest.mark.parametrize("rate,block", [(48000, 256), (16000, 64), (8000, 256)])
def test_a_row_describes_its_block_through_its_end(tmp_path, rate, block):
    """Row r (frame time = the end of block r) already holds block r: a burst in the last
    samples of block 10 shows in row 10's level, onset and gap band taps, and nothing shows
    in row 9. The gap detector's timing (FrameBuilder.gap_lag_s, the training labels'
    times) rests on this: with a lag of a block its boundaries and labels sat a block early."""
    from installation.analysis.bands import FIRST_TAP, SHORT_BANDS
    from installation.analysis.taps import TAP_INDEX
    from installation.engine.offline import analyse_taps

    x = np.zeros(rate)
    end = 11 * block
    x[end - 8:end] = 0.9 * np.hanning(8)
    path = tmp_path / "burst.wav"
    sf.write(str(path), x, rate, subtype="FLOAT")
    rows, _ = analyse_taps(path, sample_rate=rate, block_size=block)
    cols = [TAP_INDEX["ms"], TAP_INDEX["env_fast"],
            *range(FIRST_TAP, FIRST_TAP + len(SHORT_BANDS) - (rate < 12000))]
    assert (rows[10, cols] > 1e-12).all(), rows[10, cols]
    assert not rows[:10, cols].any()

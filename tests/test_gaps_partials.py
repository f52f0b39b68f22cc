"""The gap detector's fine-resolution cues (analysis/partials.py): known answers on tones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from installation.analysis.partials import (FIRST_PARTIAL_TAP, FRAME_S, FRESH_DB, HIGH_HZ,
                                            LOW_HZ, MAX_AGE_S, PARTIAL_TAPS, RISE_DB,
                                            TRACK_DB_S, PartialMeter)
from installation.analysis.taps import TAPS
from installation.analysis.voicemodel import BASE_FEATURES, features_for, reads_partials

BLOCK = 256


def _cues(y: np.ndarray, rate: int) -> np.ndarray:
    """The four cues per block of ``y`` (engine rate ``rate``), fed as the graph feeds the
    meter: each block's samples at the bands' rate."""
    meter = PartialMeter(rate, BLOCK)
    step = int(round(rate / meter.rate))
    row = np.zeros(len(TAPS))
    out = np.zeros((len(y) // BLOCK, len(PARTIAL_TAPS)))
    for r in range(len(out)):
        meter.measure(np.ascontiguousarray(y[r * BLOCK:(r + 1) * BLOCK:step], dtype=np.float64),
                      row)
        out[r] = row[FIRST_PARTIAL_TAP:FIRST_PARTIAL_TAP + len(PARTIAL_TAPS)]
    return out


def _noise(n: int, db: float, seed: int = 8316) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n) * 10 ** (db / 20)


def _at(t: float, rate: int) -> int:
    """The block that ends at or after ``t`` s."""
    return int(math.ceil(t * rate / BLOCK))


def _reference(y: np.ndarray, rate: int) -> np.ndarray:
    """The cues as the module's docstring says them, plainly: numpy's FFT of the last
    frame every ``hop`` blocks (held in between), levels in dB, the median stepping in dB."""
    meter = PartialMeter(rate, BLOCK)
    step = int(round(rate / meter.rate))
    x = y[::step]
    per_block = BLOCK // step
    frame, fft = int(round(FRAME_S * meter.rate)), meter.fft
    bins = slice(int(math.ceil(LOW_HZ * fft / meter.rate)),
                 min(int(HIGH_HZ * fft / meter.rate) + 1, fft // 2))
    window = np.hanning(frame + 2)[1:-1]
    period = meter.hop * BLOCK / rate
    db_step = 0.5 * TRACK_DB_S * period
    out = np.zeros((len(y) // BLOCK, 4))
    back = last = age = None
    started = 0  # the block of the first spectrum
    cues = np.zeros(4)
    for r in range(len(out)):
        end = (r + 1) * per_block
        if end < frame:
            continue
        if back is not None and (r - started) % meter.hop:
            out[r] = cues  # held between spectra
            continue
        p = np.abs(np.fft.rfft(x[end - frame:end] * window, fft)[bins]) ** 2 + 1e-30
        level = 10 * np.log10(p)
        if back is None:
            back, last, age, started = level.copy(), level.copy(), np.zeros(len(p)), r
        fresh = level >= back + FRESH_DB
        age = np.where(fresh, age + period, 0.0)
        cues = np.zeros(4)
        if fresh.any():
            f = p[fresh].sum()
            cues = np.array([f / p.sum(), p[fresh & (level >= last + RISE_DB)].sum() / f,
                             (p * np.minimum(age, MAX_AGE_S))[fresh].sum() / f,
                             min(5.0, np.log10(f / (10 ** (back[fresh] / 10)).sum()))])
        out[r] = cues
        back = np.where(level > back, back + db_step, back - db_step)
        last = level
    return out


@pytest.mark.parametrize("rate", [8000, 16000, 22050])
def test_the_compiled_cues_are_the_plain_ones(rate):
    """The compiled meter (a half-size complex FFT, powers instead of dB) against the
    plain reference, on a voice-like glide over a held chord and a noise floor."""
    # a spectrum every ~16 ms, in whole blocks (every block at these rates), and every
    # third block at 48 kHz
    assert PartialMeter(rate, BLOCK).hop == 1 and PartialMeter(48000, BLOCK).hop == 3
    t = np.arange(int(rate * 3.0)) / rate
    y = _noise(len(t), -50.0)
    for f in (220.0, 277.0, 330.0):
        y += 0.05 * np.sin(2 * np.pi * f * t) * np.exp(-t)
    f0 = 180 + 80 * np.sin(2 * np.pi * 1.5 * t)
    y += 0.03 * np.sin(np.cumsum(2 * np.pi * f0 / rate)) * ((t > 1.0) & (t < 2.2))
    got, expected = _cues(y, rate), _reference(y, rate)
    assert np.abs(expected).sum() > 10  # it heard something
    assert np.allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("rate", [8000, 16000, 22050])
def test_a_tone_is_fresh_when_it_starts_and_background_when_it_holds(rate):
    hop = PartialMeter(rate, BLOCK).hop
    t = np.arange(int(rate * 6.0)) / rate
    y = _noise(len(t), -60.0) + 0.1 * np.sin(2 * np.pi * 440 * t) * (t >= 1.0)
    cues = _cues(y, rate)
    fresh, rising, age = cues[:, 0], cues[:, 1], cues[:, 2]
    assert fresh[_at(0.9, rate)] < 0.05  # the noise alone: its bins' own flutter
    onset = int(np.argmax(fresh > 0.5))
    # heard by a spectrum of the block that holds its start, or the next one taken
    first = int(1.0 * rate) // BLOCK
    assert first <= onset <= first + hop and fresh[onset] > 0.95 and rising[onset] > 0.95
    # held, it stays fresh as its background climbs, and its age grows with it
    assert age[_at(1.5, rate)] == pytest.approx(0.5, abs=0.05)
    assert rising[_at(1.5, rate)] < 0.05
    # after ~5 s the background has reached it: nothing new any more
    assert fresh[-1] < 0.05


def test_a_gliding_voice_stays_young_where_a_held_note_ages():
    rate = 16000
    t = np.arange(rate * 2) / rate
    floor = _noise(len(t), -60.0)
    held = floor + 0.1 * np.sin(2 * np.pi * 300 * t) * (t >= 0.5)
    f0 = 300 + 300 * (t - 0.5) * (t >= 0.5)  # an octave a second
    glide = floor + 0.1 * np.sin(np.cumsum(2 * np.pi * f0 / rate)) * (t >= 0.5)
    i = _at(1.2, rate)
    assert _cues(held, rate)[i, 2] > 0.6
    assert _cues(glide, rate)[i, 2] < 0.5 * _cues(held, rate)[i, 2]


def test_the_cues_do_not_depend_on_the_level():
    rate = 16000
    t = np.arange(rate * 2) / rate
    y = _noise(len(t), -50.0) + 0.1 * np.sin(2 * np.pi * 440 * t) * (t >= 0.5)
    loud, quiet = _cues(y, rate), _cues(y * 10 ** (-40 / 20), rate)
    assert np.allclose(loud, quiet, atol=1e-6)


def test_silence_and_bad_samples_read_no_cue():
    rate = 16000
    y = np.zeros(rate)
    y[rate // 2] = np.nan
    y[rate // 2 + 1] = np.inf
    cues = _cues(y, rate)
    assert np.all(np.isfinite(cues)) and not cues.any()


def test_only_the_models_under_32_khz_read_the_partial_cues():
    assert features_for(48000) == BASE_FEATURES and not reads_partials(44100)
    assert features_for(16000) == (*BASE_FEATURES, *PARTIAL_TAPS) and reads_partials(16000)
    assert features_for(8000) == features_for(16000) and reads_partials(8000)


@pytest.mark.parametrize("rate, measured", [(48000, False), (16000, True)])
def test_the_graph_measures_the_partials_where_its_model_reads_them(rate, measured, tmp_path):
    """On the live graph (pyo, offline): a tone's partial taps move at 16 kHz; at 48 kHz,
    where the hi model reads no such cue, no meter runs and they stay 0."""
    import soundfile as sf

    from installation.engine.offline import analyse_taps

    t = np.arange(48000 * 2) / 48000
    wav = tmp_path / "tone.wav"
    sf.write(str(wav), _noise(len(t), -60.0) + 0.1 * np.sin(2 * np.pi * 440 * t) * (t >= 1.0),
             48000)
    rows, _ = analyse_taps(wav, sample_rate=rate)
    fresh = rows[:, FIRST_PARTIAL_TAP]
    if measured:
        assert fresh.max() > 0.95
    else:
        assert not rows[:, FIRST_PARTIAL_TAP:FIRST_PARTIAL_TAP + len(PARTIAL_TAPS)].any()

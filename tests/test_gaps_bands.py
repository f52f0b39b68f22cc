"""The gap detector's band meter (analysis/bands.py): pure, block by block from a table."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import freqz, lfilter

from installation.analysis.bands import (AIR_HZ, FIRST_TAP, OCTAVES_HZ, SHORT_BANDS,
                                         BandMeter, band_coefficients)
from installation.analysis.taps import TAPS


def _meter_rows(y: np.ndarray, rate: int, block: int, table_size: int) -> np.ndarray:
    """Run a BandMeter over ``y`` the way the graph does: each block is written into a
    circular float32 table (as pyo's TableFill does), then measured. Returns the rows."""
    meter = BandMeter(rate, block)
    table = np.zeros(table_size, dtype=np.float32)
    pos = 0
    rows = np.zeros((len(y) // block, len(TAPS)))
    for r in range(len(rows)):
        for sample in y[r * block:(r + 1) * block]:
            table[pos] = sample
            pos = (pos + 1) % table_size
        meter.measure(table, pos, rows[r])
    return rows[:, FIRST_TAP:FIRST_TAP + 2 * len(SHORT_BANDS)]


def _reference(y: np.ndarray, rate: int, block: int) -> np.ndarray:
    """Each band's mean square over its window at every block end, then over the whole
    block, from the whole signal filtered in one go (scipy) with the meter's coefficients."""
    probe = BandMeter(rate, block)
    x = y.astype(np.float32).astype(np.float64)[::probe.factor]
    per_block = block // probe.factor
    n = len(SHORT_BANDS)
    out = np.zeros((len(y) // block, 2 * n))
    for b, (a0, a1, a2, b1, b2) in enumerate(band_coefficients(probe.rate)):
        squares = lfilter([a0, a1, a2], [1.0, b1, b2], x) ** 2
        for r in range(len(out)):
            end = (r + 1) * per_block
            out[r, b] = squares[max(0, end - probe.window):end].sum() / probe.window
            if end < probe.window // 2:
                out[r, b] = 0.0
            out[r, n + b] = squares[end - per_block:end].mean()
    return out


@pytest.mark.parametrize("rate,block,table_size", [
    (48000, 256, 512),    # decimated by 4, as the graph runs it
    (48000, 256, 640),    # a table that is no multiple of the block: blocks wrap inside it
    (16000, 256, 512),    # no decimation
    (8000, 256, 512),     # no air band
    (44100, 64, 128),     # decimated by 4, a small block
])
def test_meter_equals_the_filters_run_over_the_whole_signal(rate, block, table_size):
    rng = np.random.default_rng(7)
    # noise whose level jumps every 20 ms, with a 0.2 s silence: the windows move
    y = rng.standard_normal(rate) * np.repeat(rng.uniform(0.0, 0.5, 50), rate // 50 + 1)[:rate]
    y[rate // 2:rate // 2 + rate // 5] = 0.0
    got = _meter_rows(y, rate, block, table_size)
    want = _reference(y, rate, block)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    air = [len(SHORT_BANDS) - 1, 2 * len(SHORT_BANDS) - 1]  # its window and block levels
    if rate < 11025:
        assert not got[:, air].any()  # no air band below an 11 kHz band rate
    else:
        assert got[:, air].any(axis=0).all()


def test_filters_are_octave_butterworths():
    """Each band-pass passes its octave's geometric centre at 0 dB and its edges near
    -3 dB (a Butterworth octave; pyo's design warps the top octave's edges by up to 1 dB at
    a 12 kHz band rate), two octaves out at least 15 dB down; the air high-pass is -3 dB at
    4 kHz."""
    rate = 12000.0
    coef = band_coefficients(rate)
    assert tuple(coef[0]) == (1.0, 0.0, 0.0, 0.0, 0.0)  # the whole signal, unfiltered

    def gain_db(row, freq):
        _, h = freqz(row[:3], [1.0, row[3], row[4]], worN=[freq], fs=rate)
        return 20 * np.log10(abs(h[0]))

    for row, lo in zip(coef[1:5], OCTAVES_HZ):
        assert gain_db(row, lo * np.sqrt(2)) == pytest.approx(0.0, abs=0.01)
        assert gain_db(row, lo) == pytest.approx(-3.0, abs=1.0)
        assert gain_db(row, 2 * lo) == pytest.approx(-3.0, abs=1.0)
        assert gain_db(row, lo / 4) < -15.0
    assert gain_db(coef[5], AIR_HZ) == pytest.approx(-3.01, abs=0.01)
    assert gain_db(coef[5], 200.0) < -60.0


def test_silence_after_a_loud_passage_reads_zero_and_never_below():
    """The running window sums are summed afresh a few times a second: after loud noise,
    digital silence soon reads exactly 0 in the whole-signal band (a running sum kept for
    weeks keeps its rounding errors), and no band ever reads below zero."""
    rate, block = 48000, 256
    rng = np.random.default_rng(3)
    meter = BandMeter(rate, block)
    table = np.zeros(2 * block, dtype=np.float32)
    row = np.zeros(len(TAPS))
    pos = 0
    lowest = np.inf
    for i in range(3000):  # 16 s of loud noise, then 0.5 s of silence
        loud = i < 3000 - 94
        table[pos:pos + block] = rng.standard_normal(block) * 0.7 if loud else 0.0
        pos = (pos + block) % len(table)
        meter.measure(table, pos, row)
        lowest = min(lowest, row[FIRST_TAP:FIRST_TAP + 2 * len(SHORT_BANDS)].min())
    assert row[FIRST_TAP] == 0.0
    assert lowest >= 0.0
    assert row[FIRST_TAP:FIRST_TAP + 2 * len(SHORT_BANDS)].max() < 1e-30


def test_a_block_that_the_decimation_does_not_divide_is_refused():
    with pytest.raises(ValueError, match="multiple"):
        BandMeter(48000, 250)


def test_a_nan_or_inf_sample_is_read_as_silence_and_forgotten():
    """One bad sample from a faulty input must not poison the filters' memories (which
    would silence the bands for the rest of a show): it is read as 0."""
    rate, block = 48000, 256
    rng = np.random.default_rng(11)
    y = rng.standard_normal(rate // 2) * 0.3
    bad = y.copy()
    bad[5000], bad[9000], bad[9004] = np.nan, np.inf, -np.inf  # all three are decimated
    got = _meter_rows(bad, rate, block, 2 * block)
    clean = y.copy()
    clean[[5000, 9000, 9004]] = 0.0
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, _meter_rows(clean, rate, block, 2 * block), rtol=1e-12)

"""The gap detector's short band levels, measured from raw samples in compiled code.

Six mean squares over ~10 ms (:data:`~installation.analysis.taps.GAP_WINDOW_S`), written
into the tap row's ``fast_ms`` ... ``air_ms``: the whole signal, the octaves 250 Hz - 4 kHz
(2nd-order Butterworth band-passes) and the air above 4 kHz (a 2nd-order Butterworth
high-pass); and the same six over every sample of the block, into ``fast_blk`` ...
``air_blk`` (what the floor gate averages: contiguous, so a mains period's ripple averages
out at any block size). From 32 kHz up they run on the signal decimated by
:func:`~installation.analysis.taps.gap_band_decimation` (every 4th sample at 44.1 and 48 kHz,
no anti-alias filter: what sits above the new Nyquist folds into the bands, the same way in
training and in a show).

The filters are pyo's ``ButBP`` and ``ButHP`` (the same coefficient formulas) and each
level is the mean of the last window's squares at the block's last (decimated) sample,
where a pyo tap reads. The graph copies each block's raw samples into a table in
C (pyo's ``TableFill``) and hands the table to :meth:`BandMeter.measure` once per block: one
compiled call. The same DSP as pyo objects (a resampler, five filters, six squarers and six
running averages in a downsampling block) cost more per second of audio
(``bench/bench_gaps.py`` times the meter; docs/benchmarks.md has the figures).

Each level is a running sum of its window of squares, summed afresh a few times a second:
a running sum left for weeks piles up its rounding errors (pyo's ``Average`` also keeps the
stream's first sample in its sum for ever, and sums one sample fewer than its window).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from installation.analysis.taps import (BAND_MIN_RATE, TAP_INDEX, gap_band_decimation,
                                        gap_window_samples)

# The meter's bands in the order it writes them: consecutive taps, from fast_ms.
SHORT_BANDS = ("fast", "b250", "b500", "b1k", "b2k", "air")
FIRST_TAP = TAP_INDEX["fast_ms"]
assert [TAP_INDEX[f"{b}_ms"] for b in SHORT_BANDS] == list(
    range(FIRST_TAP, FIRST_TAP + len(SHORT_BANDS)))
# ... then their block means, right after them (the meter writes both)
assert [TAP_INDEX[f"{b}_blk"] for b in SHORT_BANDS] == list(
    range(FIRST_TAP + len(SHORT_BANDS), FIRST_TAP + 2 * len(SHORT_BANDS)))
N_METER_TAPS = 2 * len(SHORT_BANDS)
assert len(SHORT_BANDS) % 2 == 0  # the meter advances them two at a time
OCTAVES_HZ = (250.0, 500.0, 1000.0, 2000.0)  # the band-passes' lower edges
AIR_HZ = 4000.0


def butterworth_bandpass(lo: float, rate: float) -> tuple[float, ...]:
    """``(a0, a1, a2, b1, b2)`` of the octave ``lo``..``2 lo`` at ``rate`` (pyo's ``ButBP``
    with its centre at ``lo * sqrt(2)`` and ``q`` = centre / ``lo``, so a bandwidth of
    ``lo``); ``y = a0 x + a1 x1 + a2 x2 - b1 y1 - b2 y2``."""
    centre = lo * math.sqrt(2.0)
    c = 1.0 / math.tan(math.pi / rate * lo)
    d = 2.0 * math.cos(2.0 * math.pi / rate * centre)
    a0 = 1.0 / (1.0 + c)
    return a0, 0.0, -a0, -a0 * c * d, a0 * (c - 1.0)


def butterworth_highpass(freq: float, rate: float) -> tuple[float, ...]:
    """``(a0, a1, a2, b1, b2)`` of pyo's 2nd-order ``ButHP`` at ``freq``."""
    c = math.tan(math.pi / rate * freq)
    c2 = c * c
    a0 = 1.0 / (1.0 + math.sqrt(2.0) * c + c2)
    return a0, -2.0 * a0, a0, 2.0 * a0 * (c2 - 1.0), a0 * (1.0 - math.sqrt(2.0) * c + c2)


def band_coefficients(rate: float) -> np.ndarray:
    """One row of biquad coefficients per band at the bands' ``rate``: the whole signal
    passes unfiltered; below BAND_MIN_RATE there is no air band (all zeros: it reads 0)."""
    rows = [(1.0, 0.0, 0.0, 0.0, 0.0)]
    rows += [butterworth_bandpass(lo, rate) for lo in OCTAVES_HZ]
    rows.append(butterworth_highpass(AIR_HZ, rate) if rate >= BAND_MIN_RATE
                else (0.0, 0.0, 0.0, 0.0, 0.0))
    return np.array(rows, dtype=np.float64)


# The meter's one state array: a header, then per band its biquad coefficients
# (a0, a1, a2, b1, b2), its filter memories (x1, x2, y1, y2), the running sum of its window
# of squares, and that window (a ring, its head at seen % window); last, room for one
# block's decimated samples.
H_BLOCK, H_FACTOR, H_WINDOW, H_FIRST, H_SEEN, H_BANDS = range(6)
N_HEADER = 6
N_COEF = 5
N_MEM = 4
RESUM_WINDOWS = 32  # 0.34 s at 44.1-48 kHz
# A sample beyond this (or NaN) is read as 0: one NaN in a filter's memory would silence
# its band for the rest of the show.
SAMPLE_LIMIT = 1e3


@njit(cache=True, nogil=True, inline="always")
def _layout(n_bands: int, window: int) -> tuple[int, int, int, int, int]:
    """Where the coefficients, memories, running sums, windows and the block's samples of
    ``n_bands`` bands with ``window``-sample windows start."""
    coef = N_HEADER
    mem = coef + N_COEF * n_bands
    sums = mem + N_MEM * n_bands
    squares = sums + n_bands
    return coef, mem, sums, squares, squares + n_bands * window


@njit(cache=True, nogil=True, inline="always")
def _two_bands(st, xs, n, b, coef, mem, sums, squares, window, head0, block_out):
    """Advance bands ``b`` and ``b + 1`` over the ``n`` samples in ``st[xs:xs + n]``: their
    windows' running sums go back into ``st``, their block sums into ``block_out``.

    Two bands per pass: the two recursions are independent, so the processor overlaps
    them (one band's chain is one multiply and one subtraction a sample, and waits on
    itself). Three per pass measured no faster, all six slower (the values no longer fit
    the registers). Each band's arithmetic is the same, in the same order, as alone."""
    c = coef + N_COEF * b
    pa0, pa1, pa2, pb1, pb2 = st[c], st[c + 1], st[c + 2], st[c + 3], st[c + 4]
    qa0, qa1, qa2, qb1, qb2 = st[c + 5], st[c + 6], st[c + 7], st[c + 8], st[c + 9]
    m = mem + N_MEM * b
    px1, px2, py1, py2 = st[m], st[m + 1], st[m + 2], st[m + 3]
    qx1, qx2, qy1, qy2 = st[m + 4], st[m + 5], st[m + 6], st[m + 7]
    p_ring = squares + window * b
    q_ring = p_ring + window
    p_total, q_total = st[sums + b], st[sums + b + 1]
    p_block = q_block = 0.0
    head = head0
    for i in range(n):
        x = st[xs + i]
        # y1's term last: the recursion's chain is one multiply and one subtraction
        # (the same sum as pyo's, in an order that runs about twice as fast)
        py = (pa0 * x + pa1 * px1 + pa2 * px2 - pb2 * py2) - pb1 * py1
        qy = (qa0 * x + qa1 * qx1 + qa2 * qx2 - qb2 * qy2) - qb1 * qy1
        px2 = px1
        px1 = x
        py2 = py1
        py1 = py
        qx2 = qx1
        qx1 = x
        qy2 = qy1
        qy1 = qy
        psq = py * py
        qsq = qy * qy
        p_block += psq
        q_block += qsq
        p_total += psq - st[p_ring + head]
        q_total += qsq - st[q_ring + head]
        st[p_ring + head] = psq
        st[q_ring + head] = qsq
        head += 1
        if head == window:
            head = 0
    st[m], st[m + 1], st[m + 2], st[m + 3] = px1, px2, py1, py2
    st[m + 4], st[m + 5], st[m + 6], st[m + 7] = qx1, qx2, qy1, qy2
    st[sums + b], st[sums + b + 1] = p_total, q_total
    block_out[b], block_out[b + 1] = p_block, q_block


@njit(cache=True, nogil=True)
def measure_block(table, end, st, out) -> None:
    """Advance the bands over the block of the circular ``table`` that ends before index
    ``end``; write each band's mean square at the block's end into the tap row ``out``,
    and after those each band's mean square over the whole block.

    ``st`` is the meter's state (the layout above; an even number of bands). Like pyo's
    ``Average``, a level reads 0 until half a window has been seen. A NaN or infinite
    sample is read as 0. The running sums are summed afresh every ``RESUM_WINDOWS``
    windows (and never read below 0), so their rounding errors never pile up.
    """
    block = int(st[H_BLOCK])
    factor = int(st[H_FACTOR])
    window = int(st[H_WINDOW])
    first = int(st[H_FIRST])
    seen = int(st[H_SEEN])
    n_bands = int(st[H_BANDS])
    coef, mem, sums, squares, xs = _layout(n_bands, window)
    size = table.shape[0]
    n = block // factor
    # the block's decimated samples, read once for all the bands
    index = (end - block) % size
    for i in range(n):
        x = np.float64(table[index])
        if not -SAMPLE_LIMIT <= x <= SAMPLE_LIMIT:  # NaN or inf from a bad input
            x = 0.0
        st[xs + i] = x
        index += factor
        if index >= size:
            index -= size
    head0 = seen % window
    block_out = out[first + n_bands:first + 2 * n_bands]  # the block sums, then means
    for b in range(0, n_bands, 2):
        _two_bands(st, xs, n, b, coef, mem, sums, squares, window, head0, block_out)
    # the running sums are summed afresh once every RESUM_WINDOWS windows
    resum = (seen + n) // (window * RESUM_WINDOWS) > seen // (window * RESUM_WINDOWS)
    for b in range(n_bands):
        total = st[sums + b]
        if resum:
            total = 0.0
            ring = squares + window * b
            for j in range(window):
                total += st[ring + j]
        elif total < 0.0:  # a rounding error in silence
            total = 0.0
        st[sums + b] = total
        out[first + b] = 0.0 if seen + n < window // 2 else total / window
        block_out[b] /= n
    st[H_SEEN] = seen + n


class BandMeter:
    """The short band levels of one stream at the engine's ``sample_rate``, block by block.

    :meth:`measure` reads the block that ends before ``end`` in a circular table of raw
    samples (float32, as pyo's tables hold them) and writes the six levels and the six block
    means into a tap row.
    """

    def __init__(self, sample_rate: float, block_size: int) -> None:
        self.factor = gap_band_decimation(sample_rate)
        if block_size % self.factor:
            raise ValueError(f"block size {block_size} is not a multiple of the bands' "
                             f"decimation ({self.factor})")
        self.block_size = block_size
        self.rate = sample_rate / self.factor
        self.window = max(16, gap_window_samples(sample_rate) // self.factor)
        n = len(SHORT_BANDS)
        coef, _, _, _, samples = _layout(n, self.window)
        self.state = np.zeros(samples + block_size // self.factor)
        self.state[:N_HEADER] = (block_size, self.factor, self.window, FIRST_TAP, 0, n)
        self.state[coef:coef + N_COEF * n] = band_coefficients(self.rate).ravel()
        # the last block's (decimated) samples, as measure read them: a view of the state
        self.samples = self.state[samples:]
        # Load the compiled call now (numba's disk cache), not on a stream's first block.
        measure_block(np.zeros(block_size, dtype=np.float32), 0, self.state.copy(),
                      np.zeros(FIRST_TAP + N_METER_TAPS))

    def measure(self, table: np.ndarray, end: int, row: np.ndarray) -> None:
        """Advance over ``table[end - block_size:end]`` (circularly); fill ``row``'s bands."""
        measure_block(table, end, self.state, row)

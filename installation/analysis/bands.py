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
# of squares, and that window (a ring, its head at seen % window).
H_BLOCK, H_FACTOR, H_WINDOW, H_FIRST, H_SEEN = range(5)
N_HEADER = 5
N_COEF = 5
N_MEM = 4
RESUM_WINDOWS = 32  # 0.34 s at 44.1-48 kHz
# A sample beyond this (or NaN) is read as 0: one NaN in a filter's memory would silence
# its band for the rest of the show.
SAMPLE_LIMIT = 1e3


@njit(cache=True, nogil=True, inline="always")
def _layout(n_bands: int) -> tuple[int, int, int, int]:
    """Where the coefficients, memories, running sums and windows of ``n_bands`` start."""
    coef = N_HEADER
    mem = coef + N_COEF * n_bands
    sums = mem + N_MEM * n_bands
    return coef, mem, sums, sums + n_bands


@njit(cache=True, nogil=True)
def measure_block(table, end, st, out) -> None:
    """Advance the bands over the block of the circular ``table`` that ends before index
    ``end``; write each band's mean square at the block's end into the tap row ``out``,
    and after those each band's mean square over the whole block.

    ``st`` is the meter's state (the layout above). Like pyo's ``Average``, a level reads 0
    until half a window has been seen. A NaN or infinite sample is read as 0. The running
    sums are summed afresh every ``RESUM_WINDOWS`` windows (and never read below 0), so
    their rounding errors never pile up.
    """
    block = int(st[H_BLOCK])
    factor = int(st[H_FACTOR])
    window = int(st[H_WINDOW])
    first = int(st[H_FIRST])
    seen = int(st[H_SEEN])
    n_bands = (st.shape[0] - N_HEADER) // (N_COEF + N_MEM + 1 + window)
    coef, mem, sums, squares = _layout(n_bands)
    size = table.shape[0]
    start = (end - block) % size
    n = block // factor
    head0 = seen % window
    # the running sums are summed afresh once every RESUM_WINDOWS windows
    resum = (seen + n) // (window * RESUM_WINDOWS) > seen // (window * RESUM_WINDOWS)
    for b in range(n_bands):
        c = coef + N_COEF * b
        a0, a1, a2, b1, b2 = st[c], st[c + 1], st[c + 2], st[c + 3], st[c + 4]
        m = mem + N_MEM * b
        x1, x2, y1, y2 = st[m], st[m + 1], st[m + 2], st[m + 3]
        ring = squares + window * b
        total = st[sums + b]
        block_sum = 0.0
        head = head0
        index = start
        for _ in range(n):
            x = np.float64(table[index])
            if not -SAMPLE_LIMIT <= x <= SAMPLE_LIMIT:  # NaN or inf from a bad input
                x = 0.0
            index += factor
            if index >= size:
                index -= size
            # y1's term last: the recursion's chain is one multiply and one subtraction
            # (the same sum as pyo's, in an order that runs about twice as fast)
            y = (a0 * x + a1 * x1 + a2 * x2 - b2 * y2) - b1 * y1
            x2 = x1
            x1 = x
            y2 = y1
            y1 = y
            sq = y * y
            block_sum += sq
            total += sq - st[ring + head]
            st[ring + head] = sq
            head += 1
            if head == window:
                head = 0
        st[m], st[m + 1], st[m + 2], st[m + 3] = x1, x2, y1, y2
        if resum:
            total = 0.0
            for j in range(window):
                total += st[ring + j]
        elif total < 0.0:  # a rounding error in silence
            total = 0.0
        st[sums + b] = total
        out[first + b] = 0.0 if seen + n < window // 2 else total / window
        out[first + n_bands + b] = block_sum / n
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
        coef, _, _, squares = _layout(n)
        self.state = np.zeros(squares + n * self.window)
        self.state[:N_HEADER] = (block_size, self.factor, self.window, FIRST_TAP, 0)
        self.state[coef:coef + N_COEF * n] = band_coefficients(self.rate).ravel()
        # Load the compiled call now (numba's disk cache), not on a stream's first block.
        measure_block(np.zeros(block_size, dtype=np.float32), 0, self.state.copy(),
                      np.zeros(FIRST_TAP + N_METER_TAPS))

    def measure(self, table: np.ndarray, end: int, row: np.ndarray) -> None:
        """Advance over ``table[end - block_size:end]`` (circularly); fill ``row``'s bands."""
        measure_block(table, end, self.state, row)

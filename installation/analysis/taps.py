"""The raw per-block quantities the pyo graph measures, in the order it writes them.

The engine fills one float64 row per block in this order; :mod:`frames` reads it. Keeping
the list here (not in the engine) lets pure code and tests build rows without pyo.
"""

from __future__ import annotations

import math

# Window (s) of the gap detector's short band taps (512 samples at 48 kHz); the graph
# rounds it to whole samples, the frame builder back-dates by half of it.
GAP_WINDOW_S = 0.0107


def gap_window_samples(sample_rate: float) -> int:
    """The gap bands' window in whole samples at ``sample_rate``: the one rounding rule
    the graph measures with and the frame builder back-dates by."""
    return max(32, int(round(GAP_WINDOW_S * sample_rate)))


# The lowest rate the graph decimates to: the pitch block always goes as low as this, the
# gap bands only from DECIMATE_FROM up (the "hi" voice model; below it they run at the
# engine rate, the "lo" and "nb" models).
BAND_MIN_RATE = 11025
DECIMATE_FROM = 32000


def decimation(sample_rate: float, min_rate: float = BAND_MIN_RATE) -> int:
    """The largest power of two that divides ``sample_rate`` down to ``min_rate`` or more
    (4 at 44.1 and 48 kHz, 2 at 22.05 and 32 kHz, 1 at 16 kHz)."""
    factor = 1
    while sample_rate / (factor * 2) >= min_rate:
        factor *= 2
    return factor


def gap_band_decimation(sample_rate: float) -> int:
    """By how much the graph decimates the gap bands at ``sample_rate`` (1 below 32 kHz;
    else :func:`decimation`: 4 at 44.1 and 48 kHz, 2 at 32 kHz). A 5.5 kHz Nyquist still
    holds the top band's 4-5.5 kHz."""
    return decimation(sample_rate) if sample_rate >= DECIMATE_FROM else 1


# Digital silence: a block whose whole-band mean square (re full-scale peak; tap fast_blk)
# is under this (-120 dB: under any microphone's or converter's own noise; a player's
# zeros, a muted bus). After a long enough run of it, the partial meter hears the next
# sound as a new stream's (config: analysis.gap_restart_s; analysis.partials).
DIGITAL_SILENCE_MS = 1e-12
# How long (s) a digital silence must last to restart it: longer than the pauses of
# digital silence between the words of an edited recording (up to 1.28 s in the recordings
# here), shorter than a pause between two cues.
RESTART_S = 1.5


def restart_blocks(block_s: float, restart_s: float) -> int:
    """How many digitally silent blocks in a row restart the meter: the fewest that last
    ``restart_s`` (0: never)."""
    if restart_s <= 0.0:
        return 0
    return max(1, math.ceil(restart_s / block_s - 1e-9))


TAPS: tuple[str, ...] = (
    "ms",          # mean square of the input over the level window
    "peak",        # largest |sample| in the block before (pyo's PeakAmp reads a block late)
    "low_ms",      # mean square below 250 Hz
    "mid_ms",      # mean square 250 Hz – 2 kHz
    "high_ms",     # mean square above 2 kHz
    "env_fast",    # fast envelope (2 ms rise, 50 ms fall) of the onset signal
    "env_slow",    # slow envelope (150 ms rise and fall) of the onset signal
    "lag",         # YIN period in whole samples at the pitch rate (~12 kHz)
    "xy_lo",       # mean of x(t)·x(t−(lag−1)) on the 1 kHz low-passed, decimated input
    "xy",          # mean of x(t)·x(t−lag)
    "xy_hi",       # mean of x(t)·x(t−(lag+1))
    "xx",          # mean of x(t)² on the same signal
    "dd",          # mean of x(t−lag)²
    "centroid",    # spectral centroid, Hz
    # the gap detector's short bands, measured by analysis/bands.py (BandMeter) from each
    # block's raw samples
    "fast_ms",     # mean square of the input over a short (~10 ms) window
    "b250_ms",     # mean square 250 – 500 Hz over ~10 ms (the gap detector's bands)
    "b500_ms",     # mean square 500 Hz – 1 kHz over ~10 ms
    "b1k_ms",      # mean square 1 – 2 kHz over ~10 ms (F2)
    "b2k_ms",      # mean square 2 – 4 kHz over ~10 ms (F3, presence)
    "air_ms",      # mean square above 4 kHz (sibilants) over ~10 ms; 0 below 12 kHz rate
    # the same bands' mean squares over the whole block just measured, every sample of it
    # (the floor gate's: at 16 and 8 kHz a ~10 ms window sees only part of each 16 or 32 ms
    # block, and a mains buzz's ripple with it)
    "fast_blk", "b250_blk", "b500_blk", "b1k_blk", "b2k_blk", "air_blk",
    # the gap detector's fine-resolution cues, measured by analysis/partials.py
    # (PartialMeter) from the same samples: a short spectrum's bins over their background
    "fresh",       # share of the power in bins >= 10 dB over their background
    "rising",      # of that, the share in bins that rose >= 3 dB since the last frame
    "age",         # how long (s, power-weighted, <= 1) the fresh bins have been fresh
    "fresh_db",    # how far (dB / 10) the fresh bins stand over their background
)
TAP_INDEX: dict[str, int] = {name: i for i, name in enumerate(TAPS)}

"""The raw per-block quantities the pyo graph measures, in the order it writes them.

The engine fills one float64 row per block in this order; :mod:`frames` reads it. Keeping
the list here (not in the engine) lets pure code and tests build rows without pyo.
"""

from __future__ import annotations

TAPS: tuple[str, ...] = (
    "ms",          # mean square of the input over the level window
    "peak",        # largest |sample| in the block
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
)
TAP_INDEX: dict[str, int] = {name: i for i, name in enumerate(TAPS)}

"""Level conversions. dBFS follows AES17: RMS is referenced to a full-scale sine."""

from __future__ import annotations

import math

from installation.features import FLOOR_DB

# A full-scale sine has RMS 1/sqrt(2); AES17 calls that 0 dBFS.
_AES17_OFFSET_DB = 20.0 * math.log10(math.sqrt(2.0))
_log10 = math.log10  # called ~1000 times a second: skip the attribute lookup


def ms_to_dbfs(mean_square: float) -> float:
    """Mean square (linear, full scale = 1.0 peak) → RMS level in dBFS (AES17)."""
    if not mean_square > 1e-12:  # also catches NaN
        return FLOOR_DB
    db = 10.0 * _log10(mean_square) + _AES17_OFFSET_DB
    return db if db > FLOOR_DB else FLOOR_DB


def peak_to_dbfs(peak: float) -> float:
    """Sample peak (linear) → dBFS."""
    if not peak > 1e-6:
        return FLOOR_DB
    db = 20.0 * _log10(peak)
    return db if db > FLOOR_DB else FLOOR_DB

"""Onset decisions from a fast and a slow envelope, one block at a time."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Envelopes below this (≈ -80 dBFS) count as silence, so room noise cannot ratio up to onsets.
_EPS = 1e-4


@dataclass(slots=True)
class OnsetDetector:
    """Onset when the fast envelope rises ``threshold_db`` over the slow one.

    ``strength`` is that rise in dB (0 when steady or falling). A new onset needs the
    strength to fall below half the threshold first (re-arm) and ``refractory_s`` to pass.
    """

    threshold_db: float = 6.0
    refractory_s: float = 0.08
    _armed: bool = True
    _last_time: float = -math.inf

    def update(self, time: float, env_fast: float, env_slow: float) -> tuple[float, bool]:
        """Feed one block (``time`` in s). Returns ``(strength_db, onset)``."""
        strength = max(0.0, 20.0 * math.log10((env_fast + _EPS) / (env_slow + _EPS)))
        return strength, self.decide(time, strength)

    def decide(self, time: float, strength: float) -> bool:
        """The decision half of :meth:`update`, from a strength (dB) computed elsewhere."""
        onset = False
        if strength >= self.threshold_db and self._armed \
                and time - self._last_time >= self.refractory_s:
            onset = True
            self._armed = False
            self._last_time = time
        elif strength < 0.5 * self.threshold_db:
            self._armed = True
        return onset

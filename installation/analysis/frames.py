"""Raw tap rows → :class:`~installation.features.FeatureFrame`, block by block."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from installation.analysis.levels import ms_to_dbfs, peak_to_dbfs
from installation.analysis.onsets import OnsetDetector
from installation.analysis.taps import TAPS
from installation.analysis.voice import VoiceGapTracker
from installation.config import AnalysisConfig
from installation.features import FeatureFrame

_UNPACKED = ("ms", "peak", "low_ms", "mid_ms", "high_ms", "env_fast", "env_slow", "lag",
             "xy_lo", "xy", "xy_hi", "xx", "dd", "centroid")
if TAPS != _UNPACKED:
    raise RuntimeError("FrameBuilder.push unpacks the taps in a stale order")


def voicing_confidence(xy: float, xx: float, dd: float) -> float:
    """Normalised autocorrelation at the pitch period, clipped to [0, 1]."""
    denom = math.sqrt(max(xx, 0.0) * max(dd, 0.0))
    if denom < 1e-10:
        return 0.0
    return min(1.0, max(0.0, xy / denom))


def refine_pitch(lag: float, xy_lo: float, xy: float, xy_hi: float, rate: float) -> float:
    """Pitch (Hz) from a whole-sample period ``lag`` at ``rate`` Hz, refined by fitting a
    parabola through the autocorrelation at lag-1, lag, lag+1. 0 when there is no peak."""
    if lag < 2:
        return 0.0
    curvature = xy_lo - 2.0 * xy + xy_hi
    shift = 0.0
    if curvature < 0.0:
        shift = min(1.0, max(-1.0, 0.5 * (xy_lo - xy_hi) / curvature))
    return rate / (lag + shift)


@dataclass
class FrameBuilder:
    """Stateful converter; one instance per stream.

    ``sample_rate`` and ``block_size`` set each frame's time (end of its block);
    ``level_window_s`` is how late the level taps lag the signal, compensated in gap
    timing; ``pitch_rate`` the rate (Hz) at which the graph measured the ``lag`` tap.
    """

    sample_rate: int
    block_size: int
    pitch_rate: float
    settings: AnalysisConfig = field(default_factory=AnalysisConfig)
    level_window_s: float = 0.0
    block: int = 0

    def __post_init__(self) -> None:
        s = self.settings
        self.onsets = OnsetDetector(s.onset_threshold_db, s.onset_refractory_s)
        self.voice = VoiceGapTracker(margin_db=s.vad_margin_db, floor_db=s.vad_floor_db,
                                     word_min_s=s.word_min_s, hangover_s=s.hangover_s,
                                     lag_s=self.level_window_s)

    def push(self, row: np.ndarray | list[float]) -> FeatureFrame:
        """Turn one tap row (``len(TAPS)`` floats) into the next frame."""
        if len(row) != len(TAPS):
            raise ValueError(f"tap row has {len(row)} values, expected {len(TAPS)}")
        if isinstance(row, np.ndarray):
            row = row.tolist()  # plain floats: much faster than numpy scalars one by one
        # One unpack in TAPS order (asserted at import below): this runs 190 times a second.
        (ms, peak, low_ms, mid_ms, high_ms, env_fast, env_slow, lag, xy_lo, xy, xy_hi, xx,
         dd, centroid) = row
        block = self.block
        time = (block + 1) * self.block_size / self.sample_rate
        s = self.settings
        level = ms_to_dbfs(ms)
        strength, onset = self.onsets.update(time, env_fast, env_slow)
        voicing = voicing_confidence(xy, xx, dd)
        pitch = refine_pitch(lag, xy_lo, xy, xy_hi, self.pitch_rate)
        if voicing < s.voicing_threshold or not s.pitch_min_hz <= pitch <= s.pitch_max_hz \
                or level < s.vad_floor_db:
            pitch = 0.0
        voice = self.voice
        voice.update(time, level)
        frame = FeatureFrame(
            time, block, level, peak_to_dbfs(peak), ms_to_dbfs(low_ms), ms_to_dbfs(mid_ms),
            ms_to_dbfs(high_ms), strength, 1.0 if onset else 0.0, pitch, voicing,
            centroid if centroid > 0.0 and level > s.vad_floor_db - 30 else 0.0,
            1.0 if voice.voice else 0.0, voice.gap_s)
        self.block += 1
        return frame

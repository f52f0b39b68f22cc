"""Raw tap rows → :class:`~installation.features.FeatureFrame`, block by block."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from installation.analysis.levels import ms_to_dbfs, peak_to_dbfs
from installation.analysis.onsets import OnsetDetector
from installation.analysis.taps import TAP_INDEX, TAPS
from installation.analysis.voice import VoiceGapTracker
from installation.config import AnalysisConfig
from installation.features import FeatureFrame

_I = TAP_INDEX


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
        time = (self.block + 1) * self.block_size / self.sample_rate
        s = self.settings
        level = ms_to_dbfs(row[_I["ms"]])
        strength, onset = self.onsets.update(time, row[_I["env_fast"]], row[_I["env_slow"]])
        voicing = voicing_confidence(row[_I["xy"]], row[_I["xx"]], row[_I["dd"]])
        pitch = refine_pitch(row[_I["lag"]], row[_I["xy_lo"]], row[_I["xy"]],
                             row[_I["xy_hi"]], self.pitch_rate)
        if voicing < s.voicing_threshold or not s.pitch_min_hz <= pitch <= s.pitch_max_hz \
                or level < s.vad_floor_db:
            pitch = 0.0
        self.voice.update(time, level)
        frame = FeatureFrame(
            time=time,
            block=self.block,
            level_rms_db=level,
            level_peak_db=peak_to_dbfs(row[_I["peak"]]),
            band_low_db=ms_to_dbfs(row[_I["low_ms"]]),
            band_mid_db=ms_to_dbfs(row[_I["mid_ms"]]),
            band_high_db=ms_to_dbfs(row[_I["high_ms"]]),
            onset_strength=strength,
            onset=1.0 if onset else 0.0,
            pitch_hz=pitch,
            voicing=float(voicing),
            centroid_hz=max(0.0, float(row[_I["centroid"]])) if level > s.vad_floor_db - 30 else 0.0,
            voice=1.0 if self.voice.voice else 0.0,
            gap_s=self.voice.gap_s,
        )
        self.block += 1
        return frame

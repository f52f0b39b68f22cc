"""Raw tap rows → :class:`~installation.features.FeatureFrame`, block by block."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from installation.analysis.gapkernel import OUT as GAP_OUT
from installation.analysis.gaps import GapDetector
from installation.analysis.levels import _AES17_OFFSET_DB, ms_to_dbfs, peak_to_dbfs
from installation.analysis.onsets import OnsetDetector
from installation.analysis.taps import TAPS, gap_window_samples
from installation.config import AnalysisConfig
from installation.features import FEATURE_NAMES, FLOOR_DB, FeatureFrame

_UNPACKED = ("ms", "peak", "low_ms", "mid_ms", "high_ms", "env_fast", "env_slow", "lag",
             "xy_lo", "xy", "xy_hi", "xx", "dd", "centroid", "fast_ms", "b250_ms", "b500_ms",
             "b1k_ms", "b2k_ms", "air_ms", "fast_blk", "b250_blk", "b500_blk", "b1k_blk",
             "b2k_blk", "air_blk", "fresh", "rising", "age", "fresh_db")
if TAPS != _UNPACKED:
    raise RuntimeError("FrameBuilder.push unpacks the taps in a stale order")
# The gap detector's frame values (gapkernel.OUT, in its order) end every frame.
if FEATURE_NAMES[-len(GAP_OUT):] != GAP_OUT:
    raise RuntimeError("the gap detector's frame values no longer end the frame")


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


def voicing_and_strength(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`voicing_confidence` and the onset strength (dB, as
    :meth:`OnsetDetector.update` computes it) of many tap rows ``(n, len(TAPS))`` at once:
    what the gap detector reads besides the bands."""
    c = {name: rows[:, i] for i, name in enumerate(TAPS)}
    with np.errstate(divide="ignore", invalid="ignore"):
        # fmax and nan_to_num: a NaN tap reads 0, as the scalar path's max() makes it
        strength = np.fmax(0.0, 20.0 * np.log10((c["env_fast"] + 1e-4)
                                                / (c["env_slow"] + 1e-4)))
        denom = np.sqrt(np.maximum(c["xx"], 0.0) * np.maximum(c["dd"], 0.0))
        voicing = np.where(denom < 1e-10, 0.0, np.clip(
            c["xy"] / np.where(denom < 1e-10, 1.0, denom), 0.0, 1.0))
    return np.nan_to_num(voicing, nan=0.0), strength


def _ms_db(ms: np.ndarray) -> np.ndarray:
    """:func:`ms_to_dbfs` on an array."""
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10.0 * np.log10(np.maximum(ms, 1e-300)) + _AES17_OFFSET_DB
    return np.where(ms > 1e-12, np.maximum(db, FLOOR_DB), FLOOR_DB)


@dataclass
class FrameBuilder:
    """Stateful converter; one instance per stream.

    ``sample_rate`` and ``block_size`` set each frame's time (end of its block);
    ``pitch_rate`` is the rate (Hz) at which the graph measured the ``lag`` tap.
    ``gap_weights``: the gap detector's voice model weights (None: the shipped model;
    bench/cv_gaps.py scores models it fits itself).
    """

    sample_rate: int
    block_size: int
    pitch_rate: float
    settings: AnalysisConfig = field(default_factory=AnalysisConfig)
    block: int = 0
    gap_weights: tuple | None = None

    def __post_init__(self) -> None:
        s = self.settings
        self.onsets = OnsetDetector(s.onset_threshold_db, s.onset_refractory_s)
        block_s = self.block_size / self.sample_rate
        self.gaps = GapDetector(block_s, lag_s=self.gap_lag_s(self.sample_rate),
                                sample_rate=self.sample_rate,
                                floor_window_s=s.gap_floor_window_s,
                                abs_floor_db=s.gap_floor_db, on_threshold=s.gap_threshold,
                                off_threshold=0.7 * s.gap_threshold,
                                word_min_s=s.word_min_s, gap_confirm_s=s.hangover_s,
                                gap_min_s=s.gap_min_s, noise_floor_db=s.gap_noise_floor_db,
                                gate_db=s.gap_gate_db, weights=self.gap_weights)

    @staticmethod
    def gap_lag_s(sample_rate: float) -> float:
        """How far the gap bands' window centre lies behind a block's end (s): half a
        window. A row holds its block through its end (the graph is read after the block
        is computed; pyo's ``get()`` returns a buffer's last sample and the band meter
        measures up to the block's last sample), whatever the block size."""
        return 0.5 * gap_window_samples(sample_rate) / sample_rate

    def push_many(self, rows: np.ndarray) -> list[FeatureFrame]:
        """Frames of many rows ``(n, len(TAPS))`` at once (offline analysis): the same
        frames as :meth:`push` row by row (to float rounding), with everything that has no
        state computed on whole columns and the gap model run on all blocks in one go. A
        live stream pushes row by row. Goes on from the rows before it (a long file is
        pushed a piece at a time)."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(TAPS):
            raise ValueError(f"rows must have shape (n, {len(TAPS)}), got {rows.shape}")
        n, first = len(rows), self.block
        if n == 0:
            return []
        s = self.settings
        c = {name: rows[:, i] for i, name in enumerate(TAPS)}
        times = (np.arange(first, first + n) + 1) * self.block_size / self.sample_rate
        level = _ms_db(c["ms"])
        voicing, strength = voicing_and_strength(rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            peak = np.where(c["peak"] > 1e-6,
                            np.maximum(20.0 * np.log10(np.maximum(c["peak"], 1e-300)),
                                       FLOOR_DB), FLOOR_DB)
            lag, lo, xy, hi = c["lag"], c["xy_lo"], c["xy"], c["xy_hi"]
            curvature = lo - 2.0 * xy + hi
            shift = np.where(curvature < 0.0, np.clip(
                0.5 * (lo - hi) / np.where(curvature < 0.0, curvature, -1.0), -1.0, 1.0), 0.0)
            pitch = np.where(lag < 2, 0.0, self.pitch_rate / np.where(lag < 2, 1.0, lag + shift))
        pitch[(voicing < s.voicing_threshold) | (pitch < s.pitch_min_hz)
              | (pitch > s.pitch_max_hz) | (level < s.vad_floor_db)] = 0.0
        centroid = c["centroid"]
        centroid = np.where((centroid > 0.0) & (level > s.vad_floor_db - 30), centroid, 0.0)
        gap_values = self.gaps.run(times, rows, voicing, strength)
        cols = zip(times.tolist(), level.tolist(), peak.tolist(), _ms_db(c["low_ms"]).tolist(),
                   _ms_db(c["mid_ms"]).tolist(), _ms_db(c["high_ms"]).tolist(),
                   strength.tolist(), pitch.tolist(), voicing.tolist(), centroid.tolist(),
                   gap_values.tolist())
        frames = []
        onsets, frame = self.onsets, FeatureFrame
        for block, (t, lv, pk, lo_db, mid_db, hi_db, st, f0, vc, ce, gv) in enumerate(cols, first):
            onset = onsets.decide(t, st)
            frames.append(frame(t, block, lv, pk, lo_db, mid_db, hi_db, st,
                                1.0 if onset else 0.0, f0, vc, ce, *gv))
        self.block = first + n
        return frames

    def push(self, row: np.ndarray | list[float]) -> FeatureFrame:
        """Turn one tap row (``len(TAPS)`` floats) into the next frame."""
        if len(row) != len(TAPS):
            raise ValueError(f"tap row has {len(row)} values, expected {len(TAPS)}")
        array = np.asarray(row, dtype=np.float64)  # the gap detector's kernel reads it
        # Plain floats are much faster than numpy scalars one by one. One unpack in TAPS
        # order (asserted at import above): this runs 190 times a second.
        (ms, peak, low_ms, mid_ms, high_ms, env_fast, env_slow, lag, xy_lo, xy, xy_hi, xx,
         dd, centroid, *_) = array.tolist()
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
        gaps = self.gaps
        gaps.update(time, array, voicing, strength)
        frame = FeatureFrame(
            time, block, level, peak_to_dbfs(peak), ms_to_dbfs(low_ms), ms_to_dbfs(mid_ms),
            ms_to_dbfs(high_ms), strength, 1.0 if onset else 0.0, pitch, voicing,
            centroid if centroid > 0.0 and level > s.vad_floor_db - 30 else 0.0,
            *gaps.frame_values())
        self.block += 1
        return frame

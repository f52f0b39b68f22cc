"""The pure gap detector (analysis/gaps.py): state machine, floors, batch = block by block."""

from __future__ import annotations

import numpy as np
import pytest

from installation.analysis.frames import FrameBuilder
from installation.analysis.gaps import N_BANDS, GapDetector, gaps_from_frames
from installation.analysis.taps import TAPS
from installation.features import FEATURE_NAMES, FeatureFrame

BLOCK = 256 / 48000


def _drive(det: GapDetector, pattern: list[tuple[float, float]]):
    """Feed likelihoods: ``pattern`` is (seconds, p) runs. Returns per-block snapshots."""
    out, t = [], 0.0
    for seconds, p in pattern:
        for _ in range(int(round(seconds / BLOCK))):
            t += BLOCK
            det.advance(t, p)
            out.append((t, det.speaking, det.gap_started, det.gap_ended, det.gap_depth,
                        det.gap_elapsed))
    return out


def test_state_machine_words_and_gaps_with_known_times():
    det = GapDetector(BLOCK, lag_s=0.0)
    _drive(det, [(0.5, 0.0), (0.4, 1.0), (0.3, 0.0), (0.4, 1.0), (0.06, 0.0), (0.4, 1.0),
                 (0.5, 0.0)])
    assert det.words == 3
    # One gap between word 1 and 2 (0.3 s); the 60 ms pause is shorter than a gap.
    assert det._recent_gaps and len(det._recent_gaps) == 1
    assert det._recent_gaps[0] == pytest.approx(0.3, abs=2 * BLOCK)


def test_gap_depth_moves_on_the_first_quiet_block():
    det = GapDetector(BLOCK)
    snaps = _drive(det, [(0.5, 1.0), (0.02, 0.0)])
    speaking_depth = snaps[len(snaps) - 5][4]
    first_quiet = snaps[len(snaps) - 4][4]
    assert speaking_depth < 0.01 and first_quiet > 0.25


def test_expected_gap_is_the_median_of_recent_gaps():
    det = GapDetector(BLOCK)
    assert det._predict_gap() == 0.4
    det._recent_gaps.extend([0.2, 0.8, 0.4])
    assert det._predict_gap() == pytest.approx(0.4)


def test_fixed_noise_floor_overrides_calibration():
    det = GapDetector(BLOCK, noise_floor_db=-40.0)
    bands = (10 ** (-5.0),) * N_BANDS  # -50 dB re full-scale peak, ≈ -47 dBFS
    x = det.features(0.01, bands, 0.0, 0.0)
    assert x[0] == 0.0  # below the fixed floor: no whole-band SNR
    free = GapDetector(BLOCK)
    assert free.features(0.01, bands, 0.0, 0.0)[0] == pytest.approx(5.0)  # clipped 50 dB


def _random_rows(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = np.abs(rng.normal(0, 1, (n, len(TAPS)))) * 1e-3
    env = np.repeat(rng.uniform(0, 1, n // 50 + 1), 50)[:n] ** 4  # bursts and pauses
    rows *= env[:, None] + 1e-4
    rows[:, TAPS.index("lag")] = rng.integers(20, 200, n)
    return rows


def test_push_many_equals_push_row_by_row():
    rows = _random_rows(3000)
    a = FrameBuilder(48000, 256, 12000.0).push_many(rows)
    fb = FrameBuilder(48000, 256, 12000.0)
    b = [fb.push(r) for r in rows]
    assert [f.block for f in a] == [f.block for f in b]
    va, vb = np.array([f.values() for f in a]), np.array([f.values() for f in b])
    np.testing.assert_allclose(va, vb, rtol=1e-9, atol=1e-9)
    assert sum(f.word_start for f in a) > 0  # the rows did exercise the detector
    with pytest.raises(ValueError, match="fresh"):
        fb.push_many(rows)


def test_gaps_from_frames_lists_closed_gaps_of_at_least_min():
    def frame(t, **kw):
        values = dict.fromkeys(FEATURE_NAMES, 0.0)
        values.update(kw)
        return FeatureFrame(t, 0, **values)
    frames = [frame(1.0, gap_end=1.0, gap_start_time=0.8, gap_duration=0.15,
                    gap_emit_time=0.87),
              frame(2.0, gap_end=1.0, gap_start_time=1.9, gap_duration=0.08)]
    assert gaps_from_frames(frames) == [{"start": 0.8, "end": 0.95, "emitted_at": 0.87}]

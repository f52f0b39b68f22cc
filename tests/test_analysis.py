"""Pure analysis: levels, onsets, pitch refinement, the voice/gap state machine."""

from __future__ import annotations

import math

import numpy as np
import pytest

from installation.analysis.frames import FrameBuilder, refine_pitch, voicing_confidence
from installation.analysis.levels import ms_to_dbfs, peak_to_dbfs
from installation.analysis.onsets import OnsetDetector
from installation.analysis.taps import TAP_INDEX, TAPS
from installation.analysis.voice import VoiceGapTracker
from installation.features import FLOOR_DB, FEATURE_NAMES, FeatureFrame


def test_aes17_full_scale_sine_is_0_dbfs():
    assert ms_to_dbfs(0.5) == pytest.approx(0.0, abs=1e-9)          # sine, peak 1
    assert ms_to_dbfs(0.125) == pytest.approx(-6.0206, abs=1e-3)    # sine, peak 0.5
    assert peak_to_dbfs(0.5) == pytest.approx(-6.0206, abs=1e-3)
    assert ms_to_dbfs(0.0) == FLOOR_DB and peak_to_dbfs(0.0) == FLOOR_DB


def test_onset_needs_a_rise_rearm_and_refractory():
    det = OnsetDetector(threshold_db=6.0, refractory_s=0.1)
    assert det.update(0.00, 0.1, 0.1) == (0.0, False)           # steady: nothing
    strength, onset = det.update(0.01, 0.4, 0.1)
    assert onset and strength == pytest.approx(12.04, abs=0.05)
    assert not det.update(0.02, 0.5, 0.1)[1]                     # still high: not re-armed
    det.update(0.03, 0.1, 0.1)                                   # falls: re-armed
    assert not det.update(0.05, 0.4, 0.1)[1]                     # inside refractory
    det.update(0.2, 0.1, 0.1)
    assert det.update(0.25, 0.4, 0.1)[1]


@pytest.mark.parametrize("freq", [82.4, 110.0, 220.0, 440.0, 880.0])
def test_refine_pitch_from_sampled_autocorrelation(freq):
    rate = 12000.0
    true_lag = rate / freq
    lag = round(true_lag)

    def acf(k):  # a sine's autocorrelation
        return math.cos(2 * math.pi * k / true_lag)

    est = refine_pitch(lag, acf(lag - 1), acf(lag), acf(lag + 1), rate)
    assert est == pytest.approx(freq, rel=0.005)


def test_voicing_confidence_bounds():
    assert voicing_confidence(1.0, 1.0, 1.0) == 1.0
    assert voicing_confidence(-0.5, 1.0, 1.0) == 0.0
    assert voicing_confidence(0.0, 0.0, 0.0) == 0.0


def _run(tracker, levels, block=0.005):
    out = []
    for i, level in enumerate(levels):
        tracker.update((i + 1) * block, level)
        out.append((tracker.voice, tracker.gap_s))
    return out


def test_silence_is_a_gap_that_grows_from_the_start():
    out = _run(VoiceGapTracker(), [FLOOR_DB] * 200)
    assert not any(v for v, _ in out)
    assert out[-1][1] == pytest.approx(1.0)


def test_gap_starts_where_voice_stopped_and_grows():
    levels = [FLOOR_DB] * 100 + [-20.0] * 200 + [FLOOR_DB] * 200  # voice 0.5 s .. 1.5 s
    tracker = VoiceGapTracker()
    out = _run(tracker, levels)
    assert out[150] == (True, 0.0)
    assert tracker.words == 1 and tracker.word_start == pytest.approx(0.5)
    assert not out[-1][0]
    gap_start = 2.5 - out[-1][1]
    assert gap_start == pytest.approx(1.5, abs=0.006)
    gaps = [g for v, g in out[320:]]
    assert all(b > a for a, b in zip(gaps, gaps[1:]))


@pytest.mark.parametrize("pause_s, is_gap", [(0.06, False), (0.15, True)])
def test_short_pause_is_not_a_gap(pause_s, is_gap):
    n = round(pause_s / 0.005)
    levels = [FLOOR_DB] * 60 + [-20.0] * 100 + [FLOOR_DB] * n + [-20.0] * 100
    out = _run(VoiceGapTracker(hangover_s=0.1), levels)
    saw_gap = any(not v for v, _ in out[160:])
    assert saw_gap is is_gap


def test_lag_is_subtracted_from_word_end():
    levels = [FLOOR_DB] * 60 + [-20.0] * 100 + [FLOOR_DB] * 100
    tracker = VoiceGapTracker(lag_s=0.02)
    out = _run(tracker, levels)
    assert 1.3 - out[-1][1] == pytest.approx(0.8 - 0.02 + 0.005, abs=0.006)


def test_noise_floor_raises_the_bar_for_steady_sound():
    # Steady -30 dBFS "music" from the start: once there is half a second of history the
    # floor follows it, so it is not voice for long.
    tracker = VoiceGapTracker(margin_db=14.0)
    out = _run(tracker, [-30.0] * 1600)
    assert out[50][0] and not any(v for v, _ in out[200:])
    # A voice 20 dB above it is voice again.
    for i in range(100):
        tracker.update(8.0 + (i + 1) * 0.005, -10.0)
    assert tracker.voice


def test_frame_builder_rows_to_frames():
    builder = FrameBuilder(48000, 256, 12000.0)
    row = np.zeros(len(TAPS))
    row[TAP_INDEX["ms"]] = 0.125
    row[TAP_INDEX["peak"]] = 0.5
    frame = builder.push(row)
    assert isinstance(frame, FeatureFrame)
    assert frame.block == 0 and frame.time == pytest.approx(256 / 48000)
    assert frame.level_rms_db == pytest.approx(-6.02, abs=0.01)
    assert builder.push(row).block == 1
    with pytest.raises(ValueError, match="expected"):
        builder.push(row[:3])


def test_frame_dict_has_time_block_and_every_feature():
    d = FeatureFrame(1.0, 5).as_dict()
    assert list(d) == ["time", "block", *FEATURE_NAMES]

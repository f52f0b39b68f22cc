"""The pure gap detector (analysis/gaps.py): state machine, floors, batch = block by block."""

from __future__ import annotations

import numpy as np
import pytest

from installation.analysis.frames import FrameBuilder
from installation.analysis import gapkernel as k
from installation.analysis.gaps import GapDetector, gaps_from_frames
from installation.analysis.taps import TAP_INDEX, TAPS
from installation.analysis.gapkernel import BAND_TAPS
from installation.analysis.voicemodel import (BASE_FEATURES, VoiceModel, load_model,
                                              model_path)
from installation.features import FEATURE_NAMES, FeatureFrame

BLOCK = 256 / 48000


def _drive(det: GapDetector, pattern: list[tuple[float, float]], start: float = 0.0):
    """Feed likelihoods: ``pattern`` is (seconds, p) runs, from time ``start``. Returns
    per-block snapshots."""
    out, t = [], start
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
    assert len(det.recent_gaps) == 1
    assert det.recent_gaps[0] == pytest.approx(0.3, abs=2 * BLOCK)


def _run(det: GapDetector, pattern: list[tuple[float, float, float]]):
    """Feed ``(seconds, p, snr_db)`` runs; return the (time, frame-like) events."""
    t, events = 0.0, []
    for seconds, p, snr in pattern:
        for _ in range(int(round(seconds / BLOCK))):
            t += BLOCK
            det.advance(t, p, snr)
            if det.word_started:
                events.append(("word", det.word_start))
            if det.word_ended:
                events.append(("end", det.word_end))
    return events


def test_word_start_goes_back_to_the_foot_of_the_rise():
    # Silence, then 4 blocks of a weak likelihood (over the 0.1 foot, under 0.5), then voice.
    det = GapDetector(BLOCK, lag_s=0.0)
    events = _run(det, [(0.5, 0.0, 50.0), (4 * BLOCK, 0.3, 50.0), (0.4, 1.0, 50.0)])
    # the first weak block begins here; the likelihood crossed the foot within it, and the
    # start goes to its middle
    foot = round(0.5 / BLOCK) * BLOCK + 0.5 * BLOCK
    assert events[0][0] == "word"
    assert events[0][1] == pytest.approx(foot, abs=1e-9)
    none = GapDetector(BLOCK, lag_s=0.0, foot_threshold=1.01)  # no foot: the crossing
    assert _run(none, [(0.5, 0.0, 50.0), (4 * BLOCK, 0.3, 50.0), (0.4, 1.0, 50.0)])[0][1] \
        > foot + 4 * BLOCK


def test_masked_rise_and_tail_move_the_word_out_by_the_hidden_decibels():
    pattern = [(0.5, 0.0, 0.0), (0.4, 1.0, 50.0), (0.3, 0.0, 0.0), (0.4, 1.0, 15.0),
               (0.3, 0.0, 0.0)]
    clear = _run(GapDetector(BLOCK, lag_s=0.0), [pattern[0], pattern[1], pattern[2],
                                                 (0.4, 1.0, 50.0), pattern[4]])
    masked = _run(GapDetector(BLOCK, lag_s=0.0, decay_db_s=1000.0), pattern)
    # The second word stands 15 dB over the floor: (45 - 15) dB of its rise at 600 dB/s
    # were hidden (50 ms), and (35 - 15) dB of its tail at 1000 dB/s (20 ms).
    assert masked[2][1] == pytest.approx(clear[2][1] - 0.050, abs=1e-9)
    assert masked[3][1] == pytest.approx(clear[3][1] + 0.020, abs=1e-9)
    # A word that stands 50 dB clear is not moved: the first one is the same in both.
    assert masked[:2] == clear[:2]
    # By default only the rise is moved (decay_db_s 0: the cross-validations lost gaps to
    # moving the tail).
    default = _run(GapDetector(BLOCK, lag_s=0.0), pattern)
    assert default[2][1] == pytest.approx(masked[2][1], abs=1e-9)
    assert default[3][1] == pytest.approx(clear[3][1], abs=1e-9)


def _word_end(after, floor_db=-90.0):
    """A word at -10 dBFS (its peak), then the network hears no voice while the level
    follows ``after(s since the last voiced block)`` over a floor at ``floor_db``:
    (the last voiced block's end, the word's end)."""
    det = GapDetector(BLOCK, lag_s=0.0)
    t, voiced, end = 0.0, None, None
    for seconds, p in [(0.5, 0.0), (0.4, 1.0), (0.3, 0.0)]:
        for _ in range(int(round(seconds / BLOCK))):
            t += BLOCK
            lvl = -10.0 if p else floor_db if voiced is None else after(t - voiced)
            det.advance(t, p, min(50.0, max(0.0, lvl - floor_db)), level_db=lvl)
            if det.word_ended:
                end = det.word_end
        if p:
            voiced = t
    return voiced, end


def test_a_word_clear_of_its_floor_ends_where_its_tail_fell_35_db_under_its_peak():
    fall, abrupt = _word_end(lambda s: -90.0)
    assert abrupt == pytest.approx(fall + BLOCK / 2)  # the middle of the first quiet block
    # The network stops hearing the voice, but its tail decays at 1000 dB/s: 35 dB under
    # the peak 35 ms later (the labels' and a quiet room's end).
    fall, decaying = _word_end(lambda s: -10.0 - 1000.0 * s)
    assert decaying == pytest.approx(fall + 0.035, abs=BLOCK)
    # A dip of one short window in it is the window's ripple, not the end.
    fall, rippled = _word_end(lambda s: -60.0 if abs(s - 3 * BLOCK) < 1e-6
                              else -10.0 - 1000.0 * s)
    assert rippled == pytest.approx(decaying)
    # What rises again after the tail fell is not the word's.
    fall, later = _word_end(lambda s: -10.0 - 1000.0 * s if s < 0.05 else -20.0)
    assert later == pytest.approx(decaying)
    # A level still up when the quiet is confirmed is a room's reverberation: not followed.
    fall, held = _word_end(lambda s: -30.0)
    assert held == pytest.approx(abrupt)
    # Nor is a floor's ripple within 10 dB of it (a word 40 dB over a -50 dBFS floor).
    fall, noisy = _word_end(lambda s: -42.0 if s < 0.03 else -50.0, floor_db=-50.0)
    assert noisy == pytest.approx(fall + BLOCK / 2)


def test_a_short_dip_does_not_break_a_word_being_confirmed():
    # 100 ms of voice, a 30 ms dip (under the 50 ms hangover), 300 ms more: one word,
    # starting with the first 100 ms.
    det = GapDetector(BLOCK, lag_s=0.0, foot_threshold=1.01)
    events = _run(det, [(0.5, 0.0, 50.0), (0.1, 1.0, 50.0), (0.03, 0.0, 50.0),
                        (0.3, 1.0, 50.0), (0.3, 0.0, 50.0)])
    assert [e[0] for e in events] == ["word", "end"]
    assert events[0][1] == pytest.approx(0.5, abs=2 * BLOCK)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_a_quiet_is_confirmed_on_the_block_nearest_the_confirmation_time(rate):
    # A 32 ms block at 8 kHz: waiting for the first block past gap_confirm_s (50 ms) after
    # the quiet began cost a whole block (80 ms); the nearest block's end is 48 ms.
    block = 256 / rate
    det = GapDetector(block, lag_s=0.0, sample_rate=rate)
    t, quiet_from, emitted = 0.0, None, None
    for i, (seconds, p) in enumerate([(0.5, 0.0), (0.4, 1.0), (0.3, 0.0)]):
        for _ in range(int(round(seconds / block))):
            t += block
            det.advance(t, p)
            if i == 2 and quiet_from is None:
                quiet_from = t - block / 2  # the middle of the first quiet block
            if det.gap_started:
                emitted = t
    assert det.gap_start == pytest.approx(quiet_from)
    assert abs(emitted - quiet_from - det.gap_confirm_s) <= block / 2 + 1e-9


def test_gap_depth_moves_on_the_first_quiet_block():
    det = GapDetector(BLOCK)
    snaps = _drive(det, [(0.5, 1.0), (0.02, 0.0)])
    speaking_depth = snaps[len(snaps) - 5][4]
    first_quiet = snaps[len(snaps) - 4][4]
    assert speaking_depth < 0.01 and first_quiet > 0.25


def _pauses(det: GapDetector, pauses: list[float]) -> list[float]:
    """Words of 0.4 s with these pauses between them; the expected gap each gap start
    carried."""
    expected = []
    pattern = [(0.5, 0.0)]
    for pause in pauses:
        pattern += [(0.4, 1.0), (pause, 0.0)]
    pattern.append((0.4, 1.0))
    t = 0.0
    for seconds, p in pattern:
        for _ in range(int(round(seconds / BLOCK))):
            t += BLOCK
            det.advance(t, p)
            if det.gap_started:
                expected.append(det.expected_gap)
    return expected


def test_expected_gap_shrinks_recent_gaps_toward_the_prior():
    det = GapDetector(BLOCK)
    assert det.predict_gap() == pytest.approx(0.4)  # no pause yet: the prior
    assert det.expected_gap == pytest.approx(0.4)  # ... and what the frame reads
    expected = _pauses(det, [0.2, 0.8, 0.4])
    # the first gap start knows no pause; 50 ms into a pause barely moves the prior's median
    assert expected[0] == pytest.approx(0.4, rel=0.01)
    assert det.recent_gaps == pytest.approx([0.2, 0.8, 0.4], abs=2 * BLOCK)
    # log-mean of 0.4, 0.4 (the prior counts twice), 0.2, 0.8, 0.4 is 0.4
    assert det.predict_gap() == pytest.approx(0.4, rel=0.05)
    logs = [np.log(0.4)] * 2 + [np.log(g) for g in det.recent_gaps]
    assert det.predict_gap() == pytest.approx(np.exp(np.mean(logs)), rel=1e-12)
    assert det.expected_gap == pytest.approx(det.predict_gap(), rel=1e-12)  # between pauses
    long = GapDetector(BLOCK)
    expected = _pauses(long, [1.6] * 10)
    # only the last eight pauses count, and they outweigh the prior:
    # exp((2 ln 0.4 + 8 ln 1.6) / 10)
    assert len(long.recent_gaps) == 8
    assert expected[-1] == pytest.approx(0.4 ** 0.2 * 1.6 ** 0.8, rel=0.02)
    assert long.predict_gap() == pytest.approx(0.4 ** 0.2 * 1.6 ** 0.8, rel=0.02)


def test_a_pause_longer_than_the_rate_window_ends_the_turn():
    """A night's closure (or a room left empty for a minute) is not a pause in a speaker's
    rhythm: after it the law starts again from its prior. Before this, one pause of hours
    stretched the next eight pauses' expected lengths (0.5 s pauses read ~6 s after a
    14 h night)."""
    det = GapDetector(BLOCK)
    _pauses(det, [1.6] * 4 + [60.0])  # the rate window is 20 s
    assert det.recent_gaps == []
    assert det.predict_gap() == pytest.approx(0.4)  # the prior's
    assert det.gap_duration == pytest.approx(60.0, abs=2 * BLOCK)  # still a gap
    kept = GapDetector(BLOCK)
    _pauses(kept, [1.6] * 4 + [15.0])  # a long pause inside a turn is its rhythm
    assert kept.recent_gaps[-1] == pytest.approx(15.0, abs=2 * BLOCK)


def test_pause_law_is_the_shrunk_log_mean_and_spread():
    det = GapDetector(BLOCK)
    assert det.pause_law == pytest.approx((np.log(0.4), 0.7))  # the priors
    _pauses(det, [0.2, 0.8, 0.4])
    logs = np.log(det.recent_gaps)
    mu = (2 * np.log(0.4) + logs.sum()) / 5
    sigma = np.sqrt((2 * 0.7 ** 2 + ((logs - mu) ** 2).sum()) / 5)
    assert det.pause_law == pytest.approx((mu, sigma), rel=1e-12)
    steady = GapDetector(BLOCK)
    _pauses(steady, [0.6] * 10)  # a steady speaker: the spread shrinks toward sqrt(2/10) 0.7
    assert steady.pause_law[1] == pytest.approx(0.7 * np.sqrt(2 / 10) * 1.0, rel=0.05)


@pytest.mark.parametrize("mu,sigma", [(np.log(0.4), 0.7), (np.log(1.5), 0.3),
                                      (np.log(0.2), 1.2)])
def test_expected_pause_is_the_median_given_the_time_elapsed(mu, sigma):
    from scipy.stats import lognorm

    det = GapDetector(BLOCK)
    law = lognorm(s=sigma, scale=np.exp(mu))
    det._s[k.D_PAUSE_MU], det._s[k.D_PAUSE_SIGMA] = mu, sigma
    assert det.expected_pause(0.0) == pytest.approx(np.exp(mu), rel=1e-12)
    last = 0.0
    for elapsed in [1e-4, 0.01, 0.05, 0.1, 0.3, 0.5, 1.0, 2.0, 5.0, 30.0, 600.0]:
        got = det.expected_pause(elapsed)
        # the length this pause outlasts with probability 1/2, given it outlasted `elapsed`
        assert got == pytest.approx(law.isf(law.sf(elapsed) / 2), rel=1e-9)
        assert got > elapsed and got >= last  # always ahead of the pause, never shrinking
        last = got
    # far in the tail (the normal's tail halves over ln 2 / z; its survival underflows)
    z = 40.0
    far = det.expected_pause(np.exp(mu + sigma * z))
    assert np.log(far) == pytest.approx(mu + sigma * (z + np.log(2) / z), rel=1e-12)


def test_expected_gap_follows_the_pause_as_it_lasts():
    det = GapDetector(BLOCK)
    _pauses(det, [0.3, 0.5, 0.4])
    pattern = [(0.4, 1.0), (2.0, 0.0), (0.4, 1.0)]
    t, seen, ended = 10.0, [], None
    for seconds, p in pattern:
        for _ in range(int(round(seconds / BLOCK))):
            t += BLOCK
            det.advance(t, p)
            if det.in_gap:
                seen.append((det.gap_elapsed, det.expected_gap,
                             det.expected_pause(det.gap_elapsed)))
            if det.gap_ended:
                ended = det.expected_gap
    elapsed, expected, law = np.array(seen).T
    assert elapsed[-1] > 1.9
    # on every block: the median length given the time elapsed, growing with it
    assert expected == pytest.approx(law, rel=1e-12)
    assert np.all(expected > elapsed) and np.all(np.diff(expected) >= 0)
    assert expected[0] == pytest.approx(0.4, rel=0.1)  # at first, the speaker's median
    assert expected[-1] > 2.0
    # once the next word begins: the next pause's median, the 2 s pause now in the law
    assert ended == pytest.approx(det.predict_gap(), rel=1e-12)
    assert det.predict_gap() > 0.5


def _band_row(ms: float) -> np.ndarray:
    row = np.zeros(len(TAPS))
    row[BAND_TAPS] = ms
    return row


def test_fixed_noise_floor_overrides_calibration():
    fixed = VoiceModel(BLOCK, noise_floor_db=-40.0)
    row = _band_row(10 ** (-5.0))  # -50 dB re full-scale peak, ≈ -47 dBFS
    fixed.step(row, 0.01, 0.0, 0.0)
    assert fixed.x[0] == 0.0  # below the fixed floor: no whole-band SNR
    free = VoiceModel(BLOCK)
    free.step(row, 0.01, 0.0, 0.0)
    assert free.x[0] == pytest.approx(5.0)  # no floor yet (-100 dB): clipped at 50 dB


def test_band_floor_is_the_quietest_segment_of_the_window():
    """Quiet (-60 dB) for 1 s, then steady at -30 dB: the whole band reads 30 dB over its
    floor until the quiet second leaves the 3 s window, then 0."""
    vm = VoiceModel(BLOCK, floor_window_s=3.0)
    snr, t = [], 0.0
    for seconds, db in ((1.0, -60.0), (4.5, -30.0)):
        for _ in range(int(seconds / BLOCK)):
            t += BLOCK
            vm.step(_band_row(10 ** (db / 10)), t, 0.0, 0.0)
            snr.append((t, vm.x[BASE_FEATURES.index("snr_fast")] * 10.0))
    at = dict((round(tt, 2), v) for tt, v in snr)
    assert at[1.5] == pytest.approx(30.0, abs=0.01)
    assert at[3.9] == pytest.approx(30.0, abs=0.01)   # the quiet second is still inside
    assert at[4.5] == pytest.approx(0.0, abs=0.01)    # ... and now it has left


def test_band_median_is_the_typical_segment_of_the_window():
    """Music at -30 dB with a rest (-60 dB) and a swell (-20 dB) in it, then a voice-like
    -24 dB: each band reads its level against the window's median 100 ms (-30 dB, the
    music's usual level), where its floor is the rest's -60 dB."""
    vm = VoiceModel(BLOCK, floor_window_s=3.0)
    names = [f"rel_{b}" for b in ("fast", "b1k", "air")]
    idx = [BASE_FEATURES.index(n) for n in names]
    snr = BASE_FEATURES.index("snr_fast")
    t, seen = 0.0, []
    for seconds, db in ((0.5, -60.0), (1.0, -30.0), (0.5, -20.0), (1.0, -30.0), (0.3, -24.0)):
        for _ in range(int(round(seconds / BLOCK))):
            t += BLOCK
            vm.step(_band_row(10 ** (db / 10)), t, 0.0, 0.0)
            seen.append((t, vm.x[idx] * 10.0, vm.x[snr] * 10.0))
    assert all(v == 0.0 for v in seen[0][1])  # no segment closed yet: no reference
    at = {round(tt, 2): (rel, over_floor) for tt, rel, over_floor in seen}
    np.testing.assert_allclose(at[1.8][0], 10.0, atol=1e-6)  # the swell, 10 dB over it
    np.testing.assert_allclose(at[2.8][0], 0.0, atol=1e-6)   # back at the median
    np.testing.assert_allclose(at[3.2][0], 6.0, atol=1e-6)   # the rise: 6 dB over it
    assert at[3.2][1] == pytest.approx(36.0, abs=0.01)       # and 36 dB over the floor


def test_model_whole_file_equals_block_by_block_and_carries_on():
    rows = _random_rows(2000, seed=3)
    t = (np.arange(len(rows)) + 1) * BLOCK
    rng = np.random.default_rng(5)
    v, o = rng.uniform(0, 1, len(rows)), rng.uniform(0, 20, len(rows))
    one = VoiceModel(BLOCK)
    p1 = np.array([one.step(rows[i], t[i], v[i], o[i]) for i in range(len(rows))])
    many = VoiceModel(BLOCK)
    p2, x = many.run(rows[:1200], t[:1200], v[:1200], o[:1200], features=True)
    p3 = many.run(rows[1200:], t[1200:], v[1200:], o[1200:])
    np.testing.assert_array_equal(p1, np.concatenate([p2, p3]))
    assert x.shape == (1200, len(BASE_FEATURES)) and 0.0 < p1.mean() < 1.0
    assert TAP_INDEX["fast_ms"] == BAND_TAPS[0]


def test_likelihood_is_the_model_s_recurrent_network_over_the_cues():
    """The kernel's likelihood (float32, a rational tanh, vectorised) is the model file's
    GRU members as voicemodel.load_model writes them out, run here in float64 numpy with
    exact functions over the cues the kernel computed, stepped once per the model's
    ``step`` samples and held between: the same to float32 rounding."""
    rows = _random_rows(1500, seed=6)
    t = (np.arange(len(rows)) + 1) * BLOCK
    rng = np.random.default_rng(8)
    v, o = rng.uniform(0, 1, len(rows)), rng.uniform(0, 20, len(rows))
    # (no absolute floor: a block under it reads 0 whatever the network says)
    p, x = VoiceModel(BLOCK, abs_floor_db=-400.0).run(rows, t, v, o, features=True)
    mean, std, wx, bx, wh, bh, wo, bo, step = load_model(model_path(48000))
    members, hidden = wh.shape[:2]
    lag = round(float(step) / 256)  # the network steps on every lag-th block, from block lag-1

    def sigmoid(a):
        return 1.0 / (1.0 + np.exp(-a))

    h = np.zeros((members, hidden))
    want, p_held = [], 0.0  # before the network's first step: no voice
    for i, c in enumerate((x - mean) / std):
        if (i + 1) % lag == 0:
            gx = np.einsum("f,efk->ek", c, wx) + bx
            gh = np.einsum("ej,ejk->ek", h, wh) + bh
            r = sigmoid(gx[:, :hidden] + gh[:, :hidden])
            u = sigmoid(gx[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
            n = np.tanh(gx[:, 2 * hidden:] + r * gh[:, 2 * hidden:])
            h = (1.0 - u) * n + u * h
            p_held = sigmoid(np.mean(np.sum(wo * h, axis=1) + bo))
        want.append(p_held)
    want = np.array(want)
    assert min((want > 0.5).sum(), (want < 0.5).sum()) >= 10  # the rows get both answers
    np.testing.assert_allclose(p, want, atol=5e-6)  # (4.5e-7 with the shipped model)


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


def test_push_many_in_pieces_equals_push_many_at_once():
    """A long file is pushed a piece at a time (``offline.stream_frames``): the pieces go on
    from each other, blocks, times, onsets and the gap detector's state included."""
    rows = _random_rows(3000, seed=4)
    whole = FrameBuilder(48000, 256, 12000.0).push_many(rows)
    fb = FrameBuilder(48000, 256, 12000.0)
    pieces = [fb.push_many(rows[a:b]) for a, b in ((0, 7), (7, 1024), (1024, 1025),
                                                    (1025, 3000))]
    joined = [f for piece in pieces for f in piece]
    assert joined == whole
    assert fb.block == 3000 and sum(f.gap_start for f in whole) > 2


def test_gaps_from_frames_lists_closed_gaps_of_at_least_min():
    def frame(t, **kw):
        values = dict.fromkeys(FEATURE_NAMES, 0.0)
        values.update(kw)
        return FeatureFrame(t, 0, **values)
    frames = [frame(1.0, gap_end=1.0, gap_start_time=0.8, gap_duration=0.15,
                    gap_emit_time=0.87),
              frame(2.0, gap_end=1.0, gap_start_time=1.9, gap_duration=0.08)]
    assert gaps_from_frames(frames) == [{"start": 0.8, "end": 0.95, "emitted_at": 0.87}]


def test_a_nan_from_upstream_does_not_stop_the_detector():
    """pyo has sent a NaN in a tap: the detector must read it as nothing and carry on
    (a NaN kept in an average would silence it for the rest of a weeks-long show)."""
    det = GapDetector(BLOCK, lag_s=0.0)
    _drive(det, [(0.5, 0.0), (0.4, 1.0)])
    det.advance(0.9 + BLOCK, float("nan"))
    _drive(det, [(0.3, 0.0), (0.4, 1.0), (0.3, 0.0)], start=0.9 + BLOCK)
    assert det.words == 2 and len(det.recent_gaps) == 1
    assert 0.0 <= det.gap_depth <= 1.0
    rows = _random_rows(4000, seed=4)  # ~21 s of blocks
    clean = rows.copy()
    rows[100, TAPS.index("xy")] = np.nan       # voicing
    rows[150, TAPS.index("env_fast")] = np.nan  # onset strength
    rows[200, BAND_TAPS] = np.nan              # every band
    rows[250, BAND_TAPS] = np.inf              # and an overflow
    a = FrameBuilder(48000, 256, 12000.0).push_many(rows)
    fb = FrameBuilder(48000, 256, 12000.0)
    b = [fb.push(r) for r in rows[:1500]]  # row by row as far as the bad rows and beyond
    va, vb = np.array([f.values() for f in a]), np.array([f.values() for f in b])
    np.testing.assert_allclose(va[:len(vb)], vb, rtol=1e-9, atol=1e-9)
    gap = [FEATURE_NAMES.index(n) for n in ("gap_depth", "voicing", "onset_strength")]
    assert np.isfinite(va[:, gap]).all()
    assert np.isfinite(fb.gaps.voice.state).all()
    # and the detector hears the same after them as a detector that never saw them, once
    # it has forgotten them: the 3 s floor window moves on, and the recurrent units forget
    # geometrically, slowest where the cues hold still (a unit whose update gate stays near
    # 1). How far 4 s after depends on the draw (0.0002 to 0.024 over ten draws); 12 s
    # after, every draw read under 0.0002.
    c = FrameBuilder(48000, 256, 12000.0).push_many(clean)
    depth = FEATURE_NAMES.index("gap_depth")
    diff = np.abs(va[:, depth] - np.array([f.values() for f in c])[:, depth])
    after = [diff[250 + round(s / BLOCK):].max() for s in (4.0, 8.0, 12.0)]
    assert after[0] > after[1] > after[2] and after[2] < 1e-3, after


def test_flux_spans_the_same_time_at_any_block_size():
    """Spectral flux compares a band with its level 256 samples ago: at 64-sample blocks
    that is four blocks back, so the flux at shared instants equals the 256-block one."""
    rate, t_end = 16000, 3.0
    rng = np.random.default_rng(7)
    knots = rng.uniform(-70, -20, (int(t_end / 0.05) + 2, len(BAND_TAPS)))

    def rows(block):
        times = np.arange(1, int(t_end * rate / block) + 1) * block / rate
        db = np.array([np.interp(times, np.arange(len(knots)) * 0.05, knots[:, b])
                       for b in range(len(BAND_TAPS))]).T
        out = np.zeros((len(times), len(TAPS)))
        out[:, BAND_TAPS] = 10 ** (db / 10)
        return times, out

    flux = [i for i, n in enumerate(BASE_FEATURES) if n.startswith("flux_")]
    t4, r4 = rows(256)
    t1, r1 = rows(64)
    big = VoiceModel(256 / rate, rate).run(r4, t4, np.zeros(len(t4)), np.zeros(len(t4)),
                                           features=True)[1]
    small = VoiceModel(64 / rate, rate).run(r1, t1, np.zeros(len(t1)), np.zeros(len(t1)),
                                            features=True)[1]
    np.testing.assert_allclose(small[3::4][1:, flux], big[1:, flux], atol=1e-9)


def _gated(det: GapDetector, pattern: list[tuple[float, float, float]]):
    """Feed ``(seconds, p, top_db)`` runs (the whole band 50 dB over its floor); return
    the words and gaps (start, end) found."""
    t, gaps = 0.0, []
    for seconds, p, top in pattern:
        for _ in range(int(round(seconds / BLOCK))):
            t += BLOCK
            det.advance(t, p, 50.0, top)
            if det.gap_ended:
                gaps.append((det.gap_start, det.gap_start + det.gap_duration))
    return det.words, gaps


def test_the_floor_gate_ends_a_word_the_network_holds_through_a_hum():
    # The network says "voice" throughout (a hum's ripple fools it), but for 300 ms no
    # band's 20 ms mean stands 3 dB over its floor: a pause, back-dated to where the quiet
    # began (those means span 4 blocks: it began that much before they fell).
    pattern = [(0.5, 0.0, 0.0), (0.4, 1.0, 30.0), (0.3, 1.0, 1.0), (0.4, 1.0, 30.0),
               (0.5, 0.0, 0.0)]
    words, gaps = _gated(GapDetector(BLOCK, lag_s=0.0), pattern)
    assert words == 2 and len(gaps) == 1
    assert gaps[0][0] == pytest.approx(0.9 - 4 * BLOCK, abs=BLOCK)
    assert gaps[0][1] == pytest.approx(1.2, abs=2 * BLOCK)
    # gate_db 0 turns it off: one long word.
    assert _gated(GapDetector(BLOCK, lag_s=0.0, gate_db=0.0), pattern) == (1, [])


@pytest.mark.parametrize("block, rate, blocks", [(256, 48000, 4), (256, 44100, 4),
                                                 (256, 16000, 2), (256, 8000, 1),
                                                 (64, 48000, 15), (2048, 48000, 1)])
def test_the_floor_gate_averages_the_whole_blocks_that_cover_a_mains_period(block, rate,
                                                                            blocks):
    # 20 ms or more, in whole blocks: at 44.1 kHz three 5.8 ms blocks left 2.6 ms of each
    # 50 Hz period out, at 16 kHz one 16 ms block 4 ms.
    from installation.analysis.voicemodel import gate_blocks

    assert gate_blocks(block / rate) == blocks


def test_the_floor_gate_leaves_a_quiet_shorter_than_its_hold_to_the_network():
    # The bands' 20 ms means at the floor for 40 ms inside a phrase (under gate_hold_s):
    # the network's call stands.
    pattern = [(0.5, 0.0, 0.0), (0.4, 1.0, 30.0), (0.04, 1.0, 1.0), (0.4, 1.0, 30.0),
               (0.5, 0.0, 0.0)]
    assert _gated(GapDetector(BLOCK, lag_s=0.0), pattern) == (1, [])

"""installation.render.uniforms: the uniform convention and its smoothing (no GL)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from installation.features import FEATURE_NAMES, FeatureFrame
from installation.render import scene as sc
from installation.render import uniforms as un
from installation.render.uniforms import UniformState

DOCS = Path(__file__).resolve().parents[1] / "docs" / "shaders.md"


def frame(t: float, block: int, **kw) -> FeatureFrame:
    return FeatureFrame(t, block, **kw)


def run(rate_hz: float, until: float, make, state: UniformState | None = None,
        start: float = 0.0) -> UniformState:
    """Feed frames at ``rate_hz`` from ``make(t)`` for ``t`` in [start, until] seconds."""
    state = state or UniformState()
    n0, n = int(round(start * rate_hz)), int(round(until * rate_hz))
    for k in range(n0, n + 1):
        t = k / rate_hz
        state.update(FeatureFrame(t, k, **make(t)), t)
    return state


# -- mappings -------------------------------------------------------------------------
def test_level_mapping():
    assert un.level_to_unit(-60) == 0.0
    assert un.level_to_unit(-120) == 0.0
    assert un.level_to_unit(0) == 1.0
    assert un.level_to_unit(3) == 1.0
    assert un.level_to_unit(-30) == pytest.approx(0.5)


def test_pitch_mapping_is_log():
    assert un.pitch_to_unit(80) == 0.0
    assert un.pitch_to_unit(800) == 1.0
    assert un.pitch_to_unit(math.sqrt(80 * 800)) == pytest.approx(0.5)
    assert un.pitch_to_unit(0) == 0.0 and un.pitch_to_unit(5000) == 1.0


def test_gap_mapping_is_monotonic_from_0_toward_1():
    gaps = np.linspace(0, 60, 601)
    values = np.array([un.gap_to_unit(g) for g in gaps])
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)
    assert values[-1] > 0.999
    assert un.gap_to_unit(3.0) == pytest.approx(1 - math.exp(-1))
    assert un.gap_to_unit(-1.0) == 0.0


# -- the uniform dict -----------------------------------------------------------------
def test_uniform_dict_has_every_standard_uniform_and_raw_feature():
    state = UniformState(size=(640, 360))
    state.update(frame(0.1, 0, level_rms_db=-20, pitch_hz=300, voice=1), 0.1)
    u = state.uniforms()
    assert set(u) == {s.name for s in un.STANDARD_UNIFORMS}
    assert u["u_resolution"] == (640.0, 360.0)
    assert u["u_time"] == 0.1
    assert u["u_level_rms_db"] == -20 and u["u_pitch_hz"] == 300
    assert u["u_voice_gate"] == 1.0
    for name in FEATURE_NAMES:
        assert un.RAW_FEATURE_UNIFORM[name] in u


def test_raw_values_are_sanitised():
    state = UniformState()
    state.update(frame(0.0, 0, level_rms_db=float("nan"), pitch_hz=float("inf")), 0.0)
    u = state.uniforms()
    assert u["u_level_rms_db"] == 0.0 and u["u_pitch_hz"] == 0.0


# -- pulses ---------------------------------------------------------------------------
def test_onset_pulse_jumps_then_decays_exponentially():
    state = UniformState()
    state.update(frame(0.0, 0), 0.0)
    state.update(frame(1.0, 1, onset=1), 1.0)
    assert state.uniforms()["u_onset_pulse"] == 1.0
    state.advance(1.25)
    assert state.uniforms()["u_onset_pulse"] == pytest.approx(math.exp(-1), rel=1e-9)
    state.advance(3.0)
    assert state.uniforms()["u_onset_pulse"] < 1e-3


def test_a_repeated_frame_does_not_retrigger():
    state = UniformState()
    onset = frame(0.0, 7, onset=1)
    state.update(onset, 0.0)
    state.update(onset, 0.5)  # a source that returns its latest frame again
    assert state.uniforms()["u_onset_pulse"] == pytest.approx(math.exp(-2))


def test_word_and_gap_pulses_follow_voice_edges():
    state = UniformState()
    state.update(frame(0.0, 0, voice=0, gap_s=0.0), 0.0)
    assert state.uniforms()["u_word_pulse"] == 0.0
    state.update(frame(0.1, 1, voice=1), 0.1)
    u = state.uniforms()
    assert u["u_word_pulse"] == 1.0 and u["u_gap_pulse"] == 0.0
    state.update(frame(0.5, 2, voice=1), 0.5)          # still speaking: no new pulse
    assert state.uniforms()["u_word_pulse"] == pytest.approx(math.exp(-0.4 / 0.4))
    state.update(frame(0.6, 3, voice=0, gap_s=0.0), 0.6)
    assert state.uniforms()["u_gap_pulse"] == 1.0
    state.advance(1.4)
    assert state.uniforms()["u_gap_pulse"] == pytest.approx(math.exp(-1.0))


# -- smoothing ------------------------------------------------------------------------
def test_level_attack_is_fast_and_release_slow():
    state = run(200, 0.03, lambda t: {"level_rms_db": 0.0})
    assert state.uniforms()["u_level"] == pytest.approx(1 - math.exp(-1), abs=1e-9)
    loud = run(200, 1.0, lambda t: {"level_rms_db": 0.0})
    run(200, 1.305, lambda t: {"level_rms_db": -120.0}, state=loud, start=1.005)
    # release from the first silent frame (1.005 s), time constant 0.3 s
    assert loud.uniforms()["u_level"] == pytest.approx(math.exp(-1), rel=1e-6)


def _script(t: float) -> dict:
    """Voice on 0.2-0.9 s at -12 dB with pitch, onsets at 0.3 and 0.5 s, silent after."""
    speaking = 0.2 <= t < 0.9
    return {"level_rms_db": -12.0 if speaking else -80.0,
            "band_low_db": -30.0 if speaking else -90.0,
            "voice": 1.0 if speaking else 0.0,
            "pitch_hz": 220.0 if speaking else 0.0,
            "gap_s": 0.0 if speaking else (t - 0.9 if t >= 0.9 else t),
            "onset": 1.0 if t in (0.3, 0.5) else 0.0}


@pytest.mark.parametrize("rate_a, rate_b", [(50, 200), (100, 400), (10, 1000)])
def test_smoothing_is_frame_rate_independent(rate_a, rate_b):
    """Two update rates seeing the same (sample-and-hold) input agree at common times."""
    for until in (0.3, 0.6, 1.0, 1.7):
        a = run(rate_a, until, _script).uniforms()
        b = run(rate_b, until, _script).uniforms()
        for key in ("u_level", "u_low", "u_voice", "u_gap", "u_onset_pulse",
                    "u_word_pulse", "u_gap_pulse", "u_pitch"):
            assert a[key] == pytest.approx(b[key], abs=1e-9), (key, until)


def test_render_rate_does_not_matter_between_frames():
    """Advancing in one step or in many gives the same state."""
    one, many = UniformState(), UniformState()
    for s in (one, many):
        s.update(frame(0.0, 0, level_rms_db=-6, voice=1, onset=1, pitch_hz=400), 0.0)
    one.advance(0.7)
    for t in np.linspace(0.0, 0.7, 113)[1:]:
        many.advance(float(t))
    a, b = one.uniforms(), many.uniforms()
    for key in ("u_level", "u_voice", "u_onset_pulse", "u_word_pulse", "u_pitch"):
        assert a[key] == pytest.approx(b[key], rel=1e-9)


def test_gap_rises_with_the_pause_and_gathers_back_on_the_next_word():
    state = UniformState()
    values = []
    for k in range(0, 1201):      # a 12 s pause at 100 Hz
        t = k / 100
        state.update(frame(t, k, gap_s=t), t)
        values.append(state.uniforms()["u_gap"])
    values = np.array(values)
    assert np.all(np.diff(values) >= 0)
    assert values[0] == 0.0 and values[-1] > 0.97
    assert abs(values[300] - un.gap_to_unit(3.0)) < 0.1
    state.update(frame(12.01, 2000, voice=1), 12.01)
    state.advance(12.3)
    mid = state.uniforms()["u_gap"]
    assert 0.2 < mid < 0.8     # gently, not at once
    state.advance(15.0)
    assert state.uniforms()["u_gap"] < 0.01


def test_pitch_is_held_while_unvoiced():
    state = run(100, 1.0, lambda t: {"pitch_hz": 400.0, "voice": 1.0})
    held = state.uniforms()["u_pitch"]
    assert held == pytest.approx(un.pitch_to_unit(400.0), abs=1e-4)
    run(100, 2.0, lambda t: {"pitch_hz": 0.0}, state=state, start=1.01)
    assert state.uniforms()["u_pitch"] == pytest.approx(held, abs=1e-4)
    assert state.uniforms()["u_pitch_hz"] == 0.0


def test_time_going_backwards_is_ignored():
    state = UniformState()
    state.update(frame(0.0, 0, onset=1), 1.0)
    state.advance(0.5)
    assert state.uniforms()["u_onset_pulse"] == 1.0
    assert state.time == 1.0


# -- controls and parameters ----------------------------------------------------------
def test_master_is_smoothed_and_blackout_ramps_to_exactly_black():
    state = UniformState()
    state.update(None, 0.0)
    state.set_master(2.0)
    assert state.uniforms()["u_master"] == 1.0
    state.set_master(0.0)
    state.advance(0.15)
    assert state.uniforms()["u_master"] == pytest.approx(math.exp(-1))
    state.set_blackout(True)
    state.advance(0.65)
    assert state.uniforms()["u_blackout"] == pytest.approx(0.5)
    state.advance(2.0)
    assert state.uniforms()["u_blackout"] == 1.0
    state.set_blackout(False)
    state.advance(3.0)
    assert state.uniforms()["u_blackout"] == 0.0


def test_params_default_clamp_and_reject_unknown():
    header = {"INPUTS": [{"NAME": "glow", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0, "MAX": 1},
                         {"NAME": "on", "TYPE": "bool", "DEFAULT": False}]}
    inputs = sc.header_inputs(header)
    state = UniformState()
    state.set_params(inputs, {"glow": 3})
    assert state.uniforms()["p_glow"] == 1.0 and state.uniforms()["p_on"] is False
    state.set_param("on", 1)
    assert state.uniforms()["p_on"] is True
    with pytest.raises(KeyError, match="glo"):
        state.set_param("glo", 1)
    with pytest.raises(KeyError, match="unknown scene parameter"):
        un.param_uniforms(inputs, {"nope": 1})


def test_smoothing_rejects_nonsense():
    with pytest.raises(ValueError, match="voice_s"):
        un.Smoothing(voice_s=0)
    with pytest.raises(ValueError, match="pitch"):
        un.Smoothing(pitch_lo_hz=900)


def test_docs_table_lists_every_uniform():
    text = DOCS.read_text()
    rows = set(re.findall(r"^\|\s*`(u_[a-z_]+)`", text, flags=re.M))
    assert rows == {s.name for s in un.STANDARD_UNIFORMS}


def test_a_blip_of_voice_in_a_long_pause_dims_the_space_but_does_not_close_it():
    state = UniformState()
    for k in range(0, 601):           # a 6 s pause
        t = k / 100
        state.update(frame(t, k, gap_s=t), t)
    open_before = state.uniforms()["u_gap"]
    for k in range(601, 616):         # 0.15 s taken for a word (a pluck, a breath)
        state.update(frame(k / 100, k, voice=1), k / 100)
    for k in range(616, 700):         # the pause goes on; gap_s restarts from the blip
        t = k / 100
        state.update(frame(t, k, gap_s=t - 6.15), t)
    after = state.uniforms()["u_gap"]
    assert open_before > 0.8
    assert after > 0.75 * open_before  # dimmed a little, still open
    # A real sentence (3 s of voice) closes it.
    for k in range(700, 1000):
        state.update(frame(k / 100, k, voice=1), k / 100)
    assert state.uniforms()["u_gap"] < 0.01

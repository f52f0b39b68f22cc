"""Which voice model each engine rate reads: three files, one per family of rates, each with
the cues its family measures."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from installation.analysis.voicemodel import (FAMILY_FEATURES, FITTED_TOP_RATE, VoiceModel,
                                              family, family_path, flux_lag, fold, load_model,
                                              model_path, net_lag, span_scale)
from conftest import REPO


@pytest.mark.parametrize("rate, name", [
    (96000, "hi"), (48000, "hi"), (44100, "hi"), (32000, "hi"),
    (31999, "lo"), (22050, "lo"), (16000, "lo"), (11025, "lo"), (11000, "lo"),
    (10999, "nb"), (8000, "nb"), (4000, "nb")])
def test_each_engine_rate_reads_its_family_s_model(rate, name):
    assert family(rate) == name
    assert model_path(rate) == family_path(name)


@pytest.mark.parametrize("name", ["hi", "lo", "nb"])
def test_every_family_ships_a_model_for_its_cues(name):
    mean, std, wx, *_, step = load_model(family_path(name))
    assert mean.shape == std.shape == (len(FAMILY_FEATURES[name]),)
    assert wx.shape[1] == len(FAMILY_FEATURES[name])
    assert float(step) == (512.0 if name == "hi" else 256.0)


def test_the_lo_and_nb_models_are_two_models():
    lo, nb = load_model(family_path("lo")), load_model(family_path("nb"))
    assert not all(np.array_equal(a, b) for a, b in zip(lo, nb))


@pytest.mark.parametrize("rate", [16000, 8000])
def test_the_detector_at_a_rate_reads_its_family_s_file(rate):
    own = VoiceModel(256 / rate, rate)
    other = family_path("nb" if family(rate) == "lo" else "lo")
    assert np.array_equal(own.wx, fold(load_model(model_path(rate)))[0])
    assert not np.array_equal(own.wx, fold(load_model(other))[0])


def test_an_unknown_family_is_named():
    with pytest.raises(ValueError, match="no model family 'mid'"):
        family_path("mid")


def test_the_spans_scale_only_above_the_rates_a_model_was_fitted_at():
    """Flux's span and the network's step are counted in the engine samples the models
    were fitted with; above the highest rate a family was fitted at they scale, so that
    at 96 kHz they last as long as at 48 (before, the dev speech read 0.860 there)."""
    sys.path.insert(0, str(REPO / "bench"))
    import train_gaps  # noqa: E402  (the rates the models are fitted at)
    for name, rates in train_gaps.FAMILY_RATES.items():
        assert FITTED_TOP_RATE[name] == max(rates)
    block_s = 256 / 96000
    assert span_scale(96000) == 2.0 and span_scale(192000) == 4.0
    assert flux_lag(block_s, 96000) == 2 and net_lag(block_s, 96000, 512) == 4
    for rate in (8000, 16000, 22050, 32000, 44100, 48000):  # every fitted rate and below
        assert span_scale(rate) == 1.0
    assert flux_lag(256 / 48000, 48000) == 1 and net_lag(256 / 48000, 48000, 512) == 2

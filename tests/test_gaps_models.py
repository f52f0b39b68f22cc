"""Which voice model each engine rate reads: three files, one per family of rates, each with
the cues its family measures."""

from __future__ import annotations

import numpy as np
import pytest

from installation.analysis.voicemodel import (FAMILY_FEATURES, VoiceModel, family,
                                              family_path, fold, load_model, model_path)


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

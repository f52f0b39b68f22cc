"""bench/spread_gaps.py scores a model as the product does: the same files, the same
decisions, the same F1 as ``installation gaps`` (its figures are what the seed spread in
docs/benchmarks.md rests on)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from installation.analysis.gaps import gaps_from_frames
from installation.analysis.voicemodel import model_path
from installation.engine.offline import analyse_file, analyse_taps
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import scoring  # noqa: E402
import spread_gaps  # noqa: E402

UNSEEN = REPO / "tests" / "data" / "unseen_voices"


def test_files_are_split_into_dev_held_out_and_extra(tmp_path):
    root = tmp_path / "eval"
    assert spread_gaps.split_of(root / "mix" / "ktuberling_seq01__x__snr+06.wav", root) == "dev"
    assert spread_gaps.split_of(root / "speech" / "ktuberling_seq10.wav", root) == "held-out"
    assert spread_gaps.split_of(root / "mix" / "librivox_0930__x__snr+00.wav",
                                root) == "held-out"
    assert spread_gaps.split_of(tmp_path / "voices" / "mix" / "a.wav", root) == "extra"
    for sub in ("speech", "mix", "music"):
        (root / sub).mkdir(parents=True)
        (root / sub / "a.wav").touch()
    found = spread_gaps.train_gaps.dev_files(root)
    assert sorted(p.parent.name for p in found) == ["mix", "speech"]


@pytest.mark.slow
def test_the_shipped_weights_score_as_the_gaps_command_scores():
    with np.load(model_path(48000)) as z:
        model = dict(z)
    measured = {wav: analyse_taps(wav, sample_rate=48000, block_size=256)
                for wav in sorted(UNSEEN.glob("*.wav"))}
    table = spread_gaps.f1_table(model, measured, 48000, REPO / "tests" / "data" / "eval")
    product = scoring.summarise([
        scoring.score_file(gaps_from_frames(analyse_file(wav)),
                           scoring.load_labels(wav)["gaps"]) for wav in measured])
    assert set(table) == {("extra", "mix+6")}
    assert table[("extra", "mix+6")] == pytest.approx(product["f1"], abs=1e-12)
    assert 0.0 < product["f1"] < 1.0  # a figure that can move, not a trivial one


def test_pooling_two_ensembles_averages_all_their_members():
    """``--pooled`` scores one model of every fitted network: its logit is the mean of all
    members', so two triples pooled read the mean of the two triples' logits."""
    import gru

    with np.load(model_path(48000)) as z:
        shipped = dict(z)
    other = {**shipped, "bx": shipped["bx"] + 0.3, "bo": shipped["bo"] - 0.5}
    pooled = spread_gaps.pool([shipped, other])
    assert len(pooled["bo"]) == 2 * len(shipped["bo"])
    x = np.random.default_rng(0).normal(size=(40, shipped["Wx"].shape[1])).astype(np.float32)
    want = 0.5 * (gru.predict(shipped, x) + gru.predict(other, x))
    np.testing.assert_allclose(gru.predict(pooled, x), want, rtol=1e-5, atol=1e-5)


def test_a_recipe_second_triple_can_be_fitted_alone():
    """``--first-triple 1`` fits seeds 3-5 only (and names its saved file so), and
    ``--voices`` takes another recipe, Asterisk's speakers included."""
    assert spread_gaps.seed_triples(0, 2) == [("seeds 0-2", 0), ("seeds 3-5", 3)]
    assert spread_gaps.seed_triples(1, 1) == [("seeds 3-5", 3)]
    voices = spread_gaps.train_gaps.parse_voices("ktuberling,klettres:music,asterisk")
    assert spread_gaps.train_gaps.family_options("lo", voices)[0] == (
        "ktuberling", "klettres:music", "asterisk")

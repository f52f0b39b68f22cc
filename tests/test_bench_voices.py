"""bench/voices.py's word trimming, which labels the unseen-voices set: known answers on
synthetic words (no download)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import voices  # noqa: E402

SR = voices.SR


def word(parts):
    """Concatenated (seconds, amplitude) stretches of a 300 Hz tone (0: silence)."""
    env = np.concatenate([np.full(int(round(s * SR)), a) for s, a in parts])
    return env * np.sin(2 * np.pi * 300 * np.arange(len(env)) / SR)


def test_a_word_is_trimmed_where_its_level_crosses_40_db_under_its_peak():
    # 0.1 s silence, 0.2 s at full level, 0.1 s at -30 dB (kept), 0.1 s at -50 dB (cut)
    y = word([(0.1, 0.0), (0.2, 0.5), (0.1, 0.5 * 10 ** (-30 / 20)),
              (0.1, 0.5 * 10 ** (-50 / 20)), (0.1, 0.0)])
    w = voices.trim(y)
    assert w is not None
    # the word spans from the first to the last 10 ms window over the threshold: each edge
    # lies up to 10 ms outside the tone; the -50 dB stretch is not the word
    assert len(w) / SR == pytest.approx(0.3 + 2 * 0.010, abs=0.003)


def test_words_that_do_not_trim_cleanly_are_not_used():
    assert voices.trim(word([(0.3, 0.5), (0.1, 0.0)])) is None  # not quiet before it
    assert voices.trim(word([(0.1, 0.0), (0.3, 0.5)])) is None  # nor after it
    # a stretch of 80 ms under the threshold inside it (two words, or a stop's closure)
    assert voices.trim(word([(0.1, 0.0), (0.2, 0.5), (0.08, 0.0), (0.2, 0.5),
                             (0.1, 0.0)])) is None
    # a floor less than 41 dB under its peak
    rng = np.random.default_rng(641)
    noisy = word([(0.1, 0.0), (0.3, 0.5), (0.1, 0.0)]) + 0.5 * 10 ** (-35 / 20) * (
        rng.standard_normal(int(round(0.5 * SR))))
    assert voices.trim(noisy) is None
    # 40 ms under the threshold inside a word is part of it
    assert voices.trim(word([(0.1, 0.0), (0.2, 0.5), (0.04, 0.0), (0.2, 0.5),
                             (0.1, 0.0)])) is not None


def test_a_sequence_joins_words_with_the_labelled_pauses():
    rng = np.random.default_rng(8316)
    pool = [voices.trim(word([(0.1, 0.0), (d, 0.5), (0.1, 0.0)])) for d in
            (0.2, 0.25, 0.3, 0.35, 0.4, 0.45)]
    y, spans = voices.sequence(pool, rng)
    assert 5 <= len(spans) <= 6
    for (a, b), (c, _) in zip(spans, spans[1:]):
        assert 0.040 - 1e-9 <= c - b <= 1.5 + 1e-9  # pauses of 40-1500 ms
        gap = y[int(b * SR) + 1:int(c * SR) - 1]
        assert not gap.any()  # digital silence between the words
        word_rms = np.sqrt(np.mean(y[int(a * SR):int(b * SR)] ** 2))
        assert 20 * np.log10(word_rms) == pytest.approx(-20, abs=3.01)


def test_the_language_folds_hold_out_every_training_language_once():
    """``cv_gaps.py --by-language`` deals the training languages into folds: each language
    is held out exactly once, none of the unseen set's, and a file's language is read from
    its name (English files have none: they stay in every fold's training)."""
    from pathlib import Path

    import cv_gaps

    held = [lang for fold in cv_gaps.LANGUAGE_FOLDS for lang in fold]
    assert sorted(held) == sorted(voices.TRAIN_LANGUAGES)
    assert not set(held) & set(voices.EVAL_LANGUAGES)
    assert cv_gaps.language(Path("voices_ktuberling_lt_02_pink55__synth9001__snr+06.wav")) == "lt"
    assert cv_gaps.language(Path("voices_ktuberling_ca_00.wav")) == "ca"
    assert cv_gaps.language(Path("ktuberling_seq04__nylon_piano_80bpm__snr+06.wav")) is None

"""bench/oracle_gaps.py, the ideal listener that knows the stems: known answers on
synthetic voices and music (tones), so its figures mean what docs/benchmarks.md says."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import oracle_gaps  # noqa: E402

SR = 16000


def tone(freq: float, seconds: float, amp: float) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(round(seconds * SR))) / SR)


def words_of(freq: float, pauses: list[float], amp: float = 0.3):
    """Words of 0.3 s of a ``freq`` tone (25 ms raised-cosine edges: a word's onset does
    not click across the spectrum) with the given pauses between them, 0.2 s of silence
    around; ``(voice, labelled words)``."""
    ramp = np.sin(0.5 * np.pi * np.arange(int(0.025 * SR)) / (0.025 * SR)) ** 2
    edges = np.concatenate([ramp, np.ones(int(0.3 * SR) - 2 * len(ramp)), ramp[::-1]])
    parts, words, t = [np.zeros(int(0.2 * SR))], [], 0.2
    for pause in [*pauses, None]:
        parts.append(tone(freq, 0.3, amp) * edges)
        words.append({"start": t, "end": t + 0.3})
        t += 0.3
        if pause is not None:
            parts.append(np.zeros(int(round(pause * SR))))
            t += pause
    parts.append(np.zeros(int(0.2 * SR)))
    return np.concatenate(parts), words


def test_the_band_edges_follow_the_resolution():
    np.testing.assert_allclose(oracle_gaps.band_edges("octave", SR),
                               [0, 62.5, 125, 250, 500, 1000, 2000, 4000, SR / 2 + 1])
    np.testing.assert_allclose(oracle_gaps.band_edges("detector", SR),
                               [0, 250, 500, 1000, 2000, 4000, SR / 2 + 1])
    third = oracle_gaps.band_edges("third", SR)
    assert len(third) == 1 + 3 * 7 + 1 and third[-2] == pytest.approx(8000 / 2 ** (1 / 3))
    assert oracle_gaps.band_edges("fine", SR) is None
    np.testing.assert_allclose(oracle_gaps.band_edges("detector:62.5:125", SR),
                               [0, 62.5, 125, 250, 500, 1000, 2000, 4000, SR / 2 + 1])
    assert oracle_gaps.valid_resolution("detector:125")
    assert not oracle_gaps.valid_resolution("octave:125")
    assert not oracle_gaps.valid_resolution("detector:x")


def test_a_voice_the_music_does_not_cover_keeps_its_labelled_gaps():
    voice, words = words_of(200.0, [0.15, 0.4])
    music = tone(1000.0, len(voice) / SR, 0.3)  # louder, but in a band of its own
    for resolution in ("fine", "octave", "detector"):
        ext = oracle_gaps.audible_extents(voice, music, SR, words, resolution)
        gaps = oracle_gaps.oracle_gaps(ext)
        assert [(round(g["start"], 2), round(g["end"], 2)) for g in gaps] == [
            (0.5, 0.65), (0.95, 1.35)], resolution


def test_music_in_the_voice_band_masks_it_only_where_the_cells_are_shared():
    """A 70 Hz bass twice the voice's level (and a 350 Hz note over what the voice's 200 Hz
    spills into the next band): the detector's band under 250 Hz holds both, so the voice
    is masked whole and no gap is heard; octaves split at 125 Hz keep the voice in a band
    of its own, and every gap is heard where it is labelled."""
    voice, words = words_of(200.0, [0.15, 0.4])
    music = tone(70.0, len(voice) / SR, 0.6) + tone(350.0, len(voice) / SR, 0.6)
    masked = oracle_gaps.audible_extents(voice, music, SR, words, "detector")
    assert masked == [None, None, None]
    assert oracle_gaps.oracle_gaps(masked) == []
    heard = oracle_gaps.oracle_gaps(oracle_gaps.audible_extents(voice, music, SR, words,
                                                                "octave"))
    # the bass's spill into the voice's band hides the first 10 ms of each word's ramp
    assert [(g["start"], g["end"]) for g in heard] == [
        pytest.approx((0.5, 0.65), abs=0.015), pytest.approx((0.95, 1.35), abs=0.015)]


def test_widening_moves_the_word_edges_and_drops_pauses_under_100_ms():
    ext = [(0.2, 0.5), (0.65, 0.95), (1.04, 1.3)]
    assert oracle_gaps.oracle_gaps(ext) == [{"start": 0.5, "end": 0.65}]
    assert oracle_gaps.oracle_gaps(ext, earlier_s=0.02, later_s=0.01) == [
        {"start": 0.51, "end": pytest.approx(0.63)}]
    assert oracle_gaps.oracle_gaps([(0.2, 0.5), None, (0.8, 1.0)]) == [
        {"start": 0.5, "end": 0.8}]  # a word masked whole merges its pauses


def test_the_stems_of_a_mix_are_its_speech_times_a_gain_and_the_rest(tmp_path):
    voice, words = words_of(300.0, [0.2])
    music = tone(523.0, len(voice) / SR, 0.05) + 0.01 * np.random.default_rng(0).normal(
        size=len(voice))
    (tmp_path / "speech").mkdir()
    (tmp_path / "mix").mkdir()
    sf.write(tmp_path / "speech" / "a.wav", voice, SR, subtype="FLOAT")
    sf.write(tmp_path / "mix" / "a.wav", 0.5 * voice + music, SR, subtype="FLOAT")
    (tmp_path / "mix" / "a.json").write_text(json.dumps(
        {"kind": "mix", "words": words, "gaps": [],
         "mix": {"speech": "speech/a.wav", "music": "tones", "snr_db": 6.0}}))
    v, m, sr, labels = oracle_gaps.stems(tmp_path / "mix" / "a.wav")
    assert sr == SR and labels["mix"]["snr_db"] == 6.0
    np.testing.assert_allclose(v, 0.5 * voice, atol=2e-3)
    np.testing.assert_allclose(m, music, atol=2e-3)


def test_without_the_stems_a_steady_note_is_learnt_from_the_past_and_heard_through():
    """``--music estimated``: the listener knows only the mixture. A steady chord (150,
    450 and 700 Hz, each twice the voice's level) is estimated from the last 2 s; at fine
    resolution the voice's 350 Hz stands 6 dB over that estimate in its own bins and every
    gap is heard in place, while in the detector's bands (250-500 Hz holds both the voice
    and a note; the notes cover what the voice spills into the bands beside) the mixture
    never stands 6 dB over the chord and the voice is lost."""
    voice, words = words_of(350.0, [0.15, 0.4])
    seconds = len(voice) / SR
    music = tone(150.0, seconds, 0.6) + tone(450.0, seconds, 0.6) + tone(700.0, seconds, 0.6)
    fine = oracle_gaps.oracle_gaps(oracle_gaps.audible_extents(voice, music, SR, words,
                                                               "fine", estimated=True))
    assert [(g["start"], g["end"]) for g in fine] == [
        pytest.approx((0.5, 0.65), abs=0.015), pytest.approx((0.95, 1.35), abs=0.015)]
    assert oracle_gaps.audible_extents(voice, music, SR, words, "detector",
                                       estimated=True) == [None, None, None]


def test_the_estimated_music_looks_only_back():
    loud = np.ones((700, 3))
    loud[1:] = 100.0  # loud from frame 1
    est = oracle_gaps.estimated_music(loud)
    assert (est[:2] == 1.0).all()  # frame 1 sees frame 0 only, not itself
    assert (est[-1] == 100.0).all()  # 2 s (400 frames) on, the past is all loud

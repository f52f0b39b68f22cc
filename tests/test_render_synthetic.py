"""installation.render.synthetic: scripted feature frames (no GL)."""

from __future__ import annotations

import pytest

from installation.features import FLOOR_DB
from installation.render.synthetic import BLOCK_S, Segment, demo_script, synthesize


def test_blocks_cover_the_duration():
    frames = synthesize([], duration=1.0)
    assert len(frames) == 188                          # 187.5 blocks: the last one spills
    assert frames[0].time == pytest.approx(BLOCK_S)
    assert 1.0 <= frames[-1].time < 1.0 + BLOCK_S
    assert [f.block for f in frames[:3]] == [0, 1, 2]
    assert all(f.level_rms_db == FLOOR_DB and f.voice == 0 for f in frames)
    assert frames[-1].gap_s == frames[-1].time         # before the first word: from start


def test_word_sets_voice_onset_pitch_and_gap():
    frames = synthesize([Segment(0.5, 1.0, voice=True, level_db=-12.0, pitch_hz=200.0)],
                        duration=2.0)
    speaking = [f for f in frames if f.voice == 1.0]
    assert speaking[0].time == pytest.approx(0.5, abs=BLOCK_S)
    assert speaking[-1].time == pytest.approx(1.0, abs=BLOCK_S)
    assert all(f.gap_s == 0 and 180 < f.pitch_hz < 220 for f in speaking)
    assert sum(f.onset for f in frames) == 1.0
    onset = next(f for f in frames if f.onset)
    assert onset.time - BLOCK_S <= 0.5 < onset.time
    assert frames[-1].gap_s == pytest.approx(1.0)
    assert frames[-1].pitch_hz == 0.0


def test_levels_add_as_power_and_music_onsets_repeat():
    frames = synthesize([Segment(0.0, 1.0, level_db=-20.0, onsets_per_s=4.0),
                         Segment(0.0, 1.0, level_db=-20.0)], duration=1.0)
    assert frames[10].level_rms_db == pytest.approx(-20.0 + 3.0103, abs=1e-3)
    assert sum(f.onset for f in frames) == 4.0
    assert all(f.voice == 0 for f in frames)


def test_demo_script_has_words_and_growing_pauses():
    segs = demo_script(30.0)
    words = [s for s in segs if s.voice]
    pauses = [b.start - a.end for a, b in zip(words, words[1:])]
    assert len(words) > 8
    assert max(pauses) > 3 * min(pauses)
    assert all(s.end <= 30.0 for s in segs)


@pytest.mark.parametrize("start, end", [(1.0, 1.0), (-1.0, 2.0), (2.0, 1.0)])
def test_bad_segments(start, end):
    with pytest.raises(ValueError, match="segment"):
        Segment(start, end)


def test_bad_duration():
    with pytest.raises(ValueError, match="duration"):
        synthesize([], duration=0.0)

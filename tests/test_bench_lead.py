"""bench_gaps.py --lead (every file heard after some digital silence, scored against its
labels moved by as much) and --dc (every file with a DC offset added)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import bench_gaps  # noqa: E402

SPEECH = REPO / "tests" / "data" / "eval_subset" / "ktuberling_seq11.wav"


def test_the_copy_is_the_file_after_that_much_digital_silence(tmp_path):
    y, sr = sf.read(str(SPEECH), dtype="float32")
    out = bench_gaps.heard_copy(SPEECH, tmp_path, lead_s=0.5)
    z, sr_out = sf.read(str(out), dtype="float32")
    assert sr_out == sr and out.name == SPEECH.name
    lead = int(round(0.5 * sr))
    assert not z[:lead].any()
    np.testing.assert_array_equal(z[lead:], y)


def test_every_time_of_a_gap_moves():
    gaps = [{"start": 1.0, "end": 1.5, "emitted_at": 1.06}]
    assert bench_gaps.shifted(gaps, -0.25) == [{"start": 0.75, "end": 1.25,
                                                "emitted_at": 0.81}]


def test_speech_after_a_silence_has_the_same_gaps_moved(tmp_path):
    """A speech file already begins in digital silence: a second more of it (a whole number
    of blocks, so that every block holds what it held) moves its gaps by as much, each
    boundary within a block (the floors' segments are timed from the stream's start)."""
    rate = 48000
    lead = 192 * 256 / rate
    plain = bench_gaps.ours(SPEECH, rate)[0]
    heard = bench_gaps.heard_copy(SPEECH, tmp_path, lead_s=lead)
    later = bench_gaps.shifted(bench_gaps.ours(heard, rate)[0], -lead)
    assert len(later) == len(plain) >= 4
    for a, b in zip(plain, later):
        assert b["start"] == pytest.approx(a["start"], abs=256 / rate + 1e-6)
        assert b["end"] == pytest.approx(a["end"], abs=256 / rate + 1e-6)


def test_the_dc_copy_is_the_file_plus_the_offset(tmp_path):
    """bench_gaps.py --dc: every sample moved by the offset, nothing else."""
    y, sr = sf.read(str(SPEECH), dtype="float32")
    out = bench_gaps.heard_copy(SPEECH, tmp_path, dc_db=-40.0)
    z, sr_out = sf.read(str(out), dtype="float32")
    assert sr_out == sr and out.name == SPEECH.name
    np.testing.assert_allclose(z - y, 0.01, atol=1e-6)

"""After a long digital silence the partial meter hears the next sound as a new stream's.

A song that comes back after a pause between cues (or a show whose music starts after the
engine) was heard against the silence: the partial meter's backgrounds started at -300 dB
and climbed 15 dB/s, so the music's partials stayed "fresh", like a voice's, for ~20 s.
Known answers: after ``gap_restart_s`` of digital silence the meter gives, to the bit,
what a fresh stream gives on the same blocks; after less, it does not restart; and the
whole engine at 16 kHz finds as many labelled gaps in a mix heard after two seconds of
silence as in the mix alone, where without the restart it finds fewer. The voice
model's floors keep the silence on purpose (a word after a silence is heard against it:
docs/benchmarks.md, "Music after digital silence").
"""

from __future__ import annotations

import json
import sys

import numpy as np
import soundfile as sf

from installation.analysis.gaps import gaps_from_frames
from installation.analysis.partials import FIRST_PARTIAL_TAP, PARTIAL_TAPS, PartialMeter
from installation.analysis.taps import RESTART_S, TAP_INDEX, TAPS, restart_blocks
from installation.config import AnalysisConfig
from installation.engine.offline import analyse_file
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import bench_gaps  # noqa: E402
import scoring  # noqa: E402

MIX = REPO / "tests" / "data" / "eval_subset" / "ktuberling_seq10__nylon_piano_80bpm__snr+00.wav"
RATE = 16000  # the lo model reads the partial meter
BLOCK = 256
BLOCK_S = BLOCK / RATE


def test_restart_blocks_last_the_restart_time():
    assert restart_blocks(BLOCK_S, 1.5) == 94  # 93.75 blocks of 16 ms
    assert restart_blocks(0.032, 1.5) == 47
    assert restart_blocks(BLOCK_S, 0.016) == 1
    assert restart_blocks(BLOCK_S, 0.0) == 0


def _cues(blocks: list[np.ndarray], restart_s: float = RESTART_S) -> np.ndarray:
    meter = PartialMeter(RATE, BLOCK, restart_s)
    out = np.zeros((len(blocks), len(PARTIAL_TAPS)))
    row = np.zeros(len(TAPS))
    for i, samples in enumerate(blocks):
        row[TAP_INDEX["fast_blk"]] = np.mean(samples ** 2)  # what the band meter writes
        meter.measure(samples, row)
        out[i] = row[FIRST_PARTIAL_TAP:FIRST_PARTIAL_TAP + len(PARTIAL_TAPS)]
    return out


def test_after_the_restart_time_the_partial_meter_hears_a_fresh_stream():
    y, rate = sf.read(str(MIX), dtype="float64", frames=8 * RATE)
    assert rate == RATE
    blocks = [y[i:i + BLOCK].copy() for i in range(0, len(y) - BLOCK + 1, BLOCK)]
    fresh = _cues(blocks)
    n = restart_blocks(BLOCK_S, RESTART_S)
    after = _cues([np.zeros(BLOCK)] * n + blocks)
    np.testing.assert_array_equal(after[n:], fresh)
    # a silence is digital under -120 dB, not only at 0: a float bus's residue at -130 dB
    hiss = np.random.default_rng(8316).standard_normal((n, BLOCK)) * 10 ** (-130 / 20)
    np.testing.assert_array_equal(_cues(list(hiss) + blocks)[n:], fresh)
    assert np.count_nonzero(fresh[:, 0]) > len(blocks) // 4  # cues to lose
    short = _cues([np.zeros(BLOCK)] * (n - 1) + blocks)[n - 1:]
    assert not np.array_equal(short, fresh)  # the backgrounds start from the silence
    kept = _cues([np.zeros(BLOCK)] * n + blocks, restart_s=0.0)[n:]
    assert np.mean(kept[:, 0]) > np.mean(fresh[:, 0]) + 0.1  # the music stays fresh


def _found(gaps: list[dict], labels: list[dict], shift: float = 0.0) -> int:
    """Labelled gaps (>= 100 ms) that the detected ones, moved back by ``shift``, match
    (the benchmark's scorer: IoU >= 0.5, one to one)."""
    return scoring.score_file(bench_gaps.shifted(gaps, -shift), labels).tp


def test_the_engine_finds_the_gaps_after_two_seconds_of_silence(tmp_path):
    """The whole engine (pyo graph, band and partial meters, detector) on a mix at 0 dB,
    alone and after 2 s of digital silence. With the restart it finds as many of the
    labelled gaps after the silence as in the mix alone; with none, fewer. (Not to the bit:
    the band floors keep the silence for 3 s, and pyo's YIN frames fall elsewhere in a
    stream 2 s longer, so the voicing differs from block to block.) The lo model before
    R48 found 3 alone, 4 after the silence and 1 without the restart; R48's finds 2, 3
    and 2 here, and over the eval set's mixes after 2 s of silence (``bench_gaps.py --lead
    2``, 16 kHz) reads 4.537 summed over the six mix cells with the restart and 3.772
    without."""
    y, rate = sf.read(str(MIX), dtype="float64")
    labels = json.loads(MIX.with_suffix(".json").read_text())["gaps"]
    lead = tmp_path / "lead.wav"
    sf.write(str(lead), np.concatenate([np.zeros(2 * rate), y]), rate, subtype="FLOAT")

    def found_after(restart_s: float) -> int:
        settings = AnalysisConfig(gap_restart_s=restart_s)
        return _found(gaps_from_frames(analyse_file(lead, sample_rate=RATE,
                                                    settings=settings)), labels, shift=2.0)

    plain = _found(gaps_from_frames(analyse_file(MIX, sample_rate=RATE)), labels)
    assert plain >= 2  # gaps to lose
    restarted = found_after(RESTART_S)
    assert restarted >= plain
    assert found_after(0.0) < restarted


def test_every_cue_after_a_pause_is_heard_as_the_first():
    """A show's soundtrack, cue after cue with pauses between them, for as long as it
    runs: each cue's cues are the first one's, to the bit (nothing drifts or piles up)."""
    y, _ = sf.read(str(MIX), dtype="float64", frames=3 * RATE)
    song = [y[i:i + BLOCK].copy() for i in range(0, len(y) - BLOCK + 1, BLOCK)]
    pause = [np.zeros(BLOCK)] * (restart_blocks(BLOCK_S, RESTART_S) + 5)
    cues = _cues((song + pause) * 6)
    first = cues[:len(song)]
    for cue in range(1, 6):
        at = cue * (len(song) + len(pause))
        np.testing.assert_array_equal(cues[at:at + len(song)], first)

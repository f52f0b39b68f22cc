"""The scorer (bench/scoring.py) and an F1 floor on a fixed subset of the eval set.

The subset (tests/data/eval_subset, README there) holds held-out files only: speech
sources the detector's model never saw in training.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from installation.analysis.gaps import gaps_from_frames
from installation.engine.offline import analyse_file
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import scoring  # noqa: E402

SUBSET = REPO / "tests" / "data" / "eval_subset"


def test_iou_and_one_to_one_matching():
    assert scoring.iou((0, 1), (0.5, 1.5)) == pytest.approx(1 / 3)
    assert scoring.iou((0, 1), (2, 3)) == 0.0
    labels = [{"start": 1.0, "end": 1.2}, {"start": 2.0, "end": 2.5}]
    found = [{"start": 1.02, "end": 1.21, "emitted_at": 1.1},   # match
             {"start": 1.05, "end": 1.25},                      # worse duplicate: FP
             {"start": 2.3, "end": 2.9},                        # IoU 0.2: FP
             {"start": 5.0, "end": 5.05}]                       # < 100 ms: ignored
    s = scoring.score_file(found, labels)
    assert (s.tp, s.fp, s.fn) == (1, 2, 1)
    assert s.start_err[0] == pytest.approx(0.02) and s.delay[0] == pytest.approx(0.1)
    summary = scoring.summarise([s])
    assert summary["precision"] == pytest.approx(1 / 3) and summary["recall"] == 0.5
    assert summary["f1"] == pytest.approx(0.4)


def test_anchor_decisions_become_gaps_the_same_way():
    dec = [0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]  # 30 ms frames
    gaps = scoring.gaps_from_decisions([bool(v) for v in dec], 0.03)
    # 4 frames (120 ms) between speech: a gap; 2 frames (60 ms): not; no gap at the edges.
    assert [(round(g["start"], 3), round(g["end"], 3)) for g in gaps] == [(0.09, 0.21)]


def _subset_scores() -> dict[str, list]:
    out: dict[str, list] = {}
    for wav in sorted(SUBSET.glob("*.wav")):
        labels = scoring.load_labels(wav)
        gaps = gaps_from_frames(analyse_file(wav))
        out.setdefault(scoring.label_kind(labels), []).append(
            scoring.score_file(gaps, labels["gaps"]))
    return out


@pytest.mark.slow
def test_f1_on_the_eval_subset_stays_above_its_floor():
    scores = _subset_scores()
    speech = scoring.summarise(scores["speech"])
    mixes = scoring.summarise([s for k, v in scores.items() if k.startswith("mix") for s in v])
    # Measured: speech 1.0 (9 gaps); the mixes (+12, +6, 0 dB, one held-out file each)
    # 0.71 with the twelfth model (10 found, 4 false, 4 missed), 0.85 with the eleventh. The
    # floor guards against a broken detector and leaves room for one gap either way: the
    # targets are measured in bench/ (docs/benchmarks.md).
    assert speech["f1"] >= 0.9, speech
    assert speech["fp"] == 0  # the LibriVox file has no gap: nothing may be found there
    assert mixes["f1"] >= 0.6, mixes
    assert speech["start_med_ms"] <= 30 and speech["end_med_ms"] <= 30


@pytest.mark.slow
def test_f1_on_unseen_voices_over_unseen_music_stays_above_its_floor():
    """Four speakers and four pieces no model was fitted on (tests/data/unseen_voices): the
    detector must not know only the eval set's voices. Measured: the twelfth model 0.79 (13
    found, 2 false, 5 missed), the tenth 0.75 (12 / 2 / 6), the ninth, fitted on the eval
    set's voices alone, 0.53."""
    scores = []
    for wav in sorted((REPO / "tests" / "data" / "unseen_voices").glob("*.wav")):
        gaps = gaps_from_frames(analyse_file(wav))
        scores.append(scoring.score_file(gaps, scoring.load_labels(wav)["gaps"]))
    s = scoring.summarise(scores)
    assert s["tp"] + s["fn"] == 18
    assert s["f1"] >= 0.65, s


def test_gaps_command_prints_a_json_array():
    wav = SUBSET / "ktuberling_seq11.wav"
    res = subprocess.run([sys.executable, "-m", "installation", "gaps", str(wav), "--json"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    gaps = json.loads(res.stdout)
    assert isinstance(gaps, list) and gaps
    assert set(gaps[0]) == {"start", "end", "emitted_at"}
    assert all(g["end"] - g["start"] >= 0.1 and g["emitted_at"] > g["start"] for g in gaps)
    labels = scoring.load_labels(wav)
    assert scoring.summarise([scoring.score_file(gaps, labels["gaps"])])["f1"] >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize("kind, rate, under_db", [
    ("buzz50", 48000, 30.0), ("hum60", 48000, 30.0), ("buzz50", 44100, 30.0),
    ("buzz50", 16000, 30.0), ("buzz50", 16000, 20.0), ("buzz50", 8000, 30.0),
    ("buzz50", 8000, 20.0)])
def test_a_mains_hum_under_the_words_does_not_hide_the_gaps(tmp_path, kind, rate, under_db):
    """A ground loop's hum or buzz beats within the bands' window: the network hears its
    ripple as a changing spectrum and, without the floor gate, holds words through pauses
    (bench/bench_floors.py: F1 0.44 on the held-out speech under the 50 Hz buzz). At
    44.1 kHz a gate on each block's levels was not enough (0.67 here): it reads 20 ms
    means. At 16 and 8 kHz a ~10 ms window sees part of each 16 or 32 ms block, and the
    floor of those windows read 3 dB under the mean of every sample (0.62 here at 8 kHz):
    the gate reads every sample of its blocks, over the floor of the same means."""
    import floors
    import soundfile as sf

    found = []
    for i, name in enumerate(("ktuberling_seq11", "ktuberling_seq12_pink55")):
        wav = SUBSET / f"{name}.wav"
        labels = scoring.load_labels(wav)
        y, sr = sf.read(str(wav), dtype="float64")
        noisy = tmp_path / f"{name}_{kind}.wav"
        sf.write(str(noisy), floors.under(y, sr, labels["words"], kind, under_db,
                                          np.random.default_rng(i)), sr, subtype="FLOAT")
        found.append(scoring.score_file(gaps_from_frames(analyse_file(noisy, sample_rate=rate)),
                                        labels["gaps"]))
    s = scoring.summarise(found)
    # Measured: 9 of 9 gaps under each (F1 1.0), starts and ends within 6-11 ms; with
    # gap_gate_db = 0 (no gate): 0.62 and 0.67.
    assert s["f1"] >= 0.85, s
    # 20 dB under (a very loud room) the gate decides more of the boundaries: its means
    # span 32 ms at 16 kHz, and starts read 38 ms late here.
    limit = 30 if under_db >= 30 else 50
    assert s["start_med_ms"] <= limit and s["end_med_ms"] <= limit, s


@pytest.mark.slow
def test_a_reverberant_room_does_not_fill_the_pauses(tmp_path):
    """The same held-out words in a room (RT60 0.6 s, its reverberation 3 dB under the dry
    voice): the tail runs on into every pause, and a pause still begins where the voice
    stopped (the model was fitted on rooms like it, never on these voices)."""
    import floors
    import soundfile as sf

    found = []
    for i, name in enumerate(("ktuberling_seq11", "ktuberling_seq12_pink55")):
        wav = SUBSET / f"{name}.wav"
        labels = scoring.load_labels(wav)
        y, sr = sf.read(str(wav), dtype="float64")
        words = floors.word_mask(len(y), sr, labels["words"])
        y = y + floors.room_tail(y, sr, words, 0.6, np.random.default_rng(i)) * 10 ** (-3 / 20)
        room = tmp_path / f"{name}_room.wav"
        sf.write(str(room), y * min(1.0, 0.98 / np.abs(y).max()), sr, subtype="FLOAT")
        found.append(scoring.score_file(gaps_from_frames(analyse_file(room)), labels["gaps"]))
    s = scoring.summarise(found)
    # Measured: 8 of 9 gaps and one false (F1 0.89), their ends within 4 ms. Their starts:
    # a median 89 ms off with the thirteenth model, which ends four of these words 63-235 ms
    # early in this room (60 ms with the twelfth; over every room of bench_floors.py the
    # thirteenth's medians are 17-50 ms, the twelfth's 18-43: docs/benchmarks.md, "The
    # thirteenth model"). The model fitted without rooms: 4 of 9 (0.53), starts 103 ms late.
    assert s["f1"] >= 0.85, s
    assert s["start_med_ms"] <= 95 and s["end_med_ms"] <= 30, s

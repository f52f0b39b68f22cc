"""Scoring the gap detector and the anchors on altered copies of labelled files: the
machinery shared by ``bench_floors.py`` (floors, rooms) and ``bench_levels.py`` (input
levels).

A *job* is ``(condition, labelled wav, altered copy)``: the copy is what every method hears,
the labelled wav's labels are what it is scored against. Our detector runs the real pyo
graph over every copy (``cv_gaps.analyse``, two processes), once, and each detector setting
is decided from the same tap rows; WebRTC VAD (modes 0, 3) and Silero VAD hear the same copy
in the same run, as the engine hears it (``bench_gaps.read_anchor``: at 16 kHz, or at 8 kHz
beside an engine under 16 kHz).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

import bench_gaps
import cv_gaps
import scoring
from bench_gaps import webrtc

from installation.analysis.frames import FrameBuilder
from installation.analysis.gaps import gaps_from_frames
from installation.config import AnalysisConfig

BLOCK = 256
ANCHORS = ("webrtc0", "webrtc3", "silero")
KIND_ORDER = ("speech", "mix+12", "mix+6", "mix+0")

Job = tuple[Hashable, Path, Path]
Scores = dict[tuple[Hashable, str, str], list]


def score_jobs(jobs: Sequence[Job], rate: int, settings: dict[str, AnalysisConfig],
               silero: bench_gaps.Silero | None,
               group_of: Callable[[Path, dict], str]) -> Scores:
    """``{(condition, group, method): [FileScore]}`` over ``jobs``: ours under each named
    detector ``settings`` (engine at ``rate``), and the anchors unless ``silero`` is None.
    ``group_of(labelled wav, its labels)`` names the row a file counts in (e.g. its split)."""
    rows = cv_gaps.analyse([heard for _, _, heard in jobs], rate)
    scores: Scores = {}
    for condition, wav, heard in jobs:
        labels = scoring.load_labels(wav)
        group = group_of(wav, labels)
        taps, pitch_rate = rows[heard]
        found = {}
        for name, s in settings.items():
            frames = FrameBuilder(rate, BLOCK, pitch_rate, s).push_many(taps)
            found[name] = gaps_from_frames(frames, s.gap_min_s)
        if silero is not None:
            y, r = bench_gaps.read_anchor(heard, rate)
            for m in (0, 3):
                found[f"webrtc{m}"] = webrtc(y, m, r)
            found["silero"] = silero.gaps(y, r)
        for m, g in found.items():
            scores.setdefault((condition, group, m), []).append(
                scoring.score_file(g, labels["gaps"]))
    return scores


def groups(scores: Scores) -> list[str]:
    """The groups in ``scores``: speech first, then the mixes by falling SNR (a group is a
    split, or "kind, split")."""
    def rank(group: str) -> tuple[int, str]:
        kind = group.split(", ")[0]
        return (KIND_ORDER.index(kind) if kind in KIND_ORDER else 0, group)

    return sorted({key[1] for key in scores}, key=rank)


def table(scores: Scores, rows: Sequence[tuple[Hashable, Sequence[str]]],
          headers: Sequence[str], methods: Sequence[str],
          key: Callable[[Hashable, str, str], str]) -> tuple[list[str], dict]:
    """A markdown table, one row per (condition, group): ``rows`` gives each condition and
    its leading cells (under ``headers``), then a "group" column and each method's F1
    (found / false / missed). Returns the lines and every summary under ``key(condition,
    group, method)``."""
    lines = ["| " + " | ".join([*headers, "split", *methods]) + " |",
             "|" + "---|" * (len(headers) + 1 + len(methods))]
    result = {}
    for condition, cells in rows:
        for group in groups(scores):
            if (condition, group, methods[0]) not in scores:
                continue
            out = []
            for m in methods:
                s = scoring.summarise(scores[(condition, group, m)])
                result[key(condition, group, m)] = s
                out.append(f"{s['f1']:.3f} ({s['tp']}/{s['fp']}/{s['fn']})")
            lines.append("| " + " | ".join([*cells, group, *out]) + " |")
    return lines, result


def report(lines: list[str], result: dict, json_path: Path | None) -> int:
    """Print the table's ``lines``; write ``result`` to ``json_path`` if given. Returns 0,
    the bench's exit status."""
    print("\n".join(lines))
    if json_path:
        json_path.write_text(json.dumps(result, indent=1))
    return 0

"""bench/bench_expected.py's scoring of the expected gap length: known answers on made-up
gaps (no download, no analysis)."""

from __future__ import annotations

import math
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import bench_expected  # noqa: E402


def gap(length, first, at=None):
    """A gap as ``bench_expected.pauses`` records it: its length, gap_expected on its first
    block (50 ms in) and at the checkpoints it lasted to, ``{checkpoint: expected}``."""
    marks = {None: (0.05, first)}
    marks.update({c: (c, v) for c, v in (at or {}).items()})
    return {"length": length, "first": first, "at": marks}


def test_each_guess_is_scored_by_its_log_ratio_to_the_length():
    found = [gap(0.4, 0.4), gap(0.8, 0.4, {0.25: 0.8, 0.5: 0.8}), gap(0.2, 0.8)]
    table = bench_expected.score(found)
    start = table["start"]
    # ours at the start: |log2| of 1, 1/2 and 4 -> 0, 1, 2: median 1, one within x1.5
    assert start["ours"] == (3, pytest.approx(1.0), pytest.approx(1 / 3))
    assert start["held"] == start["ours"]  # the same value on the first block
    # the hindsight median (0.4 s) never under the time elapsed: 0, 1, 1
    assert start["hindsight median, >= elapsed"][1] == pytest.approx(1.0)
    # only the 0.8 s gap lasted 0.25 and 0.5 s, where ours guessed right
    assert table["0.25 s"]["ours"] == (1, 0.0, 1.0)
    half = table["0.5 s"]
    assert half["ours"][:2] == (1, 0.0)
    assert half["held"][1] == pytest.approx(1.0)  # 0.4 held: off by 2
    assert half["held, >= elapsed"][1] == pytest.approx(math.log2(0.8 / 0.5))
    assert table["1 s"]["ours"][0] == 0  # no gap lasted that long


def test_a_checkpoint_the_gap_did_not_outlast_is_not_scored():
    # gap_s reached 0.25 s before the next word was confirmed, but the gap (back-dated)
    # lasted only 0.2 s: nothing is scored there
    table = bench_expected.score([gap(0.2, 0.4, {0.25: 0.5})])
    assert table["0.25 s"]["ours"][0] == 0
    assert table["start"]["ours"][0] == 1

"""bench/reread.py: a file read again in one process must give its first read's taps."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from conftest import REPO, sine, write_wav

sys.path.insert(0, str(REPO / "bench"))
import reread  # noqa: E402
from installation.analysis.taps import TAPS  # noqa: E402


def test_a_differing_tap_is_named_and_nan_equals_nan():
    first = np.zeros((4, len(TAPS)))
    first[:, TAPS.index("xy_hi")] = np.nan
    assert reread.differing_taps(first.copy(), first) == []
    rows = first.copy()
    rows[2:, TAPS.index("xy_hi")] = 0.5  # finite where the first read was NaN
    rows[3, TAPS.index("lag")] = 41.0
    assert reread.differing_taps(rows, first) == ["lag (1 blocks)", "xy_hi (2 blocks)"]
    assert reread.differing_taps(rows[:3], first) == [f"shape {(3, len(TAPS))} against "
                                                      f"{(4, len(TAPS))}"]


def test_every_read_of_a_folder_agrees_and_the_status_says_so(tmp_path):
    (tmp_path / "speech").mkdir()
    (tmp_path / "mix").mkdir()
    rate = 8000
    write_wav(tmp_path / "speech" / "a.wav", sine(180.0, 0.5, rate, 0.3), rate)
    noise = np.random.default_rng(641).standard_normal(rate // 2) * 0.05
    write_wav(tmp_path / "mix" / "b.wav", noise + sine(220.0, 0.5, rate, 0.2), rate)
    res = subprocess.run([sys.executable, str(REPO / "bench" / "reread.py"), "--eval",
                          str(tmp_path), "--rate", str(rate), "--reads", "3"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "6 reads at 8000 Hz: 0 differed from the file's first read, 0 held a non-finite " \
           "tap" in res.stdout

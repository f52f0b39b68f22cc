"""Read the same files again and again in one process: the analysis must give the same tap
rows every time, to the bit, and never a non-finite one.

    .venv/bin/python bench/reread.py [--eval /work/shared/eval] [--rate 8000] [--reads 6]

Every ``speech/*.wav`` and ``mix/*.wav`` of the eval folder is analysed ``--reads`` times,
in turn (the whole list, then the whole list again), each read's tap rows compared with the
first read of the same file. What one read leaves behind in the process (the heap, pyo's
servers) is what the next one starts on, so this looks where a single read cannot. Two runs
of it at once, beside a busy loop, found pyo's ``Delay`` reading past its buffer (a NaN tap
in about one read of 150) and every analysis keeping its server alive (the 256th failed to
boot): docs/architecture.md, "Faults of pyo 1.1.0". Whether a fault like the first
shows depends on what the heap held, so a clean run is evidence, not proof; valgrind over
one analysis is the proof (``PYTHONMALLOC=malloc valgrind .venv/bin/python ...``).
Exit status 1 if any read differed or held a non-finite tap.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("PYO_GUI_WX", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

from train_gaps import dev_files  # noqa: E402

from installation.analysis.taps import TAPS  # noqa: E402
from installation.engine.offline import analyse_taps  # noqa: E402


def differing_taps(rows: np.ndarray, first: np.ndarray) -> list[str]:
    """The taps whose values differ between two reads of one file (NaN equals NaN), each
    with how many blocks differ."""
    if rows.shape != first.shape:
        return [f"shape {rows.shape} against {first.shape}"]
    same = (rows == first) | (np.isnan(rows) & np.isnan(first))
    return [f"{TAPS[c]} ({int((~same[:, c]).sum())} blocks)"
            for c in range(rows.shape[1]) if not same[:, c].all()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=Path("/work/shared/eval"),
                    help="eval folder (speech/ and mix/ wavs)")
    ap.add_argument("--rate", type=int, default=8000, help="engine rate (Hz)")
    ap.add_argument("--reads", type=int, default=6, help="reads of every file")
    args = ap.parse_args()
    files = dev_files(args.eval)
    if not files:
        ap.error(f"{args.eval}: no speech/*.wav or mix/*.wav")
    first: dict[Path, np.ndarray] = {}
    differed = nonfinite = 0
    t0 = time.monotonic()
    for k in range(args.reads):
        for wav in files:
            rows, _ = analyse_taps(wav, sample_rate=args.rate)
            if not np.isfinite(rows).all():
                nonfinite += 1
                bad = sorted({TAPS[c] for c in np.argwhere(~np.isfinite(rows))[:, 1]})
                print(f"read {k + 1}, {wav.name}: non-finite taps {', '.join(bad)}", flush=True)
            if wav not in first:
                first[wav] = rows
                continue
            taps = differing_taps(rows, first[wav])
            if taps:
                differed += 1
                print(f"read {k + 1}, {wav.name}: differs from read 1 in {', '.join(taps)}",
                      flush=True)
        print(f"read {k + 1} of {args.reads}: {len(files)} files, "
              f"{time.monotonic() - t0:.0f} s", flush=True)
    total = args.reads * len(files)
    print(f"{total} reads at {args.rate} Hz: {differed} differed from the file's first read, "
          f"{nonfinite} held a non-finite tap")
    return 1 if differed or nonfinite else 0


if __name__ == "__main__":
    sys.exit(main())

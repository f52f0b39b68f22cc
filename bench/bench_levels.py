"""The gap detector from a whisper to full scale: the eval files at other input levels.

    .venv/bin/python bench/bench_levels.py [--eval /work/shared/eval] [--levels -45,-35,-25]
                                           [--rate 48000] [--no-anchors] [--json OUT]

The issue asks for the same gaps from −45 dBFS to 0 dBFS input. Every labelled file of the
eval folder (``speech/`` and ``mix/``; its words sit near −20 dBFS) is scaled so that the
RMS over its words (the music under them included) reads each of ``--levels`` dBFS, and once
more so that its peak reads 0 dBFS (the loudest the input can be without clipping). Each
copy is written as 16-bit PCM, what an audio interface delivers: at −45 dBFS its
quantisation noise is 56 dB under the words. Scored like ``bench_gaps.py`` (dev and
held-out splits, per kind), our detector on the real pyo graph beside WebRTC VAD (modes 0,
3) and Silero VAD on the same copies in the same run (``conditions.py``). The detector was
fitted on speech at −48 to −3 dBFS (``augment.levels``, ``augment.mixes``), never on these
copies, and the levels were not chosen by looking at its results. About three minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("PYO_GUI_WX", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

import conditions  # noqa: E402
import floors  # noqa: E402
import scoring  # noqa: E402
from bench_gaps import Silero  # noqa: E402
from train_gaps import dev_files, is_held_out  # noqa: E402

from installation.config import AnalysisConfig  # noqa: E402

PEAK = "peak 0 dBFS"
AS_RECORDED = "as recorded"
FULL_SCALE = 32767 / 32768  # the largest 16-bit sample


def words_db(y: np.ndarray, sr: int, words: list[dict]) -> float:
    """The RMS over the words' spans, in dBFS (what is under them included)."""
    mask = floors.word_mask(len(y), sr, words)
    return 10 * np.log10(np.mean(y[mask] ** 2) + 1e-30)


def at_level(y: np.ndarray, sr: int, words: list[dict], level: str | float) -> np.ndarray:
    """``y`` scaled so that its words read ``level`` dBFS, or its peak full scale (``PEAK``),
    or unchanged (``AS_RECORDED``)."""
    if level == AS_RECORDED:
        return y
    if level == PEAK:
        return y * (FULL_SCALE / np.abs(y).max())
    y = y * 10 ** ((float(level) - words_db(y, sr, words)) / 20)
    if np.abs(y).max() > FULL_SCALE:
        raise ValueError(f"{level} dBFS would clip this file: use {PEAK!r} for the top")
    return y


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--levels", default="-45,-35,-25",
                    help="the words' RMS in dBFS, comma-separated (the peak at 0 dBFS and "
                         "the file as recorded are always added)")
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--rate", type=int, default=48000, help="engine rate for our detector")
    args = ap.parse_args()
    files = dev_files(args.eval)
    if not files:
        print(f"no wavs under {args.eval}", file=sys.stderr)
        return 1
    levels: list[str | float] = [float(v) for v in args.levels.split(",")] + [PEAK, AS_RECORDED]
    methods = ["ours"] + ([] if args.no_anchors else list(conditions.ANCHORS))
    silero = None if args.no_anchors else Silero()

    def group_of(wav: Path, labels: dict) -> str:
        return f"{scoring.label_kind(labels)}, {'held-out' if is_held_out(wav) else 'dev'}"

    reached: dict[str | float, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        recorded = [(*sf.read(str(wav), dtype="float64"), scoring.load_labels(wav)["words"])
                    for wav in files]
        for c, level in enumerate(levels):
            for wav, (x, sr, words) in zip(files, recorded):
                y = at_level(x, sr, words, level)
                reached.setdefault(level, []).append(words_db(y, sr, words))
                jobs.append((level, wav, Path(tmp) / f"{c:02d}_{wav.name}"))
                sf.write(str(jobs[-1][2]), y, sr, subtype="PCM_16")
        print(f"analysing {len(jobs)} files ...", file=sys.stderr, flush=True)
        scores = conditions.score_jobs(jobs, args.rate, {"ours": AnalysisConfig()}, silero,
                                       group_of)
    print(f"{len(files)} files, ours at {args.rate} Hz; F1 (found / false / missed) per input "
          "level (the RMS over the words) and split\n")

    def cells(level: str | float) -> tuple[str]:
        lo, hi = min(reached[level]), max(reached[level])
        name = f"{level:.0f} dBFS" if isinstance(level, float) else level
        return (name if isinstance(level, float) else f"{name} ({lo:.0f} to {hi:.0f} dBFS)",)

    lines, result = conditions.table(scores, [(lv, cells(lv)) for lv in levels], ("level",),
                                     methods, lambda lv, group, m: f"{lv}/{group}/{m}")
    return conditions.report(lines, result, args.json)


if __name__ == "__main__":
    sys.exit(main())

"""The gap detector in a room: steady floors (hum, rumble, hiss, a fan) and reverberation.

    .venv/bin/python bench/bench_floors.py [--eval /work/shared/eval] [--depths 40,30,20]
                                           [--rate 48000] [--mixes] [--no-anchors] [--json OUT]

Every ``speech/*.wav`` of the eval folder with a floor of ``bench/floors.py`` under it,
``--depths`` dB below the RMS of its words (mains hum at 50 and 60 Hz with 7 harmonics, a
50 Hz buzz with 15, brown-noise rumble, hiss above 2 kHz, a fan's 80-600 Hz band), scored
like ``bench_gaps.py``: our detector with its floor gate (``analysis.gap_gate_db``, the
default) and without it (``gap_gate_db = 0``), WebRTC VAD (modes 0, 3) and Silero VAD on
the same files in the same run. Then the same speech in reverberant rooms
(``floors.room_tail``: RT60 0.3 to 1 s, the reverberation 10 to 0 dB under the dry voice),
scored against its dry words: a pause begins where the voice stops. The speech is split
into dev and held-out sources as there. The floors are new to every model (the detector
was not fitted on any of them); the model was fitted on rooms like these
(``augment.rooms``), never with the held-out voices. Takes about two minutes. With
``--mixes``: the rooms around the 51 mixes (voice and music in one room; a room's
reverberation added to the whole mix) instead, split by SNR too.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("PYO_GUI_WX", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

import conditions as conditions_  # noqa: E402
import floors  # noqa: E402
import scoring  # noqa: E402
from bench_gaps import Silero  # noqa: E402
from train_gaps import is_held_out  # noqa: E402

from installation.config import AnalysisConfig  # noqa: E402

# (RT60 s, reverberation re the dry voice dB) of the rooms
ROOMS = ((0.3, -10.0), (0.6, -10.0), (1.0, -10.0), (0.6, -3.0), (1.0, 0.0))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--depths", default="40,30,20", help="dB below the words, comma-separated")
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--rate", type=int, default=48000, help="engine rate for our detector")
    ap.add_argument("--mixes", action="store_true",
                    help="the rooms around the mixes (voice and music in one room) instead")
    args = ap.parse_args()
    folder = "mix" if args.mixes else "speech"
    files = sorted(args.eval.glob(f"{folder}/*.wav"))
    if not files:
        print(f"no wavs under {args.eval}/{folder}", file=sys.stderr)
        return 1
    depths = [float(d) for d in args.depths.split(",")]
    gated = AnalysisConfig()
    settings = {"ours": gated, "ours, no gate": replace(gated, gap_gate_db=0.0)}
    methods = [*settings] + ([] if args.no_anchors else ["webrtc0", "webrtc3", "silero"])
    silero = None if args.no_anchors else Silero()

    def split_of(wav: Path, labels: dict) -> str:
        split = "held-out" if is_held_out(wav) else "dev"
        return f"{scoring.label_kind(labels)}, {split}" if args.mixes else split

    conditions = ([("none", 0.0)] + [(k, d) for k in floors.KINDS for d in depths] * (
        not args.mixes) + [(f"room {rt60} s", wet) for rt60, wet in ROOMS])
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []  # (condition, labelled wav, noisy copy)
        recorded = [(*sf.read(str(wav), dtype="float64"), scoring.load_labels(wav)["words"])
                    for wav in files]
        for c, (kind, depth) in enumerate(conditions):
            for i, (wav, (y, sr, words)) in enumerate(zip(files, recorded)):
                rng = np.random.default_rng(8316 + 641 * i)
                if kind.startswith("room"):
                    mask = floors.word_mask(len(y), sr, words)
                    y = y + floors.room_tail(y, sr, mask, float(kind.split()[1]), rng) \
                        * 10 ** (depth / 20)
                    y *= min(1.0, 0.98 / np.abs(y).max())
                elif kind != "none":
                    y = floors.under(y, sr, words, kind, depth, rng)
                jobs.append(((kind, depth), wav, Path(tmp) / f"{c:02d}_{wav.name}"))
                sf.write(str(jobs[-1][2]), y, sr, subtype="FLOAT")
        print(f"analysing {len(jobs)} files ...", file=sys.stderr, flush=True)
        scores = conditions_.score_jobs(jobs, args.rate, settings, silero, split_of)
    print(f"{len(files)} {folder} files, ours at {args.rate} Hz; F1 (tp/fp/fn) per floor, "
          "depth below the words and split\n")

    def below(kind: str, depth: float) -> str:
        return ("—" if kind == "none" else f"reverb {abs(depth):.0f} dB under"
                if kind.startswith("room") else f"{depth:.0f} dB")

    lines, result = conditions_.table(
        scores, [((kind, depth), (kind, below(kind, depth))) for kind, depth in conditions],
        ("floor", "below"), methods,
        lambda cond, split, m: f"{cond[0]}/{cond[1]:.0f}/{split}/{m}")
    return conditions_.report(lines, result, args.json)


if __name__ == "__main__":
    sys.exit(main())

"""How far the gap detector's F1 moves with its networks' seeds alone.

    .venv/bin/python bench/spread_gaps.py [--family hi|lo|nb] [--triples 3] [--extra DIR]
        [--voices ...] [--speeds ...] [--floors ...] [--rates ...] [--first-triple K]
        [--save DIR]

``train_gaps.py`` fits three small networks (seeds 0, 1 and 2) and ships their average. This
script measures the recipe's training blocks once, exactly as ``train_gaps.py`` does, fits
the same three-network average from other seeds too (3-5, 6-8, ...), and scores every
ensemble with the live detector's decisions (default settings, the family's first rate: 48
or 16 kHz) on the developer set's dev and held-out files and, with ``--extra``, on another
labelled folder (``bench/voices.py OUT``: voices and music no model heard). Seeds 0-2 are the
shipped model when the training reproduces it. It prints F1 per split and kind for each
ensemble, then the range and the mean: how far a figure moves when nothing but the seeds
changes, which a change of cue or recipe must beat before it is read as a gain, and what
the recipe itself is worth on average. ``--pooled`` also scores one average of every
network fitted (six members from two triples, ...): what more members buy beyond the
triples' mean. ``--save DIR`` keeps each ensemble's model file. ``--voices``, ``--speeds``
and ``--floors`` fit another recipe (as ``train_gaps.py``'s), and ``--first-triple 1``
starts at seeds 3-5: with ``--save``, a recipe's second triple for measures this script
does not make (rooms, floors, the live graph).

Takes about 3 minutes to measure the training files, then about 7 minutes per ensemble of
three networks on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("PYO_GUI_WX", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

import cv_gaps  # noqa: E402
import scoring  # noqa: E402
import train_gaps  # noqa: E402
from train_gaps import split_of  # noqa: E402

KINDS = ("speech", "mix+12", "mix+6", "mix+0")


def f1_table(model: dict, measured: dict, rate: int, root: Path) -> dict[tuple[str, str], float]:
    """``{(split, kind): F1}`` of one model over every measured file."""
    found: dict[tuple[str, str], list] = {}
    for wav, (rows, pitch_rate) in measured.items():
        labels = scoring.load_labels(wav)
        found.setdefault((split_of(wav, root), scoring.label_kind(labels)), []).append(
            scoring.score_file(cv_gaps.detect(model, rows, pitch_rate, rate), labels["gaps"]))
    return {key: scoring.summarise(scores)["f1"] for key, scores in found.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--family", choices=("hi", "lo", "nb"), default="hi",
                    help="which model: engine rates >= 32 kHz (hi), 11 to 32 kHz (lo) or "
                         "under 11 kHz (nb)")
    ap.add_argument("--triples", type=int, default=3,
                    help="how many three-network ensembles (seeds 0-2, 3-5, ...)")
    ap.add_argument("--extra", type=Path,
                    help="another labelled folder to score on (speech/, mix/), e.g. "
                         "bench/voices.py's output")
    ap.add_argument("--pooled", action="store_true",
                    help="also score one average of every fitted network (3 x triples "
                         "members): what more members buy beyond the triples' mean")
    ap.add_argument("--save", type=Path, help="write each ensemble's model file here")
    ap.add_argument("--voices", type=train_gaps.parse_voices, default=None,
                    help="as train_gaps.py --voices (default: the family's shipped recipe)")
    ap.add_argument("--first-triple", type=int, default=0,
                    help="the first ensemble to fit: 0 is seeds 0-2, 1 is seeds 3-5, ...")
    ap.add_argument("--floors", type=train_gaps.parse_floors, default=None,
                    help="as train_gaps.py --floors (default: the family's shipped recipe)")
    ap.add_argument("--speeds", type=train_gaps.parse_speeds, default=None,
                    help="as train_gaps.py --speeds, e.g. 0.9,1.1 or none (default: the "
                         "family's shipped recipe)")
    ap.add_argument("--rates", type=str, default=None,
                    help="comma-separated engine rates to fit at instead of the family's "
                         "(the first of the family, where F1 is scored; every one measuring "
                         "its cues)")
    args = ap.parse_args()
    if args.triples < 1:
        ap.error("--triples must be at least 1")
    if args.first_triple < 0:
        ap.error("--first-triple must be 0 or more")
    rates = (tuple(int(r) for r in args.rates.split(",")) if args.rates
             else train_gaps.FAMILY_RATES[args.family])
    home = rates[0] if args.rates else train_gaps.FAMILY_HOME[args.family]
    if not train_gaps.fits_family(args.family, rates, home):
        ap.error(f"--rates {args.rates}: the first rate must be of the {args.family} family "
                 "(hi: 32 kHz and over, lo: 11 to 32 kHz, nb: under 11 kHz), and every "
                 "rate must measure its cues (all of them 32 kHz and over, or all under)")
    voices, pieces, speeds, floors = train_gaps.family_options(
        args.family, args.voices, speeds=args.speeds, floors=args.floors)
    files = []
    for name, folder in (("--eval", args.eval), ("--extra", args.extra)):
        if folder is not None:
            found = train_gaps.dev_files(folder)
            if not found:
                ap.error(f"{name} {folder}: no speech/*.wav or mix/*.wav there")
            files += found
    print(f"measuring {len(files)} files to score at {home} Hz ...", flush=True)
    measured = cv_gaps.analyse(files, home)
    data = train_gaps.training_data(args.eval, rates, voices, pieces, speeds, floors)
    print(f"{len(data)} training files at {rates} Hz", flush=True)
    columns, models = [], []
    ensembles = seed_triples(args.first_triple, args.triples)
    heads = [head for head, _ in ensembles]
    for head, first_seed in ensembles:
        model = train_gaps.fit_ensemble(data, first_seed, train_gaps.FAMILY_STRIDE[args.family])
        models.append(model)
        columns.append(f1_table(model, measured, home, args.eval))
        print(f"{head} fitted", flush=True)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            np.savez(args.save / f"{args.family}_{head.replace(' ', '_')}.npz", **model)
    pooled = None
    if args.pooled:
        pooled = pool(models)
        pooled_f1 = f1_table(pooled, measured, home, args.eval)
    splits = ("dev", "held-out") + (("extra",) if args.extra else ())
    extra_head = f" all {train_gaps.ENSEMBLE * args.triples} |" if pooled else ""
    print(f"\n{args.family} model, engine at {home} Hz: F1 per ensemble\n")
    print("| split | kind | " + " | ".join(heads) + f" | range | mean |{extra_head}")
    print("|---|---|" + "---|" * (len(heads) + 2 + bool(pooled)))
    for split in splits:
        for kind in KINDS:
            values = [c.get((split, kind), float("nan")) for c in columns]
            cells = " | ".join(f"{v:.3f}" for v in values)
            tail = f" {pooled_f1.get((split, kind), float('nan')):.3f} |" if pooled else ""
            print(f"| {split} | {kind} | {cells} | {max(values) - min(values):.3f} | "
                  f"{np.mean(values):.3f} |{tail}", flush=True)
    return 0


def seed_triples(first: int, count: int) -> list[tuple[str, int]]:
    """``(head, first seed)`` of ``count`` ensembles from the ``first``-th: ``(1, 1)`` ->
    ``[("seeds 3-5", 3)]`` (:data:`train_gaps.ENSEMBLE` networks each)."""
    n = train_gaps.ENSEMBLE
    return [(f"seeds {n * k}-{n * k + n - 1}", n * k) for k in range(first, first + count)]


def pool(models: list[dict]) -> dict[str, np.ndarray]:
    """One model averaging every member of ``models`` (fitted on the same blocks: one mean,
    std and step)."""
    out = {k: models[0][k] for k in ("mean", "std", "step")}
    for k in ("Wx", "bx", "Wh", "bh", "wo", "bo"):
        out[k] = np.concatenate([m[k] for m in models])
    return out


if __name__ == "__main__":
    sys.exit(main())

"""Cross-validation of the gap detector over speech sources: how it does on voices it never saw.

    .venv/bin/python bench/cv_gaps.py [--eval /work/shared/eval] [--folds 4] [--seeds 0,1]
                                      [--rate 48000] [--cache rows.pkl]
    .venv/bin/python bench/cv_gaps.py --by-music [--rate 48000] [--cache rows.pkl]
    .venv/bin/python bench/cv_gaps.py --by-language [--fit-seeds 0,3] [--rate 48000]
                                      [--cache rows.pkl]

The developer set has 17 speech sources; the held-out split of ``bench_gaps.py`` keeps four
of them (14 gaps per kind, so one gap moves F1 by ~0.04). Here every source is tested by a
model that was fitted without it and without any mix of it: the sources are dealt into
``--folds`` groups (shuffled by each seed of ``--seeds``); for each group the model is
refitted exactly as ``train_gaps.py`` fits the shipped one (the same features, augmented
mixes, negatives and three-network average), with the engine at one rate (``--rate``, 48 kHz
by default; the shipped "lo" model is fitted at 16, 22.05 and 8 kHz together, a fold's
model at ``--rate`` only), and the live detector's
decisions (default settings) are scored on that group's speech and mix files. The figures
are summed over all groups: 52 gaps per kind and seed.

This is how the detector's settings were chosen (docs/benchmarks.md says which). Takes about
40 minutes per shuffle on two cores, most of it fitting the folds' networks (about 7
minutes a fold at 48 kHz).

``--by-music`` deals the folds by music piece instead: each of the six pieces is held out
with the voices mixed over it. Its model is fitted without those voices, and without any
mix, augmented mix or voice-free excerpt of that piece, so it is tested on a voice and a
piece of music it has never heard (the synthetic pieces stay in training). Every
evaluated file is in exactly one fold.

``--by-language`` holds out the other voices instead (``voices.py``'s five training
languages, in :data:`LANGUAGE_FOLDS`): each fold's model is fitted without one group of
languages (every sequence, mix, level and room of them; all the English stays in), and
tested on those languages' sequences alone and over the six synthetic pieces no model
hears, at +12, +6 and 0 dB, as ``voices.py`` makes its evaluation set: speakers,
languages and music a model never heard, which no setting was chosen on.

``--cache FILE`` keeps what the pyo graph measured (every file's tap rows, and the words
of every labelled file) in FILE: the first run writes it, later runs read it and recompute
the cues and the training targets from them with the working tree's code, so trying a new
cue, model setting or timing skips the analysis (one shuffle: 41 s from the cache against
1 min 43 s measuring, with the same figures). (The graph itself must not have changed since
the cache was written: delete it when ``installation/engine/graph.py`` or
``bench/augment.py`` changes. A cache holds one rate: the run says so if ``--rate``
differs.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("PYO_GUI_WX", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

import scoring  # noqa: E402
import train_gaps  # noqa: E402

BLOCK = train_gaps.BLOCK


def source(wav: Path) -> str:
    """The speech source a file comes from (``ktuberling_seq04`` for its mixes too)."""
    return wav.stem.split("__")[0]


def piece(wav: Path) -> str | None:
    """The dev music piece in a file (mixes, augmented mixes, voice-free excerpts), if any;
    a speed copy's ``__speed…`` part is not a piece."""
    if wav.stem.startswith("neg_"):
        return wav.stem[4:]
    parts = [p for p in wav.stem.split("__") if not p.startswith("speed")]
    return parts[1] if len(parts) > 1 else None


def analyse(files: list[Path], rate: int) -> dict[Path, tuple]:
    """``{wav: (tap rows, pitch rate)}`` with the engine at ``rate``, one pyo run per file
    (two spawned processes)."""
    import functools
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        out = pool.map(functools.partial(_one, rate=rate), files, chunksize=1)
    return dict(zip(files, out))


def _one(wav: Path, rate: int) -> tuple:
    from installation.engine.offline import analyse_taps

    return analyse_taps(wav, sample_rate=rate, block_size=BLOCK)


def measured(root: Path, cache: Path | None, rate: int, voices: tuple[str, ...],
             pieces: int, speeds: tuple[float, ...] = (),
             floors: tuple[str, ...] = train_gaps.FLOORS) -> dict:
    """What the graph measured for the cross-validation with the engine at ``rate``: the
    evaluated files, the augmented mixes and the voice-free files (lists of paths), each
    file's ``(rows, pitch rate)``, and each labelled file's ``(words, clean speech wav)``
    (``train_gaps.word_labels``). ``voices``, ``pieces`` and ``speeds`` as for
    ``train_gaps.py --voices --pieces --speeds``, ``floors`` as its family's
    (``augment.levels``). Read from ``cache`` when it exists, else measured (and written
    there if given). The generated wavs are kept beside the cache
    (``CACHE.files/``; a fresh temporary folder without one): the training targets are
    read from their clean speech."""
    import pickle

    from installation.analysis.taps import TAPS

    options = {"rate": rate, "voices": tuple(voices), "pieces": pieces, "taps": TAPS,
               "speeds": tuple(speeds), "floors": tuple(floors)}
    if cache is not None and cache.exists():
        with cache.open("rb") as f:
            data = pickle.load(f)
        # (a cache from before the floors were an option was measured over the plain ones)
        if any(data.get(k, train_gaps.FLOORS if k == "floors" else None) != v
               for k, v in options.items()):
            raise SystemExit(f"{cache} holds another rate, other training files or an older "
                             f"layout: delete it, or pass its options")
        return data
    evaluated = train_gaps.dev_files(root)
    gen = (cache.with_suffix(".files") if cache is not None
           else Path(tempfile.mkdtemp(prefix="cv_gaps-")))
    # Every source's augmented files (train_gaps makes them for its training sources
    # only: here each fold needs the others'). The other voices are in every fold's
    # training (none of them is evaluated); each speed copy goes with its source (source()
    # reads their names).
    speech = [w for w in evaluated if w.parent.name == "speech"]
    extra, voice_free = train_gaps.augmented(root, speech, gen, voices, pieces, speeds,
                                             floors)
    print(f"analysing {len(evaluated) + len(extra) + len(voice_free)} files (generated "
          f"ones under {gen}) ...", flush=True)
    rows = analyse(evaluated + extra + voice_free, rate)
    words = {w: train_gaps.word_labels(w) for w in evaluated + extra}
    out = {**options, "evaluated": evaluated, "extra": extra, "voice_free": voice_free,
           "rows": rows, "words": words}
    if cache is not None:
        with cache.open("wb") as f:
            pickle.dump(out, f)
    return out


def detect(model: dict, rows: np.ndarray, pitch_rate: float, rate: int) -> list[dict]:
    """The gaps ``installation gaps`` would print with ``model`` instead of the shipped
    one: the same frame builder and the same reading of its frames."""
    from installation.analysis.frames import FrameBuilder
    from installation.analysis.gaps import gaps_from_frames
    from installation.analysis.voicemodel import MODEL_KEYS

    weights = tuple(model[k] for k in MODEL_KEYS)
    frames = FrameBuilder(rate, BLOCK, pitch_rate, gap_weights=weights).push_many(rows)
    return gaps_from_frames(frames)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--seeds", default="0,1", help="fold shuffles, comma-separated")
    ap.add_argument("--rate", type=int, default=48000, help="engine rate (Hz)")
    ap.add_argument("--cache", type=Path, help="keep the graph's measurements here (read "
                    "them if the file exists)")
    ap.add_argument("--by-music", action="store_true",
                    help="one fold per music piece, with the voices mixed over it")
    ap.add_argument("--by-language", action="store_true",
                    help="one fold per group of the other voices' languages (LANGUAGE_FOLDS)")
    ap.add_argument("--voices", type=train_gaps.parse_voices, default=None,
                    help="as train_gaps.py --voices (in every fold's training)")
    ap.add_argument("--pieces", type=int, default=None, help="as train_gaps.py --pieces")
    ap.add_argument("--speeds", type=train_gaps.parse_speeds, default=None,
                    help="as train_gaps.py --speeds")
    ap.add_argument("--floors", type=train_gaps.parse_floors, default=None,
                    help="as train_gaps.py --floors")
    ap.add_argument("--fit-seeds", default="0",
                    help="with --by-language: the first seed of each fit's networks "
                         "(train_gaps.fit_ensemble), comma-separated (e.g. 0,3: seeds 0-2, "
                         "then 3-5); one table each. A fit's seeds alone move clean speech "
                         "here by four false gaps (docs/benchmarks.md, rule R9)")
    ap.add_argument("--save-models", type=Path, metavar="DIR",
                    help="write each fold's model here (DIR/<split>_fold<i>.npz, with the "
                         "speech sources and music it was tested on in a .json beside it), "
                         "to score other decision settings without refitting")
    args = ap.parse_args()
    # by default, what the rate's shipped model was fitted on
    family = train_gaps.family(args.rate)
    data = measured(args.eval, args.cache, args.rate,
                    *train_gaps.family_options(family, args.voices, args.pieces,
                                               args.speeds, args.floors))
    evaluated, extra, voice_free = data["evaluated"], data["extra"], data["voice_free"]
    # The training targets, at the times the working tree's frame builder reads.
    labelled = {w: train_gaps.labels_from(*data["words"][w], train_gaps.signal_times(
        len(data["rows"][w][0]), args.rate, BLOCK)) for w in evaluated + extra}
    speech = [w for w in evaluated if w.parent.name == "speech"]
    # The cues, from the measured rows with this tree's kernel.
    feats = {w: train_gaps.block_features(w, args.rate, BLOCK, rows=rows)[0].astype(np.float32)
             for w, (rows, _) in data["rows"].items()}
    sources = sorted({source(w) for w in speech})
    if args.by_language:
        return by_language(args, data, feats, labelled, family)
    if args.by_music:
        pieces_dev = sorted({piece(w) for w in evaluated if piece(w)})
        splits = {"by music": (0, [({source(w) for w in evaluated if piece(w) == m}, {m})
                                   for m in pieces_dev])}
    else:
        splits = {}
        for seed in (int(s) for s in args.seeds.split(",")):
            order = [str(s) for s in np.random.default_rng(seed).permutation(sources)]
            splits[f"seed {seed}"] = (seed, [(set(order[i::args.folds]), set())
                                             for i in range(args.folds)])
    for name, (seed, folds) in splits.items():
        found: dict[str, list] = {}
        for i, (group, held_music) in enumerate(folds):
            files = [(feats[w], *labelled[w]) for w in evaluated + extra
                     if source(w) not in group and piece(w) not in held_music]
            files += [(feats[w], np.zeros(len(feats[w]), np.float32),
                       np.ones(len(feats[w]), bool))
                      for w in voice_free if piece(w) not in held_music]
            print(f"fold {sorted(group)} {sorted(held_music)}: {len(files)} training files",
                  flush=True)
            model = train_gaps.fit_ensemble(files, 10 * seed,
                                            train_gaps.FAMILY_STRIDE[family])
            if args.save_models:
                args.save_models.mkdir(parents=True, exist_ok=True)
                stem = args.save_models / f"{name.replace(' ', '')}_fold{i}"
                np.savez(stem.with_suffix(".npz"), **model)
                stem.with_suffix(".json").write_text(json.dumps(
                    {"sources": sorted(group), "music": sorted(held_music)}))
            for w in evaluated:
                if source(w) in group:
                    lab = scoring.load_labels(w)
                    gaps = detect(model, *data["rows"][w], args.rate)
                    found.setdefault(scoring.label_kind(lab), []).append(
                        scoring.score_file(gaps, lab["gaps"]))
        print_table(f"{name}: folds {[(sorted(g), sorted(m)) for g, m in folds]}", found)
    return 0


def print_table(title: str, found: dict[str, list]) -> None:
    """One cross-validation's figures per kind, summed over its folds."""
    print(f"\n{title}")
    print(f"| kind | {scoring.SUMMARY_HEADER} |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in ("speech", "mix+12", "mix+6", "mix+0"):
        s = scoring.summarise(found[kind])
        print(f"| {kind} | {scoring.summary_cells(s)} |", flush=True)


# The other voices' training languages in two folds of about a hundred clean words each
# (ca 77, da 7, ro 8; lt 58, uk 70).
LANGUAGE_FOLDS = (("ca", "da", "ro"), ("lt", "uk"))


def language(wav: Path) -> str | None:
    """The language of one of the other voices' files (``voices_ktuberling_ca_00...``)."""
    parts = source(wav).split("_")
    return parts[2] if len(parts) > 2 and parts[0] == "voices" else None


def by_language(args, data: dict, feats: dict, labelled: dict, family: str) -> int:
    """The cross-validation over the other voices' languages (``--by-language``)."""
    import voices

    extra, voice_free = data["extra"], data["voice_free"]
    if "ktuberling" not in data["voices"]:
        raise SystemExit("--by-language needs KTuberling's voices in training "
                         "(--voices ktuberling,...)")
    gen = Path(tempfile.mkdtemp(prefix="cv_gaps-lang-"))
    firsts = [int(f) for f in args.fit_seeds.split(",")]
    found: dict[int, dict[str, list]] = {first: {} for first in firsts}
    for i, held in enumerate(LANGUAGE_FOLDS):
        files = [(feats[w], *labelled[w]) for w in data["evaluated"] + extra
                 if language(w) not in held]
        files += [(feats[w], np.zeros(len(feats[w]), np.float32),
                   np.ones(len(feats[w]), bool)) for w in voice_free]
        speech = voices.sequences(gen / f"fold{i}" / "speech", held)
        tests = speech + voices.mixes(speech, gen / f"fold{i}" / "mix")
        print(f"fold {held}: {len(files)} training files, {len(tests)} test files",
              flush=True)
        rows = analyse(tests, args.rate)
        for first in firsts:
            model = train_gaps.fit_ensemble(files, first, train_gaps.FAMILY_STRIDE[family])
            if args.save_models:
                args.save_models.mkdir(parents=True, exist_ok=True)
                stem = args.save_models / (f"language_fold{i}" if first == 0
                                           else f"language{first}_fold{i}")
                np.savez(stem.with_suffix(".npz"), **model)
                stem.with_suffix(".json").write_text(json.dumps(
                    {"languages": list(held), "files": [str(w) for w in tests],
                     "first_seed": first}))
            for w, (w_rows, pitch_rate) in rows.items():
                lab = scoring.load_labels(w)
                found[first].setdefault(scoring.label_kind(lab), []).append(
                    scoring.score_file(detect(model, w_rows, pitch_rate, args.rate),
                                       lab["gaps"]))
    for first in firsts:
        print_table(f"by language, networks from seed {first}: folds "
                    f"{list(LANGUAGE_FOLDS)}", found[first])
    return 0


if __name__ == "__main__":
    sys.exit(main())

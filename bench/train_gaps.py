"""Fit the gap detector's voice model (``installation/analysis/voicemodel.py``).

    .venv/bin/python bench/train_gaps.py [--eval /work/shared/eval] [--family hi|lo|nb|all]

Runs the pyo graph over every speech and mix file of the developer set *except* the held-out
speech sources (:data:`HELD_OUT`, all their mixes included), and over more mixes of the same
training speech (``bench/augment.py``: the dev music at other offsets and twenty synthetic
pieces, 14 per file at -6 to +18 dB, -42 to -8 dBFS; alone at -48 to -3 dBFS, some over a
noise floor, for the lo model a building's low noise too; and in three reverberant rooms,
labelled with the dry words), and over other voices (``bench/voices.py``: KTuberling's words
in five other languages, each sequence alone, over six stretches of music at 0 to +18 dB, at
another level and in a room; :func:`other_voices`; ``--voices ktuberling,klettres`` adds
KLettres' letters and syllables in eleven more, ``klettres:music`` only over music and in
rooms, as the lo model hears them; ``asterisk`` a telephone system's prompts read by four
professional speakers in five languages); and, for the hi model, over all these voices
played 0.9 and 1.1 times as fast, so that pitch, formants and pace move as another speaker's
would (:func:`speed_copies`).
Each block is
labelled speech (inside a labelled word) or not (inside a gap, or before/after the words),
skipping blocks within 15 ms of a word boundary and the words'
inaudible tails (:func:`labels_for`). Voice-free negatives: the dev music pieces after
silence, seeded synthetic chords (:func:`negatives`) and the synthetic pieces. Fits
:data:`ENSEMBLE` small recurrent networks (``bench/gru.py``: gated recurrent units over
each file's cues, numpy, Adam, seeded) and writes ``installation/analysis/gap_model_hi.npz``
(engines at 32 kHz and over: fitted at 48 and 44.1 kHz), ``gap_model_lo.npz`` (11 to
32 kHz) and ``gap_model_nb.npz`` (under 11 kHz; both fitted at 22.05, 16 and 8 kHz).
Takes about 10-15 minutes per model on two cores (the first run also downloads Debian's
ktuberling-data, 47 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("PYO_GUI_WX", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

import gru  # noqa: E402
from augment import DC, FLOORS, LOW_FLOORS  # noqa: E402
from installation.analysis.voicemodel import (  # noqa: E402
    HI_RATE, NB_RATE, VoiceModel, blank_weights, family, family_path, features_for)

BLOCK = 256  # engine samples per block the models are fitted at (at every rate)
# Speech sources kept out of training (with all their mixes): the held-out check.
HELD_OUT = ("librivox_0930", "ktuberling_seq10", "ktuberling_seq11", "ktuberling_seq12")


def is_held_out(wav: Path) -> bool:
    return any(wav.name.startswith(h) for h in HELD_OUT)


def split_of(wav: Path, root: Path) -> str:
    """``dev`` or ``held-out`` for a file of the developer set at ``root``, ``extra`` for
    any other (another labelled folder, e.g. bench/voices.py's)."""
    if root not in wav.parents:
        return "extra"
    return "held-out" if is_held_out(wav) else "dev"


def dev_files(root: Path) -> list[Path]:
    """Every labelled wav of an eval-layout folder (``speech/``, ``mix/``), sorted."""
    return sorted([*root.glob("speech/*.wav"), *root.glob("mix/*.wav")])


def block_features(wav: Path, sample_rate: int = 48000, block_size: int = BLOCK,
                   rows=None):
    """(the network's inputs per block ``(n, features)``, signal time per block), as the
    live detector computes them (the same kernel, with a blank model: features only)."""
    from installation.analysis.frames import voicing_and_strength
    from installation.engine.offline import analyse_taps

    if rows is None:
        rows, _ = analyse_taps(wav, sample_rate=sample_rate, block_size=block_size)
    block_s = block_size / sample_rate
    voicing, strength = voicing_and_strength(rows)
    t_sig = signal_times(len(rows), sample_rate, block_size)
    model = VoiceModel(block_s, sample_rate, weights=blank_weights(sample_rate))
    _, x = model.run(rows, t_sig, voicing, strength, features=True)
    return x, t_sig


def signal_times(n: int, sample_rate: int = 48000, block_size: int = BLOCK) -> np.ndarray:
    """The signal time (s) each of ``n`` blocks' gap cues describe: the block's end less the
    gap bands' lag (what the labels are read at)."""
    from installation.analysis.frames import FrameBuilder

    lag_s = FrameBuilder.gap_lag_s(sample_rate)
    return (np.arange(n) + 1) * (block_size / sample_rate) - lag_s


def word_labels(wav: Path) -> tuple[list[dict], Path]:
    """A labelled wav's words and the clean speech file their tails are measured on (the
    wav itself, or a mix's ``mix.speech``)."""
    lab = json.loads(wav.with_suffix(".json").read_text())
    clean = wav.parents[1] / lab["mix"]["speech"] if "mix" in lab else wav
    return lab["words"], clean


def labels_for(wav: Path, t: np.ndarray, margin: float = 0.015, tail_db: float = 30.0):
    """Targets per block time ``t`` for a labelled wav (:func:`labels_from`)."""
    return labels_from(*word_labels(wav), t, margin, tail_db)


def labels_from(words: list[dict], clean: Path, t: np.ndarray, margin: float = 0.015,
                tail_db: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Targets per block time ``t``: 1 inside a labelled word, 0 outside. Blocks within
    ``margin`` of a word edge, and the weak parts of words (the clean voice's 10 ms RMS
    more than ``tail_db`` below the word's loudest 10 ms: a decay the labels count as word
    but no one hears under music), are left out of training (``keep`` False)."""
    import soundfile as sf

    x, sr = sf.read(str(clean), dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    hop = max(1, int(0.01 * sr))
    env = np.sqrt(np.convolve(x * x, np.ones(hop) / hop, mode="same") + 1e-20)
    env_db = 20 * np.log10(env)
    y = np.zeros(len(t))
    keep = np.ones(len(t), bool)
    idx = np.clip((t * sr).astype(int), 0, len(x) - 1)
    for w in words:
        inside = (t >= w["start"]) & (t < w["end"])
        y[inside] = 1.0
        a, b = int(w["start"] * sr), int(w["end"] * sr)
        peak = env_db[a:max(b, a + 1)].max()
        keep &= ~(inside & (env_db[idx] < peak - tail_db))
        for edge in (w["start"], w["end"]):
            keep &= np.abs(t - edge) > margin
    return y, keep


def synthetic_chords(n: int = 24, sr: int = 48000, seed: int = 8316) -> list[np.ndarray]:
    """Negatives the dev set lacks: chords (2-5 notes, 1-10 partials) that start from
    silence and decay slowly or not at all; no voice is in them."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = np.arange(int(rng.uniform(2.0, 4.0) * sr)) / sr
        x = np.zeros_like(t)
        decay = rng.choice([1.0, 2.5, 6.0, 1e9])
        for _ in range(rng.integers(2, 6)):
            f0 = 55.0 * 2 ** (rng.integers(12, 48) / 12)
            for k in range(1, rng.integers(2, 11)):
                if f0 * k < sr / 2.2:
                    x += np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) \
                        * np.exp(-t * k / decay) / k ** rng.uniform(0.7, 2.0)
        x *= 10 ** (rng.uniform(-40, -6) / 20) / (np.sqrt(np.mean(x ** 2)) + 1e-12)
        pad = np.zeros(int(rng.uniform(0.3, 1.0) * sr))
        out.append(np.concatenate([pad, x, pad]))
    return out


def negatives(root: Path, tmp: Path) -> list[Path]:
    """Wavs with no voice at all: the dev set's music pieces after 1 s of silence, and the
    synthetic chords. Written under ``tmp``."""
    import soundfile as sf

    paths = []
    for wav in sorted(root.glob("music/*.wav")):
        x, sr = sf.read(str(wav), dtype="float64", always_2d=True)
        x = np.concatenate([np.zeros(sr), x.mean(axis=1)[: 12 * sr]])
        paths.append(tmp / f"neg_{wav.stem}.wav")
        sf.write(str(paths[-1]), x, sr, subtype="FLOAT")
    for i, x in enumerate(synthetic_chords()):
        paths.append(tmp / f"neg_chord{i:02d}.wav")
        sf.write(str(paths[-1]), x, 48000, subtype="FLOAT")
    return paths


# Networks fitted from seeds 0, 1, 2 and averaged (their logits): a single fit swings by
# about as much as the whole ensemble gains on voices no model heard (bench/spread_gaps.py).
ENSEMBLE = 3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--family", choices=("hi", "lo", "nb", "all"), default="all",
                    help="which model: engine rates >= 32 kHz (hi), 11 to 32 kHz (lo), "
                         "under 11 kHz (nb), or all three")
    ap.add_argument("--out", type=Path, help="write here instead of the package's model file")
    ap.add_argument("--voices", type=parse_voices, default=None,
                    help="also fit on word sequences of other voices from these Debian "
                         "packages (bench/voices.py's training languages of each; each "
                         "downloaded once), comma-separated: ktuberling, klettres, "
                         "asterisk (NAME:music: heard only under music and in rooms), or "
                         "'none'; default: as the family's shipped model (FAMILY_OPTIONS)")
    ap.add_argument("--pieces", type=int, default=None,
                    help="how many synthetic pieces (augment.synth_piece) to mix under; "
                         "default: as the family's shipped model")
    ap.add_argument("--rates", type=str, default=None,
                    help="comma-separated engine rates to fit at instead of the family's")
    ap.add_argument("--speeds", type=parse_speeds, default=None,
                    help="the training voices also played this many times as fast, "
                         "comma-separated (e.g. 0.9,1.1), or 'none'; default: as the "
                         "family's shipped model")
    ap.add_argument("--floors", type=parse_floors, default=None,
                    help="the level copies' floors: plain (white and pink) or low (also a "
                         "building's low noise), either followed by +dc (half the copies "
                         "also carry a DC offset); default: as the family's shipped model")
    args = ap.parse_args()
    families = ("hi", "lo", "nb") if args.family == "all" else (args.family,)
    for name in families:
        rates = (tuple(int(r) for r in args.rates.split(",")) if args.rates
                 else FAMILY_RATES[name])
        out = args.out or family_path(name)
        train(args.eval, rates, out,
              *family_options(name, args.voices, args.pieces, args.speeds, args.floors),
              stride=FAMILY_STRIDE[name])


# The engine rates each model is fitted at (the graph measures the bands decimated from
# HI_RATE up, at the engine rate below: the two see slightly different features), and the
# one it is scored at (spread_gaps.py). The lo and nb models are both fitted at 16, 22.05
# and 8 kHz, in that order (their files' seeds draw in it): fitted at 8 kHz alone, the nb
# model gained on the voices it was fitted on, not on the unseen ones (docs/benchmarks.md,
# R29).
FAMILY_RATES = {"hi": (48000, 44100), "lo": (16000, 22050, 8000), "nb": (16000, 22050, 8000)}
FAMILY_HOME = {"hi": 48000, "lo": 16000, "nb": 8000}
# What each shipped model was fitted on: (other voices, synthetic pieces, speeds, the level
# copies' floors: augment.levels). All
# families gain most on voices they never heard: the recurrent "lo" model fitted without
# them read 0.881 / 0.688 / 0.559 / 0.523 on the unseen voices at 16 kHz, with them
# 0.952 / 0.812 / 0.731 / 0.602, for a gap or two lost on the developer set
# (docs/benchmarks.md, "The lo model on other voices"). The hi model also hears every
# training voice at 0.9 and 1.1 times its speed (:func:`speed_copies`), chosen by both
# cross-validations; the lo model fitted so gained on the unseen voices at 16 kHz and lost
# at 8 kHz, and is not (docs/benchmarks.md, "The twelfth model: voices at other speeds").
# The hi model hears KLettres' letters and syllables in eleven more languages too (both
# cross-validations gained, over other languages most: "The thirteenth model"); the lo
# model hears them only under music and in rooms (its mixes gained 0.2 over other
# languages, and its clean speech held within the seeds' spread, over two seed triples:
# "The lo model with KLettres' voices under music"); so does the nb model. The lo model's
# level copies are also heard over a building's low noise (its floors and rooms gained at
# 16 kHz, the rumble most, with no row under Silero; at 8 kHz they did not, and the nb
# model is not: R30, R31), and half of them carry a DC offset (-70 to -36 dBFS): after a
# -46 dBFS offset its eight eval cells at 16 kHz read 6.924 where the file before read
# 6.747, its plain cells and floors within the rule's margins (R47, R48).
FAMILY_OPTIONS = {"hi": (("ktuberling", "klettres"), 20, (0.9, 1.1), FLOORS),
                  "lo": (("ktuberling", "klettres:music"), 20, (), (*LOW_FLOORS, DC)),
                  "nb": (("ktuberling", "klettres:music"), 20, (), FLOORS)}
# Every how many blocks (BLOCK samples) the network steps. At 48 kHz every other block (512
# samples, 10.7 ms): half the cost of three members of 24, which then cost less than
# three of 16 stepping on every block, with F1 within a gap or two of stepping on every
# block (docs/benchmarks.md). Below 32 kHz a block is already 11.6-32 ms.
FAMILY_STRIDE = {"hi": 2, "lo": 1, "nb": 1}


def fits_family(name: str, rates, home: int) -> bool:
    """Whether a model of family ``name`` scored at ``home`` Hz may be fitted at ``rates``:
    ``home`` is the family's, and every rate measures its cues."""
    return family(home) == name and all(features_for(r) == features_for(home) for r in rates)


assert all(fits_family(name, rates, FAMILY_HOME[name]) for name, rates in FAMILY_RATES.items())
assert HI_RATE > NB_RATE


def family_options(family: str, voices: tuple[str, ...] | None = None,
                   pieces: int | None = None, speeds: tuple[float, ...] | None = None,
                   floors: tuple[str, ...] | None = None
                   ) -> tuple[tuple[str, ...], int, tuple[float, ...], tuple[str, ...]]:
    """``(other voices' packages, synthetic pieces, speeds, level floors)`` for ``family``
    ("hi", "lo" or "nb"): the shipped model's (:data:`FAMILY_OPTIONS`) where an override
    is None."""
    shipped_voices, shipped_pieces, shipped_speeds, shipped_floors = FAMILY_OPTIONS[family]
    return (shipped_voices if voices is None else voices,
            shipped_pieces if pieces is None else pieces,
            shipped_speeds if speeds is None else speeds,
            shipped_floors if floors is None else floors)


# A package named with this suffix is heard only under music and in rooms (its sequences'
# mixes and rooms; not alone, nor at another level, nor at other speeds): "klettres:music".
UNDER_MUSIC = "music"


def parse_voices(text: str) -> tuple[str, ...]:
    """``"ktuberling,klettres:music"`` -> ``("ktuberling", "klettres:music")``; ``"none"``
    -> ``()``."""
    import voices

    names = () if text.strip().lower() == "none" else tuple(
        n.strip() for n in text.split(","))
    unknown = [n for n in names if n.partition(":")[0] not in voices.PACKAGES
               or n.partition(":")[2] not in ("", UNDER_MUSIC)]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown voices {', '.join(unknown)}: expected some of "
            f"{', '.join(voices.PACKAGES)} (comma-separated; a name followed by "
            f"':{UNDER_MUSIC}' is heard only under music and in rooms) or 'none'")
    return names


def parse_speeds(text: str) -> tuple[float, ...]:
    """``"0.9,1.1"`` -> ``(0.9, 1.1)``; ``"none"`` -> ``()``."""
    return () if text.strip().lower() == "none" else tuple(float(f) for f in text.split(","))


def parse_floors(text: str) -> tuple[str, ...]:
    """``"plain"`` -> :data:`augment.FLOORS`; ``"low"`` -> :data:`augment.LOW_FLOORS`;
    either followed by ``+dc``: the same set and :data:`augment.DC` (half the level copies
    carry a DC offset)."""
    base, plus, extra = text.partition("+")
    choices = {"plain": FLOORS, "low": LOW_FLOORS}
    if base not in choices or (plus and extra != DC):
        raise argparse.ArgumentTypeError(f"floors {text!r}: expected plain (white and pink) "
                                         "or low (also a building's low noise), either "
                                         "followed by +dc (half the copies carry a DC "
                                         "offset)")
    return (*choices[base], DC) if plus else choices[base]


def training_files(root: Path, tmp: Path, voices: tuple[str, ...], pieces: int,
                   speeds: tuple[float, ...] = (), floors: tuple[str, ...] = FLOORS
                   ) -> tuple[list[Path], list[Path]]:
    """``(labelled, voice_free)`` wavs: the dev speech and mixes minus the held-out sources,
    then what :func:`augmented` makes of that speech. Generated files go under ``tmp``."""
    labelled = [w for w in dev_files(root) if not is_held_out(w)]
    speech = [w for w in labelled if w.parent.name == "speech"]
    extra, voice_free = augmented(root, speech, tmp, voices, pieces, speeds, floors)
    return labelled + extra, voice_free


def augmented(root: Path, speech: list[Path], tmp: Path, voices: tuple[str, ...],
              pieces: int, speeds: tuple[float, ...] = (), floors: tuple[str, ...] = FLOORS
              ) -> tuple[list[Path], list[Path]]:
    """``(labelled, voice_free)`` wavs made for training from the clean ``speech``:
    :mod:`augment`'s mixes of it (over the dev music under ``root`` and ``pieces`` synthetic
    pieces), levels (over no floor or one of ``floors``) and rooms; :func:`other_voices` of
    each package named in ``voices``; every clean voice of these at ``speeds``
    (:func:`speed_copies`); and the voice-free music pieces, synthetic chords and synthetic
    pieces (:data:`FAMILY_OPTIONS`). The recipe of the shipped models and of every
    cross-validation's folds (``cv_gaps``). Written under ``tmp``."""
    import augment
    import voices as packages  # (``voices`` names the packages here)

    synth = augment.synth_pieces(tmp / "synth", pieces)
    music = sorted(root.glob("music/*.wav"))
    labelled = (augment.mixes(speech, music + synth, tmp / "mix")
                + augment.levels(speech, tmp / "level", floors=floors)
                + augment.rooms(speech, tmp / "room"))
    # Every clean voice, for the speed copies, grouped by the seeds their augmentation
    # draws from (the developer set's and KTuberling's share augment's own).
    voiced: dict[int, list[Path]] = {0: list(speech)}
    for entry in voices:
        name, _, only = entry.partition(":")
        package = packages.PACKAGES[name]
        others = other_voices(tmp / "voices", music + synth, package,
                              alone=only != UNDER_MUSIC, floors=floors)
        labelled += others
        clean = clean_speech(others)
        if clean:  # (none from a package heard only under music)
            voiced.setdefault(package.augment_seed, []).extend(clean)
    if speeds:
        for offset, clean in voiced.items():
            labelled += speed_copies(clean, music + synth, tmp, speeds, offset, floors)
    return labelled, negatives(root, tmp) + synth


def clean_speech(files: list[Path]) -> list[Path]:
    """The clean speech sequences among ``files`` (those under a ``speech/`` folder, as the
    developer set and :func:`other_voices` write them), sorted."""
    return sorted(w for w in files if w.parent.name == "speech")


def speed_copies(speech: list[Path], music: list[Path], tmp: Path,
                 speeds: tuple[float, ...], seed_offset: int = 0,
                 floors: tuple[str, ...] = FLOORS) -> list[Path]:
    """The clean training ``speech`` (the developer set's and the other voices') played at
    each of ``speeds`` (:func:`augment.speeds`: pitch, formants and pace move together, as
    another speaker's would): each copy alone, over six stretches of ``music`` (-6 to
    +18 dB), at one other level and in one room, as :func:`other_voices` treats its
    sequences, from augment's seeds plus ``seed_offset``; written under ``tmp``."""
    import augment

    seed = augment.SEED + seed_offset
    fast = augment.speeds(speech, tmp / "speed", speeds)
    return (fast + augment.mixes(fast, music, tmp / "speedmix", per_file=6, seed=seed + 7)
            + augment.levels(fast, tmp / "speedlevel", per_file=1, seed=seed + 8,
                             floors=floors)
            + augment.rooms(fast, tmp / "speedroom", per_file=1, seed=seed + 9))


def other_voices(tmp: Path, music: list[Path], package, alone: bool = True,
                 floors: tuple[str, ...] = FLOORS) -> list[Path]:
    """Word sequences of a :class:`voices.Package` in its training
    languages (other speakers than the developer set's), each alone, over six stretches of
    ``music`` (0 to +18 dB: under that, other voices cost the developer set's 0 dB mixes
    more than they gave the unseen voices), at one other level and in one room, from
    augment's seeds plus the package's ``augment_seed``: labelled wavs under ``tmp``
    (docs/benchmarks.md, "Unseen voices"). Not ``alone``: only the mixes and the rooms
    (the same files, from the same draws)."""
    import augment
    import voices

    seed = augment.SEED + package.augment_seed
    speech = voices.sequences(tmp / "speech", package.languages, package=package)
    mixed = augment.mixes(speech, music, tmp / "mix", per_file=6, snr_db=(0.0, 18.0),
                          seed=seed)
    levels = (augment.levels(speech, tmp / "level", per_file=1, seed=seed + 1, floors=floors)
              if alone else [])
    rooms = augment.rooms(speech, tmp / "room", per_file=1, seed=seed + 2)
    return (speech if alone else []) + mixed + levels + rooms


# One file's training data: its cues per block (n, features), targets (n,) and which
# blocks the loss counts (n,) bool.
FileData = tuple[np.ndarray, np.ndarray, np.ndarray]


def file_data(wav: Path, rate: int, voice_free: bool) -> FileData:
    """One file's cues, targets and counted blocks with the engine at ``rate`` Hz (every
    block "no voice" for a voice-free file; :func:`labels_for` otherwise). The whole file
    is kept: the network hears the uncounted blocks too."""
    x, t = block_features(wav, sample_rate=rate)
    x = x.astype(np.float32)
    if voice_free:
        return x, np.zeros(len(x), np.float32), np.ones(len(x), bool)
    y, keep = labels_for(wav, t)
    return x, y.astype(np.float32), keep


def rate_data(labelled: list[Path], voice_free: list[Path], rate: int,
              pool) -> list[FileData]:
    """:func:`file_data` of every file, with the engine at ``rate`` Hz, on ``pool`` (a
    spawn pool)."""
    jobs = [(w, rate, False) for w in labelled] + [(w, rate, True) for w in voice_free]
    return pool.starmap(file_data, jobs, chunksize=4)


def training_data(root: Path, rates, voices: tuple[str, ...], pieces: int,
                  speeds: tuple[float, ...] = (), floors: tuple[str, ...] = FLOORS
                  ) -> list[FileData]:
    """Every training file's :func:`file_data` with the engine at each of ``rates``
    (:func:`training_files`, measured by the pyo graph; takes minutes)."""
    import multiprocessing
    import tempfile

    ctx = multiprocessing.get_context("spawn")
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        labelled, voice_free = training_files(root, Path(tmp), voices, pieces, speeds,
                                              floors)
        print(f"{len(labelled)} labelled files, {len(voice_free)} without voice")
        with ctx.Pool(2) as pool:
            for rate in rates:
                parts += rate_data(labelled, voice_free, rate, pool)
    return parts


def fit_ensemble(files: list[FileData], first_seed: int = 0,
                 stride: int = 1) -> dict[str, np.ndarray]:
    """:data:`ENSEMBLE` networks stepping on every ``stride``-th block
    (:func:`gru.phases`) from seeds ``first_seed``, ``first_seed + 1``, ...
    (:func:`gru.fit`), stacked into one model (:func:`gru.stack`); the shipped models use
    seeds 0, 1, 2. Two fit at once, one per core, each in a fresh process whose BLAS runs
    one thread: with a thread per core in each worker, two workers' four threads on two
    cores wait on each other (a step took 0.9 s instead of 0.15 s)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    seeds = [first_seed + j for j in range(ENSEMBLE)]
    files = gru.phases(files, stride)
    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # read by the workers' numpy at its import
    try:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            members = list(pool.map(_fit_member, [files] * len(seeds), seeds))
    finally:
        if saved is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = saved
    return gru.stack(members, BLOCK * stride)


def _fit_member(files: list[FileData], seed: int) -> dict[str, np.ndarray]:
    return gru.fit(files, seed=seed, log=lambda line: print(line, flush=True))


def train(root: Path, rates, out: Path, voices: tuple[str, ...], pieces: int,
          speeds: tuple[float, ...] = (), floors: tuple[str, ...] = FLOORS,
          stride: int = 1) -> None:
    files = training_data(root, rates, voices, pieces, speeds, floors)
    model = fit_ensemble(files, stride=stride)
    right = counted = speech = 0
    for x, y, keep in gru.phases(files, stride):
        z = gru.predict(model, x)[keep]
        right += int(((z > 0) == (y[keep] > 0.5)).sum())
        counted += int(keep.sum())
        speech += float(y[keep].sum())
    print(f"{len(files)} files, {counted} counted blocks, {speech / counted:.2f} speech, "
          f"training accuracy {right / counted:.3f}")
    np.savez(out, **model)
    print(f"rates {rates}: wrote {out}")


if __name__ == "__main__":
    main()

"""How much of the music's masking a detector could see through: an ideal listener's gaps.

    .venv/bin/python bench/oracle_gaps.py [--eval /work/shared/eval] [--extra DIR]
                                          [--resolutions fine,third,half,octave]
                                          [--music stems|estimated]

Not a detector: a measure of where the information lies. Each mix of the eval folder (and
of ``--extra``, e.g. ``bench/voices.py``'s unseen voices) is the speech file it names times
a gain, plus music; the gain is fitted by least squares (voice and music are uncorrelated),
so both stems are known. For each *labelled* word, an ideal listener hears the voice in a
frame (32 ms Hann window every 5 ms) when the voice's power in the cells where it stands
over the music reaches ``FLOOR_DB`` (40 dB) under the word's loudest frame: the labels' own
rule (a word spans its 10 ms windows within 40 dB of its peak), with the music masking every
cell it dominates. Its gaps are the pauses between consecutive words' audible extents; a
word masked whole merges its two pauses. Then the word edges are moved by the constants (the
next word's start earlier by A ms, the word's end later by B ms) that score best on the
developer set's dev split, per SNR, as a detector back-dates what the music hid.

The cells are fine (the FFT's 31 Hz bins at 16 kHz) or summed into bands first: third,
half or whole octaves from 62.5 Hz, or the detector's own bands (its cues read them:
``voicemodel.BASE_FEATURES``).
What this tells: how far the masked word edges limit any detector that reads the voice at
a given resolution, knowing perfectly which cells are the voice's. It is optimistic (the
stems are known and the rule sees every frame of the word, the future included) and it is
not a bound on a learned detector's decisions, which can do better than a fixed widening.
It looks for the voice only inside labelled words: it can shorten a word, never hear one
in a pause, so it says nothing of the music's own events between the words.

``--music estimated`` takes the stems' knowledge of the music away: each cell's music is
the 20th percentile of the mixture's power there over the previous 2 s (causal), a cell is
the voice's where the mixture stands 6 dB over that, and the voice's power there is the
excess (the word's loudest frame, for the 40 dB rule, still comes from the voice stem).

Scored like ``bench_gaps.py`` (``scoring.py``). Half a minute for the developer set and the
unseen voices with the stems, a minute more with the music estimated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

import scoring  # noqa: E402
from train_gaps import dev_files, split_of  # noqa: E402

WINDOW_S = 0.032
HOP_S = 0.005
FLOOR_DB = 40.0
# Band edges (Hz) per resolution, from 62.5 Hz up to the Nyquist frequency; "fine" sums
# nothing (every FFT bin is a cell); "detector" is the gap detector's own bands (under
# 250 Hz, four octaves to 4 kHz, over 4 kHz: ``gapkernel.BANDS`` without the whole band).
PER_OCTAVE = {"third": 3, "half": 2, "octave": 1}
DETECTOR_EDGES = (0.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0)
RESOLUTIONS = ("fine", *PER_OCTAVE, "detector")
# --music estimated: the music per cell from the mixture's recent past (no stems)
ESTIMATE_S = 2.0
ESTIMATE_EVERY = 5
ESTIMATE_QUANTILE = 0.2
ESTIMATE_OVER_DB = 6.0
WIDEN_S = tuple(x / 1000 for x in range(-20, 81, 10))
KINDS = ("mix+12", "mix+6", "mix+0")


def stems(wav: Path) -> tuple[np.ndarray, np.ndarray, int, dict]:
    """``(voice, music, rate, labels)`` of a mix: the speech file its label names (relative
    to the eval folder), times the least-squares gain, and what remains."""
    labels = scoring.load_labels(wav)
    y, sr = sf.read(wav, dtype="float64", always_2d=True)
    s, sr_s = sf.read(wav.parent.parent / labels["mix"]["speech"], dtype="float64",
                      always_2d=True)
    if sr != sr_s:
        raise ValueError(f"{wav}: the mix at {sr} Hz, its speech at {sr_s} Hz")
    n = min(len(y), len(s))
    y, s = y[:n].mean(1), s[:n].mean(1)
    voice = s * float(y @ s / (s @ s))
    return voice, y - voice, sr, labels


def parse_resolution(resolution: str) -> tuple[str, tuple[float, ...]]:
    """``(name, extra band edges in Hz)``: one of :data:`RESOLUTIONS`, or
    ``detector:F[:F...]`` (the detector's bands split at F > 0 Hz too); ValueError
    otherwise."""
    name, _, splits = resolution.partition(":")
    extra = tuple(float(f) for f in splits.split(":")) if splits else ()
    if name not in RESOLUTIONS or (extra and (name != "detector" or min(extra) <= 0)):
        raise ValueError(f"unknown resolution {resolution!r}")
    return name, extra


def band_edges(resolution: str, sr: int) -> np.ndarray | None:
    """Band edges in Hz for ``resolution`` (None: every FFT bin)."""
    name, extra = parse_resolution(resolution)
    if name == "fine":
        return None
    if name == "detector":
        return np.array(sorted({*DETECTOR_EDGES, *extra}) + [sr / 2 + 1])
    n = PER_OCTAVE[name]
    top = int(np.floor(n * np.log2(sr / 2 / 62.5)))
    edges = 62.5 * 2.0 ** (np.arange(top + 1) / n)
    return np.concatenate([[0.0], edges[:-1], [sr / 2 + 1]])


def window_samples(sr: int) -> int:
    """The analysis frame's length at ``sr`` (``WINDOW_S``), in samples."""
    return int(round(WINDOW_S * sr))


def spectrum(x: np.ndarray, sr: int) -> np.ndarray:
    """Power per frame (every ``HOP_S``, centred) and FFT bin: ``(frames, bins)``."""
    win, hop = window_samples(sr), int(round(HOP_S * sr))
    pad = np.pad(x, (win // 2, win // 2))
    idx = np.arange(0, len(x), hop)[:, None] + np.arange(win)[None, :]
    return np.abs(np.fft.rfft(pad[idx] * np.hanning(win), axis=1)) ** 2


def cells(power: np.ndarray, sr: int, edges: np.ndarray | None) -> np.ndarray:
    """A :func:`spectrum`'s power per frame and cell: ``(frames, cells)``."""
    if edges is None:
        return power
    freqs = np.fft.rfftfreq(window_samples(sr), 1 / sr)
    return np.stack([power[:, (freqs >= lo) & (freqs < hi)].sum(1)
                     for lo, hi in zip(edges, edges[1:])], 1)


def estimated_music(mixture: np.ndarray) -> np.ndarray:
    """Each cell's music as the mixture alone tells it, causally: the ``ESTIMATE_QUANTILE``
    of the cell's power over the previous ``ESTIMATE_S`` (every ``ESTIMATE_EVERY``-th
    frame of it); the first frame's own power for the first frame."""
    span = int(round(ESTIMATE_S / HOP_S))
    out = np.empty_like(mixture)
    out[0] = mixture[0]
    for t in range(1, len(mixture)):
        past = mixture[max(0, t - span):t][::-1][::ESTIMATE_EVERY]
        out[t] = np.quantile(past, ESTIMATE_QUANTILE, axis=0)
    return out


def audible_extents(voice: np.ndarray, music: np.ndarray, sr: int, words: list[dict],
                    resolution: str, estimated: bool = False
                    ) -> list[tuple[float, float] | None]:
    """Each word's first and last frame (s) where the voice, in the cells it dominates,
    reaches ``FLOOR_DB`` under the word's loudest frame; None for a word masked whole.
    ``estimated``: the music is not known but estimated from the mixture
    (:func:`estimated_music`); a cell is the voice's where the mixture stands
    ``ESTIMATE_OVER_DB`` over that, and the voice's power there is the excess."""
    return extents_of(*stem_spectra(voice, music, sr, estimated), sr, words, resolution,
                      estimated)


def stem_spectra(voice: np.ndarray, music: np.ndarray, sr: int,
                 estimated: bool) -> tuple[np.ndarray, np.ndarray]:
    """The two :func:`spectrum` that :func:`extents_of` reads: the voice's, and the
    music's (or, ``estimated``, the mixture's, the music being unknown)."""
    return spectrum(voice, sr), spectrum(voice + music if estimated else music, sr)


def extents_of(voice: np.ndarray, other: np.ndarray, sr: int, words: list[dict],
               resolution: str, estimated: bool) -> list[tuple[float, float] | None]:
    """:func:`audible_extents` from the stems' :func:`spectrum`: the voice's, and the
    music's (or, ``estimated``, the mixture's); each file's spectra serve every
    resolution."""
    edges = band_edges(resolution, sr)
    v, o = cells(voice, sr, edges), cells(other, sr, edges)
    if estimated:
        m = estimated_music(o)
        heard = ((o - m) * (o > m * 10 ** (ESTIMATE_OVER_DB / 10))).sum(1)
    else:
        heard = (v * (v > o)).sum(1)
    total = v.sum(1)
    out = []
    for w in words:
        i0 = int(round(w["start"] / HOP_S))
        i1 = min(len(total) - 1, int(round(w["end"] / HOP_S)))
        if i1 < i0:
            out.append(None)
            continue
        over = np.nonzero(heard[i0:i1 + 1] >= total[i0:i1 + 1].max() * 10 ** (-FLOOR_DB / 10))[0]
        out.append(None if len(over) == 0 else ((i0 + over[0]) * HOP_S, (i0 + over[-1]) * HOP_S))
    return out


def oracle_gaps(extents: list[tuple[float, float] | None], earlier_s: float = 0.0,
                later_s: float = 0.0) -> list[dict]:
    """Pauses of at least ``scoring.MIN_GAP_S`` between consecutive audible words, each
    word's start moved ``earlier_s`` earlier and its end ``later_s`` later."""
    heard = [e for e in extents if e is not None]
    out = []
    for a, b in zip(heard, heard[1:]):
        start, end = a[1] + later_s, b[0] - earlier_s
        if end - start >= scoring.MIN_GAP_S - 1e-9:
            out.append({"start": start, "end": end})
    return out


def valid_resolution(resolution: str) -> bool:
    """Whether :func:`parse_resolution` reads ``resolution``."""
    try:
        parse_resolution(resolution)
    except ValueError:
        return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--extra", type=Path, help="another labelled folder (mix/ with its "
                    "speech/), e.g. bench/voices.py's output")
    ap.add_argument("--music", choices=("stems", "estimated"), default="stems",
                    help="stems: the listener knows the music; estimated: it knows only "
                         "the mixture, and takes each cell's music as its 20th percentile "
                         "over the last 2 s (causal)")
    ap.add_argument("--resolutions", default=",".join(RESOLUTIONS),
                    help=f"comma-separated, of {', '.join(RESOLUTIONS)}; 'detector:125' "
                         "(or detector:62.5:125, ...) splits the detector's bands at those Hz")
    args = ap.parse_args()
    resolutions = [r.strip() for r in args.resolutions.split(",")]
    bad = [r for r in resolutions if not valid_resolution(r)]
    if bad:
        ap.error(f"--resolutions: unknown {', '.join(bad)}; expected {', '.join(RESOLUTIONS)}"
                 " (detector:125 splits the detector's bands at 125 Hz too)")
    mixes = [w for root in (args.eval, args.extra) if root is not None
             for w in dev_files(root) if w.parent.name == "mix"]
    if not mixes:
        ap.error(f"{args.eval}: no mix/*.wav there")
    splits = ("dev", "held-out") + (("extra",) if args.extra else ())
    print(f"{len(mixes)} mixes, music {args.music}; an ideal listener's gaps, F1 (tp/fp/fn); "
          "widening fitted on dev per SNR (ms: next word earlier / word end later)\n")
    print("| cells | kind | widening | " + " | ".join(splits) + " | dev, no widening |")
    print("|---|---|---|" + "---|" * (len(splits) + 1))
    estimated = args.music == "estimated"
    found: dict[str, list] = {r: [] for r in resolutions}
    for w in mixes:  # each file's spectra once, for every resolution
        voice, music, sr, labels = stems(w)
        v, other = stem_spectra(voice, music, sr, estimated)
        for resolution in resolutions:
            found[resolution].append((
                split_of(w, args.eval), scoring.label_kind(labels), labels["gaps"],
                extents_of(v, other, sr, labels["words"], resolution, estimated)))
    for resolution, rows in found.items():
        for kind in KINDS:
            def score(split, a, b):
                return scoring.summarise([
                    scoring.score_file(oracle_gaps(ext, a, b), gaps)
                    for sp, k, gaps, ext in rows if sp == split and k == kind])
            best = max(((score("dev", a, b)["f1"], -abs(a) - abs(b), a, b)
                        for a in WIDEN_S for b in WIDEN_S))
            a, b = best[2], best[3]
            cells_ = " | ".join(cell(score(s, a, b)) for s in splits)
            print(f"| {resolution} | {kind} | {a * 1e3:+.0f} / {b * 1e3:+.0f} | {cells_} | "
                  f"{cell(score('dev', 0.0, 0.0))} |", flush=True)
    return 0


def cell(s: dict) -> str:
    return f"{s['f1']:.3f} ({s['tp']}/{s['fp']}/{s['fn']})"


if __name__ == "__main__":
    sys.exit(main())

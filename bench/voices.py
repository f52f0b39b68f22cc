"""Unseen voices over unseen music: a second evaluation set for the gap detector.

    .venv/bin/python bench/voices.py OUT      # then: bench/bench_gaps.py --eval OUT

The developer set's speech comes from few voices: five LibriVox utterances of one reader and
twelve sequences of one English KTuberling word list, and its held-out split has 14 gaps
per kind. Debian's ``ktuberling-data`` (the package the set's English words come from) holds
the same toy's words recorded in some twenty other languages by other speakers. This module
makes labelled sequences of them the way the developer set makes its own
(``../shared/eval/tools/make_dev_set.py``), and mixes each over soft music no model was fitted
on (:func:`augment.synth_piece` with seeds the training never uses) at +12, +6 and 0 dB, in
the developer set's layout (``speech/``, ``mix/``, a label JSON beside each wav):

- a word is used only if it trims cleanly: its 10 ms RMS starts and ends under -40 dB re
  its sample peak with quiet on both sides, its floor is at or under -41 dB re its peak,
  and it has no stretch of 60 ms or more under that threshold inside it; the word spans
  from the first to the last 10 ms window over the threshold (3 ms fades inside it);
- English is left out (the developer set's own words), and so are languages with fewer than
  :data:`MIN_WORDS` clean words;
- each sequence holds 5 to 9 words of one language at -20 dBFS +-3 dB active RMS, joined
  by log-uniform pauses of 40 to 1500 ms, with 0.3-0.8 s of silence around them; every third
  sequence of a language has pink noise at -55 dBFS under it.

The labels have the developer set's layout (``words``, ``gaps`` of >= 100 ms between two
words). The languages are split in two (:data:`TRAIN_LANGUAGES`, :data:`EVAL_LANGUAGES`):
``train_gaps.py`` fits on the first (alone, over music, at another level, in a room), this
set holds only the second.

``train_gaps.py --voices ktuberling,klettres`` also fits on Debian's ``klettres-data``
(:data:`KLETTRES`): the letters and syllables of a children's alphabet game, each
recorded alone by its language's speakers, joined into sequences the same way
(:data:`LETTERS_LANGUAGES`: eleven languages, none of KTuberling's, no English). Each
package (GPL-2+, 47 and 40 MB) is downloaded once from deb.debian.org, checked against its
SHA-256, and kept under ``$XDG_CACHE_HOME/installation`` (or ``~/.cache/installation``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

import augment
from augment import SR  # the developer set's rate

TRIM_DB = -40.0  # re the word's sample peak, on a 10 ms RMS envelope
FLOOR_DB = -41.0
MAX_INNER_S = 0.060
MIN_WORDS = 5
SEED = 8316 + 641


# KTuberling's languages split in two: the gap detector is fitted on the first
# (train_gaps.py) and measured on the second (``bench/voices.py OUT``), whose speakers it
# never heard.
TRAIN_LANGUAGES = ("ca", "da", "lt", "ro", "uk")
EVAL_LANGUAGES = ("el", "ga", "sl", "wa")
# KLettres' languages fitted on: none of KTuberling's (its speakers may be the same people:
# the cross-validation over languages holds KTuberling's out) and no English (the developer
# set's words, and its held-out split); ar, he, hu and ml trim to no clean word.
LETTERS_LANGUAGES = ("cs", "de", "es", "fr", "it", "nb", "nds", "nl", "pt_BR", "ru", "tn")
assert not set(LETTERS_LANGUAGES) & {*TRAIN_LANGUAGES, *EVAL_LANGUAGES, "en", "en_GB"}


class Package(NamedTuple):
    """A Debian package of words recorded one by one, one folder per language."""

    name: str  # also in the sequences' file names: voices_<name>_<language>_<j>
    url: str
    sha256: str
    megabytes: int
    sounds: str  # the folder (in the package) with one sub-folder per language
    version: str
    seed: int  # the sequences' pauses and words are drawn from [seed, language]
    languages: tuple[str, ...]  # those fitted on (train_gaps.other_voices)
    # what train_gaps adds to augment's seeds for these sequences' mixes, levels, rooms
    # and speed copies (KTuberling's: 0, as the developer set's)
    augment_seed: int


KTUBERLING = Package(
    "ktuberling", "http://deb.debian.org/debian/pool/main/k/ktuberling/"
    "ktuberling-data_22.12.3-1_all.deb",
    "fba44c875bfa31ea488dadd9263e87a4dcaea0bd47d28817f6c0dc6d2af970ed", 47,
    "usr/share/ktuberling/sounds", "4:22.12.3-1", SEED, TRAIN_LANGUAGES, 0)
# KLettres' letters and syllables, each language read by its own speakers (other people
# than KTuberling's, in most languages): more voices to fit on.
KLETTRES = Package(
    "klettres", "http://deb.debian.org/debian/pool/main/k/klettres/"
    "klettres-data_22.12.3-1_all.deb",
    "1186d257a19e84230856baea0b0b1ded8be9195080fcdb2588970b5cd937f5a8", 40,
    "usr/share/klettres", "4:22.12.3-1", SEED + 1, LETTERS_LANGUAGES, 20)
PACKAGES = {p.name: p for p in (KTUBERLING, KLETTRES)}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "installation"


def check_sha256(path: Path, expected: str) -> None:
    """Exit with a message (and delete ``path``, so the next run downloads it again) when
    the downloaded ``path`` is not the file whose SHA-256 is ``expected``."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        path.unlink()
        raise SystemExit(f"{path}: SHA-256 {digest}, expected {expected}; deleted, run again")


def sounds(cache: Path | None = None, package: Package = KTUBERLING) -> Path:
    """The package's sound folder (one sub-folder per language), downloaded and unpacked on
    first use."""
    cache = cache or cache_dir()
    root = cache / f"{package.name}-data"
    if (root / package.sounds).is_dir():
        return root / package.sounds
    cache.mkdir(parents=True, exist_ok=True)
    deb = cache / package.url.rsplit("/", 1)[1]
    if not deb.exists():
        print(f"downloading {package.url} ({package.megabytes} MB) ...", flush=True)
        part = deb.with_suffix(".part")
        urllib.request.urlretrieve(package.url, part)
        part.rename(deb)
    check_sha256(deb, package.sha256)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root / package.sounds


def _envelope(y: np.ndarray, win: int) -> np.ndarray:
    """RMS of the ``win`` samples starting at each sample."""
    c = np.concatenate([[0.0], np.cumsum(y * y)])
    return np.sqrt(np.maximum(0.0, (c[win:] - c[:-win]) / win))


def trim(y: np.ndarray, sr: int = SR) -> np.ndarray | None:
    """The word in ``y`` trimmed at -40 dB re its peak, or None when it does not trim
    cleanly (see the module's docstring)."""
    win = int(round(0.010 * sr))
    if len(y) <= 2 * win or not np.abs(y).max() > 0.0:
        return None
    env = _envelope(y, win)
    peak = np.abs(y).max()
    thr = peak * 10 ** (TRIM_DB / 20)
    above = np.flatnonzero(env >= thr)
    start, end = int(above[0]), int(above[-1]) + win
    ms = sr // 1000
    end = min(len(y), start + math.ceil((end - start) / ms) * ms)
    quiet = 0.005 * sr
    if start < quiet or len(y) - end < quiet:
        return None
    if 20 * np.log10(np.percentile(env, 5) / peak + 1e-12) > FLOOR_DB:
        return None
    under = np.concatenate([[False], env[start:above[-1] + 1] < thr, [False]])
    edges = np.flatnonzero(np.diff(under.astype(np.int8)))
    longest = int((edges[1::2] - edges[::2]).max()) if len(edges) else 0
    if longest and (longest + win) / sr >= MAX_INNER_S:
        return None
    return y[start:end].copy()


def words(folder: Path, languages: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
    """The clean words of ``languages`` in a package's sound folder: ``{language: [samples
    at SR]}``, languages with at least :data:`MIN_WORDS` only."""
    import soundfile as sf
    import soxr

    out = {}
    for lang in sorted(p for p in folder.iterdir() if p.is_dir()):
        if lang.name not in languages:
            continue
        clean = []
        for f in sorted([*lang.rglob("*.ogg"), *lang.rglob("*.wav")]):
            if f.stem.startswith("tv_"):  # stereo sound effects
                continue
            y, sr = sf.read(str(f), dtype="float64", always_2d=True)
            y = y.mean(axis=1)
            w = trim(y if sr == SR else soxr.resample(y, sr, SR))
            if w is not None:
                clean.append(w)
        if len(clean) >= MIN_WORDS:
            out[lang.name] = clean
    return out


def sequence(pool: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """5 to 9 words of ``pool`` joined by pauses, as the developer set joins its own:
    (samples at SR, ``[(start s, end s)]`` of the words)."""
    ms = SR // 1000
    fade = int(0.003 * SR)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
    n = int(rng.integers(5, min(9, len(pool)) + 1))
    pick = rng.choice(len(pool), size=n, replace=False)
    pauses = [int(round(math.exp(rng.uniform(math.log(0.040), math.log(1.500))) * 1000))
              for _ in range(n - 1)]
    lead, tail = (int(rng.integers(300, 801)) for _ in range(2))
    segs, spans, t = [np.zeros(lead * ms)], [], lead * ms
    for k, i in enumerate(pick):
        w = pool[i].copy()
        w[:fade] *= ramp
        w[-fade:] *= ramp[::-1]
        w *= 10 ** ((-20 + rng.uniform(-3, 3)) / 20) / np.sqrt(np.mean(w * w))
        w *= min(1.0, 0.9 / np.abs(w).max())
        spans.append((t / SR, (t + len(w)) / SR))
        segs.append(w)
        t += len(w)
        if k < n - 1:
            segs.append(np.zeros(pauses[k] * ms))
            t += pauses[k] * ms
    segs.append(np.zeros(tail * ms))
    return np.concatenate(segs), spans


def sequences(out: Path, languages: tuple[str, ...], per_words: int = 8,
              cache: Path | None = None, package: Package = KTUBERLING) -> list[Path]:
    """Write labelled sequences of ``package``'s ``languages`` under ``out`` (one per
    ``per_words`` clean words of each language, at least one, at most six) and return their
    wav paths."""
    import soundfile as sf

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for lang, pool in words(sounds(cache, package), languages).items():
        rng = np.random.default_rng([package.seed, sum(map(ord, lang))])
        for j in range(min(6, max(1, len(pool) // per_words))):
            y, spans = sequence(pool, rng)
            stem = f"voices_{package.name}_{lang.replace('@', '-').replace('_', '-')}_{j:02d}"
            if j % 3 == 2:
                y = y + 10 ** (-55 / 20) * augment._pink(len(y), rng)
                stem += "_pink55"
            path = out / f"{stem}.wav"
            sf.write(str(path), y, SR, subtype="FLOAT")
            wl = [{"start": round(a, 4), "end": round(b, 4), "text": f"{lang}{k}"}
                  for k, (a, b) in enumerate(spans)]
            gaps = [{"start": a["end"], "end": b["start"]} for a, b in zip(wl, wl[1:])
                    if b["start"] - a["end"] >= 0.1 - 1e-9]
            path.with_suffix(".json").write_text(json.dumps({
                "audio": path.name, "sr": SR, "duration": len(y) / SR, "kind": "speech",
                "source": f"Debian {package.name}-data {package.version}, {lang} "
                          f"(bench/voices.py)",
                "license": f"GPL-2+ ({package.name}-data, per debian/copyright)",
                "words": wl, "gaps": gaps}))
            paths.append(path)
    return paths


MUSIC_SEEDS = range(9500, 9506)  # train_gaps's synthetic pieces use 9000-9019
SNRS = (12.0, 6.0, 0.0)


def mixes(speech: list[Path], out: Path) -> list[Path]:
    """Each speech wav over one of six unseen synthetic pieces (in turn, from a seeded
    offset) at each of :data:`SNRS` (voice to music, RMS over the words, as the developer set
    measures it); writes wavs and labels (``kind`` mix, ``mix.snr_db``) under ``out``."""
    import soundfile as sf
    import soxr

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED + 1)
    pieces = [soxr.resample(augment.synth_piece(seed), 48000, SR) for seed in MUSIC_SEEDS]
    paths = []
    for i, sp in enumerate(speech):
        lab, y, words = augment._speech(sp)
        k = i % len(pieces)
        music = pieces[k]
        off = int(rng.integers(0, max(1, len(music) - len(y))))
        seg = music[off:off + len(y)]
        seg = np.pad(seg, (0, len(y) - len(seg)))
        voice, level = augment._rms(y[words]), augment._rms(seg[words])  # once per file
        for snr in SNRS:
            x = y + voice / (level * 10 ** (snr / 20)) * seg
            x *= min(1.0, 0.98 / np.abs(x).max())
            path = out / f"{sp.stem}__synth{MUSIC_SEEDS[k]}__snr{snr:+03.0f}.wav"
            sf.write(str(path), x, SR, subtype="FLOAT")
            path.with_suffix(".json").write_text(json.dumps(dict(
                lab, audio=path.name, kind="mix",
                mix={"speech": f"speech/{sp.name}", "snr_db": snr,
                     "music": f"augment.synth_piece({MUSIC_SEEDS[k]}) from {off / SR:.3f} s"})))
            paths.append(path)
    return paths


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="the folder to write (speech/ and mix/)")
    args = ap.parse_args()
    speech = sequences(args.out / "speech", EVAL_LANGUAGES)
    mixed = mixes(speech, args.out / "mix")
    print(f"wrote {len(speech)} speech and {len(mixed)} mix files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

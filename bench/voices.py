"""Unseen voices over unseen music: a second evaluation set for the gap detector.

    .venv/bin/python bench/voices.py OUT      # then: bench/bench_gaps.py --eval OUT
    .venv/bin/python bench/voices.py --package asterisk OUT   # a third set (below)

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

``--package asterisk`` writes a third set the same way from Debian's Asterisk prompts
(:data:`ASTERISK`, below): all four of its professional speakers in their five
languages, English among them, over six more unseen pieces (:data:`ASTERISK_MUSIC_SEEDS`).
It is unseen as long as no shipped model is fitted on Asterisk's voices
(``train_gaps.FAMILY_OPTIONS``; none is).

The labels have the developer set's layout (``words``, ``gaps`` of >= 100 ms between two
words). The languages are split in two (:data:`TRAIN_LANGUAGES`, :data:`EVAL_LANGUAGES`):
``train_gaps.py`` fits on the first (alone, over music, at another level, in a room), this
set holds only the second.

``train_gaps.py --voices ktuberling,klettres`` also fits on Debian's ``klettres-data``
(:data:`KLETTRES`): the letters and syllables of a children's alphabet game, each
recorded alone by its language's speakers, joined into sequences the same way
(:data:`LETTERS_LANGUAGES`: eleven languages, none of KTuberling's, no English), and
``--voices ...,asterisk`` on Debian's ``asterisk-core-sounds-*-g722`` (:data:`ASTERISK`): a
telephone system's prompts (digits, letters, words, short phrases) read in a studio by four
professional speakers in five languages (:data:`ASTERISK_SPEAKERS`), 16 kHz G.722, decoded
with ffmpeg. Each package (KTuberling's and KLettres' GPL-2+, 47 and 40 MB; Asterisk's
CC-BY-SA-3.0 and CC-BY-3.0, five of 10-13 MB) is downloaded once from deb.debian.org,
checked against its SHA-256, and kept under ``$XDG_CACHE_HOME/installation`` (or
``~/.cache/installation``).
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


class Deb(NamedTuple):
    """One Debian package file: where it is, its SHA-256 and its size (MB, for the message)."""

    url: str
    sha256: str
    megabytes: int

    @property
    def file_name(self) -> str:
        """The package file's name (``ktuberling-data_22.12.3-1_all.deb``)."""
        return self.url.rsplit("/", 1)[1]


class Package(NamedTuple):
    """Words recorded one by one, one folder per language (or per speaker), in one or more
    Debian packages unpacked into the same tree."""

    name: str  # also in the sequences' file names: voices_<name>_<language>_<j>
    debs: tuple[Deb, ...]
    sounds: str  # the folder (in the packages) with one sub-folder per language
    version: str
    seed: int  # the sequences' pauses and words are drawn from [seed, language]
    languages: tuple[str, ...]  # those fitted on (train_gaps.other_voices)
    # what train_gaps adds to augment's seeds for these sequences' mixes, levels, rooms
    # and speed copies (KTuberling's: 0, as the developer set's)
    augment_seed: int
    license: str  # of the recordings, as the packages' debian/copyright gives it

    @property
    def deb_names(self) -> str:
        """The Debian packages' names, comma-separated."""
        return ", ".join(sorted({d.file_name.split("_")[0] for d in self.debs}))


DEBIAN = "http://deb.debian.org/debian/pool/main/"
KTUBERLING = Package(
    "ktuberling", (Deb(DEBIAN + "k/ktuberling/ktuberling-data_22.12.3-1_all.deb",
                       "fba44c875bfa31ea488dadd9263e87a4dcaea0bd47d28817f6c0dc6d2af970ed", 47),),
    "usr/share/ktuberling/sounds", "4:22.12.3-1", SEED, TRAIN_LANGUAGES, 0,
    "GPL-2+ (ktuberling-data, per debian/copyright)")
# KLettres' letters and syllables, each language read by its own speakers (other people
# than KTuberling's, in most languages): more voices to fit on.
KLETTRES = Package(
    "klettres", (Deb(DEBIAN + "k/klettres/klettres-data_22.12.3-1_all.deb",
                     "1186d257a19e84230856baea0b0b1ded8be9195080fcdb2588970b5cd937f5a8", 40),),
    "usr/share/klettres", "4:22.12.3-1", SEED + 1, LETTERS_LANGUAGES, 20,
    "GPL-2+ (klettres-data, per debian/copyright)")
# Asterisk's telephone prompts: digits, letters, the spelling alphabet and short phrases,
# read in a studio by four professional speakers (Allison Smith in English and Spanish,
# June Wallack in French, Carlo Flora in Italian, Maxim Topal in Russian), as 16 kHz G.722
# (50-7000 Hz; the developer set and the other voices are 16 kHz recordings too). One
# package per language; a "language" here is the speaker's folder. Fitted on by neither
# model: both lost in rooms or under music (docs/benchmarks.md, "Asterisk's voices").
ASTERISK_SPEAKERS = ("en_US_f_Allison", "es_MX_f_Allison", "fr_CA_f_June", "it_IT_m_Carlo",
                     "ru_RU_f_IvrvoiceRU")
ASTERISK = Package(
    "asterisk", tuple(
        Deb(DEBIAN + f"a/asterisk-core-sounds/asterisk-core-sounds-{lang}-g722_1.6.1-1_all.deb",
            sha, mb) for lang, sha, mb in (
            ("en", "38c5261820b406dcb0ecb37675720da2b0864850690690352ca52707eb623806", 11),
            ("es", "e4e3b4281057d3b81b779298fd6be705f57411513955c518eed1bcaabbd615b8", 13),
            ("fr", "7add61d5e42279ecff1bbdf842a5a946ac3644fac9a0fe44384731aa7270c8e0", 11),
            ("it", "46b4cf7afc508a5fcfc051b7ea233251c0d195dd4ef83cc4b7facb4c6429b016", 10),
            ("ru", "673b4238a6b8269960f055d868c6a11083f7a0d00979167cb01554046b48ed9b", 11))),
    "usr/share/asterisk/sounds", "1.6.1-1", SEED + 2, ASTERISK_SPEAKERS, 40,
    "CC-BY-SA-3.0 (en, es, fr, it) / CC-BY-3.0 (ru) (asterisk-core-sounds, per "
    "debian/copyright)")
PACKAGES = {p.name: p for p in (KTUBERLING, KLETTRES, ASTERISK)}


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
    """The package's sound folder (one sub-folder per language), its Debian packages
    downloaded and unpacked on first use."""
    cache = cache or cache_dir()
    root = cache / f"{package.name}-data"
    for deb in package.debs:
        path = cache / deb.file_name
        done = root / f".{path.name}.unpacked"
        if done.exists() or (len(package.debs) == 1 and (root / package.sounds).is_dir()):
            continue
        cache.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            print(f"downloading {deb.url} ({deb.megabytes} MB) ...", flush=True)
            part = path.with_suffix(".part")
            urllib.request.urlretrieve(deb.url, part)
            part.rename(path)
        check_sha256(path, deb.sha256)
        subprocess.run(["dpkg-deb", "-x", str(path), str(root)], check=True)
        done.touch()
    return root / package.sounds


def read_sound(path: Path) -> tuple[np.ndarray, int]:
    """A recording's samples (mono float64) and rate: what libsndfile reads (wav, ogg),
    and raw G.722 (``.g722``, 16 kHz) through ffmpeg."""
    if path.suffix == ".g722":
        import imageio_ffmpeg

        raw = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "g722", "-i", str(path),
             "-f", "f32le", "-ac", "1", "-"], check=True, capture_output=True).stdout
        return np.frombuffer(raw, np.float32).astype(np.float64), 16000
    import soundfile as sf

    y, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return y.mean(axis=1), sr


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
    import soxr

    out = {}
    for lang in sorted(p for p in folder.iterdir() if p.is_dir()):
        if lang.name not in languages:
            continue
        clean = []
        for f in sorted([*lang.rglob("*.ogg"), *lang.rglob("*.wav"), *lang.rglob("*.g722")]):
            if f.stem.startswith("tv_"):  # stereo sound effects
                continue
            y, sr = read_sound(f)
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
                "source": f"Debian {package.deb_names} {package.version}, {lang} "
                          f"(bench/voices.py)",
                "license": package.license,
                "words": wl, "gaps": gaps}))
            paths.append(path)
    return paths


MUSIC_SEEDS = range(9500, 9506)  # train_gaps fits on augment.TRAIN_SEED + 0..19
ASTERISK_MUSIC_SEEDS = range(9510, 9516)  # the Asterisk set's pieces: heard by no other set
SNRS = (12.0, 6.0, 0.0)
# What ``--package`` writes: the package's speakers (its folders) and the music's seeds.
EVAL_SETS = {"ktuberling": (KTUBERLING, EVAL_LANGUAGES, MUSIC_SEEDS),
             "asterisk": (ASTERISK, ASTERISK_SPEAKERS, ASTERISK_MUSIC_SEEDS)}


def mixes(speech: list[Path], out: Path, seeds: range = MUSIC_SEEDS) -> list[Path]:
    """Each speech wav over one of six unseen synthetic pieces (``seeds``: in turn, from a
    seeded offset) at each of :data:`SNRS` (voice to music, RMS over the words, as the
    developer set measures it); writes wavs and labels (``kind`` mix, ``mix.snr_db``) under
    ``out``."""
    import soundfile as sf
    import soxr

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED + 1)
    pieces = [soxr.resample(augment.synth_piece(seed), 48000, SR) for seed in seeds]
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
            path = out / f"{sp.stem}__synth{seeds[k]}__snr{snr:+03.0f}.wav"
            sf.write(str(path), x, SR, subtype="FLOAT")
            path.with_suffix(".json").write_text(json.dumps(dict(
                lab, audio=path.name, kind="mix",
                mix={"speech": f"speech/{sp.name}", "snr_db": snr,
                     "music": f"augment.synth_piece({seeds[k]}) from {off / SR:.3f} s"})))
            paths.append(path)
    return paths


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="the folder to write (speech/ and mix/)")
    ap.add_argument("--package", choices=sorted(EVAL_SETS), default="ktuberling",
                    help="ktuberling: the languages no model is fitted on (EVAL_LANGUAGES) "
                         "over six unseen pieces; asterisk: Asterisk's four speakers in "
                         "five languages over six other unseen pieces")
    args = ap.parse_args()
    package, speakers, seeds = EVAL_SETS[args.package]
    speech = sequences(args.out / "speech", speakers, package=package)
    mixed = mixes(speech, args.out / "mix", seeds)
    print(f"wrote {len(speech)} speech and {len(mixed)} mix files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How well ``gap_expected`` predicts how long a pause will last, on phrased speech.

    .venv/bin/python bench/bench_expected.py [--eval /work/shared/eval] [--rate 48000]
                                             [--no-phrased] [--json OUT]

``gap_expected`` is the detector's guess at the current pause's whole length: the median of
a log-normal law of the speaker's recent pauses, given how long this one has lasted so far
(``gapkernel.expected_pause``). It is scored on every gap the live detector finds (the same
analysis as ``installation gaps``; no labels are needed: the guess is compared with the
length the detector itself then measured), at the block the gap is confirmed and when it
has lasted 0.25, 0.5 and 1 s (gaps that last that long), as the median
|log2(expected / actual)| and the share within a factor of 1.5, beside three references
computed on the same gaps:

- *held*: the value on the gap's first block, held for the whole gap (what ``gap_expected``
  read before it followed the pause);
- *held, >= elapsed*: the same, never under the time the pause has already lasted;
- *hindsight median, >= elapsed*: the median of all the gaps found in the set (known only
  afterwards), never under the time elapsed.

Two sets:

- the developer set's speech and mixes (``--eval``): KTuberling's words joined by pauses
  drawn independently (log-uniform 40-1500 ms), so there is no rhythm to learn. The law's
  prior spread (``gaps.PRIOR_SPREAD``) was chosen on it;
- phrased speech (``--no-phrased`` leaves it out): the recordings that ship in two VAD
  packages' source distributions on PyPI, downloaded once with pip, checked against their
  SHA-256 and kept under ``~/.cache/installation`` (``$XDG_CACHE_HOME``): silero-vad 6.2.3
  (MIT; ``examples/c++/aepyx.wav``, 169 s, and ``tests/data/test.wav``, 60 s, read speech)
  and pyannote.audio 4.0.7 (MIT; ``sample/sample.wav`` and 13 ``tests/data`` excerpts of
  30 s: meetings of several speakers, the AMI corpus). Nothing was chosen on them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tarfile
from pathlib import Path

os.environ.setdefault("PYO_GUI_WX", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

from voices import cache_dir, check_sha256  # noqa: E402

from installation.analysis.frames import FrameBuilder  # noqa: E402
from installation.config import AnalysisConfig  # noqa: E402
from installation.engine.offline import analyse_taps  # noqa: E402

# (requirement, sdist, its SHA-256 on PyPI, the wavs it holds that are read)
PHRASED = (
    ("silero-vad==6.2.3", "silero_vad-6.2.3.tar.gz",
     "d7a23b09202be4953915cb9173089bb307eed0418a9bd4794d9ec5af07fa1996",
     ("examples/c++/aepyx.wav", "tests/data/test.wav")),
    ("pyannote.audio==4.0.7", "pyannote_audio-4.0.7.tar.gz",
     "3a903dfb5ca711d134cc2522561c9158b186836f5d62e8a57c46c6648e8a8229",
     ("src/pyannote/audio/sample/sample.wav",
      *(f"tests/data/{name}.wav" for name in (
          "dev00", "dev01", "trn01", "trn02", "trn03", "trn04", "trn05", "trn06", "trn07",
          "trn08", "trn09", "tst00", "tst01")))),
)
CHECKPOINTS = (None, 0.25, 0.5, 1.0)  # None: the block the gap is confirmed
METHODS = ("ours", "held", "held, >= elapsed", "hindsight median, >= elapsed")


def phrased_files(cache: Path | None = None) -> list[Path]:
    """The phrased recordings, downloaded and unpacked on first use."""
    root = (cache or cache_dir()) / "phrased"
    out = []
    for requirement, sdist, sha256, members in PHRASED:
        folder = root / sdist.removesuffix(".tar.gz")
        paths = [folder / m.replace("/", "_") for m in members]
        if not all(p.exists() for p in paths):
            archive = root / sdist
            if not archive.exists():
                root.mkdir(parents=True, exist_ok=True)
                print(f"downloading {requirement} (its source distribution) ...", flush=True)
                subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                                "--no-binary", ":all:", "-q", "-d", str(root), requirement],
                               check=True)
            check_sha256(archive, sha256)
            folder.mkdir(parents=True, exist_ok=True)
            top = sdist.removesuffix(".tar.gz")
            with tarfile.open(archive) as tar:
                for member, path in zip(members, paths):
                    data = tar.extractfile(f"{top}/{member}")
                    path.write_bytes(data.read())
        out += paths
    return out


def pauses(path: Path, rate: int, block: int = 256) -> list[dict]:
    """Each gap the live detector finds in ``path``: its length, ``gap_expected`` on its
    first block and at each checkpoint it lasts to."""
    settings = AnalysisConfig()
    rows, pitch_rate = analyse_taps(path, sample_rate=rate, block_size=block,
                                    settings=settings)
    builder = FrameBuilder(rate, block, pitch_rate, settings)
    out, current = [], None
    for row in rows:
        f = builder.push(row)
        if f.gap_start:
            current = {"first": f.gap_expected, "at": {None: (f.gap_s, f.gap_expected)}}
        elif current is not None and f.gap_s > 0.0:
            for c in CHECKPOINTS[1:]:
                if c not in current["at"] and f.gap_s >= c:
                    current["at"][c] = (f.gap_s, f.gap_expected)
        if f.gap_end and current is not None:
            if f.gap_duration >= settings.gap_min_s:
                current["length"] = f.gap_duration
                out.append(current)
            current = None
    return out


def score(found: list[dict]) -> dict:
    """Per checkpoint and method: (gaps, median |log2(expected / actual)|, share within
    a factor of 1.5)."""
    hindsight = float(np.median([g["length"] for g in found])) if found else math.nan
    table = {}
    for c in CHECKPOINTS:
        errors = {m: [] for m in METHODS}
        for g in found:
            if c not in g["at"] or (c is not None and g["length"] <= c):
                continue
            elapsed, ours = g["at"][c]
            guesses = (ours, g["first"], max(g["first"], elapsed), max(hindsight, elapsed))
            for m, guess in zip(METHODS, guesses):
                errors[m].append(abs(math.log2(guess / g["length"])))
        table["start" if c is None else f"{c:g} s"] = {
            m: (len(e), float(np.median(e)) if e else math.nan,
                float(np.mean(np.array(e) < math.log2(1.5))) if e else math.nan)
            for m, e in errors.items()}
    return table


def print_table(name: str, table: dict) -> None:
    print(f"\n{name}: median |log2(expected / actual)| (share within x1.5)")
    print("| gap lasted | gaps | " + " | ".join(METHODS) + " |")
    print("|---|---|" + "---|" * len(METHODS))
    for where, row in table.items():
        n = row["ours"][0]
        cells = " | ".join(f"{row[m][1]:.3f} ({100 * row[m][2]:.0f} %)" for m in METHODS)
        print(f"| {where} | {n} | {cells} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=REPO.parent / "shared" / "eval",
                        help="developer set: its speech/ and mix/ wavs (default: "
                             "../shared/eval); a missing folder is skipped")
    parser.add_argument("--no-phrased", action="store_true",
                        help="leave out the phrased recordings (no download)")
    parser.add_argument("--rate", type=int, default=48000, help="engine rate (Hz)")
    parser.add_argument("--json", type=Path, help="write the tables here")
    args = parser.parse_args(argv)
    sets = {}
    if args.eval.is_dir():
        sets["developer set (speech and mixes)"] = sorted(
            [*args.eval.glob("speech/*.wav"), *args.eval.glob("mix/*.wav")])
    if not args.no_phrased:
        sets["phrased speech (silero-vad, pyannote.audio)"] = phrased_files()
    result = {}
    for name, files in sets.items():
        found = []
        for i, path in enumerate(files, 1):
            print(f"\r{name}: {i}/{len(files)} {path.name[:40]:40s}", end="", flush=True)
            found += pauses(path, args.rate)
        print()
        result[name] = score(found)
        print_table(name, result[name])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

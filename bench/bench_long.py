"""A long recording through `installation gaps` (or `rehearse`): memory and speed against
its length.

    .venv/bin/python bench/bench_long.py [--minutes 5,30,120] [--rate 48000] [--audio FILE]
        [--command gaps|rehearse] [--mp3]

An artist rehearses with a whole evening's recording; an operator analyses a day of a
gallery's microphone. Each run writes a file of that many minutes (the bundled recording, or
``--audio``, repeated; 16-bit, at its own rate) and runs the command a user runs on it,
``python -m installation gaps --json -q FILE``, with the engine at ``--rate``, in a child
process. ``--command rehearse`` runs an artist's preview render instead, ``python -m
installation rehearse FILE --render OUT.mp4 -q`` at 64x36 pixels and 2 frames per second
(the analysis, the u_audio texture and the video all run; a small picture keeps llvmpipe's
share short). ``--mp3`` writes the long file as an MP3 (libsndfile's LAME) instead of a
16-bit WAV. Printed per length, all measured in this run:

  * the child's peak resident memory (MB, the kernel's ``ru_maxrss``);
  * the reference: the same audio decoded at the engine's rate as float32 (MB), what a
    reader that holds the whole file needs for its samples alone, and the ratio;
  * wall seconds and × real time; the number of gaps printed (or video frames written).

Streamed analysis (``offline.stream_taps``) holds a few seconds of audio and rows at a
time, so its peak should not grow with the length (session 26: 935 MB for 30 minutes at
48 kHz before, ~190 MB after); the rehearsal's render draws the frames as they come
(``preview.PreviewWriter``, session 27).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "audio" / "between_the_words.flac"


def long_file(source: Path, minutes: float, out: Path) -> Path:
    """``source`` mixed to mono and repeated to ``minutes``, written a piece at a time (an
    MP3 if ``out`` ends in .mp3, else 16-bit)."""
    y, sr = sf.read(str(source), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    total = int(minutes * 60 * sr)
    subtype = "MPEG_LAYER_III" if out.suffix == ".mp3" else "PCM_16"
    with sf.SoundFile(str(out), "w", sr, 1, subtype=subtype) as f:
        done = 0
        while done < total:
            piece = y[:total - done]
            f.write(piece)
            done += len(piece)
    return out


def run_command(command: str, path: Path, rate: int) -> tuple[float, float, int]:
    """(peak RSS in MB, wall seconds, gaps printed or video frames written) of
    ``installation COMMAND`` on ``path`` (see the module's docstring)."""
    show = path.with_suffix(".toml")
    show.write_text(f"[audio]\nsample_rate = {rate}\n")
    env = dict(os.environ, PYO_GUI_WX="0", PYTHONPATH=str(REPO))
    out, err = path.with_suffix(".out"), path.with_suffix(".err")
    args = (["gaps", "--json", "-q"] if command == "gaps" else
            ["rehearse", "--render", str(path.with_suffix(".mp4")), "--size", "64x36",
             "--fps", "2", "-q"])
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        t0 = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "installation", *args,
                                  "--show", str(show), str(path)],
                                 stdout=stdout, stderr=stderr, env=env, cwd=str(path.parent))
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not a running max
        wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"installation {command} failed on {path}:\n{err.read_text()}")
    peak_kb = usage.ru_maxrss
    if command == "gaps":
        return peak_kb / 1024, wall, len(json.loads(out.read_text()))
    written = re.search(r"\((\d+) frames", out.read_text())
    if written is None:
        raise SystemExit(f"installation rehearse said no frame count:\n{out.read_text()}")
    return peak_kb / 1024, wall, int(written.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", default="5,30,120",
                    help="lengths to measure, in minutes, comma-separated (default 5,30,120)")
    ap.add_argument("--rate", type=int, default=48000, help="engine rate (default 48000)")
    ap.add_argument("--audio", type=Path, default=BUNDLED,
                    help="the recording to repeat (default: the bundled one)")
    ap.add_argument("--command", choices=("gaps", "rehearse"), default="gaps",
                    help="what to run on each length (default gaps)")
    ap.add_argument("--mp3", action="store_true",
                    help="write the long file as an MP3 rather than a 16-bit WAV")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    lengths = sorted(float(m) for m in args.minutes.split(","))
    rows = []
    counted = "gaps" if args.command == "gaps" else "video frames"
    print(f"`installation {args.command}` on {args.audio.name} repeated"
          f"{' as an MP3' if args.mp3 else ''}, engine at {args.rate} Hz (each length in a "
          "fresh child process, the shortest first)")
    print("| minutes | peak memory (MB) | the audio as float32 at the engine rate (MB) | "
          f"ratio | wall (s) | × real time | {counted} |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="her-long-") as folder:
        # A warm-up of 6 s first: the first run of a fresh checkout compiles (and caches)
        # numba's kernels, which would be counted against the shortest length.
        suffix = ".mp3" if args.mp3 else ".wav"
        run_command(args.command, long_file(args.audio, 0.1, Path(folder) / f"warm{suffix}"),
                    args.rate)
        for minutes in lengths:
            path = long_file(args.audio, minutes, Path(folder) / f"long{minutes:g}{suffix}")
            peak, wall, count = run_command(args.command, path, args.rate)
            path.unlink()
            decoded = minutes * 60 * args.rate * 4 / 2**20
            rows.append({"minutes": minutes, "peak_mb": round(peak, 1),
                         "decoded_mb": round(decoded, 1), "wall_s": round(wall, 2),
                         "x_real_time": round(minutes * 60 / wall, 1), counted: count})
            print(f"| {minutes:g} | {peak:.0f} | {decoded:.0f} | {peak / decoded:.2f} | "
                  f"{wall:.1f} | {minutes * 60 / wall:.0f} | {count} |", flush=True)
    growth = np.polyfit([r["minutes"] for r in rows], [r["peak_mb"] for r in rows], 1)[0] \
        if len(rows) > 1 else float("nan")
    if len(rows) > 1:  # a slope wants two lengths
        print(f"peak memory grows {growth:.2f} MB per minute of audio "
              f"(the decoded audio: {60 * args.rate * 4 / 2**20:.2f} MB per minute)")
    if args.json:
        args.json.write_text(json.dumps({"command": args.command, "mp3": args.mp3,
                                         "rate": args.rate, "runs": rows,
                                         "mb_per_minute": round(float(growth), 3)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

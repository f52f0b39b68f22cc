"""Where the gap detector stands against issue 3's targets, from the benchmarks' own JSON.

    .venv/bin/python bench/bench_gaps.py --rate 48000 --json /tmp/g48.json
    .venv/bin/python bench/bench_gaps.py --rate 48000 --eval /tmp/voices --json /tmp/u48.json
    .venv/bin/python bench/bench_floors.py --rate 48000 --json /tmp/f48.json
    .venv/bin/python bench/targets.py --gaps /tmp/g48.json --gaps unseen=/tmp/u48.json \\
        --floors /tmp/f48.json

Prints one markdown table per engine rate: F1 per split and kind with a mark against the
F1 targets and against the best anchor measured in the same run (✗ where ours is under a
target or not above the anchor), the median start / end errors and emission delays, the
cost, and the floor and room rows (`bench_floors.py`) where an anchor reads higher. It
computes nothing new: every figure is the benchmark's, so the table in docs/benchmarks.md
can be rebuilt from the runs it names. A JSON written with ``--no-anchors`` gives F1 marks
against the targets only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KINDS = ("speech", "mix+12", "mix+6", "mix+0")
HEADS = ("speech", "+12 dB", "+6 dB", "0 dB")
F1_TARGET = {"speech": 0.95, "mix+12": 0.90, "mix+6": 0.85, "mix+0": 0.75}
EDGE_MS = 30.0  # median start / end error
DELAY_MS = 80.0  # median emission delay
CORE_SHARE = 0.02  # of one core at 48 kHz, the whole detector
SILERO_RATIO = 5.0  # at least this many times cheaper than Silero
ANCHORS = ("webrtc0", "webrtc3", "silero")


def load_gaps(spec: str) -> tuple[str | None, dict]:
    """``[LABEL=]PATH``: a bench_gaps JSON. Without a label its splits keep their names
    (the eval set's dev / held-out); with one, every file is that split (an unseen set)."""
    label, _, path = spec.rpartition("=")
    data = read_json("--gaps", spec, path)
    for key in ("rate", "scores"):
        if key not in data:
            raise SystemExit(f"targets.py: --gaps {spec}: no '{key}' (not a bench_gaps.py JSON)")
    return label or None, data


def read_json(flag: str, spec: str, path: str) -> dict:
    """The JSON at ``path``, or an exit naming the option and its argument ``spec``."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"targets.py: {flag} {spec}: {e}") from None


def best_anchor(f1: dict[str, float]) -> tuple[str, float] | None:
    """The anchor with the highest F1 among ``f1`` (method: F1), or None without one."""
    anchors = {m: f1[m] for m in ANCHORS if m in f1}
    if not anchors:
        return None
    best = max(anchors, key=anchors.get)
    return best, anchors[best]


def gap_rows(label: str | None, data: dict) -> dict[str, dict[str, dict]]:
    """``{split: {kind: {method: score}}}``."""
    out: dict[str, dict[str, dict]] = {}
    for key, score in data["scores"].items():
        split, kind, method = key.split("/", 2)
        out.setdefault(label or split, {}).setdefault(kind, {})[method] = score
    return out


def mark(ok: bool) -> str:
    return "✓" if ok else "**✗**"


def f1_cell(kind: str, methods: dict) -> tuple[str, list[str]]:
    """The cell for our F1 and what it misses."""
    ours = methods["ours"]["f1"]
    misses = []
    if ours < F1_TARGET[kind]:
        misses.append(f"under {F1_TARGET[kind]:.2f}")
    best = best_anchor({m: s["f1"] for m, s in methods.items()})
    if best and ours <= best[1]:
        misses.append(f"not above {best[0]} {best[1]:.3f}")
    cell = f"{ours:.3f} {mark(not misses)}"
    if best:
        cell += f" ({best[0]} {best[1]:.3f})"
    return cell, misses


def median_ms(s: dict, key: str) -> float:
    """A median error or delay (ms) as the scorer measured it, to a nanosecond: label times
    are whole milliseconds and block ends are not exact in binary, so a median of 80 ms
    reads 80.00000000000007 and would miss the 80 ms target by rounding alone."""
    return round(s[key], 6)


def ms(v: float, limit: float | None = None) -> str:
    """Milliseconds, whole; to a tenth where rounding would hide which side of ``limit``
    the figure lies (30.4 ms is over 30)."""
    if v != v:
        return "–"
    if limit is not None and round(v) == limit and v != limit:
        text = f"{v:.1f}"
        return f"{v:.2f}" if float(text) == limit else text
    return f"{v:.0f}"


def rate_table(rate: int, sets: list[tuple[str | None, dict]]) -> tuple[list[str], list[str]]:
    # the rate the anchors heard, where the benchmark recorded it (bench_gaps.anchor_rate)
    heard = sorted({data["anchor_rate"] for _, data in sets if data.get("anchor_rate")})
    lines = [f"### {rate} Hz" + (f" (the anchors at {' and '.join(map(str, heard))} Hz)"
                                 if heard else ""), "",
             "| set | " + " | ".join(HEADS) + " |", "|---|" + "---|" * len(HEADS)]
    timing = ["", "| set | start / end / delay (ms): " + " | ".join(HEADS) + " |",
              "|---|" + "---|" * len(HEADS)]
    misses = []
    for label, data in sets:
        for split, kinds in gap_rows(label, data).items():
            cells, times = [], []
            for kind in KINDS:
                if kind not in kinds or "ours" not in kinds[kind]:
                    cells.append("–")
                    times.append("–")
                    continue
                cell, miss = f1_cell(kind, kinds[kind])
                cells.append(cell)
                misses += [f"{split} {kind}: {m}" for m in miss]
                s = kinds[kind]["ours"]
                start_ms, end_ms, delay_ms = (median_ms(s, f"{key}_med_ms")
                                              for key in ("start", "end", "delay"))
                edge_ok = start_ms <= EDGE_MS and end_ms <= EDGE_MS
                delay_ok = not delay_ms > DELAY_MS
                start, end = ms(start_ms, EDGE_MS), ms(end_ms, EDGE_MS)
                delay = ms(delay_ms, DELAY_MS)
                times.append(f"{start} / {end} {mark(edge_ok)} / {delay} {mark(delay_ok)}")
                if not edge_ok:
                    misses.append(f"{split} {kind}: median start / end {start} / {end} ms")
                if not delay_ok:
                    misses.append(f"{split} {kind}: median delay {delay} ms")
            lines.append(f"| {split} | " + " | ".join(cells) + " |")
            timing.append(f"| {split} | " + " | ".join(times) + " |")
    lines += timing
    cost = [data for _, data in sets if "silero" in data.get("cost_per_audio_s", {})]
    if cost:
        c = cost[0]["cost_per_audio_s"]
        whole, silero = c["ours_whole_detector"], c["silero"]
        ratio = silero / whole
        line = (f"\nCost: the whole detector {1000 * whole:.2f} ms per s of audio "
                f"({100 * whole:.2f} % of one core), Silero {1000 * silero:.2f}: "
                f"{ratio:.1f} × cheaper {mark(ratio >= SILERO_RATIO)}")
        if rate == 48000:
            line += f"; ≤ {100 * CORE_SHARE:.0f} % of one core {mark(whole <= CORE_SHARE)}"
            if whole > CORE_SHARE:
                misses.append(f"cost {100 * whole:.2f} % of one core")
        if ratio < SILERO_RATIO:
            misses.append(f"{ratio:.1f} × cheaper than Silero")
        lines.append(line)
    return lines + [""], misses


def floor_lines(rate: int, data: dict) -> tuple[list[str], list[str]]:
    """The floor and room rows (condition / level / split) where an anchor reads higher."""
    rows: dict[tuple[str, str, str], dict[str, float]] = {}
    for key, score in data.items():
        condition, level, split, method = key.split("/", 3)
        rows.setdefault((condition, level, split), {})[method] = score["f1"]
    under, total = [], 0
    for (condition, level, split), methods in rows.items():
        if "ours" not in methods:
            continue
        total += 1
        best = best_anchor(methods)
        if best and methods["ours"] < best[1]:
            # bench_floors' keys: a floor's level under the words, a room's reverberation
            # level against the voice (negative: under it)
            where = (f"reverb {0.0 - float(level):g} dB under" if condition.startswith("room")
                     else f"{level} dB under the words")
            under.append(f"{condition}, {where}, {split}: {methods['ours']:.3f} "
                         f"against {best[0]} {best[1]:.3f}")
    summed = sum(m["ours"] for m in rows.values() if "ours" in m)
    lines = [f"Floors and rooms at {rate} Hz (`bench_floors.py`): {total} rows, F1 summed "
             f"{summed:.3f}; {len(under)} under an anchor {mark(not under)}"]
    lines += [f"- {u}" for u in under]
    return lines + [""], [f"floor {u}" for u in under]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gaps", action="append", default=[], metavar="[LABEL=]JSON",
                    help="a bench_gaps.py --json file; LABEL names its one split "
                         "(e.g. unseen=/tmp/u48.json); repeat for each set and rate")
    ap.add_argument("--floors", action="append", default=[], metavar="JSON",
                    help="a bench_floors.py --json file (its rate is read from its name's "
                         "digits or --floor-rate)")
    ap.add_argument("--floor-rate", type=int, action="append", default=[],
                    help="the engine rate of each --floors file, in order")
    args = ap.parse_args(argv)
    if not args.gaps and not args.floors:
        ap.error("give at least one --gaps or --floors file")
    if args.floor_rate and len(args.floor_rate) != len(args.floors):
        ap.error("give one --floor-rate per --floors file, or none")
    by_rate: dict[int, list] = {}
    for spec in args.gaps:
        label, data = load_gaps(spec)
        by_rate.setdefault(int(data["rate"]), []).append((label, data))
    floors: dict[int, dict] = {}
    for i, path in enumerate(args.floors):
        data = read_json("--floors", path, path)
        if args.floor_rate:
            rate = args.floor_rate[i]
        else:
            digits = "".join(ch if ch.isdigit() else " " for ch in Path(path).stem).split()
            rates = [int(d) for d in digits if int(d) >= 8000]
            if len(rates) != 1:
                raise SystemExit(f"targets.py: --floors {path}: no engine rate in its name; "
                                 "give --floor-rate")
            rate = rates[0]
        floors[rate] = data
    missed = []
    for rate in sorted(set(by_rate) | set(floors), reverse=True):
        if rate in by_rate:
            lines, miss = rate_table(rate, by_rate[rate])
            print("\n".join(lines))
            missed += [f"{rate} Hz {m}" for m in miss]
        if rate in floors:
            lines, miss = floor_lines(rate, floors[rate])
            print("\n".join(lines))
            missed += [f"{rate} Hz {m}" for m in miss]
    print(f"{len(missed)} target{'' if len(missed) == 1 else 's'} missed"
          + (":" if missed else ""))
    for m in missed:
        print(f"- {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

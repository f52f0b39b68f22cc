"""Gap benchmark: our live gap detector against WebRTC VAD (modes 0, 3) and Silero VAD,
in the same run, on the same files, scored the same way (``bench/scoring.py``).

    .venv/bin/python bench/bench_gaps.py [--eval /work/shared/eval] [--json OUT]
                                         [--rate 48000] [--block 256] [--no-anchors]
                                         [--repeat 3] [--lead S] [--dc DB]

Files: every ``speech/*.wav`` and ``mix/*.wav`` of the eval folder (labels beside them).
Results are split into *dev* (the files the model was fitted on) and *held-out* (the speech
sources in ``train_gaps.HELD_OUT`` and all their mixes). Anchors: frame decisions (WebRTC:
30 ms frames; Silero: 32 ms chunks, probability ≥ 0.5, its own ONNX model on onnxruntime,
one thread) are turned into gaps by ``scoring.gaps_from_decisions``: every silent run of
≥ 100 ms between two speech runs. They hear what our engine hears (:func:`read_anchor`): at
16 kHz, their own rate, where the engine's rate is 16 kHz or more; under that, at 8 kHz,
both anchors' narrowband mode, on the file brought to the engine's rate first. Install them with
``pip install '.[bench]'`` then ``pip install --no-deps silero-vad`` (bench/README.md).

``--lead S``: every file is heard after S seconds of digital silence (a show that starts on a
soundtrack played from a computer: the detector's floors and the partial meter's
backgrounds start from the silence), and every method's gaps are moved back by S before
scoring.

``--dc DB``: every file is heard with a constant offset of DB dBFS (re full-scale peak) added,
as an input with a DC offset delivers it (docs/benchmarks.md, "A DC offset in the input").

Cost is CPU time per second of audio, best of ``--repeat`` runs (the machine is shared).
Ours and the anchors are timed file by file, one after the other, so that a slow spell of
the machine weighs on both; only the TableFill's copy in C (a small share) is timed apart,
after the files, as a difference of pyo server runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYO_GUI_WX", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

import scoring  # noqa: E402
from train_gaps import HELD_OUT, dev_files, is_held_out  # noqa: E402

from installation.analysis.frames import FrameBuilder  # noqa: E402
from installation.analysis.gaps import gaps_from_frames  # noqa: E402
from installation.analysis.taps import TAPS  # noqa: E402
from installation.analysis.voicemodel import reads_partials  # noqa: E402
from installation.config import AnalysisConfig  # noqa: E402
from installation.engine.offline import analyse_taps  # noqa: E402
from installation.engine.sources import load_mono  # noqa: E402


def anchor_rate(engine_rate: int) -> int:
    """The rate the anchors hear a file at beside an engine at ``engine_rate``: 16 kHz (their
    own) where the engine hears that band or more; else 8 kHz, the narrowband mode both
    anchors have (a user with an 8 kHz line hands them that, not a band it never had)."""
    return 16000 if engine_rate >= 16000 else 8000


def read_anchor(path: Path, engine_rate: int) -> tuple[np.ndarray, int]:
    """``path`` as the anchors hear it beside an engine at ``engine_rate``: mono, brought to
    the engine's rate where that is under the file's (the band the engine hears), then to
    :func:`anchor_rate`; and that rate. A 16 kHz file beside an engine at 16 kHz or more is
    read as it is."""
    import soxr

    y, sr = sf.read(str(path), dtype="float64", always_2d=True)
    y = y.mean(axis=1)
    band = min(sr, engine_rate)
    if band != sr:
        y = soxr.resample(y, sr, band)
    rate = anchor_rate(engine_rate)
    if rate != band:
        y = soxr.resample(y, band, rate)
    return y, rate


def band_meter_seconds(samples: np.ndarray, rate: int, block: int = 256) -> float:
    """CPU s of the gap bands' compiled meter, and the partial meter after it where the
    rate's model reads its cues (under 32 kHz), over ``samples``, block by block as the
    graph calls them. The band meter reads each block straight from the decoded file
    (float32, as pyo's table holds it): the TableFill's copy into that table is timed
    apart (:func:`table_fill_cost`)."""
    from installation.analysis.bands import BandMeter
    from installation.analysis.partials import PartialMeter

    meter = BandMeter(rate, block)
    partials = PartialMeter(rate, block) if reads_partials(rate) else None
    row = np.zeros(len(TAPS))
    y = samples.astype(np.float32)
    ends = range(block, len(y) + 1, block)
    t0 = time.process_time()
    for end in ends:
        meter.measure(y, end, row)
        if partials is not None:
            partials.measure(meter.samples, row)
    return time.process_time() - t0


def ours(path: Path, rate: int, block: int = 256) -> tuple[list[dict], float, float, float]:
    """(gaps, seconds for the whole analysis, seconds for the gap detector's python part,
    seconds for its band meter)."""
    settings = AnalysisConfig()
    samples = load_mono(path, rate)
    t0 = time.process_time()
    rows, pitch_rate = analyse_taps(path, sample_rate=rate, block_size=block,
                                    settings=settings, samples=samples)
    t1 = time.process_time()
    builder = FrameBuilder(rate, block, pitch_rate, settings)
    frames = [builder.push(r) for r in rows]
    t2 = time.process_time()
    # The detector alone, on the same rows (what the frame builder spends on it).
    from installation.analysis.gaps import GapDetector
    det = GapDetector(block / rate, lag_s=builder.gaps.lag_s)  # live path: block by block
    v = [f.voicing for f in frames]
    o = [f.onset_strength for f in frames]
    dt = block / rate
    t3 = time.process_time()
    for i in range(len(rows)):  # and what a frame reads back
        det.update((i + 1) * dt, rows[i], v[i], o[i])
        det.frame_values()
    t4 = time.process_time()
    # The offline path: the model and the decisions on all blocks in one call.
    det = GapDetector(block / rate, lag_s=builder.gaps.lag_s)
    times = (np.arange(len(rows)) + 1) * dt
    t5 = time.process_time()
    det.run(times, rows, np.array(v), np.array(o))
    t6 = time.process_time()
    BATCH.append(t6 - t5)
    # How well the expected gap length predicted each gap (as sent at its start).
    pred, expected = [], None
    for f in frames:
        if f.gap_start:
            expected = f.gap_expected
        if f.gap_end and expected is not None and f.gap_duration >= settings.gap_min_s:
            pred.append((expected, f.gap_duration))
            expected = None
    PREDICTIONS.extend(pred)
    return (gaps_from_frames(frames, settings.gap_min_s), (t1 - t0) + (t2 - t1), t4 - t3,
            band_meter_seconds(samples, rate, block))


def table_fill_seconds(seconds: float, rate: int, with_fill: bool, block: int = 256,
                       copies: int = 1) -> float:
    """CPU s of the analysis graph over ``seconds`` of noise with everything stopped but
    ``copies`` copies of the TableFill that hands the band meter its samples
    (``with_fill``), or with everything stopped (the bare server)."""
    import pyo

    from installation.engine.graph import AnalysisGraph
    from installation.engine.server import boot_server, shut_down

    server = boot_server("offline", sample_rate=rate, block_size=block)
    source = pyo.Noise(0.05)
    graphs = [AnalysisGraph(server, source, rate) for _ in range(copies)]
    # Measured against the bare server (cheap and steady), not against the whole graph
    # (whose own jitter is larger than a copy's cost).
    for graph in graphs:
        gap = {id(obj) for obj in graph.gap_objects}
        for obj in graph._objects:
            if id(obj) not in gap or not with_fill:
                obj.stop()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        server.recordOptions(dur=seconds, filename=str(Path(tmp) / "out.wav"), fileformat=0,
                             sampletype=0)
        t0 = time.process_time()
        server.start()
        spent = time.process_time() - t0
    for graph in graphs:
        graph.stop()
    shut_down(server)
    return spent


def table_fill_cost(rate: int, repeat: int, block: int = 256, seconds: float = 120.0,
                    copies: int = 32) -> float:
    """CPU s per second of audio that the TableFill adds to the graph: the median over
    ``repeat`` (at least 5) back-to-back pairs of the difference with and without
    ``copies`` copies (so their cost stands above the machine's jitter), divided by
    ``copies``. (The best of each side, taken apart, once read a quarter of the usual
    figure: one lucky run on one side is enough.)"""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    diffs = []
    for _ in range(max(repeat, 5)):
        spent = {}
        for with_fill in (True, False):
            with ctx.Pool(1) as pool:
                spent[with_fill] = pool.apply(table_fill_seconds,
                                              (seconds, rate, with_fill, block, copies))
        diffs.append(spent[True] - spent[False])
    return max(0.0, float(np.median(diffs))) / seconds / copies


PREDICTIONS: list[tuple[float, float]] = []  # (expected, actual) s, over the run
BATCH: list[float] = []  # CPU s of the batched detector per call


def webrtc(y: np.ndarray, mode: int, rate: int = 16000) -> list[dict]:
    """WebRTC VAD's gaps in ``y`` (at ``rate``: 8, 16, 32 or 48 kHz), 30 ms frames."""
    import webrtcvad

    vad = webrtcvad.Vad(mode)
    n = rate * 30 // 1000
    pcm = (np.clip(y, -1, 32767 / 32768) * 32768).astype("<i2")
    dec = [vad.is_speech(pcm[i:i + n].tobytes(), rate) for i in range(0, len(pcm) - n + 1, n)]
    return scoring.gaps_from_decisions(dec, n / rate)


class Silero:
    def __init__(self) -> None:
        import importlib.util

        import onnxruntime

        # Find the bundled model without importing silero_vad (its __init__ needs torch).
        spec = importlib.util.find_spec("silero_vad")
        path = Path(spec.submodule_search_locations[0]) / "data" / "silero_vad.onnx"
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), sess_options=opts,
                                                    providers=["CPUExecutionProvider"])

    # samples per chunk and of context the model reads, per rate (as silero-vad's own
    # OnnxWrapper feeds it: 32 ms chunks at 16 and at 8 kHz)
    CHUNK = {16000: (512, 64), 8000: (256, 32)}

    def probs(self, y: np.ndarray, rate: int = 16000) -> list[float]:
        n, c = self.CHUNK[rate]
        state = np.zeros((2, 1, 128), dtype=np.float32)
        context = np.zeros((1, c), dtype=np.float32)
        sr = np.array(rate, dtype=np.int64)
        out = []
        x = y.astype(np.float32)
        for i in range(0, len(x) - n + 1, n):
            chunk = np.concatenate([context, x[None, i:i + n]], axis=1)
            p, state = self.session.run(None, {"input": chunk, "state": state, "sr": sr})
            context = chunk[:, -c:]
            out.append(float(p[0][0]))
        return out

    def gaps(self, y: np.ndarray, rate: int = 16000) -> list[dict]:
        n = self.CHUNK[rate][0]
        return scoring.gaps_from_decisions([p >= 0.5 for p in self.probs(y, rate)], n / rate)


def heard_copy(wav: Path, folder: Path, lead_s: float = 0.0,
               dc_db: float | None = None) -> Path:
    """A copy of ``wav`` in ``folder`` as ``--lead`` and ``--dc`` play it: after ``lead_s``
    seconds of digital silence, then with a constant ``10 ** (dc_db / 20)`` added to every
    sample, the silence's too (the same rate and channels, float samples: nothing clips)."""
    y, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    quiet = np.zeros((int(round(lead_s * sr)), y.shape[1]), dtype=np.float32)
    y = np.concatenate([quiet, y])
    if dc_db is not None:
        y += np.float32(10.0 ** (dc_db / 20.0))
    out = folder / wav.name
    sf.write(str(out), y, sr, subtype="FLOAT")
    return out


def shifted(gaps: list[dict], by_s: float) -> list[dict]:
    """``gaps`` with every time moved by ``by_s`` seconds."""
    return [{k: v + by_s for k, v in g.items()} for g in gaps]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--rate", type=int, default=48000, help="engine rate for our detector")
    ap.add_argument("--block", type=int, default=256, help="engine block size (samples)")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the costs")
    ap.add_argument("--lead", type=float, default=0.0, metavar="S",
                    help="hear every file after S seconds of digital silence (a show that "
                         "starts on a soundtrack), scored against its labels moved by S")
    ap.add_argument("--dc", type=float, default=None, metavar="DB",
                    help="hear every file with a DC offset of DB dBFS added (e.g. -46)")
    args = ap.parse_args()
    files = dev_files(args.eval)
    if not files:
        print(f"no wavs under {args.eval}", file=sys.stderr)
        return 1
    methods = ["ours"] if args.no_anchors else ["ours", "webrtc0", "webrtc3", "silero"]
    silero = None if args.no_anchors else Silero()
    scores: dict[tuple[str, str, str], list] = {}
    audio_s = 0.0
    cost = {m: 0.0 for m in methods}
    cost["ours_detector"] = 0.0
    copies = (tempfile.TemporaryDirectory() if args.lead > 0 or args.dc is not None
              else None)
    for wav in files:
        labels = scoring.load_labels(wav)
        kind = scoring.label_kind(labels)
        split = "held-out" if is_held_out(wav) else "dev"
        heard = (wav if copies is None
                 else heard_copy(wav, Path(copies.name), args.lead, args.dc))
        audio_s += sf.info(str(heard)).duration
        best = {}
        first = len(PREDICTIONS)
        for _ in range(args.repeat):
            found = {}
            g, t_all, t_det, t_bands = ours(heard, args.rate, args.block)
            found["ours"] = g
            best["ours"] = min(best.get("ours", 1e9), t_all)
            best["ours_detector"] = min(best.get("ours_detector", 1e9), t_det)
            best["ours_band_meter"] = min(best.get("ours_band_meter", 1e9), t_bands)
            if silero is not None:
                y, r = read_anchor(heard, args.rate)
                for m in (0, 3):
                    t0 = time.process_time()
                    found[f"webrtc{m}"] = webrtc(y, m, r)
                    best[f"webrtc{m}"] = min(best.get(f"webrtc{m}", 1e9), time.process_time() - t0)
                t0 = time.process_time()
                found["silero"] = silero.gaps(y, r)
                best["silero"] = min(best.get("silero", 1e9), time.process_time() - t0)
        del PREDICTIONS[first + (len(PREDICTIONS) - first) // args.repeat:]  # one repeat's
        best["ours_detector_batch"] = min(BATCH[-args.repeat:])
        for m, t in best.items():
            cost[m] = cost.get(m, 0.0) + t
        for m in methods:
            scores.setdefault((m, kind, split), []).append(
                scoring.score_file(shifted(found[m], -args.lead), labels["gaps"]))
    if copies is not None:
        copies.cleanup()
    cost["ours_table_fill"] = table_fill_cost(args.rate, args.repeat, args.block) * audio_s
    cost["ours_whole_detector"] = (cost["ours_table_fill"] + cost["ours_band_meter"]
                                   + cost["ours_detector"])
    kinds = ["speech", "mix+12", "mix+6", "mix+0"]
    result = {"audio_s": audio_s, "rate": args.rate, "block": args.block, "lead_s": args.lead,
              "dc_db": args.dc,
              "anchor_rate": None if args.no_anchors else anchor_rate(args.rate),
              "held_out": list(HELD_OUT),
              "cost_per_audio_s": {m: c / audio_s for m, c in cost.items()}, "scores": {}}
    anchors_at = "" if args.no_anchors else f"; the anchors at {anchor_rate(args.rate)} Hz"
    lead = f", each after {args.lead:g} s of digital silence" if args.lead else ""
    if args.dc is not None:
        lead += f", each with a DC offset of {args.dc:g} dBFS"
    print(f"{len(files)} files{lead}, {audio_s:.1f} s of audio; ours at {args.rate} Hz, "
          f"block {args.block}{anchors_at}\n")
    print(f"| split | kind | method | {scoring.SUMMARY_HEADER} |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for split in ("dev", "held-out"):
        for kind in kinds:
            for m in methods:
                if (m, kind, split) not in scores:
                    continue
                s = scoring.summarise(scores[(m, kind, split)])
                result["scores"][f"{split}/{kind}/{m}"] = s
                print(f"| {split} | {kind} | {m} | {scoring.summary_cells(s)} |")
    if PREDICTIONS:
        e = np.array(PREDICTIONS)
        n = len(e)
        err = np.abs(np.log2(e[:, 0] / e[:, 1]))
        const = np.abs(np.log2(np.median(e[:, 1]) / e[:, 1]))
        result["expected_gap"] = {"n": int(n), "median_abs_log2": float(np.median(err)),
                                  "within_x1.5": float(np.mean(err < np.log2(1.5))),
                                  "constant_median_abs_log2": float(np.median(const))}
        print(f"\nexpected gap length, {n} detected gaps: median |log2(expected/actual)| "
              f"{np.median(err):.2f} (x{2 ** np.median(err):.2f}); within x1.5: "
              f"{100 * np.mean(err < np.log2(1.5)):.0f} %; a constant (the median gap, known "
              f"in hindsight) scores {np.median(const):.2f}")
    print("\nCPU time per second of audio (best of %d):" % args.repeat)
    for m, c in result["cost_per_audio_s"].items():
        print(f"  {m:14s} {1000 * c:7.2f} ms/s  ({100 * c:.2f} % of one core)")
    meters = "band meter"
    if reads_partials(args.rate):
        meters = "band and partial meters"
        print(f"  (at {args.rate} Hz ours_band_meter is both meters: the model reads the "
              "partial cues too)")
    if "silero" in result["cost_per_audio_s"]:
        c = result["cost_per_audio_s"]
        result["silero_over_whole_detector"] = c["silero"] / c["ours_whole_detector"]
        print(f"\nSilero costs {result['silero_over_whole_detector']:.1f}x the whole gap "
              f"detector (TableFill + {meters} + likelihood kernel + decisions), live "
              "block by block")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

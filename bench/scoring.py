"""Gap scoring: detected gaps against labelled gaps, one to one by intersection-over-union.

A detected gap matches a labelled gap (both >= ``min_gap_s``) when their IoU is >= ``iou``;
each label and each detection is used at most once (greedy by IoU, best first). Pure
python: the benchmark (``bench/bench_gaps.py``) and the regression test both use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MIN_GAP_S = 0.100
IOU = 0.5


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def load_labels(wav: Path) -> dict:
    """The label JSON beside ``wav`` (same stem)."""
    return json.loads(Path(wav).with_suffix(".json").read_text())


def label_kind(labels: dict) -> str:
    """``speech`` or ``mix+12`` / ``mix+6`` / ``mix+0``."""
    if labels.get("kind") == "mix":
        return f"mix{labels['mix']['snr_db']:+.0f}".replace("+-", "-")
    return labels.get("kind", "speech")


@dataclass
class FileScore:
    """Matches of one file. Errors in s (detected - labelled); delays in s."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    start_err: list = field(default_factory=list)
    end_err: list = field(default_factory=list)
    delay: list = field(default_factory=list)


def score_file(detected: list[dict], labelled: list[dict], *, min_gap_s: float = MIN_GAP_S,
               threshold: float = IOU) -> FileScore:
    """Match ``detected`` (``start``, ``end``, optional ``emitted_at``) to ``labelled``."""
    det = [d for d in detected if d["end"] - d["start"] >= min_gap_s - 1e-9]
    lab = [g for g in labelled if g["end"] - g["start"] >= min_gap_s - 1e-9]
    pairs = sorted(((iou((d["start"], d["end"]), (g["start"], g["end"])), i, j)
                    for i, d in enumerate(det) for j, g in enumerate(lab)), reverse=True)
    used_d, used_l = set(), set()
    out = FileScore()
    for v, i, j in pairs:
        if v < threshold:
            break
        if i in used_d or j in used_l:
            continue
        used_d.add(i)
        used_l.add(j)
        d, g = det[i], lab[j]
        out.tp += 1
        out.start_err.append(d["start"] - g["start"])
        out.end_err.append(d["end"] - g["end"])
        if "emitted_at" in d:
            out.delay.append(d["emitted_at"] - g["start"])
    out.fp = len(det) - len(used_d)
    out.fn = len(lab) - len(used_l)
    return out


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# The summary's columns as the benches print them (markdown), after their own key columns.
SUMMARY_HEADER = ("P | R | F1 | tp/fp/fn | start med/p90 (bias) ms | end med/p90 (bias) ms | "
                  "delay med ms")


def summary_cells(s: dict) -> str:
    """:func:`summarise`'s figures as the cells under :data:`SUMMARY_HEADER`."""
    return (f"{s['precision']:.2f} | {s['recall']:.2f} | **{s['f1']:.3f}** | "
            f"{s['tp']}/{s['fp']}/{s['fn']} | "
            f"{s['start_med_ms']:.0f}/{s['start_p90_ms']:.0f} ({s['start_bias_ms']:+.0f}) | "
            f"{s['end_med_ms']:.0f}/{s['end_p90_ms']:.0f} ({s['end_bias_ms']:+.0f}) | "
            f"{s['delay_med_ms']:.0f}")


def summarise(scores: list[FileScore]) -> dict:
    """Precision, recall, F1, median / p90 absolute start/end errors, their signed medians
    (``*_bias_ms``: detected - labelled) and the median delay (ms) over the matches of
    ``scores``."""
    tp = sum(s.tp for s in scores)
    fp = sum(s.fp for s in scores)
    fn = sum(s.fn for s in scores)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    se = [abs(e) * 1000 for s in scores for e in s.start_err]
    ee = [abs(e) * 1000 for s in scores for e in s.end_err]
    dl = [e * 1000 for s in scores for e in s.delay]
    # signed (detected - labelled): which way the errors lean
    sb = [e * 1000 for s in scores for e in s.start_err]
    eb = [e * 1000 for s in scores for e in s.end_err]
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1,
            "start_med_ms": _pct(se, 0.5), "start_p90_ms": _pct(se, 0.9),
            "end_med_ms": _pct(ee, 0.5), "end_p90_ms": _pct(ee, 0.9),
            "start_bias_ms": _pct(sb, 0.5), "end_bias_ms": _pct(eb, 0.5),
            "delay_med_ms": _pct(dl, 0.5)}


def gaps_from_decisions(speech: list[bool], hop_s: float, *, min_gap_s: float = MIN_GAP_S,
                        delay_s: float = 0.0) -> list[dict]:
    """Frame decisions (True = speech, frame i covers ``[i, i+1) * hop_s``) → gaps between
    two speech runs lasting >= ``min_gap_s``; the same rule for every anchor VAD.
    ``emitted_at`` is when a causal reader could know: ``min_gap_s`` into the silence
    plus the detector's own look-ahead ``delay_s``."""
    gaps = []
    last_end = None
    prev = False
    start_sil = None
    for i, v in enumerate(speech):
        if v and not prev:
            if last_end is not None and start_sil is not None:
                s, e = start_sil, i * hop_s
                if e - s >= min_gap_s - 1e-9:
                    gaps.append({"start": s, "end": e,
                                 "emitted_at": s + min_gap_s + delay_s})
        if not v and prev:
            start_sil = i * hop_s
            last_end = start_sil
        prev = v
    return gaps

"""The gap detector's recurrent network, for training: forward, backpropagation through
time and a seeded Adam fit, in numpy.

The live detector runs the same network block by block in its compiled kernel
(``installation/analysis/gapkernel.py: voice_block``); this module only fits it. One member
is a layer of gated recurrent units (GRU) over the detector's per-block cues ``x`` (the
cues normalised by the training set's mean and std), read out to one logit per block:

    r = sigmoid(Wx_r x + bx_r + Wh_r h + bh_r)          reset
    u = sigmoid(Wx_u x + bx_u + Wh_u h + bh_u)          update
    n = tanh(Wx_n x + bx_n + r (Wh_n h + bh_n))          candidate
    h = (1 - u) n + u h,      logit = wo . h + bo

The gates are laid out reset, update, candidate along the last axis (``3 * hidden``), as
the kernel and ``voicemodel.MODEL_KEYS`` read them. Training draws windows of
:data:`LENGTH` blocks from the files (weighted by length), starts each from a zero state,
and leaves the first :data:`BURN` blocks of a window that starts inside a file out of the
loss, so the units have heard some past before they are judged (a file's own start is
judged: the live detector starts from zero there too).
"""

from __future__ import annotations

import time

import numpy as np

LENGTH = 400  # steps per training window (2.1 s at 48 kHz stepping every 256 samples)
BURN = 100  # steps heard before the loss counts, in a window that starts inside a file
BATCH = 64
STEPS = 3000
# Units per member. Three members of 16 cost about 0.5 µs a block less than three of 24
# stepping on every block at 48 kHz (their float32 weights fit a 32 KB L1 cache; 24 units'
# take 53 KB), but read under 24 on the developer set and the bundled piece
# (docs/benchmarks.md, "A recurrent likelihood").
HIDDEN = 24
LR = 3e-3


def _sigmoid(u: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-u))


def forward(p: dict, xs: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Logits ``(T, B)`` of one member over windows ``xs`` ``(T, B, F)`` (normalised cues),
    from a zero state; and what :func:`backward` needs."""
    t_n, b_n, _ = xs.shape
    h_n = p["Wh"].shape[0]
    gx = xs @ p["Wx"] + p["bx"]
    h = np.zeros((b_n, h_n), np.float32)
    hs = np.empty((t_n + 1, b_n, h_n), np.float32)
    hs[0] = h
    gates = np.empty((t_n, 3, b_n, h_n), np.float32)  # r, u, n, and Wh_n h + bh_n
    gh_n = np.empty((t_n, b_n, h_n), np.float32)
    wh, bh = p["Wh"], p["bh"]
    for t in range(t_n):
        gh = h @ wh + bh
        r = _sigmoid(gx[t, :, :h_n] + gh[:, :h_n])
        u = _sigmoid(gx[t, :, h_n:2 * h_n] + gh[:, h_n:2 * h_n])
        n = np.tanh(gx[t, :, 2 * h_n:] + r * gh[:, 2 * h_n:])
        h = n + u * (h - n)
        hs[t + 1] = h
        gates[t, 0], gates[t, 1], gates[t, 2] = r, u, n
        gh_n[t] = gh[:, 2 * h_n:]
    return hs[1:] @ p["wo"] + p["bo"], (xs, hs, gates, gh_n)


def backward(p: dict, cache: tuple, d_logit: np.ndarray) -> dict:
    """Gradients of the loss with respect to ``p`` from its gradients with respect to the
    logits ``(T, B)`` (backpropagation through the whole window)."""
    xs, hs, gates, gh_n = cache
    t_n, b_n, _ = xs.shape
    h_n = p["Wh"].shape[0]
    wh_t = p["Wh"].T
    d_gx = np.empty((t_n, b_n, 3 * h_n), np.float32)
    d_gh = np.empty((t_n, b_n, 3 * h_n), np.float32)
    d_h = np.zeros((b_n, h_n), np.float32)
    d_out = d_logit[:, :, None] * p["wo"]
    for t in range(t_n - 1, -1, -1):
        d_h = d_h + d_out[t]
        r, u, n = gates[t]
        d_a_n = d_h * (1.0 - u) * (1.0 - n * n)  # through the candidate's tanh
        d_a_u = d_h * (hs[t] - n) * u * (1.0 - u)
        d_a_r = d_a_n * gh_n[t] * r * (1.0 - r)
        d_gx[t, :, :h_n], d_gx[t, :, h_n:2 * h_n], d_gx[t, :, 2 * h_n:] = d_a_r, d_a_u, d_a_n
        d_gh[t, :, :h_n], d_gh[t, :, h_n:2 * h_n] = d_a_r, d_a_u
        d_gh[t, :, 2 * h_n:] = d_a_n * r
        d_h = d_h * u + d_gh[t] @ wh_t
    f = xs.shape[2]
    return {"Wx": xs.reshape(-1, f).T @ d_gx.reshape(-1, 3 * h_n),
            "bx": d_gx.sum((0, 1)),
            "Wh": hs[:-1].reshape(-1, h_n).T @ d_gh.reshape(-1, 3 * h_n),
            "bh": d_gh.sum((0, 1)),
            "wo": np.einsum("tb,tbh->h", d_logit, hs[1:]),
            "bo": np.float32(d_logit.sum())}


def logits(member: dict, x: np.ndarray) -> np.ndarray:
    """One member's logit per block over one file's cues ``x`` ``(n, F)`` (raw: normalised
    here), from a zero state."""
    xs = ((x - member["mean"]) / member["std"]).astype(np.float32)[:, None, :]
    return forward(member, xs)[0][:, 0]


def fit(files: list[tuple[np.ndarray, np.ndarray, np.ndarray]], seed: int = 0,
        hidden: int = HIDDEN, steps: int = STEPS, log=print) -> dict[str, np.ndarray]:
    """One member fitted on ``files``: per file ``(x (n, F) cues, y (n,) targets in [0, 1],
    keep (n,) bool: the blocks the loss counts)``. Adam on the mean log loss of the kept
    blocks, the rate held for half the steps and then falling to a twentieth; seeded
    (the same files and seed give the same member). Returns the member with its ``mean``
    and ``std``."""
    stacked = np.concatenate([f[0] for f in files])
    mean, std = stacked.mean(0), stacked.std(0) + 1e-6
    del stacked
    xs_all = [((f[0] - mean) / std).astype(np.float32) for f in files]
    lens = np.array([len(f[0]) for f in files])
    rng = np.random.default_rng(seed)
    n_in = len(mean)

    def init(shape, fan):
        return (rng.standard_normal(shape) / np.sqrt(fan)).astype(np.float32)

    p = {"Wx": init((n_in, 3 * hidden), n_in), "Wh": init((hidden, 3 * hidden), hidden),
         "bx": np.zeros(3 * hidden, np.float32), "bh": np.zeros(3 * hidden, np.float32),
         "wo": init((hidden,), hidden), "bo": np.zeros((), np.float32)}
    m1 = {k: np.zeros_like(v) for k, v in p.items()}
    m2 = {k: np.zeros_like(v) for k, v in p.items()}
    started, running = time.time(), 0.0
    for step in range(1, steps + 1):
        xs = np.zeros((LENGTH, BATCH, n_in), np.float32)
        y = np.zeros((LENGTH, BATCH), np.float32)
        mask = np.zeros((LENGTH, BATCH), np.float32)
        for b, i in enumerate(rng.choice(len(files), BATCH, p=lens / lens.sum())):
            s0 = rng.integers(-BURN, max(1, lens[i] - LENGTH // 2))
            lo, hi = max(0, s0), min(lens[i], s0 + LENGTH)
            if hi <= lo:
                continue
            o = lo - s0
            xs[o:o + hi - lo, b] = xs_all[i][lo:hi]
            y[o:o + hi - lo, b] = files[i][1][lo:hi]
            keep = files[i][2][lo:hi].astype(np.float32)
            if s0 > 0:
                keep[:BURN] = 0.0
            mask[o:o + hi - lo, b] = keep
        out, cache = forward(p, xs)
        den = max(float(mask.sum()), 1.0)
        loss = float(((np.maximum(out, 0) - out * y + np.log1p(np.exp(-np.abs(out))))
                      * mask).sum()) / den
        g = backward(p, cache, ((_sigmoid(out) - y) * mask / den).astype(np.float32))
        rate = LR * min(1.0, 2.0 * (1.0 - step / steps) + 0.05)
        for k in p:
            m1[k] = 0.9 * m1[k] + 0.1 * g[k]
            m2[k] = 0.999 * m2[k] + 0.001 * g[k] * g[k]
            step_k = rate * (m1[k] / (1 - 0.9 ** step)) / (np.sqrt(m2[k] / (1 - 0.999 ** step))
                                                          + 1e-8)
            p[k] = (p[k] - step_k).astype(np.float32)
        running = 0.98 * running + 0.02 * loss
        if log and step % 500 == 0:
            log(f"  seed {seed}: step {step}/{steps}, loss {running / (1 - 0.98 ** step):.4f}, "
                f"{time.time() - started:.0f} s")
    return {"mean": mean.astype(np.float64), "std": std.astype(np.float64), **p}


def phases(files: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
           stride: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per-block sequences ``(x, y, keep)`` → what a network stepping on every
    ``stride``-th block hears: each file once per phase (blocks p, p + stride, ...), as a
    stream may start on any block."""
    return [(x[p::stride], y[p::stride], keep[p::stride])
            for x, y, keep in files for p in range(stride)]


def stack(members: list[dict[str, np.ndarray]], step: float) -> dict[str, np.ndarray]:
    """Members fitted on the same files (the same mean and std) → one model file's arrays
    (``voicemodel.MODEL_KEYS``): each weight with a leading member axis, and ``step``,
    the engine samples between two of their steps. The kernel averages the members'
    logits."""
    out = {"mean": members[0]["mean"], "std": members[0]["std"], "step": np.array(step)}
    for k in ("Wx", "bx", "Wh", "bh", "wo"):
        out[k] = np.stack([m[k] for m in members]).astype(np.float64)
    out["bo"] = np.array([float(m["bo"]) for m in members])
    return out


def predict(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """A stacked model's logit per block over one file's cues ``x`` (the members' mean)."""
    return np.mean([logits({"mean": model["mean"], "std": model["std"],
                            **{k: model[k][e].astype(np.float32)
                               for k in ("Wx", "bx", "Wh", "bh", "wo")},
                            "bo": np.float32(model["bo"][e])}, x)
                    for e in range(len(model["bo"]))], axis=0)

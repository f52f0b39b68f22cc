"""The gap detector's voice likelihood: level-free cues per block and a small network.

One compiled kernel (numba, cached on disk) serves the live engine (one block per call,
about 2 µs) and offline analysis (a whole file per call): the same code, so the two
cannot drift apart. Per block it computes the cues of :data:`BASE_FEATURES` from the
graph's short band levels, the voicing and the onset strength:

- each band's level over its own floor (the quietest ``segment`` of the last ``window``
  seconds: a steady room, or the music's quiet moments), for the whole signal, < 250 Hz,
  four octaves from 250 Hz to 4 kHz and > 4 kHz: a voice over soft guitar or piano lifts
  its formant (1–4 kHz) and sibilant bands far more than the music's own fluctuations do;
- spectral shape (each band against the whole) and spectral flux (each band's change since
  the previous block: sustained notes decay smoothly, a voice moves);
- periodicity: plucked and struck strings are *more* periodic than a voice (one steady
  partial series), so a voice over them breaks the room's slow-averaged voicing;
- the onset envelope ratio (plucks are sharp attacks);
- each band's drop below its recent peak (a peak that falls at ``PEAK_RELEASE_DB_S``): a
  word ends with a fall of 20-40 dB within a few blocks, a piano or guitar note decays far
  slower than that;

then a one-hidden-layer network (tanh units, sigmoid out) over the cues and two causal
exponential averages of the hidden layer's input (~50 and ~170 ms of context). Its
weights come from ``bench/train_gaps.py`` (``gap_model_hi.npz``, ``gap_model_lo.npz``).

The state lives in plain arrays owned by :class:`VoiceModel`; nothing is global.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
from numba import njit

from installation.analysis.taps import TAP_INDEX

# Bands, in the order of the features: whole (~10 ms window), < 250 Hz, then octaves
# 250-500, 500-1k, 1-2k, 2-4k, and > 4 kHz; and where each sits in a tap row.
BANDS = ("fast", "low", "b250", "b500", "b1k", "b2k", "air")
N_BANDS = len(BANDS)
BAND_TAPS = np.array([TAP_INDEX[f"{b}_ms"] for b in BANDS], dtype=np.int64)
BASE_FEATURES: tuple[str, ...] = (
    *(f"snr_{b}" for b in BANDS), *(f"shape_{b}" for b in BANDS[1:]),
    *(f"flux_{b}" for b in BANDS), "voicing", "onset", "music_voicing",
    *(f"drop_{b}" for b in BANDS))
N_FEATURES = len(BASE_FEATURES)
# Two models: the graph measures the bands at half rate from 32 kHz up ("hi": trained at
# 48 and 44.1 kHz) and at the engine rate below ("lo": trained at 22.05, 16 and 8 kHz).
MODEL_DIR = Path(__file__).parent
HI_RATE = 32000
# Time constants (s) of the averages that give the network its past context, and of the
# room's voicing average. Per block: alpha = 1 - exp(-block_s / tau), so the model sees the
# same time spans at every rate and block size.
CONTEXT_TAUS_S = (0.0506, 0.175)
MUSIC_TAU_S = 0.264
PEAK_RELEASE_DB_S = 60.0
FLOOR_SEGMENT_S = 0.1
UNTRACKED_FLOOR_DB = -100.0  # what a band's floor reads before its first segment closes

# consts[] layout (see VoiceModel.__init__)
_C_B2, _C_A1, _C_A2, _C_MUSIC, _C_ABS, _C_WINDOW, _C_SEGMENT, _C_FIXED, _C_RELEASE = range(9)
# state[] layout: per band (power, blocks, start, value, head, count), then the previous
# block's band dB, a 'has previous' flag, the music voicing average, each band's peak
# follower (dB), then the two context averages of the hidden layer's input (2 x hidden),
# then scratch for the three projections (3 x hidden).
_F = 6
_S_PREV = N_BANDS * _F
_S_HAS_PREV = _S_PREV + N_BANDS
_S_MUSIC = _S_HAS_PREV + 1
_S_PEAK = _S_MUSIC + 1
_S_EMA = _S_PEAK + N_BANDS  # then 2 x hidden averages, then 3 x hidden scratch


def whole_snr_db(x: np.ndarray) -> np.ndarray | float:
    """The whole band's level over its floor (dB) from base features ``x`` (one block's
    ``(N_FEATURES,)`` or many ``(n, N_FEATURES)``): what the gap detector's masking
    estimate reads."""
    return x[..., 0] * 10.0


def model_path(sample_rate: float) -> Path:
    """The model file for an engine running at ``sample_rate`` Hz."""
    return MODEL_DIR / ("gap_model_hi.npz" if sample_rate >= HI_RATE else "gap_model_lo.npz")


def alpha(block_s: float, tau_s: float) -> float:
    """One-pole coefficient per block for a time constant ``tau_s``."""
    return 1.0 - math.exp(-block_s / tau_s)


@lru_cache(maxsize=4)
def load_model(path: Path) -> tuple[np.ndarray, ...]:
    """``(mean, std, W1, b1, w2, b2)`` of the one-hidden-layer voice model
    (bench/train_gaps.py writes it): ``p = sigmoid(w2 . tanh(W1' ((x - mean) / std) + b1)
    + b2)`` over the base features and their two context averages."""
    with np.load(path) as z:
        return tuple(z[k] for k in ("mean", "std", "W1", "b1", "w2", "b2"))


def blank_weights() -> tuple[np.ndarray, ...]:
    """A model that knows nothing (likelihood 0.5): for computing the features alone, as
    training does before any model exists."""
    n = (1 + len(CONTEXT_TAUS_S)) * N_FEATURES
    return (np.zeros(n), np.ones(n), np.zeros((n, 1)), np.zeros(1), np.zeros(1),
            np.float64(0.0))


def fold(model: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Fold the input normalisation into the first layer and split it by context, so the
    averages run on the hidden side (one ``(n, 3h)`` product per block instead of a
    ``(3n, h)`` one on averaged inputs): ``(W (n, 3h), b1 (h,), w2 (h,), b2)``."""
    mean, std, w1, b1, w2, b2 = model
    n = N_FEATURES
    w1 = w1 / std[:, None]
    b1 = b1 - mean @ w1
    blocks = [w1[k * n:(k + 1) * n] for k in range(1 + len(CONTEXT_TAUS_S))]
    return (np.ascontiguousarray(np.hstack(blocks)), np.ascontiguousarray(b1),
            np.ascontiguousarray(w2, dtype=np.float64), float(b2))


def with_context(x: np.ndarray, block_s: float) -> np.ndarray:
    """Base features per block ``(n_blocks, n)`` → the network's inputs ``(n_blocks, 3n)``:
    the features and their causal exponential averages (what training fits; the kernel
    keeps the same averages on the hidden side, which is equal because they are linear)."""
    from scipy.signal import lfilter

    parts = [x]
    for tau in CONTEXT_TAUS_S:
        a = alpha(block_s, tau)
        parts.append(lfilter([a], [1.0, a - 1.0], x, axis=0))
    return np.hstack(parts)


@njit(cache=True, nogil=True)
def _db(ms: float) -> float:
    return 10.0 * math.log10(ms) if ms > 1e-12 else -120.0


@njit(cache=True, nogil=True)
def _block(state, ring, w, b1, w2, consts, row, t_sig, voicing, onset_db, x) -> float:
    """One block: fill ``x`` (the base features), advance the state, return the voice
    likelihood."""
    n_bands = BAND_TAPS.shape[0]
    window = consts[_C_WINDOW]
    segment = consts[_C_SEGMENT]
    fixed = consts[_C_FIXED]
    cap = ring.shape[1]
    whole = 0.0
    for b in range(n_bands):
        ms = row[BAND_TAPS[b]]
        d = _db(ms)
        o = b * _F
        if b == 0 and fixed == fixed:  # a floor set by the show, not tracked
            f = fixed
        else:
            f = state[o + 3]
            # the floor: the quietest segment (mean power) of the last `window` s
            state[o] += ms
            state[o + 1] += 1.0
            if t_sig - state[o + 2] >= segment:
                head = int(state[o + 4])
                count = int(state[o + 5])
                if count == cap:  # cannot happen with the ring VoiceModel sizes; stay sane
                    head = (head + 1) % cap
                    count -= 1
                slot = (head + count) % cap
                ring[b, slot, 0] = t_sig
                ring[b, slot, 1] = _db(state[o] / state[o + 1])
                count += 1
                state[o + 2] = t_sig
                state[o] = 0.0
                state[o + 1] = 0.0
                while t_sig - ring[b, head, 0] > window:
                    head = (head + 1) % cap
                    count -= 1
                lowest = np.inf
                for k in range(count):
                    v = ring[b, (head + k) % cap, 1]
                    if v < lowest:
                        lowest = v
                state[o + 3] = lowest
                state[o + 4] = head
                state[o + 5] = count
            if f == np.inf:
                f = UNTRACKED_FLOOR_DB
        snr = d - f
        x[b] = (0.0 if snr < 0.0 else 50.0 if snr > 50.0 else snr) * 0.1
        if b == 0:
            whole = d
        else:
            s = (d - whole) * 0.1
            x[n_bands + b - 1] = -4.0 if s < -4.0 else 0.0 if s > 0.0 else s
        started = state[_S_HAS_PREV] > 0.0
        q = state[_S_PREV + b] if started else d
        flux = abs(d - q) * 0.1
        x[2 * n_bands - 1 + b] = 2.0 if flux > 2.0 else flux
        state[_S_PREV + b] = d
        peak = state[_S_PEAK + b] - consts[_C_RELEASE] if started else d
        if d > peak:
            peak = d
        state[_S_PEAK + b] = peak
        drop = (d - peak) * 0.1
        x[3 * n_bands + 2 + b] = -3.0 if drop < -3.0 else drop
    state[_S_HAS_PREV] = 1.0
    music = state[_S_MUSIC] + consts[_C_MUSIC] * (voicing - state[_S_MUSIC])
    state[_S_MUSIC] = music
    base = 3 * n_bands - 1
    x[base] = voicing
    x[base + 1] = (30.0 if onset_db > 30.0 else onset_db) * 0.1
    x[base + 2] = music - voicing
    # the network: the three projections (now, and what feeds the two context averages)
    # as one pass over the weight rows, contiguous for the compiler to vectorise
    h = b1.shape[0]
    acc = state[_S_EMA + 2 * h:_S_EMA + 5 * h]
    acc[:] = 0.0
    for i in range(w.shape[0]):
        xi = x[i]
        if xi != 0.0:
            for k in range(3 * h):
                acc[k] += xi * w[i, k]
    z = consts[_C_B2]
    a1 = consts[_C_A1]
    a2 = consts[_C_A2]
    for j in range(h):
        e1 = state[_S_EMA + j] + a1 * (acc[h + j] - state[_S_EMA + j])
        e2 = state[_S_EMA + h + j] + a2 * (acc[2 * h + j] - state[_S_EMA + h + j])
        state[_S_EMA + j] = e1
        state[_S_EMA + h + j] = e2
        z += math.tanh(b1[j] + acc[j] + e1 + e2) * w2[j]
    if z <= -40.0 or whole < consts[_C_ABS]:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


@njit(cache=True, nogil=True)
def _one(state, ring, w, b1, w2, consts, row, t_sig, voicing, onset_db, x) -> float:
    return _block(state, ring, w, b1, w2, consts, row, t_sig, voicing, onset_db, x)


@njit(cache=True, nogil=True)
def _many(state, ring, w, b1, w2, consts, rows, t_sig, voicing, onset_db, out_p, out_x):
    keep = out_x.shape[0] == rows.shape[0]
    x = np.empty(out_x.shape[1])
    for i in range(rows.shape[0]):
        out_p[i] = _block(state, ring, w, b1, w2, consts, rows[i], t_sig[i], voicing[i],
                          onset_db[i], x)
        if keep:
            out_x[i] = x


class VoiceModel:
    """The voice likelihood of one stream, block by block (:meth:`step`) or many blocks
    at once (:meth:`run`); both advance the same state.

    ``block_s``: block duration (s); ``sample_rate`` picks the model (:func:`model_path`);
    ``floor_window_s``: how far back the band floors look; ``abs_floor_db``: below this
    whole-band level (dB re full-scale peak) the likelihood is 0; ``noise_floor_db`` < 0
    fixes the whole band's floor at that dBFS RMS instead of tracking it.
    """

    def __init__(self, block_s: float, sample_rate: float = 48000.0, *,
                 floor_window_s: float = 3.0, abs_floor_db: float = -90.0,
                 noise_floor_db: float = 0.0, path: Path | None = None,
                 weights: tuple[np.ndarray, ...] | None = None) -> None:
        path = path or model_path(sample_rate)
        weights = load_model(path) if weights is None else weights
        if weights[2].shape[0] != (1 + len(CONTEXT_TAUS_S)) * N_FEATURES:
            raise ValueError(f"model {path} has {weights[2].shape[0]} inputs, this version "
                             f"computes {N_FEATURES} features x {1 + len(CONTEXT_TAUS_S)}: "
                             "rebuild it with bench/train_gaps.py")
        self.w, self.b1, self.w2, b2 = fold(weights)
        hidden = self.b1.shape[0]
        # ms is full-scale-peak referenced; dBFS (AES17) is 3 dB above it.
        fixed = noise_floor_db - 3.0103 if noise_floor_db < 0.0 else math.nan
        self.consts = np.array([b2, alpha(block_s, CONTEXT_TAUS_S[0]),
                                alpha(block_s, CONTEXT_TAUS_S[1]), alpha(block_s, MUSIC_TAU_S),
                                abs_floor_db, floor_window_s, FLOOR_SEGMENT_S, fixed,
                                PEAK_RELEASE_DB_S * block_s])
        self.state = np.zeros(_S_EMA + 5 * hidden)
        for b in range(N_BANDS):
            self.state[b * _F + 3] = math.inf
        # Segments close at least FLOOR_SEGMENT_S apart: this many are ever alive at once.
        self.ring = np.zeros((N_BANDS, int(floor_window_s / FLOOR_SEGMENT_S) + 3, 2))
        self.x = np.zeros(N_FEATURES)  # the last block's features
        # Compile (or load from numba's disk cache) now, on a scratch copy of the state,
        # rather than on the first block of a live stream.
        _one(self.state.copy(), self.ring.copy(), self.w, self.b1, self.w2, self.consts,
             np.zeros(len(TAP_INDEX)), 0.0, 0.0, 0.0, np.zeros(N_FEATURES))

    def step(self, row: np.ndarray, t_sig: float, voicing: float, onset_db: float) -> float:
        """The likelihood of one block: ``row`` is its tap row (float64, ``len(TAPS)``),
        ``t_sig`` the signal time its taps describe (s)."""
        return _one(self.state, self.ring, self.w, self.b1, self.w2, self.consts, row,
                    t_sig, voicing, onset_db, self.x)

    def run(self, rows: np.ndarray, t_sig: np.ndarray, voicing: np.ndarray,
            onset_db: np.ndarray, *, features: bool = False):
        """Likelihoods of many blocks ``(n,)``; with ``features``, also the base features
        ``(n, N_FEATURES)`` (what training fits)."""
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        n = len(rows)
        p = np.zeros(n)
        x = np.zeros((n if features else 0, N_FEATURES))
        _many(self.state, self.ring, self.w, self.b1, self.w2, self.consts, rows,
              np.ascontiguousarray(t_sig, dtype=np.float64),
              np.ascontiguousarray(voicing, dtype=np.float64),
              np.ascontiguousarray(onset_db, dtype=np.float64), p, x)
        if n and features:
            self.x[:] = x[-1]
        return (p, x) if features else p

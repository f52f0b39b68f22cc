"""The live gap detector: words, the pauses between them, and how long a pause will last.

Causal, block by block, pure python on the graph's taps (``fast_ms`` … ``air_ms``,
``low_ms``, the voicing and onset strength). Each block gives a voice *likelihood* from
level-free cues (:data:`BASE_FEATURES`):

- each band's level over its own floor (the quietest 100 ms of the last 3 s: a steady room,
  or the music's quiet moments), for the whole signal, < 250 Hz, four octaves from 250 Hz
  to 4 kHz and > 4 kHz: a voice over soft guitar or piano lifts its formant (1–4 kHz) and
  sibilant bands far more than the music's own fluctuations do;
- spectral shape (each band against the whole) and spectral flux (each band's change since
  the previous block: sustained notes decay smoothly, a voice moves);
- periodicity: plucked and struck strings are *more* periodic than a voice (one steady
  partial series), so a voice over them breaks the room's slow-averaged YIN confidence;
- the onset envelope ratio (plucks are sharp attacks).

A one-hidden-layer network (16 tanh units) combines them with two causal averages of each
(~50 and ~170 ms) for context. Its weights (``gap_model_hi.npz``, ``gap_model_lo.npz``) come from
``bench/train_gaps.py``: the developer set with its held-out speech sources excluded, plus
voice-free negatives (the music alone after silence, synthetic sustained chords). A
hysteresis state machine (:meth:`GapDetector.advance`) turns the smoothed likelihood into
words and gaps: a word needs ``word_min_s`` of voice (a pluck in a pause does not split
it), a gap start is sent after ``gap_confirm_s`` of silence and back-dated to where the
silence began. ``gap_depth`` is ``1 -`` the smoothed likelihood: it moves on the first quiet
block, before any gap is confirmed. Offline, :meth:`GapDetector.likelihoods` computes the
same likelihoods for a whole file at once (tested equal to block by block).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

_log10 = math.log10

# Bands, in the order update() takes them: whole (~10 ms window), < 250 Hz, then octaves
# 250-500, 500-1k, 1-2k, 2-4k, and > 4 kHz.
BANDS = ("fast", "low", "b250", "b500", "b1k", "b2k", "air")
N_BANDS = len(BANDS)
# Two models: the graph measures the bands at half rate from 32 kHz up ("hi": trained at
# 48 and 44.1 kHz) and at the engine rate below ("lo": trained at 22.05, 16 and 8 kHz).
MODEL_DIR = Path(__file__).parent
HI_RATE = 32000


def model_path(sample_rate: float) -> Path:
    """The model file for an engine running at ``sample_rate`` Hz."""
    return MODEL_DIR / ("gap_model_hi.npz" if sample_rate >= HI_RATE else "gap_model_lo.npz")
# Exponential averages (per block) that give the model its past context: ~50 and ~170 ms.
# Time constants (s) of the exponential averages that give the model its past context, and
# of the room's voicing average. Per block: alpha = 1 - exp(-block_s / tau), so the model
# sees the same time spans at every rate and block size.
CONTEXT_TAUS_S = (0.0506, 0.175)
MUSIC_TAU_S = 0.264


def alpha(block_s: float, tau_s: float) -> float:
    """One-pole coefficient per block for a time constant ``tau_s``."""
    return 1.0 - math.exp(-block_s / tau_s)
BASE_FEATURES: tuple[str, ...] = (
    *(f"snr_{b}" for b in BANDS), *(f"shape_{b}" for b in BANDS[1:]),
    *(f"flux_{b}" for b in BANDS), "voicing", "onset", "music_voicing")


@lru_cache(maxsize=1)
def load_model(path: Path) -> tuple[np.ndarray, ...]:
    """``(mean, std, W1, b1, w2, b2)`` of the one-hidden-layer voice model
    (bench/train_gaps.py writes it): ``p = sigmoid(w2 . tanh(W1' ((x - mean) / std) + b1)
    + b2)`` over the base features and their two context averages."""
    with np.load(path) as z:
        return tuple(z[k] for k in ("mean", "std", "W1", "b1", "w2", "b2"))


def _folded(model: tuple[np.ndarray, ...]) -> tuple:
    """Fold the input normalisation into the first layer and split it by context:
    returns ``(W (n, 3h), b1 (h,), w2 (h,), b2)`` for :meth:`GapDetector.update`."""
    mean, std, w1, b1, w2, b2 = model
    n = len(BASE_FEATURES)
    w1 = w1 / std[:, None]
    b1 = b1 - mean @ w1
    blocks = [w1[k * n:(k + 1) * n] for k in range(1 + len(CONTEXT_TAUS_S))]
    return np.hstack(blocks), b1, w2.copy(), float(b2)


def with_context(x: np.ndarray, block_s: float) -> np.ndarray:
    """Base features per block ``(n_blocks, n)`` → the model's inputs ``(n_blocks, 3n)``:
    the features and their causal exponential averages (as :meth:`GapDetector.update`)."""
    from scipy.signal import lfilter

    parts = [x]
    for tau in CONTEXT_TAUS_S:
        a = alpha(block_s, tau)
        parts.append(lfilter([a], [1.0, a - 1.0], x, axis=0))
    return np.hstack(parts)


def _db(ms: float) -> float:
    return 10.0 * _log10(ms) if ms > 1e-12 else -120.0


@dataclass(slots=True)
class _Floor:
    """Quietest ``segment_s`` (mean power, dB) of the last ``window_s``."""

    window_s: float
    segment_s: float = 0.1
    segments: deque = field(default_factory=deque)
    power: float = 0.0
    blocks: int = 0
    start: float = 0.0
    value: float = math.inf

    def update(self, time: float, ms: float) -> None:
        self.power += ms
        self.blocks += 1
        if time - self.start >= self.segment_s:
            self.segments.append((time, _db(self.power / self.blocks)))
            self.start, self.power, self.blocks = time, 0.0, 0
            while time - self.segments[0][0] > self.window_s:
                self.segments.popleft()
            self.value = min(m for _, m in self.segments)


@dataclass(slots=True)
class _Fixed:
    """A floor set by the show instead of tracked."""

    value: float

    def update(self, time: float, ms: float) -> None:
        pass


@dataclass(slots=True)
class GapDetector:
    """Feed :meth:`update` once per block; read the state and this block's events.

    ``block_s`` is the block duration and ``lag_s`` how far the taps' window centre lies
    behind the end of the block (s); boundaries are back-dated by it. Times are seconds
    from the stream start. Events (``word_started``, ``word_ended``, ``gap_started``,
    ``gap_ended``) are True only on the block they happen in.
    """

    block_s: float
    lag_s: float = 0.0
    sample_rate: float = 48000.0  # the engine's rate: picks the model (see model_path)
    floor_window_s: float = 3.0
    abs_floor_db: float = -90.0
    on_threshold: float = 0.5
    off_threshold: float = 0.35
    smoothing_s: float = 0.015  # time constant of the likelihood's smoothing (s)
    word_min_s: float = 0.18
    gap_confirm_s: float = 0.05
    gap_min_s: float = 0.1
    rate_window_s: float = 20.0
    noise_floor_db: float = 0.0  # < 0: fixed whole-band floor (dBFS RMS) instead of tracked

    # state, read after update()
    speaking: bool = False
    likelihood: float = 0.0
    gap_depth: float = 1.0
    gap_elapsed: float = 0.0
    word_started: bool = False
    word_ended: bool = False
    gap_started: bool = False
    gap_ended: bool = False
    word_start: float = math.nan      # back-dated start of the current / last word (s)
    word_end: float = 0.0             # back-dated end of the last word (s)
    word_duration: float = 0.0        # duration of the last finished word (s)
    gap_start: float = math.nan       # back-dated start of the current / last gap (s)
    gap_emitted: float = math.nan     # when that gap start was confirmed (s)
    gap_duration: float = 0.0         # duration of the last finished gap (s)
    in_gap: bool = False
    expected_gap: float = 0.0         # predicted length of the current pause (s)
    rate_wpm: float = 0.0
    words: int = 0

    _floors: list = field(default_factory=list)
    _p: float = 0.0
    _voiced: bool = False
    _run_start: float = math.nan
    _quiet_start: float = 0.0
    _music_v: float = 0.0
    _prev_db: list | None = None
    _word_times: deque = field(default_factory=deque)
    _recent_gaps: deque = field(default_factory=deque)
    _feats: list | None = None
    _ctx: list = field(default_factory=list)
    _model: tuple = ()
    _alphas: tuple = ()
    _music_a: float = 0.0
    _smooth_a: float = 0.0

    def __post_init__(self) -> None:
        self._floors = [_Floor(self.floor_window_s) for _ in range(N_BANDS)]
        if self.noise_floor_db < 0.0:
            # ms is full-scale-peak referenced; dBFS (AES17) is 3 dB above it.
            self._floors[0] = _Fixed(self.noise_floor_db - 3.0103)
        self._model = _folded(load_model(model_path(self.sample_rate)))
        hidden = self._model[1].shape[0]
        self._ctx = [np.zeros(hidden) for _ in CONTEXT_TAUS_S]
        self._alphas = tuple(alpha(self.block_s, tau) for tau in CONTEXT_TAUS_S)
        self._music_a = alpha(self.block_s, MUSIC_TAU_S)
        self._smooth_a = alpha(self.block_s, self.smoothing_s)

    def features(self, t: float, bands: tuple[float, ...], voicing: float,
                 onset_db: float) -> list[float]:
        """The model's base inputs for one block (``bands``: mean squares in
        :data:`BANDS` order); also updates the floors. Level-free: every level is relative
        to another (a band's own floor, the whole band, the previous block)."""
        dbs = [_db(b) for b in bands]
        snr = []
        for floor, ms, d in zip(self._floors, bands, dbs):
            f = floor.value
            floor.update(t, ms)
            if f == math.inf:
                f = -100.0
            x = d - f
            snr.append((0.0 if x < 0.0 else 50.0 if x > 50.0 else x) * 0.1)
        whole = dbs[0]
        shape = []
        for d in dbs[1:]:
            x = (d - whole) * 0.1
            shape.append(-4.0 if x < -4.0 else 0.0 if x > 0.0 else x)
        prev = self._prev_db or dbs
        flux = []
        for d, q in zip(dbs, prev):
            x = abs(d - q) * 0.1
            flux.append(2.0 if x > 2.0 else x)
        self._prev_db = dbs
        # The room's periodicity: a slow (~1 s) average of voicing. Music holds it high;
        # a voice over the music breaks it block by block.
        self._music_v += self._music_a * (voicing - self._music_v)
        return [*snr, *shape, *flux, voicing, min(onset_db, 30.0) * 0.1,
                self._music_v - voicing]

    def update(self, time: float, bands: tuple[float, ...], voicing: float,
               onset_db: float) -> None:
        """One block ending at ``time`` (s)."""
        t_sig = time - self.lag_s  # the signal time this block's taps describe
        x = self.features(t_sig, bands, voicing, onset_db)
        self._feats = x
        # The context averages are linear, so they are kept on the hidden layer's side:
        # one (n, 3h) product per block instead of a (3n, h) one on averaged inputs.
        w, b1, w2, b2 = self._model
        proj = np.array(x) @ w
        h = len(b1)
        a = proj[:h] + b1
        for k, (a_k, ema) in enumerate(zip(self._alphas, self._ctx), start=1):
            ema += a_k * (proj[k * h:(k + 1) * h] - ema)
            a += ema
        z = float(np.tanh(a) @ w2) + b2
        p = 1.0 / (1.0 + math.exp(-z)) if z > -40.0 else 0.0
        if _db(bands[0]) < self.abs_floor_db:
            p = 0.0
        self.advance(time, p)

    def advance(self, time: float, p: float) -> None:
        """The decision half of :meth:`update`, from this block's voice likelihood ``p``
        (as :meth:`likelihoods` computes it for a whole file)."""
        self.likelihood = p
        self._p += self._smooth_a * (p - self._p)
        self.gap_depth = 1.0 - self._p
        self._step(time, time - self.lag_s, self._p)

    def likelihoods(self, times: np.ndarray, bands: np.ndarray, voicing: np.ndarray,
                    onset_db: np.ndarray) -> np.ndarray:
        """Voice likelihood of every block of a stream at once (offline analysis), equal to
        what :meth:`update` computes block by block (to rounding). ``times``: block ends
        (s, shape ``(n,)``); ``bands``: mean squares ``(n, N_BANDS)``. Pure: the detector's
        own state is not touched, so feed the result to :meth:`advance` on a fresh one."""
        n = len(times)
        if n == 0:
            return np.zeros(0)
        bands = np.asarray(bands, dtype=np.float64)
        with np.errstate(divide="ignore"):
            dbs = np.where(bands > 1e-12, 10.0 * np.log10(np.maximum(bands, 1e-300)), -120.0)
        t_sig = np.asarray(times, dtype=np.float64) - self.lag_s
        floors = self._floor_track(t_sig, bands)
        snr = np.clip(dbs - floors, 0.0, 50.0) * 0.1
        shape = np.clip((dbs[:, 1:] - dbs[:, :1]) * 0.1, -4.0, 0.0)
        prev = np.vstack([dbs[:1], dbs[:-1]])
        flux = np.minimum(np.abs(dbs - prev) * 0.1, 2.0)
        voicing = np.asarray(voicing, dtype=np.float64)
        from scipy.signal import lfilter

        am = self._music_a
        music = lfilter([am], [1.0, am - 1.0], voicing)
        x = np.column_stack([snr, shape, flux, voicing,
                             np.minimum(np.asarray(onset_db, dtype=np.float64), 30.0) * 0.1,
                             music - voicing])
        w, b1, w2, b2 = self._model
        h = len(b1)
        proj = x @ w
        a = proj[:, :h] + b1
        for k, a_k in enumerate(self._alphas, start=1):
            a += lfilter([a_k], [1.0, a_k - 1.0], proj[:, k * h:(k + 1) * h], axis=0)
        z = np.tanh(a) @ w2 + b2
        p = np.where(z > -40.0, 1.0 / (1.0 + np.exp(-np.maximum(z, -40.0))), 0.0)
        p[dbs[:, 0] < self.abs_floor_db] = 0.0
        return p

    def _floor_track(self, t_sig: np.ndarray, bands: np.ndarray) -> np.ndarray:
        """Each block's band floors (dB, before its own update), as :class:`_Floor` tracks
        them one block at a time; ``(n, N_BANDS)``."""
        n = len(t_sig)
        out = np.full((n, N_BANDS), -100.0)
        window = self.floor_window_s
        segment = self._floors[1].segment_s
        closes = []
        start = 0.0
        for i, t in enumerate(t_sig.tolist()):
            if t - start >= segment:
                closes.append(i)
                start = t
        if closes:
            edges = [0, *[c + 1 for c in closes]]
            sums = np.add.reduceat(bands[: closes[-1] + 1], edges[:-1], axis=0)
            counts = np.diff(edges)[:, None]
            mean = sums / counts
            with np.errstate(divide="ignore"):
                seg_db = np.where(mean > 1e-12, 10.0 * np.log10(np.maximum(mean, 1e-300)),
                                  -120.0)
            close_t = t_sig[closes]
            first = 0
            values = np.empty((len(closes), N_BANDS))
            for j, t in enumerate(close_t.tolist()):
                while t - close_t[first] > window:
                    first += 1
                values[j] = seg_db[first: j + 1].min(axis=0)
            # A close at block c sets the floor that blocks c+1 … next close read.
            for j, c in enumerate(closes):
                end = closes[j + 1] + 1 if j + 1 < len(closes) else n
                out[c + 1: end] = values[j]
        if isinstance(self._floors[0], _Fixed):
            out[:, 0] = self._floors[0].value
        return out

    def _step(self, time: float, t_sig: float, p: float) -> None:
        self.word_started = self.word_ended = self.gap_started = self.gap_ended = False
        voiced = p >= (self.off_threshold if self._voiced else self.on_threshold)
        if voiced and not self._voiced:
            self._run_start = t_sig - self.block_s
        if self._voiced and not voiced:
            self._quiet_start = t_sig - self.block_s
        self._voiced = voiced
        if voiced:
            if not self.speaking and t_sig - self._run_start >= self.word_min_s:
                start = self._run_start
                if self.in_gap:
                    self._end_gap(start)
                self.speaking = True
                self.word_started = True
                self.word_start = start
                self.words += 1
                self._word_times.append(start)
        elif self.speaking and t_sig - self._quiet_start >= self.gap_confirm_s:
            self.speaking = False
            self.word_ended = True
            self.word_end = max(self._quiet_start, self.word_start)
            self.word_duration = self.word_end - self.word_start
            if self.words > 0:
                self.in_gap = True
                self.gap_started = True
                self.gap_start = self.word_end
                self.gap_emitted = time
                self.expected_gap = self._predict_gap()
        self.gap_elapsed = 0.0 if self.speaking else max(0.0, t_sig - self.word_end)
        while self._word_times and t_sig - self._word_times[0] > self.rate_window_s:
            self._word_times.popleft()
        span = min(self.rate_window_s, max(t_sig, 1.0))
        self.rate_wpm = 60.0 * len(self._word_times) / span

    def _end_gap(self, end: float) -> None:
        self.in_gap = False
        self.gap_ended = True
        self.gap_duration = end - self.gap_start
        if self.gap_duration >= self.gap_min_s:
            self._recent_gaps.append(self.gap_duration)
            if len(self._recent_gaps) > 8:
                self._recent_gaps.popleft()

    def _predict_gap(self) -> float:
        """Median of the speaker's recent pauses (log domain); 0.4 s before any."""
        if not self._recent_gaps:
            return 0.4
        logs = sorted(math.log(g) for g in self._recent_gaps)
        n = len(logs)
        mid = logs[n // 2] if n % 2 else 0.5 * (logs[n // 2 - 1] + logs[n // 2])
        return math.exp(mid)


def gaps_from_frames(frames, min_gap_s: float = 0.1) -> list[dict[str, float]]:
    """The gaps between two words in a frame sequence, as ``installation gaps`` prints them:
    ``[{"start", "end", "emitted_at"}]`` in s from the stream start, each closed by a
    ``gap_end`` and lasting at least ``min_gap_s``. Pure: works on any frame sequence."""
    out = []
    for f in frames:
        if f.gap_end >= 0.5 and f.gap_duration >= min_gap_s - 1e-9:
            out.append({"start": round(f.gap_start_time, 4),
                        "end": round(f.gap_start_time + f.gap_duration, 4),
                        "emitted_at": round(f.gap_emit_time, 4)})
    return out

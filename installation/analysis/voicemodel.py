"""The gap detector's voice likelihood: level-free cues per block and a small network.

This module owns the model's weights and state; its arithmetic is compiled in
:mod:`~installation.analysis.gapkernel` (numba, cached on disk), which serves the live
engine (one block per call) and offline analysis (a whole file per call) with the same
code. Per block it computes the cues of :data:`FAMILY_FEATURES` (one set per model) from
the graph's short band levels, the voicing and the onset strength:

- each band's level over its own floor (the quietest ``segment`` of the last ``window``
  seconds: a steady room, or the music's quiet moments), for the whole signal, < 250 Hz,
  four octaves from 250 Hz to 4 kHz and > 4 kHz: a voice over soft guitar or piano lifts
  its formant (1–4 kHz) and sibilant bands far more than the music's own fluctuations do;
- each band's level against its median segment of the same window (its typical level:
  under a song, mostly the music's), which tells a voice over loud music from the music
  alone better than the floor does (cross-validated +6 dB mixes: 0.86 → 0.90 F1);
- spectral shape (each band against the whole) and spectral flux (each band's change since
  the previous block: sustained notes decay smoothly, a voice moves);
- periodicity: plucked and struck strings are *more* periodic than a voice (one steady
  partial series), so a voice over them breaks the room's slow-averaged voicing;
- the onset envelope ratio (plucks are sharp attacks);
- each band's drop below its recent peak (a peak that falls at ``PEAK_RELEASE_DB_S``): a
  word ends with a fall of 20-40 dB within a few blocks, a piano or guitar note decays far
  slower than that;
- for the models under 32 kHz only (lo and nb), four cues of a short spectrum
  (:mod:`~installation.analysis.partials`): the share of its power in bins that stand
  10 dB over their running median, how much of that rose since the last spectrum, how
  long it has stood there, and by how much: inside an octave, a voice's partials fall
  between a song's and glide on, a held note's stay put and decay;

then a small recurrent network over the cues: a few members of gated recurrent units
(GRU), whose averaged output logit is the likelihood's. The units' memory is gated by the
cues themselves, so a block that sounds like the music alone can close what the word
before it left open (a fixed average of the past cannot: it carried a word's last
blocks on into a short pause). Its weights come from ``bench/train_gaps.py``
(``gap_model_hi.npz``, ``gap_model_lo.npz``, ``gap_model_nb.npz``: see :func:`family`).

The state lives in plain arrays owned by :class:`VoiceModel`; nothing is global.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from installation.analysis.gapkernel import (BAND_FIELDS, BANDS, FLUX_SPAN_SAMPLES,
                                             GATE_SPAN_S, MAX_FLUX_LAG, MAX_GATE_BLOCKS,
                                             N_BANDS, N_CONSTS, RING_FIELDS, S_NET, S_Z,
                                             network_slots, voice_block, voice_many)
from installation.analysis.partials import PARTIAL_TAPS
from installation.analysis.taps import DECIMATE_FROM

BASE_FEATURES: tuple[str, ...] = (
    *(f"snr_{b}" for b in BANDS), *(f"shape_{b}" for b in BANDS[1:]),
    *(f"flux_{b}" for b in BANDS), "voicing", "onset", "music_voicing",
    *(f"drop_{b}" for b in BANDS), *(f"rel_{b}" for b in BANDS))
# Three models: the graph measures the bands decimated from 32 kHz up ("hi": trained at
# 48 and 44.1 kHz) and at the engine rate below ("lo" from 11 kHz, "nb" under it: both
# trained at 22.05, 16 and 8 kHz, with a building's low noise in the lo model's training:
# it lifted the floors and rooms at 16 kHz, not at 8, docs/benchmarks.md, R30 and R31).
# The two below 32 kHz also read the partial meter's cues (after the base ones, in the
# kernel's order): they lifted their mixes over languages, and on the live graph at 8 kHz;
# the hi model's recipe gained nothing from them at three times its detector's cost
# (docs/benchmarks.md, R17-R23).
FAMILY_FEATURES: dict[str, tuple[str, ...]] = {"hi": BASE_FEATURES,
                                               "lo": (*BASE_FEATURES, *PARTIAL_TAPS),
                                               "nb": (*BASE_FEATURES, *PARTIAL_TAPS)}
MODEL_DIR = Path(__file__).parent
HI_RATE = DECIMATE_FROM
NB_RATE = 11000  # under it, narrowband: telephone and 8 kHz recorders
# The highest engine rate each model was fitted at (bench/train_gaps.py's FAMILY_RATES).
FITTED_TOP_RATE = {"hi": 48000.0, "lo": 22050.0, "nb": 22050.0}
# Time constant (s) of the room's voicing average. Per block: alpha = 1 - exp(-block_s /
# tau), so the model sees the same time span at every rate and block size.
MUSIC_TAU_S = 0.264
PEAK_RELEASE_DB_S = 60.0
FLOOR_SEGMENT_S = 0.1


def family(sample_rate: float) -> str:
    """Which model an engine running at ``sample_rate`` Hz uses: "hi" (32 kHz and up),
    "lo" (11 to 32 kHz) or "nb" (under 11 kHz)."""
    return "hi" if sample_rate >= HI_RATE else "lo" if sample_rate >= NB_RATE else "nb"


def features_for(sample_rate: float) -> tuple[str, ...]:
    """The cues the model at ``sample_rate`` reads, in the network's input order."""
    return FAMILY_FEATURES[family(sample_rate)]


def reads_partials(sample_rate: float) -> bool:
    """Whether the graph at ``sample_rate`` must run the partial meter."""
    return PARTIAL_TAPS[0] in features_for(sample_rate)


def family_path(name: str) -> Path:
    """The model file of the family ``name`` ("hi", "lo" or "nb")."""
    if name not in FAMILY_FEATURES:
        raise ValueError(f"no model family {name!r}: expected one of {', '.join(FAMILY_FEATURES)}")
    return MODEL_DIR / f"gap_model_{name}.npz"


def model_path(sample_rate: float) -> Path:
    """The model file for an engine running at ``sample_rate`` Hz."""
    return family_path(family(sample_rate))


def span_scale(sample_rate: float) -> float:
    """How many engine samples at ``sample_rate`` last as long as one did at the highest rate
    its model was fitted at (:data:`FITTED_TOP_RATE`): 1 up to that rate, 2 at 96 kHz for
    the hi model. The spans below are counted in the engine samples the models were fitted
    with; above those rates they would last less time (at 96 kHz half: the dev speech read
    0.860 and at 192 kHz 0.563 before this scaling, docs/benchmarks.md)."""
    return max(1.0, sample_rate / FITTED_TOP_RATE[family(sample_rate)])


def flux_lag(block_s: float, sample_rate: float) -> int:
    """How many blocks back spectral flux looks: the blocks that make
    ``FLUX_SPAN_SAMPLES`` (1 at 256-sample blocks and above, 4 at 64; scaled by
    :func:`span_scale` above the model's rates)."""
    blocks = round(FLUX_SPAN_SAMPLES * span_scale(sample_rate)
                   / max(1.0, block_s * sample_rate))
    return int(min(MAX_FLUX_LAG, max(1, blocks)))


def net_lag(block_s: float, sample_rate: float, step_samples: float) -> int:
    """Every how many blocks the network steps: those that make the ``step_samples``
    engine samples its model was fitted with (a model file's ``step``; 2 for a 512-sample
    step at 256-sample blocks, 8 at 64, 1 at blocks as long as the step or longer; scaled
    by :func:`span_scale` above the model's rates)."""
    return max(1, round(step_samples * span_scale(sample_rate)
                        / max(1.0, block_s * sample_rate)))


def gate_blocks(block_s: float) -> int:
    """How many blocks the floor gate's band means span: the fewest that cover
    ``GATE_SPAN_S`` (4 at 44.1 and 48 kHz with 256-sample blocks, 2 at 16 kHz, 1 at 20 ms
    blocks and above)."""
    return int(min(MAX_GATE_BLOCKS, max(1, math.ceil(GATE_SPAN_S / block_s - 1e-9))))


def alpha(block_s: float, tau_s: float) -> float:
    """One-pole coefficient per block for a time constant ``tau_s``."""
    return 1.0 - math.exp(-block_s / tau_s)


# A model file's arrays (bench/train_gaps.py writes them), for E members of H units over
# F cues: the cues' normalisation (mean, std: (F,)); per member the input weights Wx
# (E, F, 3H), recurrent weights Wh (E, H, 3H), biases bx, bh (E, 3H), with the gates in
# the order reset, update, candidate; the output wo (E, H), bo (E,); and step (a scalar):
# the engine samples between two steps of the network it was fitted with (the "hi" model
# steps every 512 samples, on every other 256-sample block: half the cost, and F1 within
# a gap or two of stepping on every block; the "lo" and "nb" ones on every 256).
MODEL_KEYS = ("mean", "std", "Wx", "bx", "Wh", "bh", "wo", "bo", "step")


@lru_cache(maxsize=4)
def load_model(path: Path) -> tuple[np.ndarray, ...]:
    """The voice model's arrays, in :data:`MODEL_KEYS` order: per member, on the
    normalised cues ``c = (x - mean) / std`` and its units' last state ``h``,
    ``r = sigmoid(Wx_r c + bx_r + Wh_r h + bh_r)``, ``u`` likewise,
    ``n = tanh(Wx_n c + bx_n + r (Wh_n h + bh_n))``, ``h = (1 - u) n + u h``; the
    likelihood is ``sigmoid(mean over members of (wo . h + bo))``, stepped once per
    ``step`` engine samples and held in between."""
    with np.load(path) as z:
        missing = [k for k in MODEL_KEYS if k not in z.files]
        if missing:
            raise ValueError(f"model {path} lacks {missing} (an older model's format): "
                             "rebuild it with bench/train_gaps.py")
        return tuple(z[k] for k in MODEL_KEYS)


def blank_weights(sample_rate: float) -> tuple[np.ndarray, ...]:
    """A model that knows nothing (likelihood 0.5) for the family at ``sample_rate``: for
    computing the features alone, as training does before any model exists."""
    n = len(features_for(sample_rate))
    return (np.zeros(n), np.ones(n), np.zeros((1, n, 3)), np.zeros((1, 3)),
            np.zeros((1, 1, 3)), np.zeros((1, 3)), np.zeros((1, 1)), np.zeros(1),
            np.array(float(FLUX_SPAN_SAMPLES)))


def fold(model: tuple[np.ndarray, ...]) -> tuple:
    """Fold the input normalisation into the input weights and lay the members side by
    side, as the kernel reads them: ``(wx (F, E*3H) float32, bx (E*3H,), wh (E, H, 3H)
    float32, bh (E*3H,), wo (E*H,), bo)``, with the members' average folded into ``wo``
    and ``bo``. The products run in float32 (half the cost, the same likelihood to
    ~1e-6)."""
    mean, std, wx, bx, wh, bh, wo, bo = model[:8]
    members = wx.shape[0]
    wx = wx / std[None, :, None]
    bx = bx - np.einsum("f,efk->ek", mean, wx)
    return (np.ascontiguousarray(np.concatenate(list(wx), axis=1), dtype=np.float32),
            np.ascontiguousarray(bx.ravel(), dtype=np.float64),
            np.ascontiguousarray(wh, dtype=np.float32),
            np.ascontiguousarray(bh.ravel(), dtype=np.float64),
            np.ascontiguousarray(wo.ravel() / members, dtype=np.float64),
            float(np.mean(bo)))


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
        self.features = features_for(sample_rate)
        if weights[2].shape[1] != len(self.features):
            raise ValueError(f"model {path} has {weights[2].shape[1]} inputs, this version "
                             f"computes {len(self.features)} features at {sample_rate:g} Hz: "
                             "rebuild it with bench/train_gaps.py")
        self.wx, self.bx, self.wh, self.bh, self.wo, bo = fold(weights)
        members, hidden = self.wh.shape[:2]
        # ms is full-scale-peak referenced; dBFS (AES17) is 3 dB above it.
        fixed = noise_floor_db - 3.0103 if noise_floor_db < 0.0 else math.nan
        self.consts = np.array([bo, alpha(block_s, MUSIC_TAU_S),
                                abs_floor_db, floor_window_s, FLOOR_SEGMENT_S, fixed,
                                PEAK_RELEASE_DB_S * block_s,
                                flux_lag(block_s, sample_rate), gate_blocks(block_s),
                                net_lag(block_s, sample_rate, float(weights[8]))])
        assert len(self.consts) == N_CONSTS  # the order of gapkernel's C_* indices
        self.state = np.zeros(S_NET + network_slots(members, hidden))
        self.state[S_Z] = -40.0  # no voice until the network's first step
        for b in range(N_BANDS):
            self.state[b * BAND_FIELDS + 3] = math.inf
            self.state[b * BAND_FIELDS + 6] = math.inf
            self.state[b * BAND_FIELDS + 8] = math.inf
        # Segments close at least FLOOR_SEGMENT_S apart: this many are ever alive at once.
        self.ring = np.zeros((N_BANDS, int(floor_window_s / FLOOR_SEGMENT_S) + 3,
                              RING_FIELDS))
        self.x = np.zeros(len(self.features))  # the last block's features
        # Nothing is compiled here: a live stream runs the detector's packed kernel, which
        # GapDetector loads at start-up; step() and run() load theirs on first use.

    def step(self, row: np.ndarray, t_sig: float, voicing: float, onset_db: float) -> float:
        """The likelihood of one block: ``row`` is its tap row (float64, ``len(TAPS)``),
        ``t_sig`` the signal time its taps describe (s)."""
        return voice_block(self.state, self.ring, self.wx, self.bx, self.wh, self.bh, self.wo,
                           self.consts, row, t_sig, voicing, onset_db, self.x)

    def run(self, rows: np.ndarray, t_sig: np.ndarray, voicing: np.ndarray,
            onset_db: np.ndarray, *, features: bool = False):
        """Likelihoods of many blocks ``(n,)``; with ``features``, also the family's cues
        ``(n, len(self.features))`` (what training fits)."""
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        n = len(rows)
        p = np.zeros(n)
        x = np.zeros((n if features else 0, len(self.features)))
        voice_many(self.state, self.ring, self.wx, self.bx, self.wh, self.bh, self.wo,
                   self.consts, rows,
                   np.ascontiguousarray(t_sig, dtype=np.float64),
                   np.ascontiguousarray(voicing, dtype=np.float64),
                   np.ascontiguousarray(onset_db, dtype=np.float64), p, x)
        if n and features:
            self.x[:] = x[-1]
        return (p, x) if features else p
